/* fuzz_probe_setup.h: the deterministic kms-stage request that the
 * response fuzz target (tests/fuzz/fuzz_probe_response.c) answers, shared
 * with the seed generator (gen_probe_seeds.c). Input layout of the fuzz
 * target: byte 0 = context (0 NDR32, 1 NDR64), byte 1 = protocol (4..6),
 * then the response PDU. */
#ifndef KMSDIAG_FUZZ_PROBE_SETUP_H
#define KMSDIAG_FUZZ_PROBE_SETUP_H

#include <string.h>

#include <kmsdiag/kmsdiag.h>

#include "probe/probe_internal.h"

static kmsdiag_status_t fuzz_probe_rand(void *ud, uint8_t *buf, size_t len) {
  (void)ud;
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(0x3C + 7 * i);
  return KMSDIAG_OK;
}

/* A prober set up for the kms stage with fixed CMID, clock and randomness,
 * and the request PDU for (ctx, protocol) in *b with its state in *st. */
static inline kmsdiag_probe_t *fuzz_probe_setup(unsigned ctx, unsigned ver,
                                                kd_buf_t *b,
                                                kd_probe_kms_t **st,
                                                kmsdiag_probe_result_t *r) {
  kmsdiag_probe_t *p = NULL;
  kmsdiag_guid_t cmid;
  char msg[KD_PROBE_MSG_MAX];
  if (kmsdiag_probe_new(&p) != KMSDIAG_OK)
    return NULL;
  (void)kmsdiag_guid_parse(&cmid, "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
  (void)kmsdiag_probe_set_cmid(p, &cmid);
  (void)kmsdiag_probe_set_product(p, kmsdiag_product_default());
  (void)kmsdiag_probe_set_protocol(p, ver);
  (void)kmsdiag_probe_set_workstation(p, "kmsdiag-probe.fuzz");
  (void)kmsdiag_probe_set_client_time(p, 1790000000);
  p->rand = fuzz_probe_rand;
  memset(r, 0, sizeof *r);
  kd_buf_init(b);
  *st = NULL;
  if (kd_probe_kms_request(p, ctx, b, st, r, msg, sizeof msg) != KMSDIAG_OK) {
    kd_buf_free(b);
    kmsdiag_probe_free(p);
    return NULL;
  }
  return p;
}

#endif
