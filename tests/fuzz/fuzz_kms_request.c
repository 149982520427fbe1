/* fuzz_kms_request.c: the KMS request decoder (V4 clear + MAC, V5/V6
 * decrypting) and its JSON writer on arbitrary bytes. The first input is
 * taken as is; variants with the version forced to 4.0, 5.0 and 6.0 reach
 * every version's path from any seed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *d, size_t n) {
  kmsdiag_kms_request_t q;
  kmsdiag_status_t st = kmsdiag_kms_decode_request(d, n, &q);
  if (st == KMSDIAG_OK || st == KMSDIAG_EVERIFY) {
    if (st == KMSDIAG_OK && !q.verified)
      abort();
    if (st == KMSDIAG_EVERIFY && q.verified)
      abort();
    if (strlen(q.workstation) >= sizeof q.workstation ||
        q.workstation_units > KMSDIAG_KMS_WORKSTATION_UNITS)
      abort();
    kmsdiag_json_t *j = NULL;
    if (kmsdiag_json_new(&j) == KMSDIAG_OK) {
      kmsdiag_kms_request_write_json(j, NULL, &q);
      kmsdiag_json_endline(j);
      if (kmsdiag_json_status(j) != KMSDIAG_OK)
        abort();
      kmsdiag_json_free(j);
    }
  } else if (!q.err.field || !q.err.field[0] || q.err.offset > n) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one(data, size);
  if (size < 4 || size > 4096)
    return 0;
  uint8_t *m = malloc(size);
  if (!m)
    return 0;
  memcpy(m, data, size);
  for (uint8_t v = 4; v <= 6; v++) {
    m[0] = 0;
    m[1] = 0;
    m[2] = v;
    m[3] = 0;
    one(m, size);
  }
  free(m);
  return 0;
}
