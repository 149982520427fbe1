/* kms_test_build.c: TEST-ONLY host-side builders; see kms_test_build.h. */
#include "kms_test_build.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "internal/buf.h"
#include "internal/utf8.h"
#include "proto/kms_crypto.h"

kmsdiag_status_t kt_rand_xorshift(void *ud, uint8_t *buf, size_t len) {
  uint64_t *s = ud;
  if (!s || *s == 0)
    return KMSDIAG_EINVAL;
  for (size_t i = 0; i < len; i++) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    buf[i] = (uint8_t)((*s * UINT64_C(2685821657736338717)) >> 56);
  }
  return KMSDIAG_OK;
}

static kmsdiag_status_t draw(kmsdiag_kms_rand_fn rnd, void *ud, uint8_t *b,
                             size_t n) {
  if (rnd)
    return rnd(ud, b, n);
  return RAND_bytes(b, (int)n) == 1 ? KMSDIAG_OK : KMSDIAG_ECRYPTO;
}

static kmsdiag_status_t done(kd_buf_t *b, uint8_t **out, size_t *out_len) {
  *out = kd_buf_steal(b, out_len);
  kd_buf_free(b);
  return *out ? KMSDIAG_OK : KMSDIAG_ENOMEM;
}

static void put_guid(kd_buf_t *b, const kmsdiag_guid_t *g) {
  uint8_t w[16];
  kmsdiag_guid_to_wire(g, w);
  kd_buf_put(b, w, 16);
}

/* ePID as UTF-16LE with its NUL; false if invalid or not 1..63 units. */
static bool epid_utf16(const char *s, kd_buf_t *b) {
  size_t len = strlen(s), i = 0, units = 0;
  while (i < len) {
    uint32_t cp;
    size_t k = kd_utf8_decode((const uint8_t *)s + i, len - i, &cp);
    if (k == 0)
      return false;
    i += k;
    if (cp >= 0x10000) {
      kd_buf_le16(b, (uint16_t)(0xD800 + ((cp - 0x10000) >> 10)));
      kd_buf_le16(b, (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF)));
      units += 2;
    } else {
      kd_buf_le16(b, (uint16_t)cp);
      units++;
    }
  }
  kd_buf_le16(b, 0);
  return units >= 1 && units <= 63;
}

kmsdiag_status_t kt_build_kms_response(const uint8_t *req, size_t req_len,
                                       const kt_response_params_t *p,
                                       kmsdiag_kms_rand_fn rnd, void *ud,
                                       uint8_t **out, size_t *out_len) {
  kmsdiag_kms_request_t q;
  kmsdiag_status_t st;
  if (!p || !p->epid || !out || !out_len)
    return KMSDIAG_EINVAL;
  *out = NULL;
  *out_len = 0;
  st = kmsdiag_kms_decode_request(req, req_len, &q);
  if (st != KMSDIAG_OK)
    return st;

  /* the base response: version, PIDSize, ePID, CMID, time, 3 counters */
  kd_buf_t base, pid;
  kd_buf_init(&base);
  kd_buf_init(&pid);
  if (!epid_utf16(p->epid, &pid) || !kd_buf_ok(&pid)) {
    kd_buf_free(&pid);
    return KMSDIAG_EINVAL;
  }
  kd_buf_le16(&base, p->override_version ? p->version_minor : q.version_minor);
  kd_buf_le16(&base, p->override_version ? p->version_major : q.version_major);
  kd_buf_le32(&base, (uint32_t)pid.len);
  kd_buf_put(&base, pid.data, pid.len);
  kd_buf_free(&pid);
  put_guid(&base, p->override_cmid ? &p->cmid : &q.cmid);
  kd_buf_le64(&base, p->override_time ? p->client_time : q.client_time);
  kd_buf_le32(&base, p->count);
  kd_buf_le32(&base, p->activation_interval);
  kd_buf_le32(&base, p->renewal_interval);
  if (!kd_buf_ok(&base)) {
    kd_buf_free(&base);
    return KMSDIAG_ENOMEM;
  }

  if (q.version_major == 4) {
    uint8_t mac[16];
    kd_kms_v4_mac(base.data, base.len, mac);
    kd_buf_put(&base, mac, 16);
    return done(&base, out, out_len);
  }

  /* V5 / V6: IV block, base, R ^ DIV, SHA-256(R) [, HWID, DIV, HMAC],
   * PKCS#7, CBC from the IV block with a zero IV. */
  bool v6 = q.version_major == 6;
  uint8_t r[16], iv[16], hash[32];
  if ((st = draw(rnd, ud, r, 16)) != KMSDIAG_OK ||
      (v6 && !p->v5_rules_in_v6 && (st = draw(rnd, ud, iv, 16)) != KMSDIAG_OK) ||
      (st = kd_sha256(r, 16, hash)) != KMSDIAG_OK) {
    kd_buf_free(&base);
    return st;
  }
  if (!v6 || p->v5_rules_in_v6)
    memcpy(iv, q.div, 16);
  if (p->corrupt_hash)
    hash[0] ^= 0x01;
  kd_buf_t pt;
  kd_buf_init(&pt);
  kd_buf_put(&pt, iv, 16);
  kd_buf_put(&pt, base.data, base.len);
  uint64_t ft = p->override_time ? p->client_time : q.client_time;
  kd_buf_free(&base);
  for (int i = 0; i < 16; i++)
    kd_buf_u8(&pt, (uint8_t)(r[i] ^ q.div[i]));
  kd_buf_put(&pt, hash, 32);
  if (v6) {
    uint8_t mac[16];
    kd_buf_put(&pt, p->hwid, 8);
    kd_buf_put(&pt, q.div, 16);
    if (!kd_buf_ok(&pt)) {
      kd_buf_free(&pt);
      return KMSDIAG_ENOMEM;
    }
    if ((st = kd_kms_v6_hmac(ft, p->hmac_slot, pt.data, pt.len, mac)) !=
        KMSDIAG_OK) {
      kd_buf_free(&pt);
      return st;
    }
    kd_buf_put(&pt, mac, 16);
  }
  uint8_t pad = (uint8_t)(16 - pt.len % 16);
  for (uint8_t i = 0; i < pad; i++)
    kd_buf_u8(&pt, pad);
  static const uint8_t zero[16];
  if (!kd_buf_ok(&pt) ||
      (st = kd_kms_cbc(q.version_major, true, zero, pt.data, pt.data, pt.len)) !=
          KMSDIAG_OK) {
    st = kd_buf_ok(&pt) ? st : KMSDIAG_ENOMEM;
    kd_buf_free(&pt);
    return st;
  }
  kd_buf_t w;
  kd_buf_init(&w);
  kd_buf_le16(&w, q.version_minor);
  kd_buf_le16(&w, q.version_major);
  kd_buf_put(&w, pt.data, pt.len);
  kd_buf_free(&pt);
  return done(&w, out, out_len);
}

/* ---- RPC -------------------------------------------------------------------- */

static void header(kd_buf_t *b, uint8_t ptype, uint8_t flags, uint32_t call_id) {
  kd_buf_u8(b, 5);
  kd_buf_u8(b, 0);
  kd_buf_u8(b, ptype);
  kd_buf_u8(b, flags);
  kd_buf_le32(b, 0x10);
  kd_buf_le16(b, 0);
  kd_buf_le16(b, 0);
  kd_buf_le32(b, call_id);
}

static kmsdiag_status_t finish_pdu(kd_buf_t *b, uint8_t **out, size_t *out_len) {
  if (kd_buf_ok(b) && b->len > 0xFFFF) {
    kd_buf_free(b);
    return KMSDIAG_ETOOBIG;
  }
  if (kd_buf_ok(b))
    kd_buf_set_le16(b, 8, (uint16_t)b->len);
  return done(b, out, out_len);
}

kmsdiag_status_t kt_build_response_pdu(uint32_t call_id, uint16_t ctx_id,
                                       bool ndr64, const uint8_t *kms,
                                       size_t kms_len, uint32_t hresult,
                                       bool hresult_unaligned, uint8_t **out,
                                       size_t *out_len) {
  kd_buf_t s, b;
  if (!out || !out_len || (!kms && kms_len))
    return KMSDIAG_EINVAL;
  kd_buf_init(&s);
  if (ndr64) {
    kd_buf_le64(&s, kms ? kms_len : 0);
    kd_buf_le64(&s, kms ? 0x20000 : 0);
    if (kms)
      kd_buf_le64(&s, kms_len);
  } else {
    kd_buf_le32(&s, (uint32_t)(kms ? kms_len : 0));
    kd_buf_le32(&s, kms ? 0x20000 : 0);
    if (kms)
      kd_buf_le32(&s, (uint32_t)kms_len);
  }
  if (kms_len)
    kd_buf_put(&s, kms, kms_len);
  if (!hresult_unaligned)
    kd_buf_pad(&s, 4);
  kd_buf_le32(&s, hresult);
  kd_buf_pad(&s, 4);
  kd_buf_init(&b);
  header(&b, KMSDIAG_RPC_RESPONSE, 0x03, call_id);
  kd_buf_le32(&b, (uint32_t)s.len);
  kd_buf_le16(&b, ctx_id);
  kd_buf_u8(&b, 0);
  kd_buf_u8(&b, 0);
  if (!kd_buf_ok(&s)) {
    kd_buf_free(&s);
    kd_buf_free(&b);
    return KMSDIAG_ENOMEM;
  }
  kd_buf_put(&b, s.data, s.len);
  kd_buf_free(&s);
  return finish_pdu(&b, out, out_len);
}

static void put_syntax(kd_buf_t *b, const kmsdiag_rpc_syntax_t *s) {
  put_guid(b, &s->uuid);
  kd_buf_le16(b, s->ver_major);
  kd_buf_le16(b, s->ver_minor);
}

kmsdiag_status_t kt_build_bind_ack(uint32_t call_id, bool alter_resp,
                                   uint8_t flags, uint16_t max_xmit,
                                   uint16_t max_recv, uint32_t assoc_group,
                                   const char *sec_addr, size_t n_results,
                                   const kmsdiag_rpc_ctx_result_t *results,
                                   uint8_t **out, size_t *out_len) {
  kd_buf_t b;
  if (!out || !out_len || n_results > 255 || (n_results && !results))
    return KMSDIAG_EINVAL;
  kd_buf_init(&b);
  header(&b, alter_resp ? KMSDIAG_RPC_ALTER_CONTEXT_RESP : KMSDIAG_RPC_BIND_ACK,
         flags ? flags : 0x03, call_id);
  kd_buf_le16(&b, max_xmit);
  kd_buf_le16(&b, max_recv);
  kd_buf_le32(&b, assoc_group);
  size_t sl = sec_addr && *sec_addr ? strlen(sec_addr) + 1 : 0;
  kd_buf_le16(&b, (uint16_t)sl);
  if (sl)
    kd_buf_put(&b, sec_addr, sl);
  kd_buf_pad(&b, 4);
  kd_buf_u8(&b, (uint8_t)n_results);
  kd_buf_zeros(&b, 3);
  for (size_t i = 0; i < n_results; i++) {
    kd_buf_le16(&b, results[i].result);
    kd_buf_le16(&b, results[i].reason);
    put_syntax(&b, &results[i].transfer);
  }
  return finish_pdu(&b, out, out_len);
}

kmsdiag_status_t kt_answer_bind(const kmsdiag_rpc_pdu_t *bind,
                                const kt_bind_policy_t *policy, uint8_t **out,
                                size_t *out_len) {
  kmsdiag_rpc_ctx_result_t res[KMSDIAG_RPC_MAX_CTX_ITEMS];
  if (!bind || !policy || !out || !out_len ||
      (bind->hdr.ptype != KMSDIAG_RPC_BIND &&
       bind->hdr.ptype != KMSDIAG_RPC_ALTER_CONTEXT))
    return KMSDIAG_EINVAL;
  bool alter = bind->hdr.ptype == KMSDIAG_RPC_ALTER_CONTEXT;
  size_t n = bind->u.bind.n_items;
  bool ndr64_offered = false;
  for (size_t i = 0; i < n; i++)
    if (kmsdiag_rpc_syntax_classify(&bind->u.bind.items[i].transfer[0], NULL) ==
        KMSDIAG_RPC_SYNTAX_NDR64)
      ndr64_offered = true;
  memset(res, 0, sizeof res);
  for (size_t i = 0; i < n; i++) {
    const kmsdiag_rpc_ctx_item_t *it = &bind->u.bind.items[i];
    uint16_t feat = 0;
    kmsdiag_rpc_syntax_kind_t k =
        kmsdiag_rpc_syntax_classify(&it->transfer[0], &feat);
    if (kmsdiag_rpc_syntax_classify(&it->abstract, NULL) != KMSDIAG_RPC_SYNTAX_KMS ||
        it->abstract.ver_major != 1) {
      res[i].result = KMSDIAG_RPC_ACK_PROVIDER_REJECTION;
      res[i].reason = KMSDIAG_RPC_REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED;
    } else if (k == KMSDIAG_RPC_SYNTAX_BTFN && policy->btfn) {
      res[i].result = KMSDIAG_RPC_ACK_NEGOTIATE_ACK;
      res[i].reason = feat & 0x3;
    } else if (k == KMSDIAG_RPC_SYNTAX_NDR64 && policy->ndr64) {
      res[i].transfer = kmsdiag_rpc_ndr64;
    } else if (k == KMSDIAG_RPC_SYNTAX_NDR32 &&
               (alter || !(policy->ndr64 && ndr64_offered))) {
      res[i].transfer = kmsdiag_rpc_ndr32;
    } else {
      res[i].result = KMSDIAG_RPC_ACK_PROVIDER_REJECTION;
      res[i].reason = KMSDIAG_RPC_REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED;
    }
  }
  /* like vlmcsd: a bind_ack echoes CONC_MPX, an alter_context_resp does
   * not (0x13 / 0x03 in the recorded captures) */
  uint8_t flags = (uint8_t)(alter ? 0x03 : (bind->hdr.pfc_flags & 0x13) | 0x03);
  return kt_build_bind_ack(bind->hdr.call_id, alter, flags,
                           bind->u.bind.max_xmit_frag, bind->u.bind.max_recv_frag,
                           policy->assoc_group, alter ? "" : policy->sec_addr, n,
                           res, out, out_len);
}

kmsdiag_status_t kt_build_bind_nak(uint32_t call_id, uint16_t reason,
                                   uint8_t **out, size_t *out_len) {
  kd_buf_t b;
  if (!out || !out_len)
    return KMSDIAG_EINVAL;
  kd_buf_init(&b);
  header(&b, KMSDIAG_RPC_BIND_NAK, 0x03, call_id);
  kd_buf_le16(&b, reason);
  kd_buf_u8(&b, 1); /* one supported protocol version: 5.0 */
  kd_buf_u8(&b, 5);
  kd_buf_u8(&b, 0);
  kd_buf_pad(&b, 4);
  return finish_pdu(&b, out, out_len);
}

kmsdiag_status_t kt_build_fault(uint32_t call_id, uint8_t flags,
                                uint16_t ctx_id, uint32_t status,
                                uint8_t cancel_count, uint8_t reserved,
                                uint8_t **out, size_t *out_len) {
  kd_buf_t b;
  if (!out || !out_len)
    return KMSDIAG_EINVAL;
  kd_buf_init(&b);
  header(&b, KMSDIAG_RPC_FAULT, flags ? flags : 0x23, call_id);
  kd_buf_le32(&b, 32);
  kd_buf_le16(&b, ctx_id);
  kd_buf_u8(&b, cancel_count);
  kd_buf_u8(&b, reserved);
  kd_buf_le32(&b, status);
  kd_buf_le32(&b, 0);
  return finish_pdu(&b, out, out_len);
}
