/* rpc.c: DCE/RPC connection-oriented PDUs as KMS uses them (decode,
 * stubs of opnum 0, reassembly, client-side encoders). */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_rpc.h>

#include "internal/buf.h"
#include "internal/reader.h"

/* ---- syntaxes ----------------------------------------------------------- */

const kmsdiag_rpc_syntax_t kmsdiag_rpc_kms_interface = {
    {0x51C82175u, 0x844E, 0x4750, {0xB0, 0xD8, 0xEC, 0x25, 0x55, 0x55, 0xBC, 0x06}},
    1, 0};
const kmsdiag_rpc_syntax_t kmsdiag_rpc_ndr32 = {
    {0x8A885D04u, 0x1CEB, 0x11C9, {0x9F, 0xE8, 0x08, 0x00, 0x2B, 0x10, 0x48, 0x60}},
    2, 0};
const kmsdiag_rpc_syntax_t kmsdiag_rpc_ndr64 = {
    {0x71710533u, 0xBEBA, 0x4937, {0x83, 0x19, 0xB5, 0xDB, 0xEF, 0x9C, 0xCC, 0x36}},
    1, 0};

kmsdiag_rpc_syntax_t kmsdiag_rpc_btfn(uint16_t features) {
  kmsdiag_rpc_syntax_t s;
  memset(&s, 0, sizeof s);
  s.uuid.data1 = 0x6CB71C2Cu;
  s.uuid.data2 = 0x9812;
  s.uuid.data3 = 0x4540;
  /* Data4 bytes 0-1 (UUID bytes 8-9) carry the bitmask, little-endian. */
  s.uuid.data4[0] = (uint8_t)(features & 0xFF);
  s.uuid.data4[1] = (uint8_t)(features >> 8);
  s.ver_major = 1;
  return s;
}

kmsdiag_rpc_syntax_kind_t
kmsdiag_rpc_syntax_classify(const kmsdiag_rpc_syntax_t *s,
                            uint16_t *btfn_features) {
  static const uint8_t zero6[6];
  if (btfn_features)
    *btfn_features = 0;
  if (!s)
    return KMSDIAG_RPC_SYNTAX_OTHER;
  if (kmsdiag_guid_is_null(&s->uuid))
    return KMSDIAG_RPC_SYNTAX_NULL;
  if (kmsdiag_guid_equal(&s->uuid, &kmsdiag_rpc_ndr32.uuid))
    return KMSDIAG_RPC_SYNTAX_NDR32;
  if (kmsdiag_guid_equal(&s->uuid, &kmsdiag_rpc_ndr64.uuid))
    return KMSDIAG_RPC_SYNTAX_NDR64;
  if (kmsdiag_guid_equal(&s->uuid, &kmsdiag_rpc_kms_interface.uuid))
    return KMSDIAG_RPC_SYNTAX_KMS;
  if (s->uuid.data1 == 0x6CB71C2Cu && s->uuid.data2 == 0x9812 &&
      s->uuid.data3 == 0x4540 && memcmp(s->uuid.data4 + 2, zero6, 6) == 0) {
    if (btfn_features)
      *btfn_features = (uint16_t)(s->uuid.data4[0] | (s->uuid.data4[1] << 8));
    return KMSDIAG_RPC_SYNTAX_BTFN;
  }
  return KMSDIAG_RPC_SYNTAX_OTHER;
}

const char *kmsdiag_rpc_syntax_kind_name(kmsdiag_rpc_syntax_kind_t k) {
  switch (k) {
  case KMSDIAG_RPC_SYNTAX_NULL: return "null";
  case KMSDIAG_RPC_SYNTAX_NDR32: return "NDR32";
  case KMSDIAG_RPC_SYNTAX_NDR64: return "NDR64";
  case KMSDIAG_RPC_SYNTAX_BTFN: return "BTFN";
  case KMSDIAG_RPC_SYNTAX_KMS: return "KMS";
  case KMSDIAG_RPC_SYNTAX_OTHER: break;
  }
  return "other";
}

/* ---- names -------------------------------------------------------------- */

const char *kmsdiag_rpc_ptype_name(uint8_t ptype) {
  switch (ptype) {
  case KMSDIAG_RPC_REQUEST: return "request";
  case KMSDIAG_RPC_RESPONSE: return "response";
  case KMSDIAG_RPC_FAULT: return "fault";
  case KMSDIAG_RPC_BIND: return "bind";
  case KMSDIAG_RPC_BIND_ACK: return "bind_ack";
  case KMSDIAG_RPC_BIND_NAK: return "bind_nak";
  case KMSDIAG_RPC_ALTER_CONTEXT: return "alter_context";
  case KMSDIAG_RPC_ALTER_CONTEXT_RESP: return "alter_context_resp";
  case KMSDIAG_RPC_AUTH3: return "auth3";
  case KMSDIAG_RPC_SHUTDOWN: return "shutdown";
  case KMSDIAG_RPC_CO_CANCEL: return "co_cancel";
  case KMSDIAG_RPC_ORPHANED: return "orphaned";
  default: return "unknown";
  }
}

const char *kmsdiag_rpc_ack_result_name(uint16_t result) {
  switch (result) {
  case KMSDIAG_RPC_ACK_ACCEPTANCE: return "acceptance";
  case KMSDIAG_RPC_ACK_USER_REJECTION: return "user_rejection";
  case KMSDIAG_RPC_ACK_PROVIDER_REJECTION: return "provider_rejection";
  case KMSDIAG_RPC_ACK_NEGOTIATE_ACK: return "negotiate_ack";
  default: return "unknown";
  }
}

const char *kmsdiag_rpc_ack_reason_name(uint16_t reason) {
  switch (reason) {
  case KMSDIAG_RPC_REASON_NOT_SPECIFIED: return "reason_not_specified";
  case KMSDIAG_RPC_REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED:
    return "abstract_syntax_not_supported";
  case KMSDIAG_RPC_REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED:
    return "proposed_transfer_syntaxes_not_supported";
  case KMSDIAG_RPC_REASON_LOCAL_LIMIT_EXCEEDED: return "local_limit_exceeded";
  default: return "unknown";
  }
}

const char *kmsdiag_rpc_bind_nak_reason_name(uint16_t reason) {
  switch (reason) {
  case 0: return "reason_not_specified";
  case 1: return "temporary_congestion";
  case 2: return "local_limit_exceeded";
  case 3: return "called_paddr_unknown";
  case 4: return "protocol_version_not_supported";
  case 5: return "default_context_not_supported";
  case 6: return "user_data_not_readable";
  case 7: return "no_psap_available";
  case 8: return "authentication_type_not_recognized";
  case 9: return "invalid_checksum";
  default: return "unknown";
  }
}

const char *kmsdiag_rpc_fault_name(uint32_t status) {
  switch (status) {
  case 0x1C010001u: return "nca_comm_failure";
  case 0x1C010002u: return "nca_op_rng_error";
  case 0x1C010003u: return "nca_unk_if";
  case 0x1C010006u: return "nca_wrong_boot_time";
  case 0x1C010009u: return "nca_you_crashed";
  case 0x1C01000Bu: return "nca_proto_error";
  case 0x1C010013u: return "nca_out_args_too_big";
  case 0x1C010014u: return "nca_server_too_busy";
  case 0x1C010017u: return "nca_unsupported_type";
  case 0x1C000001u: return "nca_s_fault_int_div_by_zero";
  case 0x1C00000Du: return "nca_s_fault_invalid_tag";
  case 0x1C000011u: return "nca_s_fault_remote_no_memory";
  case 0x1C000012u: return "nca_s_fault_context_mismatch";
  case 0x1C00001Au: return "nca_s_fault_ndr";
  case 0x00000005u: return "access_denied";
  case 0x000006F7u: return "rpc_x_bad_stub_data";
  case 0x000006D1u: return "rpc_s_procnum_out_of_range";
  default: return NULL;
  }
}

/* ---- decoding ----------------------------------------------------------- */

static kmsdiag_status_t fail_at(kmsdiag_decode_where_t *w, const char *field,
                                size_t off, kmsdiag_status_t st) {
  if (w) {
    w->field = field;
    w->offset = off;
  }
  return st;
}

/* Reader failed: a truncation at r->err_off. */
static kmsdiag_status_t trunc_at(kmsdiag_decode_where_t *w, const char *field,
                                 const kd_reader_t *r) {
  return fail_at(w, field, r->err_off, KMSDIAG_ETRUNC);
}

static bool is_co_ptype(uint8_t t) {
  return t == 0 || t == 2 || t == 3 || (t >= 11 && t <= 19);
}

kmsdiag_status_t kmsdiag_rpc_pdu_length(const uint8_t *data, size_t avail,
                                        size_t *frag_len) {
  kd_reader_t r;
  uint16_t fl;
  if (frag_len)
    *frag_len = 0;
  if (!data && avail)
    return KMSDIAG_EINVAL;
  if (avail < KMSDIAG_RPC_HEADER_LEN)
    return KMSDIAG_ETRUNC;
  kd_rd_init(&r, data, avail);
  uint8_t vers = kd_rd_u8(&r), minor = kd_rd_u8(&r), ptype = kd_rd_u8(&r);
  (void)kd_rd_u8(&r);
  uint8_t drep0 = kd_rd_u8(&r);
  kd_rd_skip(&r, 3);
  if (vers != 5 || minor > 1 || !is_co_ptype(ptype))
    return KMSDIAG_EMALFORMED;
  /* frag_len follows the integer representation the header declares. */
  fl = (drep0 & 0x10) ? kd_rd_le16(&r) : kd_rd_be16(&r);
  if (fl < KMSDIAG_RPC_HEADER_LEN)
    return KMSDIAG_EMALFORMED;
  if (fl > KMSDIAG_RPC_MAX_FRAG)
    return KMSDIAG_ETOOBIG;
  if (frag_len)
    *frag_len = fl;
  return KMSDIAG_OK;
}

static void read_syntax(kd_reader_t *r, kmsdiag_rpc_syntax_t *s) {
  uint8_t w[16];
  kd_rd_copy(r, w, 16);
  kmsdiag_guid_from_wire(&s->uuid, w);
  s->ver_major = kd_rd_le16(r);
  s->ver_minor = kd_rd_le16(r);
}

static kmsdiag_status_t decode_bind(kd_reader_t *r, kmsdiag_rpc_pdu_t *out) {
  kmsdiag_decode_where_t *w = &out->err;
  static const char *const item_field[KMSDIAG_RPC_MAX_CTX_ITEMS] = {
      "ctx_item[0]", "ctx_item[1]", "ctx_item[2]", "ctx_item[3]",
      "ctx_item[4]", "ctx_item[5]", "ctx_item[6]", "ctx_item[7]"};
  out->u.bind.max_xmit_frag = kd_rd_le16(r);
  out->u.bind.max_recv_frag = kd_rd_le16(r);
  out->u.bind.assoc_group = kd_rd_le32(r);
  size_t n_off = kd_rd_offset(r);
  uint8_t n = kd_rd_u8(r);
  kd_rd_skip(r, 3);
  if (!kd_rd_ok(r))
    return trunc_at(w, "bind.n_context_elem", r);
  if (n > KMSDIAG_RPC_MAX_CTX_ITEMS)
    return fail_at(w, "bind.n_context_elem", n_off, KMSDIAG_ETOOBIG);
  out->u.bind.n_items = n;
  for (uint8_t i = 0; i < n; i++) {
    kmsdiag_rpc_ctx_item_t *it = &out->u.bind.items[i];
    it->ctx_id = kd_rd_le16(r);
    size_t t_off = kd_rd_offset(r);
    it->n_transfer = kd_rd_u8(r);
    (void)kd_rd_u8(r);
    read_syntax(r, &it->abstract);
    if (!kd_rd_ok(r))
      return trunc_at(w, item_field[i], r);
    if (it->n_transfer == 0)
      return fail_at(w, "ctx_item.n_transfer_syn", t_off, KMSDIAG_EMALFORMED);
    if (it->n_transfer > KMSDIAG_RPC_MAX_TRANSFER)
      return fail_at(w, "ctx_item.n_transfer_syn", t_off, KMSDIAG_ETOOBIG);
    for (uint8_t k = 0; k < it->n_transfer; k++)
      read_syntax(r, &it->transfer[k]);
    if (!kd_rd_ok(r))
      return trunc_at(w, "ctx_item.transfer_syntax", r);
  }
  return KMSDIAG_OK;
}

static kmsdiag_status_t decode_bind_ack(kd_reader_t *r,
                                        kmsdiag_rpc_pdu_t *out) {
  kmsdiag_decode_where_t *w = &out->err;
  out->u.bind_ack.max_xmit_frag = kd_rd_le16(r);
  out->u.bind_ack.max_recv_frag = kd_rd_le16(r);
  out->u.bind_ack.assoc_group = kd_rd_le32(r);
  uint16_t sl = kd_rd_le16(r);
  if (!kd_rd_ok(r))
    return trunc_at(w, "bind_ack.sec_addr_len", r);
  size_t s_off = kd_rd_offset(r);
  const uint8_t *sa = kd_rd_ptr(r, sl);
  if (!sa)
    return fail_at(w, "bind_ack.sec_addr", s_off, KMSDIAG_ETRUNC);
  out->u.bind_ack.sec_addr_len = sl;
  size_t k = 0;
  while (k < sl && k < KMSDIAG_RPC_SEC_ADDR_MAX && sa[k] != 0) {
    out->u.bind_ack.sec_addr[k] = (char)sa[k];
    k++;
  }
  out->u.bind_ack.sec_addr[k] = '\0';
  kd_rd_align(r, 4);
  size_t n_off = kd_rd_offset(r);
  uint8_t n = kd_rd_u8(r);
  kd_rd_skip(r, 3);
  if (!kd_rd_ok(r))
    return trunc_at(w, "bind_ack.n_results", r);
  if (n > KMSDIAG_RPC_MAX_CTX_ITEMS)
    return fail_at(w, "bind_ack.n_results", n_off, KMSDIAG_ETOOBIG);
  out->u.bind_ack.n_results = n;
  for (uint8_t i = 0; i < n; i++) {
    kmsdiag_rpc_ctx_result_t *res = &out->u.bind_ack.results[i];
    res->result = kd_rd_le16(r);
    res->reason = kd_rd_le16(r);
    read_syntax(r, &res->transfer);
    if (!kd_rd_ok(r))
      return trunc_at(w, "bind_ack.result", r);
  }
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_rpc_decode(const uint8_t *data, size_t len,
                                    kmsdiag_rpc_pdu_t *out) {
  kd_reader_t r;
  kmsdiag_status_t st;
  if (!out)
    return KMSDIAG_EINVAL;
  memset(out, 0, sizeof *out);
  out->err.field = "";
  if (!data && len)
    return KMSDIAG_EINVAL;
  if (len > KMSDIAG_RPC_MAX_FRAG)
    return fail_at(&out->err, "frag_len", 8, KMSDIAG_ETOOBIG);
  kd_rd_init(&r, data, len);
  kmsdiag_rpc_header_t *h = &out->hdr;
  h->rpc_vers = kd_rd_u8(&r);
  h->rpc_vers_minor = kd_rd_u8(&r);
  h->ptype = kd_rd_u8(&r);
  h->pfc_flags = kd_rd_u8(&r);
  kd_rd_copy(&r, h->drep, 4);
  h->frag_len = kd_rd_le16(&r);
  h->auth_len = kd_rd_le16(&r);
  h->call_id = kd_rd_le32(&r);
  if (!kd_rd_ok(&r))
    return trunc_at(&out->err, "header", &r);
  if (h->rpc_vers != 5)
    return fail_at(&out->err, "rpc_vers", 0, KMSDIAG_EMALFORMED);
  if (h->rpc_vers_minor > 1)
    return fail_at(&out->err, "rpc_vers_minor", 1, KMSDIAG_EMALFORMED);
  if (!is_co_ptype(h->ptype))
    return fail_at(&out->err, "ptype", 2, KMSDIAG_EMALFORMED);
  if ((h->drep[0] & 0xF0) != 0x10 || (h->drep[0] & 0x0F) != 0 ||
      h->drep[1] != 0)
    return fail_at(&out->err, "drep", 4, KMSDIAG_EUNSUPPORTED);
  if (h->frag_len < KMSDIAG_RPC_HEADER_LEN)
    return fail_at(&out->err, "frag_len", 8, KMSDIAG_EMALFORMED);
  if (h->frag_len > len)
    return fail_at(&out->err, "frag_len", 8, KMSDIAG_ETRUNC);
  if (h->frag_len < len)
    return fail_at(&out->err, "frag_len", 8, KMSDIAG_EMALFORMED);
  if (h->auth_len != 0)
    return fail_at(&out->err, "auth_len", 10, KMSDIAG_EAUTH);

  switch (h->ptype) {
  case KMSDIAG_RPC_BIND:
  case KMSDIAG_RPC_ALTER_CONTEXT:
    st = decode_bind(&r, out);
    break;
  case KMSDIAG_RPC_BIND_ACK:
  case KMSDIAG_RPC_ALTER_CONTEXT_RESP:
    st = decode_bind_ack(&r, out);
    break;
  case KMSDIAG_RPC_BIND_NAK:
    out->u.bind_nak.reject_reason = kd_rd_le16(&r);
    if (!kd_rd_ok(&r))
      return trunc_at(&out->err, "bind_nak.provider_reject_reason", &r);
    if (kd_rd_remaining(&r) >= 1)
      out->u.bind_nak.n_versions = kd_rd_u8(&r);
    st = KMSDIAG_OK;
    break;
  case KMSDIAG_RPC_REQUEST:
    out->u.request.alloc_hint = kd_rd_le32(&r);
    out->u.request.ctx_id = kd_rd_le16(&r);
    out->u.request.opnum = kd_rd_le16(&r);
    if (!kd_rd_ok(&r))
      return trunc_at(&out->err, "request.header", &r);
    if (h->pfc_flags & KMSDIAG_RPC_PFC_OBJECT_UUID) {
      uint8_t w[16];
      kd_rd_copy(&r, w, 16);
      if (!kd_rd_ok(&r))
        return trunc_at(&out->err, "request.object", &r);
      kmsdiag_guid_from_wire(&out->u.request.object, w);
      out->u.request.has_object = true;
    }
    out->u.request.stub_len = kd_rd_remaining(&r);
    out->u.request.stub = kd_rd_ptr(&r, out->u.request.stub_len);
    st = KMSDIAG_OK;
    break;
  case KMSDIAG_RPC_RESPONSE:
    out->u.response.alloc_hint = kd_rd_le32(&r);
    out->u.response.ctx_id = kd_rd_le16(&r);
    out->u.response.cancel_count = kd_rd_u8(&r);
    out->u.response.reserved = kd_rd_u8(&r);
    if (!kd_rd_ok(&r))
      return trunc_at(&out->err, "response.header", &r);
    out->u.response.stub_len = kd_rd_remaining(&r);
    out->u.response.stub = kd_rd_ptr(&r, out->u.response.stub_len);
    st = KMSDIAG_OK;
    break;
  case KMSDIAG_RPC_FAULT:
    out->u.fault.alloc_hint = kd_rd_le32(&r);
    out->u.fault.ctx_id = kd_rd_le16(&r);
    out->u.fault.cancel_count = kd_rd_u8(&r);
    out->u.fault.reserved = kd_rd_u8(&r);
    out->u.fault.status = kd_rd_le32(&r);
    if (!kd_rd_ok(&r))
      return trunc_at(&out->err, "fault.status", &r);
    /* the 4 reserved bytes after the status are optional in practice */
    if (kd_rd_remaining(&r) >= 4)
      kd_rd_skip(&r, 4);
    out->u.fault.stub_len = kd_rd_remaining(&r);
    out->u.fault.stub = kd_rd_ptr(&r, out->u.fault.stub_len);
    st = KMSDIAG_OK;
    break;
  default:
    st = KMSDIAG_OK; /* header-only types (auth3, shutdown, cancel, ...) */
    break;
  }
  return st;
}

/* ---- stubs of opnum 0 ----------------------------------------------------- */

static uint64_t rd_size(kd_reader_t *r, bool ndr64) {
  return ndr64 ? kd_rd_le64(r) : kd_rd_le32(r);
}

kmsdiag_status_t kmsdiag_rpc_request_stub(const uint8_t *stub, size_t len,
                                          bool ndr64, const uint8_t **kms,
                                          size_t *kms_len,
                                          kmsdiag_rpc_stub_info_t *info) {
  kmsdiag_rpc_stub_info_t dummy;
  kd_reader_t r;
  if (!info)
    info = &dummy;
  memset(info, 0, sizeof *info);
  info->err.field = "";
  if (!kms || !kms_len || (!stub && len))
    return KMSDIAG_EINVAL;
  *kms = NULL;
  *kms_len = 0;
  kd_rd_init(&r, stub, len);
  uint64_t size = rd_size(&r, ndr64);
  if (!kd_rd_ok(&r))
    return trunc_at(&info->err, "stub.requestSize", &r);
  info->size = size;
  size_t mc_off = kd_rd_offset(&r);
  uint64_t max_count = rd_size(&r, ndr64);
  if (!kd_rd_ok(&r))
    return trunc_at(&info->err, "stub.max_count", &r);
  if (max_count != size)
    return fail_at(&info->err, "stub.max_count", mc_off, KMSDIAG_EMALFORMED);
  if (size > KMSDIAG_RPC_MAX_STUB)
    return fail_at(&info->err, "stub.requestSize", 0, KMSDIAG_ETOOBIG);
  size_t b_off = kd_rd_offset(&r);
  const uint8_t *p = kd_rd_ptr(&r, (size_t)size);
  if (!p)
    return fail_at(&info->err, "stub.request", b_off, KMSDIAG_ETRUNC);
  info->trailing = kd_rd_remaining(&r);
  *kms = p;
  *kms_len = (size_t)size;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_rpc_response_stub(const uint8_t *stub, size_t len,
                                           bool ndr64, const uint8_t **kms,
                                           size_t *kms_len, uint32_t *hresult,
                                           kmsdiag_rpc_stub_info_t *info) {
  kmsdiag_rpc_stub_info_t dummy;
  kd_reader_t r;
  if (!info)
    info = &dummy;
  memset(info, 0, sizeof *info);
  info->err.field = "";
  if (!kms || !kms_len || !hresult || (!stub && len))
    return KMSDIAG_EINVAL;
  *kms = NULL;
  *kms_len = 0;
  *hresult = 0;
  kd_rd_init(&r, stub, len);
  uint64_t size = rd_size(&r, ndr64);
  if (!kd_rd_ok(&r))
    return trunc_at(&info->err, "stub.responseSize", &r);
  info->size = size;
  size_t ref_off = kd_rd_offset(&r);
  uint64_t ref = rd_size(&r, ndr64);
  if (!kd_rd_ok(&r))
    return trunc_at(&info->err, "stub.referent", &r);
  info->referent = ref;
  const uint8_t *p = NULL;
  if (ref != 0) {
    size_t mc_off = kd_rd_offset(&r);
    uint64_t max_count = rd_size(&r, ndr64);
    if (!kd_rd_ok(&r))
      return trunc_at(&info->err, "stub.max_count", &r);
    if (max_count != size)
      return fail_at(&info->err, "stub.max_count", mc_off, KMSDIAG_EMALFORMED);
    if (size > KMSDIAG_RPC_MAX_STUB)
      return fail_at(&info->err, "stub.responseSize", 0, KMSDIAG_ETOOBIG);
    size_t b_off = kd_rd_offset(&r);
    p = kd_rd_ptr(&r, (size_t)size);
    if (!p)
      return fail_at(&info->err, "stub.response", b_off, KMSDIAG_ETRUNC);
  } else if (size != 0) {
    /* a size without an array: the pointer is NULL */
    return fail_at(&info->err, "stub.referent", ref_off, KMSDIAG_EMALFORMED);
  }
  /* The HRESULT: 4-byte aligned (NDR) or right after the array (vlmcsd).
   * When the bytes between the array and the aligned offset are zero, the
   * aligned reading is taken; otherwise the value must have started right
   * after the array. Both readings agree whenever the array length is a
   * multiple of 4. */
  size_t end = kd_rd_offset(&r);
  size_t aligned = (end + 3u) & ~(size_t)3u;
  size_t gap = aligned - end;
  const uint8_t *g = kd_rd_peek(&r, gap);
  bool gap_zero = g != NULL;
  for (size_t i = 0; g && i < gap; i++)
    if (g[i] != 0)
      gap_zero = false;
  size_t at;
  if (gap_zero && kd_rd_remaining(&r) >= gap + 4) {
    at = aligned;
  } else if (kd_rd_remaining(&r) >= 4) {
    at = end;
    info->hresult_unaligned = gap != 0;
  } else {
    return fail_at(&info->err, "stub.hresult", end, KMSDIAG_ETRUNC);
  }
  kd_rd_seek(&r, at);
  *hresult = kd_rd_le32(&r);
  info->hresult_offset = at;
  info->trailing = kd_rd_remaining(&r);
  *kms = p;
  *kms_len = p ? (size_t)size : 0;
  return KMSDIAG_OK;
}

/* ---- reassembly ------------------------------------------------------------ */

struct kmsdiag_rpc_reasm {
  kd_buf_t buf;
  bool active;
  uint8_t ptype;
  uint32_t call_id;
};

kmsdiag_status_t kmsdiag_rpc_reasm_new(kmsdiag_rpc_reasm_t **out) {
  if (!out)
    return KMSDIAG_EINVAL;
  *out = calloc(1, sizeof **out);
  if (!*out)
    return KMSDIAG_ENOMEM;
  kd_buf_init(&(*out)->buf);
  (*out)->buf.max = KMSDIAG_RPC_MAX_STUB;
  return KMSDIAG_OK;
}

void kmsdiag_rpc_reasm_free(kmsdiag_rpc_reasm_t *r) {
  if (!r)
    return;
  kd_buf_free(&r->buf);
  free(r);
}

kmsdiag_status_t kmsdiag_rpc_reasm_add(kmsdiag_rpc_reasm_t *r,
                                       const kmsdiag_rpc_pdu_t *pdu,
                                       bool *complete, const uint8_t **stub,
                                       size_t *stub_len) {
  const uint8_t *s;
  size_t n;
  if (!r || !pdu || !complete || !stub || !stub_len)
    return KMSDIAG_EINVAL;
  *complete = false;
  *stub = NULL;
  *stub_len = 0;
  if (pdu->hdr.ptype == KMSDIAG_RPC_REQUEST) {
    s = pdu->u.request.stub;
    n = pdu->u.request.stub_len;
  } else if (pdu->hdr.ptype == KMSDIAG_RPC_RESPONSE) {
    s = pdu->u.response.stub;
    n = pdu->u.response.stub_len;
  } else {
    return KMSDIAG_EINVAL;
  }
  uint8_t f = pdu->hdr.pfc_flags;
  bool first = f & KMSDIAG_RPC_PFC_FIRST_FRAG, last = f & KMSDIAG_RPC_PFC_LAST_FRAG;
  if (first) {
    r->active = false;
    kd_buf_reset(&r->buf);
    if (last) { /* the common case: nothing to copy */
      *complete = true;
      *stub = s;
      *stub_len = n;
      return KMSDIAG_OK;
    }
    r->active = true;
    r->ptype = pdu->hdr.ptype;
    r->call_id = pdu->hdr.call_id;
  } else if (!r->active || r->ptype != pdu->hdr.ptype ||
             r->call_id != pdu->hdr.call_id) {
    return KMSDIAG_EPROTO;
  }
  if (n > KMSDIAG_RPC_MAX_STUB - r->buf.len) {
    r->active = false;
    kd_buf_reset(&r->buf);
    return KMSDIAG_ETOOBIG;
  }
  kd_buf_put(&r->buf, s, n);
  if (!kd_buf_ok(&r->buf)) {
    r->active = false;
    kd_buf_reset(&r->buf);
    return KMSDIAG_ENOMEM;
  }
  if (last) {
    r->active = false;
    *complete = true;
    *stub = r->buf.data;
    *stub_len = r->buf.len;
  }
  return KMSDIAG_OK;
}

/* ---- encoding ---------------------------------------------------------------- */

static void put_header(kd_buf_t *b, uint8_t ptype, uint8_t flags,
                       uint32_t call_id) {
  kd_buf_u8(b, 5);
  kd_buf_u8(b, 0);
  kd_buf_u8(b, ptype);
  kd_buf_u8(b, flags);
  kd_buf_u8(b, 0x10);
  kd_buf_zeros(b, 3);
  kd_buf_le16(b, 0); /* frag_len, set at the end */
  kd_buf_le16(b, 0);
  kd_buf_le32(b, call_id);
}

static void put_syntax(kd_buf_t *b, const kmsdiag_rpc_syntax_t *s) {
  uint8_t w[16];
  kmsdiag_guid_to_wire(&s->uuid, w);
  kd_buf_put(b, w, 16);
  kd_buf_le16(b, s->ver_major);
  kd_buf_le16(b, s->ver_minor);
}

static kmsdiag_status_t finish(kd_buf_t *b, uint8_t **out, size_t *out_len) {
  if (kd_buf_ok(b) && b->len > KMSDIAG_RPC_MAX_FRAG) {
    kd_buf_free(b);
    return KMSDIAG_ETOOBIG;
  }
  if (kd_buf_ok(b))
    kd_buf_set_le16(b, 8, (uint16_t)b->len);
  *out = kd_buf_steal(b, out_len);
  kd_buf_free(b);
  return *out ? KMSDIAG_OK : KMSDIAG_ENOMEM;
}

void kmsdiag_rpc_bind_params_default(kmsdiag_rpc_bind_params_t *p,
                                     uint32_t call_id, bool ndr32, bool ndr64,
                                     bool btfn) {
  if (!p)
    return;
  memset(p, 0, sizeof *p);
  p->call_id = call_id;
  p->extra_flags = KMSDIAG_RPC_PFC_CONC_MPX;
  p->btfn_features = KMSDIAG_RPC_BTFN_SEC_CTX_MULTIPLEXING |
                     KMSDIAG_RPC_BTFN_KEEP_CONNECTION_ON_ORPHAN;
  if (ndr32) {
    p->offers[p->n_offers].ctx_id = (uint16_t)p->n_offers;
    p->offers[p->n_offers++].syntax = KMSDIAG_RPC_SYNTAX_NDR32;
  }
  if (ndr64) {
    p->offers[p->n_offers].ctx_id = (uint16_t)p->n_offers;
    p->offers[p->n_offers++].syntax = KMSDIAG_RPC_SYNTAX_NDR64;
  }
  if (btfn) {
    p->offers[p->n_offers].ctx_id = (uint16_t)p->n_offers;
    p->offers[p->n_offers++].syntax = KMSDIAG_RPC_SYNTAX_BTFN;
  }
}

kmsdiag_status_t kmsdiag_rpc_encode_bind(const kmsdiag_rpc_bind_params_t *p,
                                         bool alter_context, uint8_t **out,
                                         size_t *out_len) {
  kd_buf_t b;
  if (!p || !out || !out_len || p->n_offers == 0 ||
      p->n_offers > KMSDIAG_RPC_MAX_CTX_ITEMS)
    return KMSDIAG_EINVAL;
  *out = NULL;
  *out_len = 0;
  for (size_t i = 0; i < p->n_offers; i++) {
    kmsdiag_rpc_syntax_kind_t k = p->offers[i].syntax;
    if (k != KMSDIAG_RPC_SYNTAX_NDR32 && k != KMSDIAG_RPC_SYNTAX_NDR64 &&
        k != KMSDIAG_RPC_SYNTAX_BTFN)
      return KMSDIAG_EINVAL;
  }
  kd_buf_init(&b);
  put_header(&b, alter_context ? KMSDIAG_RPC_ALTER_CONTEXT : KMSDIAG_RPC_BIND,
             (uint8_t)(KMSDIAG_RPC_PFC_FIRST_FRAG | KMSDIAG_RPC_PFC_LAST_FRAG |
                       p->extra_flags),
             p->call_id);
  kd_buf_le16(&b, p->max_xmit_frag ? p->max_xmit_frag : KMSDIAG_RPC_DEFAULT_FRAG);
  kd_buf_le16(&b, p->max_recv_frag ? p->max_recv_frag : KMSDIAG_RPC_DEFAULT_FRAG);
  kd_buf_le32(&b, p->assoc_group);
  kd_buf_u8(&b, (uint8_t)p->n_offers);
  kd_buf_zeros(&b, 3);
  for (size_t i = 0; i < p->n_offers; i++) {
    kmsdiag_rpc_syntax_t t;
    switch (p->offers[i].syntax) {
    case KMSDIAG_RPC_SYNTAX_NDR32: t = kmsdiag_rpc_ndr32; break;
    case KMSDIAG_RPC_SYNTAX_NDR64: t = kmsdiag_rpc_ndr64; break;
    default: t = kmsdiag_rpc_btfn(p->btfn_features); break;
    }
    kd_buf_le16(&b, p->offers[i].ctx_id);
    kd_buf_u8(&b, 1);
    kd_buf_u8(&b, 0);
    put_syntax(&b, p->abstract ? p->abstract : &kmsdiag_rpc_kms_interface);
    put_syntax(&b, &t);
  }
  return finish(&b, out, out_len);
}

kmsdiag_status_t kmsdiag_rpc_encode_request(uint32_t call_id, uint16_t ctx_id,
                                            bool ndr64, const uint8_t *kms,
                                            size_t kms_len, uint8_t **out,
                                            size_t *out_len) {
  kd_buf_t b;
  if (!out || !out_len || (!kms && kms_len))
    return KMSDIAG_EINVAL;
  *out = NULL;
  *out_len = 0;
  if (kms_len > KMSDIAG_RPC_MAX_FRAG)
    return KMSDIAG_ETOOBIG;
  size_t stub_len = (ndr64 ? 16u : 8u) + kms_len;
  kd_buf_init(&b);
  put_header(&b, KMSDIAG_RPC_REQUEST,
             KMSDIAG_RPC_PFC_FIRST_FRAG | KMSDIAG_RPC_PFC_LAST_FRAG, call_id);
  kd_buf_le32(&b, (uint32_t)stub_len);
  kd_buf_le16(&b, ctx_id);
  kd_buf_le16(&b, 0); /* opnum 0: RequestActivation */
  if (ndr64) {
    kd_buf_le64(&b, kms_len);
    kd_buf_le64(&b, kms_len);
  } else {
    kd_buf_le32(&b, (uint32_t)kms_len);
    kd_buf_le32(&b, (uint32_t)kms_len);
  }
  if (kms_len)
    kd_buf_put(&b, kms, kms_len);
  return finish(&b, out, out_len);
}
