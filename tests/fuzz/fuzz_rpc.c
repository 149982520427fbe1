/* fuzz_rpc.c: the RPC PDU decoder, the stream framing, both stub decoders
 * (NDR32 and NDR64), the reassembler and the JSON writer on arbitrary
 * bytes. Invariants: borrowed pointers stay inside the input, failures
 * name a field, successes are consistent with the header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len) {
  if (!p) {
    if (n)
      abort();
    return;
  }
  if (p < base || n > len || (size_t)(p - base) > len - n)
    abort();
}

static void stubs(const uint8_t *s, size_t n) {
  for (int n64 = 0; n64 < 2; n64++) {
    const uint8_t *kms;
    size_t kl;
    uint32_t hr;
    kmsdiag_rpc_stub_info_t info;
    kmsdiag_status_t st = kmsdiag_rpc_request_stub(s, n, n64, &kms, &kl, &info);
    if (st == KMSDIAG_OK) {
      inside(kms, kl, s, n);
      if (kl != info.size)
        abort();
    } else if (!info.err.field || !info.err.field[0] || info.err.offset > n) {
      abort();
    }
    st = kmsdiag_rpc_response_stub(s, n, n64, &kms, &kl, &hr, &info);
    if (st == KMSDIAG_OK) {
      inside(kms, kl, s, n);
      if (info.hresult_offset + 4 > n)
        abort();
    } else if (!info.err.field || !info.err.field[0] || info.err.offset > n) {
      abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t fl = 0;
  kmsdiag_status_t st = kmsdiag_rpc_pdu_length(data, size, &fl);
  if (st == KMSDIAG_OK && (fl < 16 || fl > KMSDIAG_RPC_MAX_FRAG))
    abort();

  kmsdiag_rpc_pdu_t p;
  st = kmsdiag_rpc_decode(data, size, &p);
  if (st != KMSDIAG_OK) {
    if (!p.err.field || !p.err.field[0] || p.err.offset > size)
      abort();
  } else {
    if (p.hdr.frag_len != size || p.hdr.auth_len != 0)
      abort();
    const uint8_t *s = NULL;
    size_t n = 0;
    if (p.hdr.ptype == KMSDIAG_RPC_REQUEST) {
      s = p.u.request.stub;
      n = p.u.request.stub_len;
    } else if (p.hdr.ptype == KMSDIAG_RPC_RESPONSE) {
      s = p.u.response.stub;
      n = p.u.response.stub_len;
    } else if (p.hdr.ptype == KMSDIAG_RPC_FAULT) {
      inside(p.u.fault.stub, p.u.fault.stub_len, data, size);
    } else if (p.hdr.ptype == KMSDIAG_RPC_BIND_ACK ||
               p.hdr.ptype == KMSDIAG_RPC_ALTER_CONTEXT_RESP) {
      if (p.u.bind_ack.n_results > KMSDIAG_RPC_MAX_CTX_ITEMS ||
          strlen(p.u.bind_ack.sec_addr) > KMSDIAG_RPC_SEC_ADDR_MAX)
        abort();
    } else if (p.hdr.ptype == KMSDIAG_RPC_BIND ||
               p.hdr.ptype == KMSDIAG_RPC_ALTER_CONTEXT) {
      if (p.u.bind.n_items > KMSDIAG_RPC_MAX_CTX_ITEMS)
        abort();
    }
    if (s || n) {
      inside(s, n, data, size);
      stubs(s, n);
      /* a fragment into the reassembler, twice (continuation path) */
      kmsdiag_rpc_reasm_t *r = NULL;
      if (kmsdiag_rpc_reasm_new(&r) == KMSDIAG_OK) {
        bool done;
        const uint8_t *whole;
        size_t wl;
        for (int i = 0; i < 3; i++) {
          if (kmsdiag_rpc_reasm_add(r, &p, &done, &whole, &wl) == KMSDIAG_OK &&
              done && wl > KMSDIAG_RPC_MAX_STUB)
            abort();
          p.hdr.pfc_flags &= (uint8_t)~KMSDIAG_RPC_PFC_FIRST_FRAG;
        }
        kmsdiag_rpc_reasm_free(r);
      }
    }
    kmsdiag_json_t *j = NULL;
    if (kmsdiag_json_new(&j) == KMSDIAG_OK) {
      kmsdiag_rpc_pdu_write_json(j, NULL, &p);
      kmsdiag_json_endline(j);
      if (kmsdiag_json_status(j) != KMSDIAG_OK)
        abort();
      kmsdiag_json_free(j);
    }
  }
  /* the raw input as a stub, too */
  stubs(data, size);
  return 0;
}
