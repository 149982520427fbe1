/* fuzz_probe_bind.c: the probe's rpc-stage answer path: the header check
 * (version, frag_len bounds, auth) and the decoding of bind_ack, bind_nak,
 * fault or anything else a peer sends back to our bind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kmsdiag_probe_result_t r;
  char msg[KD_PROBE_MSG_MAX];
  size_t flen = 0;
  unsigned ctx = 9;
  memset(&r, 0, sizeof r);
  /* As the event loop does: header first, then exactly frag_len bytes. */
  if (size >= 16 &&
      kd_probe_rpc_header(data, 16, &flen, msg, sizeof msg) == KMSDIAG_OK) {
    if (flen < 16 || flen > KD_PROBE_PDU_MAX)
      abort(); /* the header check must bound the length */
    if (flen <= size) {
      kmsdiag_status_t st = kd_probe_rpc_bind_answer(data, flen, &r, &ctx, msg,
                                                     sizeof msg);
      if (st == KMSDIAG_OK && ctx > 1)
        abort();
      if (memchr(msg, '\0', sizeof msg) == NULL)
        abort();
    }
  }
  /* And the decoder on its own, whatever the length. */
  memset(&r, 0, sizeof r);
  (void)kd_probe_rpc_bind_answer(data, size, &r, &ctx, msg, sizeof msg);
  return 0;
}
