/* fuzz_doctor_resolv.c: the doctor's reader of nameserver lines in
 * resolver configuration text, on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doctor/doctor_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *csv = kd_doctor_nameservers_csv(data, size);
  if (csv) {
    /* only address characters and commas may come out */
    for (const char *p = csv; *p; p++)
      if (!strchr("0123456789abcdefABCDEF.:[],", *p))
        abort();
    free(csv);
  }
  return 0;
}
