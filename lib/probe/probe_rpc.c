/* probe_rpc.c: the probe's bind to the KMS interface and the decoding of
 * the answer (bind_ack, bind_nak, fault, anything else). Every byte of the
 * answer is read through kd_reader_t. */
#include <stdio.h>
#include <string.h>

#include "internal/reader.h"
#include "probe_internal.h"

/* 51C82175-844E-4750-B0D8-EC255555BC06 v1.0, wire order. */
static const uint8_t kms_if[16] = {0x75, 0x21, 0xC8, 0x51, 0x4E, 0x84,
                                   0x50, 0x47, 0xB0, 0xD8, 0xEC, 0x25,
                                   0x55, 0x55, 0xBC, 0x06};
/* NDR32 8A885D04-1CEB-11C9-9FE8-08002B104860 v2. */
static const uint8_t ndr32[16] = {0x04, 0x5D, 0x88, 0x8A, 0xEB, 0x1C,
                                  0xC9, 0x11, 0x9F, 0xE8, 0x08, 0x00,
                                  0x2B, 0x10, 0x48, 0x60};
/* NDR64 71710533-BEBA-4937-8319-B5DBEF9CCC36 v1. */
static const uint8_t ndr64[16] = {0x33, 0x05, 0x71, 0x71, 0xBA, 0xBE,
                                  0x37, 0x49, 0x83, 0x19, 0xB5, 0xDB,
                                  0xEF, 0x9C, 0xCC, 0x36};
/* BTFN 6CB71C2C-9812-4540-0300-000000000000 v1: features 0x0003 in bytes
 * 8-9. */
static const uint8_t btfn[16] = {0x2C, 0x1C, 0xB7, 0x6C, 0x12, 0x98,
                                 0x40, 0x45, 0x03, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00};
#define BTFN_OFFERED 0x0003u
#define MAX_FRAG 5840u

enum { PT_REQUEST = 0, PT_RESPONSE = 2, PT_FAULT = 3, PT_BIND = 11,
       PT_BIND_ACK = 12, PT_BIND_NAK = 13 };

static void ctx_item(kd_buf_t *b, uint16_t id, const uint8_t ts[16],
                     uint32_t ver) {
  kd_buf_le16(b, id);
  kd_buf_u8(b, 1); /* one transfer syntax */
  kd_buf_u8(b, 0);
  kd_buf_put(b, kms_if, 16);
  kd_buf_le16(b, 1); /* interface version 1.0 */
  kd_buf_le16(b, 0);
  kd_buf_put(b, ts, 16);
  kd_buf_le32(b, ver);
}

void kd_probe_rpc_bind(kd_buf_t *b) {
  size_t start = b->len;
  kd_buf_u8(b, 5);
  kd_buf_u8(b, 0);
  kd_buf_u8(b, PT_BIND);
  kd_buf_u8(b, 0x03 | 0x10); /* first, last, concurrent multiplexing */
  kd_buf_le32(b, 0x00000010); /* little-endian, ASCII, IEEE */
  kd_buf_le16(b, 0);          /* frag_len, set below */
  kd_buf_le16(b, 0);          /* auth_len */
  kd_buf_le32(b, KD_PROBE_CALL_ID);
  kd_buf_le16(b, MAX_FRAG);
  kd_buf_le16(b, MAX_FRAG);
  kd_buf_le32(b, 0); /* new association group */
  kd_buf_u8(b, 3);
  kd_buf_zeros(b, 3);
  ctx_item(b, 0, ndr32, 2);
  ctx_item(b, 1, ndr64, 1);
  ctx_item(b, 2, btfn, 1);
  kd_buf_set_le16(b, start + 8, (uint16_t)(b->len - start));
}

kmsdiag_status_t kd_probe_rpc_header(const uint8_t *hdr, size_t len,
                                     size_t *frag_len, char *msg,
                                     size_t msgsz) {
  kd_reader_t r;
  kd_rd_init(&r, hdr, len);
  uint8_t vers = kd_rd_u8(&r), minor = kd_rd_u8(&r);
  uint8_t ptype = kd_rd_u8(&r), flags = kd_rd_u8(&r);
  uint32_t drep = kd_rd_le32(&r);
  uint16_t flen = kd_rd_le16(&r), alen = kd_rd_le16(&r);
  (void)flags;
  if (!kd_rd_ok(&r)) {
    snprintf(msg, msgsz, "short RPC header (%zu bytes)", len);
    return KMSDIAG_ETRUNC;
  }
  if (vers != 5 || minor != 0) {
    snprintf(msg, msgsz,
             "not a DCE/RPC answer (garbage: first bytes %02x %02x %02x %02x)",
             hdr[0], hdr[1], hdr[2], hdr[3]);
    return KMSDIAG_EPROTO;
  }
  if ((drep & 0xFFu) != 0x10) {
    snprintf(msg, msgsz, "RPC data representation 0x%08x is not little-endian ASCII",
             (unsigned)drep);
    return KMSDIAG_EPROTO;
  }
  if (flen < 16 || flen > KD_PROBE_PDU_MAX) {
    snprintf(msg, msgsz, "RPC frag_len %u out of range (16..%u) in PDU type %u",
             flen, KD_PROBE_PDU_MAX, ptype);
    return KMSDIAG_EPROTO;
  }
  if (alen != 0) {
    snprintf(msg, msgsz, "RPC auth_len %u where KMS uses none", alen);
    return KMSDIAG_EPROTO;
  }
  *frag_len = flen;
  return KMSDIAG_OK;
}

static const char *nak_reason(uint16_t r) {
  switch (r) {
  case 0: return "reason not specified";
  case 1: return "temporary congestion";
  case 2: return "local limit exceeded";
  case 3: return "called paddr unknown";
  case 4: return "protocol version not supported";
  case 5: return "default context not supported";
  case 6: return "user data not readable";
  case 7: return "no PSAP available";
  case 8: return "authentication type not recognized";
  case 9: return "invalid checksum";
  }
  return "unknown reason";
}

static const char *ctx_reason(uint16_t r) {
  switch (r) {
  case 0: return "not specified";
  case 1: return "abstract syntax not supported";
  case 2: return "transfer syntaxes not supported";
  case 3: return "local limit exceeded";
  }
  return "unknown reason";
}

static const char *fault_name(uint32_t st) {
  switch (st) {
  case 0x1C010003: return "nca_unk_if (unknown interface)";
  case 0x1C01000B: return "nca_proto_error";
  case 0x1C010002: return "nca_op_rng_error (unknown operation)";
  case 0x1C00001B: return "nca_s_fault_remote_no_memory";
  case 0x00000005: return "access denied";
  case 0x000006F7: return "RPC_X_BAD_STUB_DATA";
  case 0x1C010014: return "nca_server_too_busy";
  }
  return "unknown status";
}

kmsdiag_status_t kd_probe_rpc_bind_answer(const uint8_t *pdu, size_t len,
                                          kmsdiag_probe_result_t *res,
                                          unsigned *ctx, char *msg,
                                          size_t msgsz) {
  kd_reader_t r;
  kd_rd_init(&r, pdu, len);
  kd_rd_skip(&r, 2);
  uint8_t ptype = kd_rd_u8(&r), flags = kd_rd_u8(&r);
  kd_rd_skip(&r, 4);
  uint16_t flen = kd_rd_le16(&r);
  kd_rd_skip(&r, 2);
  uint32_t call_id = kd_rd_le32(&r);
  if (!kd_rd_ok(&r) || flen != len) {
    snprintf(msg, msgsz, "RPC PDU length %zu does not match frag_len %u", len,
             flen);
    return KMSDIAG_EPROTO;
  }
  if (ptype == PT_FAULT) {
    kd_rd_skip(&r, 4 + 2 + 1 + 1); /* alloc_hint, ctx, cancel, reserved */
    uint32_t st = kd_rd_le32(&r);
    if (!kd_rd_ok(&r)) {
      snprintf(msg, msgsz, "truncated RPC fault PDU (%zu bytes)", len);
      return KMSDIAG_EPROTO;
    }
    res->rpc_status = st;
    snprintf(msg, msgsz, "bind answered with an RPC fault: status 0x%08X %s",
             (unsigned)st, fault_name(st));
    return KMSDIAG_ERPCFAULT;
  }
  if (ptype == PT_BIND_NAK) {
    uint16_t reason = kd_rd_le16(&r);
    if (!kd_rd_ok(&r)) {
      snprintf(msg, msgsz, "truncated bind_nak PDU (%zu bytes)", len);
      return KMSDIAG_EPROTO;
    }
    res->bind_answered = true;
    res->rpc_status = reason;
    snprintf(msg, msgsz, "bind rejected (bind_nak): reason %u, %s", reason,
             nak_reason(reason));
    return KMSDIAG_EBINDREJECT;
  }
  if (ptype != PT_BIND_ACK) {
    snprintf(msg, msgsz, "bind answered with RPC PDU type %u, not bind_ack",
             ptype);
    return KMSDIAG_EPROTO;
  }
  if ((flags & 0x03) != 0x03) {
    snprintf(msg, msgsz, "fragmented bind_ack (flags 0x%02x)", flags);
    return KMSDIAG_EPROTO;
  }
  if (call_id != KD_PROBE_CALL_ID) {
    snprintf(msg, msgsz, "bind_ack call_id %u, expected %u", (unsigned)call_id,
             KD_PROBE_CALL_ID);
    return KMSDIAG_EPROTO;
  }
  uint16_t max_xmit = kd_rd_le16(&r), max_recv = kd_rd_le16(&r);
  kd_rd_skip(&r, 4); /* association group */
  uint16_t sec_len = kd_rd_le16(&r);
  kd_rd_skip(&r, sec_len);
  kd_rd_align(&r, 4);
  uint8_t nres = kd_rd_u8(&r);
  kd_rd_skip(&r, 3);
  if (!kd_rd_ok(&r)) {
    snprintf(msg, msgsz, "truncated bind_ack at offset %zu", r.err_off);
    return KMSDIAG_EPROTO;
  }
  if (max_xmit < 16 || max_recv < 16) {
    snprintf(msg, msgsz, "bind_ack fragment sizes %u/%u are unusable",
             max_xmit, max_recv);
    return KMSDIAG_EPROTO;
  }
  if (nres == 0 || nres > 3) {
    snprintf(msg, msgsz, "bind_ack carries %u results for 3 contexts", nres);
    return KMSDIAG_EPROTO;
  }
  static const uint8_t *const offered[3] = {ndr32, ndr64, btfn};
  uint16_t reasons[3] = {0, 0, 0};
  uint16_t results[3] = {2, 2, 2};
  res->bind_answered = true;
  for (unsigned i = 0; i < nres; i++) {
    uint16_t result = kd_rd_le16(&r), reason = kd_rd_le16(&r);
    const uint8_t *ts = kd_rd_ptr(&r, 16);
    uint32_t ver = kd_rd_le32(&r);
    (void)ver;
    if (!kd_rd_ok(&r)) {
      snprintf(msg, msgsz, "truncated bind_ack result %u", i);
      return KMSDIAG_EPROTO;
    }
    results[i] = result;
    reasons[i] = reason;
    if (i < 2 && result == 0) {
      if (memcmp(ts, offered[i], 16) != 0) {
        snprintf(msg, msgsz,
                 "bind_ack accepts context %u with a transfer syntax we did "
                 "not offer", i);
        return KMSDIAG_EPROTO;
      }
      if (i == 0)
        res->ndr32 = true;
      else
        res->ndr64 = true;
    } else if (i == 2 && result == 3) {
      res->btfn = true;
      res->btfn_features = (uint16_t)(reason & BTFN_OFFERED);
    } else if (result == 0 && i == 2) {
      snprintf(msg, msgsz, "bind_ack accepts the negotiation pseudo-syntax");
      return KMSDIAG_EPROTO;
    }
  }
  if (!res->ndr32 && !res->ndr64) {
    snprintf(msg, msgsz,
             "bind rejected every transfer syntax: NDR32 result %u (%s), "
             "NDR64 result %u (%s)",
             results[0], ctx_reason(reasons[0]), results[1],
             ctx_reason(reasons[1]));
    return KMSDIAG_EBINDREJECT;
  }
  *ctx = res->ndr32 ? 0 : 1;
  snprintf(msg, msgsz, "bind accepted: %s%s%s, feature negotiation %s",
           res->ndr32 ? "NDR32" : "",
           res->ndr32 && res->ndr64 ? "+" : "", res->ndr64 ? "NDR64" : "",
           res->btfn ? "acknowledged" : "not acknowledged");
  return KMSDIAG_OK;
}
