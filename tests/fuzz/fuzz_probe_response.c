/* fuzz_probe_response.c: the probe's kms-stage answer path: a response PDU
 * (RPC decode, NDR stub, KMS response decode and verification, refusal
 * HRESULTs, faults, ePID analysis) for a fixed request. See
 * tests/probe/fuzz_probe_setup.h for the input layout. */
#include <stdint.h>
#include <stdlib.h>

#include "../probe/fuzz_probe_setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kd_buf_t b;
  kd_probe_kms_t *st;
  kmsdiag_probe_result_t r;
  char msg[KD_PROBE_MSG_MAX];
  kmsdiag_json_t *j = NULL;
  if (size < 2)
    return 0;
  unsigned ctx = data[0] & 1, ver = 4 + data[1] % 3;
  kmsdiag_probe_t *p = fuzz_probe_setup(ctx, ver, &b, &st, &r);
  if (!p)
    return 0;
  char host[] = "fuzz";
  r.host = host;
  r.requested = KMSDIAG_PROBE_STAGE_KMS;
  r.done = true;
  (void)kd_probe_kms_answer(p, st, data + 2, size - 2, &r, msg, sizeof msg);
  /* Whatever came out must serialise. */
  if (kmsdiag_json_new(&j) == KMSDIAG_OK) {
    kmsdiag_probe_result_write_json(&r, j, NULL);
    kmsdiag_json_endline(j);
    if (kmsdiag_json_status(j) != KMSDIAG_OK)
      abort();
    kmsdiag_json_free(j);
  }
  free(r.epid);
  free(r.epid_info);
  kd_probe_kms_free(st);
  kd_buf_free(&b);
  kmsdiag_probe_free(p);
  return 0;
}
