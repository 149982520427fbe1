/* rsp_pdu.c: the PDUs of the test responder, built with the test-only
 * host-side builders (tests/common/kms_test_build.h); the incoming PDU is
 * decoded with the library's own RPC decoder. */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

#include "kms_test_build.h"
#include "rsp_kms.h"
#include "rsp_pdu.h"

void rsp_pdu_header(uint8_t h[16], uint8_t ptype, uint8_t flags,
                    uint16_t frag_len, uint32_t call_id) {
  h[0] = 5;
  h[1] = 0;
  h[2] = ptype;
  h[3] = flags;
  h[4] = 0x10;
  h[5] = h[6] = h[7] = 0;
  h[8] = (uint8_t)frag_len;
  h[9] = (uint8_t)(frag_len >> 8);
  h[10] = h[11] = 0;
  for (int i = 0; i < 4; i++)
    h[12 + i] = (uint8_t)(call_id >> (8 * i));
}

/* Hand over a built PDU (*out, *n) on success; free it otherwise. Called
 * after the builder, never in the same expression (argument evaluation
 * order is unspecified). */
static uint8_t *done(kmsdiag_status_t st, uint8_t **out, const size_t *n,
                     size_t *len) {
  if (st != KMSDIAG_OK) {
    free(*out);
    return NULL;
  }
  *len = *n;
  return *out;
}

uint8_t *rsp_pdu_bind_ack(const uint8_t *req, size_t rlen, unsigned ndr,
                          int btfn, size_t *len) {
  kmsdiag_rpc_pdu_t p;
  kmsdiag_rpc_ctx_result_t res[KMSDIAG_RPC_MAX_CTX_ITEMS];
  uint8_t *out = NULL;
  size_t n = 0;
  if (kmsdiag_rpc_decode(req, rlen, &p) != KMSDIAG_OK ||
      p.hdr.ptype != KMSDIAG_RPC_BIND)
    return NULL;
  if (ndr == 1 || ndr == 2) {
    /* What vlmcsd and Windows do, with or without NDR64. */
    kt_bind_policy_t pol = {ndr == 2, btfn != 0, "1688", 0x00012345u};
    kmsdiag_status_t st_ = kt_answer_bind(&p, &pol, &out, &n);
  return done(st_, &out, &n, len);
  }
  /* ndr 0 (reject every context) or 3 (accept both): results by hand. */
  memset(res, 0, sizeof res);
  for (unsigned i = 0; i < p.u.bind.n_items; i++) {
    const kmsdiag_rpc_ctx_item_t *it = &p.u.bind.items[i];
    uint16_t feat = 0;
    kmsdiag_rpc_syntax_kind_t k =
        kmsdiag_rpc_syntax_classify(&it->transfer[0], &feat);
    if (kmsdiag_rpc_syntax_classify(&it->abstract, NULL) !=
        KMSDIAG_RPC_SYNTAX_KMS) {
      res[i].result = KMSDIAG_RPC_ACK_PROVIDER_REJECTION;
      res[i].reason = KMSDIAG_RPC_REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED;
    } else if (k == KMSDIAG_RPC_SYNTAX_BTFN && btfn) {
      res[i].result = KMSDIAG_RPC_ACK_NEGOTIATE_ACK;
      res[i].reason = (uint16_t)(feat & 3);
    } else if (ndr == 3 && (k == KMSDIAG_RPC_SYNTAX_NDR32 ||
                            k == KMSDIAG_RPC_SYNTAX_NDR64)) {
      res[i].result = KMSDIAG_RPC_ACK_ACCEPTANCE;
      res[i].transfer = it->transfer[0];
    } else {
      res[i].result = KMSDIAG_RPC_ACK_PROVIDER_REJECTION;
      res[i].reason = KMSDIAG_RPC_REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED;
    }
  }
  kmsdiag_status_t st_ = kt_build_bind_ack(p.hdr.call_id, false, 0, 5840, 5840,
                                0x00012345u, "1688", p.u.bind.n_items, res,
                                &out, &n);
  return done(st_, &out, &n, len);
}

uint8_t *rsp_pdu_alter_resp(const uint8_t *req, size_t rlen, size_t *len) {
  kmsdiag_rpc_pdu_t p;
  uint8_t *out = NULL;
  size_t n = 0;
  kt_bind_policy_t pol = {false, false, "", 0x00012345u};
  if (kmsdiag_rpc_decode(req, rlen, &p) != KMSDIAG_OK ||
      p.hdr.ptype != KMSDIAG_RPC_ALTER_CONTEXT)
    return NULL;
  kmsdiag_status_t st_ = kt_answer_bind(&p, &pol, &out, &n);
  return done(st_, &out, &n, len);
}

static uint32_t call_id_of(const uint8_t *req, size_t rlen) {
  if (rlen < 16)
    return 0;
  return (uint32_t)req[12] | ((uint32_t)req[13] << 8) |
         ((uint32_t)req[14] << 16) | ((uint32_t)req[15] << 24);
}

uint8_t *rsp_pdu_bind_nak(const uint8_t *req, size_t rlen, uint16_t reason,
                          size_t *len) {
  uint8_t *out = NULL;
  size_t n = 0;
  kmsdiag_status_t st_ = kt_build_bind_nak(call_id_of(req, rlen), reason, &out, &n);
  return done(st_, &out, &n, len);
}

uint8_t *rsp_pdu_fault(const uint8_t *req, size_t rlen, uint32_t status,
                       size_t *len) {
  uint8_t *out = NULL;
  size_t n = 0;
  uint16_t ctx = 0;
  kmsdiag_rpc_pdu_t p;
  if (kmsdiag_rpc_decode(req, rlen, &p) == KMSDIAG_OK &&
      p.hdr.ptype == KMSDIAG_RPC_REQUEST)
    ctx = p.u.request.ctx_id;
  /* Junk in cancel_count and reserved, as vlmcsd leaves them. */
  kmsdiag_status_t st_ = kt_build_fault(call_id_of(req, rlen), 0, ctx, status, 0xA5, 0x5A,
                             &out, &n);
  return done(st_, &out, &n, len);
}

static uint8_t *response(const uint8_t *req, size_t rlen, const uint8_t *kms,
                         size_t kms_len, uint32_t hresult, size_t *len) {
  kmsdiag_rpc_pdu_t p;
  uint8_t *out = NULL;
  size_t n = 0;
  if (kmsdiag_rpc_decode(req, rlen, &p) != KMSDIAG_OK ||
      p.hdr.ptype != KMSDIAG_RPC_REQUEST)
    return NULL;
  /* Our bind answers put NDR64 on context 1 (as offered by Windows). */
  kmsdiag_status_t st_ = kt_build_response_pdu(p.hdr.call_id, p.u.request.ctx_id,
                                    p.u.request.ctx_id == 1, kms, kms_len,
                                    hresult, false, &out, &n);
  return done(st_, &out, &n, len);
}

uint8_t *rsp_pdu_refusal(const uint8_t *req, size_t rlen, uint32_t hresult,
                         size_t *len) {
  return response(req, rlen, NULL, 0, hresult, len);
}

uint8_t *rsp_pdu_kms_response(const uint8_t *req, size_t rlen,
                              const rsp_config_t *cfg, size_t *len) {
  kmsdiag_rpc_pdu_t p;
  const uint8_t *kreq;
  size_t kreq_len, klen = 0;
  uint8_t *kms, *out;
  if (kmsdiag_rpc_decode(req, rlen, &p) != KMSDIAG_OK ||
      p.hdr.ptype != KMSDIAG_RPC_REQUEST)
    return NULL;
  if (kmsdiag_rpc_request_stub(p.u.request.stub, p.u.request.stub_len,
                               p.u.request.ctx_id == 1, &kreq, &kreq_len,
                               NULL) != KMSDIAG_OK)
    return rsp_pdu_refusal(req, rlen, 0x8007000Du, len);
  kms = rsp_kms_answer(kreq, kreq_len, cfg, &klen);
  if (!kms) /* what a host answers to a request it cannot read */
    return rsp_pdu_refusal(req, rlen, 0x8007000Du, len);
  out = response(req, rlen, kms, klen, 0, len);
  free(kms);
  return out;
}
