/* gen_probe_seeds: write the fuzz seeds of fuzz_probe_bind and
 * fuzz_probe_response from the test responder's own answers:
 *   gen_probe_seeds DIR_BIND DIR_RESPONSE
 * (Run by hand when the formats change; the seeds are committed.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_probe_setup.h"
#include "rsp_kms.h"
#include "rsp_pdu.h"

/* The responder's connection hooks are not used here. */
void rsp_log_request(unsigned major, const char *cmid, const char *ws) {
  (void)major;
  (void)cmid;
  (void)ws;
}
uint64_t rsp_now_ms(void) { return 12345; }
void rsp_queue(rsp_conn_t *c, const uint8_t *d, size_t n) {
  (void)c;
  (void)d;
  (void)n;
}
void rsp_pace(rsp_conn_t *c, unsigned a, size_t b, unsigned d) {
  (void)c;
  (void)a;
  (void)b;
  (void)d;
}
void rsp_close_after(rsp_conn_t *c) { (void)c; }
void rsp_hold(rsp_conn_t *c) { (void)c; }
unsigned rsp_requests(rsp_conn_t *c) {
  (void)c;
  return 0;
}

static void put(const char *dir, const char *name, const uint8_t *pre,
                size_t plen, const uint8_t *d, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(1);
  }
  if (plen)
    fwrite(pre, 1, plen, f);
  fwrite(d, 1, n, f);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: gen_probe_seeds DIR_BIND DIR_RESPONSE\n");
    return 2;
  }
  /* Bind answers to our own bind PDU. */
  kd_buf_t bind;
  size_t n;
  uint8_t *o;
  kd_buf_init(&bind);
  kd_probe_rpc_bind(&bind);
  static const struct { const char *name; unsigned ndr; int btfn; } acks[] = {
      {"ack_ndr64", 2, 1}, {"ack_ndr32", 1, 0}, {"ack_both", 3, 1},
      {"ack_reject_all", 0, 1}};
  for (size_t i = 0; i < 4; i++) {
    o = rsp_pdu_bind_ack(bind.data, bind.len, acks[i].ndr, acks[i].btfn, &n);
    put(argv[1], acks[i].name, NULL, 0, o, n);
    free(o);
  }
  o = rsp_pdu_bind_nak(bind.data, bind.len, 4, &n);
  put(argv[1], "nak", NULL, 0, o, n);
  free(o);
  o = rsp_pdu_fault(bind.data, bind.len, 0x1C010003u, &n);
  put(argv[1], "fault", NULL, 0, o, n);
  free(o);
  kd_buf_free(&bind);

  /* Responses to the fixed request of fuzz_probe_setup.h. */
  rsp_config_t cfg;
  char err[100];
  for (unsigned ver = 4; ver <= 6; ver++) {
    for (unsigned ctx = 0; ctx <= 1; ctx++) {
      static const char *beh[] = {"normal,count=50", "badmac", "stale",
                                  "hresult,hr=0xC004F042",
                                  "fault,at=request"};
      for (size_t k = 0; k < 5; k++) {
        kd_buf_t b;
        kd_probe_kms_t *st;
        kmsdiag_probe_result_t r;
        kmsdiag_probe_t *p = fuzz_probe_setup(ctx, ver, &b, &st, &r);
        char name[64];
        uint8_t pre[2] = {(uint8_t)ctx, (uint8_t)(ver - 4)};
        if (!p || !rsp_config_parse(beh[k], &cfg, err, sizeof err))
          return 1;
        if (cfg.behaviour == RSP_FAULT)
          o = rsp_pdu_fault(b.data, b.len, cfg.fault_status, &n);
        else if (cfg.behaviour == RSP_HRESULT)
          o = rsp_pdu_refusal(b.data, b.len, cfg.hresult, &n);
        else
          o = rsp_pdu_kms_response(b.data, b.len, &cfg, &n);
        snprintf(name, sizeof name, "v%u_ctx%u_%.*s", ver, ctx,
                 (int)strcspn(beh[k], ","), beh[k]);
        if (o && k == 0) {
          /* The "normal" seed must pass verification (deep coverage); the
           * fixed request time is far from today's clock, so the skew check
           * after it fails, and that is fine. */
          char msg[KD_PROBE_MSG_MAX];
          (void)kd_probe_kms_answer(p, st, o, n, &r, msg, sizeof msg);
          if (!r.verified) {
            fprintf(stderr, "%s does not verify: %s\n", name, msg);
            return 1;
          }
          free(r.epid_info);
          r.epid_info = NULL;
          free(r.epid);
          r.epid = NULL;
        }
        if (o)
          put(argv[2], name, pre, 2, o, n);
        free(o);
        free(r.epid);
        kd_probe_kms_free(st);
        kd_buf_free(&b);
        kmsdiag_probe_free(p);
      }
    }
  }
  return 0;
}
