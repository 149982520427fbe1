/* rsp_kms.c: the KMS responses of the test responder, V4/V5/V6, built by
 * the test-only host-side builder (tests/common/kms_test_build.h) and
 * spoiled on request. The request is decoded with the library's own
 * decoder, for the log and the default count. */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

#include "kms_test_build.h"
#include "rsp_kms.h"

uint8_t *rsp_kms_answer(const uint8_t *req, size_t len,
                        const rsp_config_t *cfg, size_t *out_len) {
  kmsdiag_kms_request_t rq;
  kt_response_params_t rp;
  uint8_t *out = NULL;
  size_t n = 0;
  char g[KMSDIAG_GUID_STRLEN];
  if (kmsdiag_kms_decode_request(req, len, &rq) != KMSDIAG_OK)
    return NULL;
  rsp_log_request(rq.version_major, kmsdiag_guid_to_str(&rq.cmid, g),
                  rq.workstation);
  memset(&rp, 0, sizeof rp);
  rp.epid = cfg->epid;
  rp.count = cfg->count ? cfg->count : 2 * rq.n_policy;
  rp.activation_interval = cfg->act;
  rp.renewal_interval = cfg->renew;
  memcpy(rp.hwid, cfg->hwid, 8);
  switch (cfg->behaviour) {
  case RSP_BADCMID:
    rp.override_cmid = true;
    rp.cmid = rq.cmid;
    rp.cmid.data4[7] ^= 0x5A;
    break;
  case RSP_STALE:
    /* A response recorded for the same client hours ago, replayed: its
     * time (and the V6 HMAC keyed from it) are the old ones. */
    rp.override_time = true;
    rp.client_time = rq.client_time - (uint64_t)cfg->stale_s * 10000000u;
    break;
  case RSP_BADMAC:
    if (rq.version_major == 5)
      rp.corrupt_hash = true;
    else if (rq.version_major == 6)
      rp.hmac_slot = 7; /* outside the client's -1..+1 tolerance */
    break;
  default:
    break;
  }
  if (kt_build_kms_response(req, len, &rp, NULL, NULL, &out, &n) !=
      KMSDIAG_OK) {
    free(out);
    return NULL;
  }
  if (cfg->behaviour == RSP_BADMAC && rq.version_major == 4 && n >= 16)
    out[n - 1] ^= 0x80; /* the V4 MAC is the last 16 bytes, in clear */
  *out_len = n;
  return out;
}
