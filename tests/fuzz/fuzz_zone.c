/* fuzz_zone.c: the zone-file checker on arbitrary text (ldns reading,
 * the raw-token scanner, every check, the JSON writer), with and without
 * an origin. No live server. */
#include <stdint.h>
#include <stdlib.h>

#include <kmsdiag/kmsdiag.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kmsdiag_zone_check_t *c = NULL;
  if (size > (1u << 20))
    return 0;
  if (kmsdiag_zone_check_new(&c) != KMSDIAG_OK)
    return 0;
  for (int pass = 0; pass < 2; pass++) {
    kmsdiag_zone_report_t *r = NULL;
    if (pass == 1 &&
        kmsdiag_zone_check_set_origin(c, "corp.example") != KMSDIAG_OK)
      abort();
    if (kmsdiag_zone_check_buffer(c, "fuzz", data, size, &r) == KMSDIAG_OK) {
      kmsdiag_json_t *j = NULL;
      if (!r)
        abort();
      if (kmsdiag_json_new(&j) == KMSDIAG_OK) {
        for (size_t i = 0; i < r->count; i++) {
          if (!r->findings[i].rule || !r->findings[i].message)
            abort();
          kmsdiag_zone_finding_write_json(j, &r->findings[i]);
          kmsdiag_json_endline(j);
          kmsdiag_json_reset(j);
        }
        kmsdiag_json_free(j);
      }
      kmsdiag_zone_report_free(r);
    }
  }
  kmsdiag_zone_check_free(c);
  return 0;
}
