/* version.c: run-time library version. */
#include <kmsdiag/kmsdiag_version.h>

const char *kmsdiag_version(void) { return KMSDIAG_VERSION_STR; }
unsigned kmsdiag_version_number(void) { return KMSDIAG_VERSION; }
