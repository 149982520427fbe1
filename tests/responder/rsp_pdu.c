/* rsp_pdu.c: PDUs of the test responder (server side: the library only
 * builds client PDUs). The incoming PDU is decoded with the library's own
 * RPC decoder. */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

#include "internal/buf.h"
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

static void put_header(kd_buf_t *b, uint8_t ptype, uint8_t flags,
                       uint32_t call_id) {
  uint8_t h[16];
  rsp_pdu_header(h, ptype, flags, 0, call_id);
  kd_buf_put(b, h, 16);
}

static uint8_t *finish(kd_buf_t *b, size_t *len) {
  if (kd_buf_ok(b) && b->len <= 0xFFFF)
    kd_buf_set_le16(b, 8, (uint16_t)b->len);
  return kd_buf_steal(b, len);
}

static void put_syntax(kd_buf_t *b, const kmsdiag_rpc_syntax_t *s) {
  uint8_t w[16];
  kmsdiag_guid_to_wire(&s->uuid, w);
  kd_buf_put(b, w, 16);
  kd_buf_le16(b, s->ver_major);
  kd_buf_le16(b, s->ver_minor);
}

static uint8_t *ack(const uint8_t *req, size_t rlen, unsigned ndr, int btfn,
                    bool alter, size_t *len) {
  kmsdiag_rpc_pdu_t p;
  kd_buf_t b;
  static const kmsdiag_rpc_syntax_t null_syntax;
  if (kmsdiag_rpc_decode(req, rlen, &p) != KMSDIAG_OK)
    return NULL;
  kd_buf_init(&b);
  put_header(&b, alter ? 15 : 12, 0x03, p.hdr.call_id);
  kd_buf_le16(&b, 5840);
  kd_buf_le16(&b, 5840);
  kd_buf_le32(&b, alter ? p.u.bind.assoc_group : 0x00012345u);
  if (alter) {
    kd_buf_le16(&b, 0); /* empty secondary address */
  } else {
    kd_buf_le16(&b, 5);
    kd_buf_put(&b, "1688", 5);
  }
  kd_buf_pad(&b, 4);
  kd_buf_u8(&b, p.u.bind.n_items);
  kd_buf_zeros(&b, 3);
  for (unsigned i = 0; i < p.u.bind.n_items; i++) {
    const kmsdiag_rpc_ctx_item_t *it = &p.u.bind.items[i];
    uint16_t feat = 0;
    kmsdiag_rpc_syntax_kind_t k =
        kmsdiag_rpc_syntax_classify(&it->transfer[0], &feat);
    bool iface = kmsdiag_rpc_syntax_classify(&it->abstract, NULL) ==
                 KMSDIAG_RPC_SYNTAX_KMS;
    if (!iface) {
      kd_buf_le16(&b, 2);
      kd_buf_le16(&b, 1); /* abstract syntax not supported */
      put_syntax(&b, &null_syntax);
    } else if (k == KMSDIAG_RPC_SYNTAX_BTFN && btfn) {
      kd_buf_le16(&b, 3); /* negotiate_ack */
      kd_buf_le16(&b, (uint16_t)(feat & 3));
      put_syntax(&b, &null_syntax);
    } else if ((k == KMSDIAG_RPC_SYNTAX_NDR32 && ((ndr & 1) || alter)) ||
               (k == KMSDIAG_RPC_SYNTAX_NDR64 && (ndr & 2))) {
      kd_buf_le16(&b, 0);
      kd_buf_le16(&b, 0);
      put_syntax(&b, &it->transfer[0]);
    } else {
      kd_buf_le16(&b, 2);
      kd_buf_le16(&b, 2); /* transfer syntaxes not supported */
      put_syntax(&b, &null_syntax);
    }
  }
  return finish(&b, len);
}

uint8_t *rsp_pdu_bind_ack(const uint8_t *req, size_t rlen, unsigned ndr,
                          int btfn, size_t *len) {
  return ack(req, rlen, ndr, btfn, false, len);
}

uint8_t *rsp_pdu_alter_resp(const uint8_t *req, size_t rlen, size_t *len) {
  return ack(req, rlen, 3, 0, true, len);
}

static uint32_t call_id_of(const uint8_t *req, size_t rlen) {
  if (rlen < 16)
    return 0;
  return (uint32_t)req[12] | ((uint32_t)req[13] << 8) |
         ((uint32_t)req[14] << 16) | ((uint32_t)req[15] << 24);
}

uint8_t *rsp_pdu_bind_nak(const uint8_t *req, size_t rlen, uint16_t reason,
                          size_t *len) {
  kd_buf_t b;
  kd_buf_init(&b);
  put_header(&b, 13, 0x03, call_id_of(req, rlen));
  kd_buf_le16(&b, reason);
  kd_buf_u8(&b, 1); /* one supported version: 5.0 */
  kd_buf_u8(&b, 5);
  kd_buf_u8(&b, 0);
  kd_buf_pad(&b, 4);
  return finish(&b, len);
}

uint8_t *rsp_pdu_fault(const uint8_t *req, size_t rlen, uint32_t status,
                       size_t *len) {
  kd_buf_t b;
  kd_buf_init(&b);
  put_header(&b, 3, 0x23, call_id_of(req, rlen));
  kd_buf_le32(&b, 32);
  kd_buf_le16(&b, 0);
  kd_buf_u8(&b, 0xA5); /* junk in cancel_count, as vlmcsd leaves it */
  kd_buf_u8(&b, 0x5A);
  kd_buf_le32(&b, status);
  kd_buf_le32(&b, 0);
  return finish(&b, len);
}

static uint8_t *response(const uint8_t *req, size_t rlen, const uint8_t *kms,
                         size_t kms_len, uint32_t hresult, size_t *len) {
  kmsdiag_rpc_pdu_t p;
  kd_buf_t stub, b;
  if (kmsdiag_rpc_decode(req, rlen, &p) != KMSDIAG_OK ||
      p.hdr.ptype != KMSDIAG_RPC_REQUEST)
    return NULL;
  bool ndr64 = p.u.request.ctx_id == 1;
  kd_buf_init(&stub);
  if (kms) {
    if (ndr64) {
      kd_buf_le64(&stub, kms_len);
      kd_buf_le64(&stub, 0x20000);
      kd_buf_le64(&stub, kms_len);
    } else {
      kd_buf_le32(&stub, (uint32_t)kms_len);
      kd_buf_le32(&stub, 0x20000);
      kd_buf_le32(&stub, (uint32_t)kms_len);
    }
    kd_buf_put(&stub, kms, kms_len);
    kd_buf_pad(&stub, 4);
  } else if (ndr64) {
    kd_buf_le64(&stub, 0);
    kd_buf_le64(&stub, 0);
  } else {
    kd_buf_le32(&stub, 0);
    kd_buf_le32(&stub, 0);
  }
  kd_buf_le32(&stub, hresult);
  kd_buf_init(&b);
  put_header(&b, 2, 0x03, p.hdr.call_id);
  kd_buf_le32(&b, (uint32_t)stub.len);
  kd_buf_le16(&b, p.u.request.ctx_id);
  kd_buf_u8(&b, 0);
  kd_buf_u8(&b, 0);
  kd_buf_put(&b, stub.data, stub.len);
  bool ok = kd_buf_ok(&stub);
  kd_buf_free(&stub);
  if (!ok) {
    kd_buf_free(&b);
    return NULL;
  }
  return finish(&b, len);
}

uint8_t *rsp_pdu_refusal(const uint8_t *req, size_t rlen, uint32_t hresult,
                         size_t *len) {
  return response(req, rlen, NULL, 0, hresult, len);
}

#include "rsp_kms.h"

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
  if (!kms)
    return rsp_pdu_refusal(req, rlen, 0x8007000Du, len);
  out = response(req, rlen, kms, klen, 0, len);
  free(kms);
  return out;
}
