/* catalogue.h: internal access to the error table (lib/errors/catalogue.c). */
#ifndef KMSDIAG_ERRORS_CATALOGUE_H
#define KMSDIAG_ERRORS_CATALOGUE_H

#include <stddef.h>

#include <kmsdiag/kmsdiag_errors.h>

/* The rows, in ascending code order; *count receives their number. */
const kmsdiag_error_entry_t *kd_err_table(size_t *count);

#endif
