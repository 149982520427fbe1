/* fuzz_kms_response.c: the KMS response decoder on arbitrary bytes, once
 * without a request and once with a request of the same version (so the
 * echo, hash and IV checks run), plus the JSON writer; variants with the
 * version forced to 4.0, 5.0 and 6.0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(kmsdiag_status_t st, const kmsdiag_kms_response_t *r,
                  size_t n) {
  if (st == KMSDIAG_OK || st == KMSDIAG_EVERIFY) {
    if (st == KMSDIAG_EVERIFY && r->verified)
      abort();
    if (strlen(r->epid) >= sizeof r->epid)
      abort();
    kmsdiag_json_t *j = NULL;
    if (kmsdiag_json_new(&j) == KMSDIAG_OK) {
      kmsdiag_kms_response_write_json(j, NULL, r);
      kmsdiag_json_endline(j);
      if (kmsdiag_json_status(j) != KMSDIAG_OK)
        abort();
      kmsdiag_json_free(j);
    }
  } else if (!r->err.field || !r->err.field[0] || r->err.offset > n) {
    abort();
  }
}

static void one(const uint8_t *d, size_t n) {
  kmsdiag_kms_response_t r;
  check(kmsdiag_kms_decode_response(d, n, NULL, &r), &r, n);
  /* a request of the same version whose CMID and time the response may or
   * may not echo; its IVs are fixed bytes */
  kmsdiag_kms_request_t q;
  memset(&q, 0, sizeof q);
  q.version_major = r.version_major ? r.version_major : 6;
  q.cmid = r.cmid;
  q.client_time = r.client_time ^ (n & 1);
  for (int i = 0; i < 16; i++) {
    q.iv[i] = (uint8_t)(i * 17);
    q.div[i] = (uint8_t)(255 - i);
  }
  check(kmsdiag_kms_decode_response(d, n, &q, &r), &r, n);
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
