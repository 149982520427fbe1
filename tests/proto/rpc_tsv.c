/* rpc_tsv.c (test only): print our decode of every RPC PDU in a pcap as
 * TSV, in the shape `tshark -T fields` gives, for the Wireshark
 * cross-check (tshark_crosscheck.sh):
 *
 *   frame  ptype  call_id  ctx_ids  ack_results  flags  fault_status
 *
 * ctx_ids: the request/response/fault context id, or for bind and
 * alter_context the item ids joined by ","; ack_results: the results of a
 * bind_ack / alter_context_resp joined by ","; flags as 0x%02x; status as
 * 0x%08x. Empty columns are empty strings.
 *
 *   rpc_tsv [--dump DIR] FILE PORT
 *
 * With --dump, also writes each PDU (rpc-*.bin) and each KMS request or
 * response payload (kmsreq-*.bin, kmsresp-*.bin) into DIR: that is how the
 * fuzz corpora were seeded from the captures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_rpc.h>

#include "pcap_pdus.h"

static void dump(const char *dir, const char *base, const char *kind,
                 size_t idx, const uint8_t *d, size_t n) {
  char path[512];
  if (!dir)
    return;
  snprintf(path, sizeof path, "%s/%s-%s-%02zu.bin", dir, kind, base, idx);
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(2);
  }
  if (n)
    fwrite(d, 1, n, f);
  fclose(f);
}

int main(int argc, char **argv) {
  const char *dir = NULL;
  int i = 1;
  if (argc > 2 && strcmp(argv[1], "--dump") == 0) {
    dir = argv[2];
    i = 3;
  }
  if (argc - i != 2) {
    fprintf(stderr, "usage: rpc_tsv [--dump DIR] FILE PORT\n");
    return 2;
  }
  const char *file = argv[i];
  long port = strtol(argv[i + 1], NULL, 10);
  if (port <= 0 || port > 65535) {
    fprintf(stderr, "bad port\n");
    return 2;
  }
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  char stem[128];
  snprintf(stem, sizeof stem, "%s", base);
  char *dot = strstr(stem, ".pcap");
  if (dot)
    *dot = '\0';
  test_pdu_list_t l;
  if (test_pcap_pdus(file, (uint16_t)port, &l) != 0)
    return 1;
  bool ndr64 = false;
  for (size_t k = 0; k < l.n; k++) {
    kmsdiag_rpc_pdu_t p;
    char ctx[64] = "", acks[64] = "", status[16] = "";
    kmsdiag_status_t st = kmsdiag_rpc_decode(l.pdus[k].data, l.pdus[k].len, &p);
    dump(dir, stem, "rpc", k, l.pdus[k].data, l.pdus[k].len);
    if (st != KMSDIAG_OK) {
      printf("%u\tERROR %s %s@%zu\n", l.pdus[k].frame, kmsdiag_status_name(st),
             p.err.field, p.err.offset);
      continue;
    }
    switch (p.hdr.ptype) {
    case KMSDIAG_RPC_BIND:
    case KMSDIAG_RPC_ALTER_CONTEXT:
      for (unsigned j = 0; j < p.u.bind.n_items; j++) {
        size_t n = strlen(ctx);
        snprintf(ctx + n, sizeof ctx - n, "%s%u", j ? "," : "",
                 (unsigned)p.u.bind.items[j].ctx_id);
      }
      break;
    case KMSDIAG_RPC_BIND_ACK:
    case KMSDIAG_RPC_ALTER_CONTEXT_RESP:
      for (unsigned j = 0; j < p.u.bind_ack.n_results; j++) {
        size_t n = strlen(acks);
        snprintf(acks + n, sizeof acks - n, "%s%u", j ? "," : "",
                 (unsigned)p.u.bind_ack.results[j].result);
      }
      break;
    case KMSDIAG_RPC_REQUEST: {
      const uint8_t *kms;
      size_t kl;
      snprintf(ctx, sizeof ctx, "%u", (unsigned)p.u.request.ctx_id);
      ndr64 = p.u.request.ctx_id == 1; /* vlmcs's default context ids */
      if (kmsdiag_rpc_request_stub(p.u.request.stub, p.u.request.stub_len,
                                   ndr64, &kms, &kl, NULL) == KMSDIAG_OK)
        dump(dir, stem, "kmsreq", k, kms, kl);
      break;
    }
    case KMSDIAG_RPC_RESPONSE: {
      const uint8_t *kms;
      size_t kl;
      uint32_t hr;
      snprintf(ctx, sizeof ctx, "%u", (unsigned)p.u.response.ctx_id);
      if (kmsdiag_rpc_response_stub(p.u.response.stub, p.u.response.stub_len,
                                    ndr64, &kms, &kl, &hr, NULL) == KMSDIAG_OK &&
          kms)
        dump(dir, stem, "kmsresp", k, kms, kl);
      break;
    }
    case KMSDIAG_RPC_FAULT:
      snprintf(ctx, sizeof ctx, "%u", (unsigned)p.u.fault.ctx_id);
      snprintf(status, sizeof status, "0x%08x", (unsigned)p.u.fault.status);
      break;
    default:
      break;
    }
    printf("%u\t%u\t%u\t%s\t%s\t0x%02x\t%s\n", l.pdus[k].frame,
           (unsigned)p.hdr.ptype, (unsigned)p.hdr.call_id, ctx, acks,
           (unsigned)p.hdr.pfc_flags, status);
  }
  test_pdu_list_free(&l);
  return 0;
}
