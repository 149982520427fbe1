/* doctor_internal.h: pieces of the doctor that tests and fuzz targets reach
 * directly (never installed). */
#ifndef KMSDIAG_DOCTOR_INTERNAL_H
#define KMSDIAG_DOCTOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The "nameserver ADDR[:PORT]" entries of resolver configuration text
 * (untrusted, any bytes), joined with commas for kmsdiag_probe_set_dns_
 * servers(). Entries holding anything but hex digits, '.', ':', '[' and
 * ']' are skipped; at most 10000 lines and 4 KiB of output. \return a
 * string to free(), or NULL when there is no entry (or no memory). */
char *kd_doctor_nameservers_csv(const uint8_t *data, size_t len);

#endif
