/* rpc_json.c: JSON form of a decoded RPC PDU (stable snake_case keys). */
#include <kmsdiag/kmsdiag_rpc.h>

static void syntax_json(kmsdiag_json_t *j, const char *key,
                        const kmsdiag_rpc_syntax_t *s) {
  char g[KMSDIAG_GUID_STRLEN];
  uint16_t feat = 0;
  kmsdiag_rpc_syntax_kind_t k = kmsdiag_rpc_syntax_classify(s, &feat);
  kmsdiag_json_object_begin(j, key);
  kmsdiag_json_str(j, "uuid", kmsdiag_guid_to_str(&s->uuid, g));
  kmsdiag_json_strf(j, "version", "%u.%u", (unsigned)s->ver_major,
                    (unsigned)s->ver_minor);
  kmsdiag_json_str(j, "kind", kmsdiag_rpc_syntax_kind_name(k));
  if (k == KMSDIAG_RPC_SYNTAX_BTFN)
    kmsdiag_json_uint(j, "btfn_features", feat);
  kmsdiag_json_object_end(j);
}

void kmsdiag_rpc_pdu_write_json(kmsdiag_json_t *j, const char *key,
                                const kmsdiag_rpc_pdu_t *pdu) {
  if (!j || !pdu)
    return;
  const kmsdiag_rpc_header_t *h = &pdu->hdr;
  kmsdiag_json_object_begin(j, key);
  kmsdiag_json_uint(j, "ptype", h->ptype);
  kmsdiag_json_str(j, "ptype_name", kmsdiag_rpc_ptype_name(h->ptype));
  kmsdiag_json_strf(j, "flags", "0x%02x", (unsigned)h->pfc_flags);
  kmsdiag_json_uint(j, "call_id", h->call_id);
  kmsdiag_json_uint(j, "frag_len", h->frag_len);
  switch (h->ptype) {
  case KMSDIAG_RPC_BIND:
  case KMSDIAG_RPC_ALTER_CONTEXT:
    kmsdiag_json_uint(j, "max_xmit_frag", pdu->u.bind.max_xmit_frag);
    kmsdiag_json_uint(j, "max_recv_frag", pdu->u.bind.max_recv_frag);
    kmsdiag_json_uint(j, "assoc_group", pdu->u.bind.assoc_group);
    kmsdiag_json_array_begin(j, "items");
    for (unsigned i = 0; i < pdu->u.bind.n_items && i < KMSDIAG_RPC_MAX_CTX_ITEMS; i++) {
      const kmsdiag_rpc_ctx_item_t *it = &pdu->u.bind.items[i];
      kmsdiag_json_object_begin(j, NULL);
      kmsdiag_json_uint(j, "ctx_id", it->ctx_id);
      syntax_json(j, "abstract", &it->abstract);
      kmsdiag_json_array_begin(j, "transfer");
      for (unsigned k = 0; k < it->n_transfer && k < KMSDIAG_RPC_MAX_TRANSFER; k++)
        syntax_json(j, NULL, &it->transfer[k]);
      kmsdiag_json_array_end(j);
      kmsdiag_json_object_end(j);
    }
    kmsdiag_json_array_end(j);
    break;
  case KMSDIAG_RPC_BIND_ACK:
  case KMSDIAG_RPC_ALTER_CONTEXT_RESP:
    kmsdiag_json_uint(j, "max_xmit_frag", pdu->u.bind_ack.max_xmit_frag);
    kmsdiag_json_uint(j, "max_recv_frag", pdu->u.bind_ack.max_recv_frag);
    kmsdiag_json_uint(j, "assoc_group", pdu->u.bind_ack.assoc_group);
    kmsdiag_json_str(j, "sec_addr", pdu->u.bind_ack.sec_addr);
    kmsdiag_json_array_begin(j, "results");
    for (unsigned i = 0; i < pdu->u.bind_ack.n_results && i < KMSDIAG_RPC_MAX_CTX_ITEMS; i++) {
      const kmsdiag_rpc_ctx_result_t *res = &pdu->u.bind_ack.results[i];
      kmsdiag_json_object_begin(j, NULL);
      kmsdiag_json_uint(j, "result", res->result);
      kmsdiag_json_str(j, "result_name", kmsdiag_rpc_ack_result_name(res->result));
      kmsdiag_json_uint(j, "reason", res->reason);
      if (res->result == KMSDIAG_RPC_ACK_PROVIDER_REJECTION ||
          res->result == KMSDIAG_RPC_ACK_USER_REJECTION)
        kmsdiag_json_str(j, "reason_name", kmsdiag_rpc_ack_reason_name(res->reason));
      syntax_json(j, "transfer", &res->transfer);
      kmsdiag_json_object_end(j);
    }
    kmsdiag_json_array_end(j);
    break;
  case KMSDIAG_RPC_BIND_NAK:
    kmsdiag_json_uint(j, "reject_reason", pdu->u.bind_nak.reject_reason);
    kmsdiag_json_str(j, "reject_reason_name",
                     kmsdiag_rpc_bind_nak_reason_name(pdu->u.bind_nak.reject_reason));
    break;
  case KMSDIAG_RPC_REQUEST:
    kmsdiag_json_uint(j, "alloc_hint", pdu->u.request.alloc_hint);
    kmsdiag_json_uint(j, "ctx_id", pdu->u.request.ctx_id);
    kmsdiag_json_uint(j, "opnum", pdu->u.request.opnum);
    kmsdiag_json_uint(j, "stub_len", pdu->u.request.stub_len);
    break;
  case KMSDIAG_RPC_RESPONSE:
    kmsdiag_json_uint(j, "alloc_hint", pdu->u.response.alloc_hint);
    kmsdiag_json_uint(j, "ctx_id", pdu->u.response.ctx_id);
    kmsdiag_json_uint(j, "cancel_count", pdu->u.response.cancel_count);
    kmsdiag_json_uint(j, "stub_len", pdu->u.response.stub_len);
    break;
  case KMSDIAG_RPC_FAULT: {
    const char *n = kmsdiag_rpc_fault_name(pdu->u.fault.status);
    kmsdiag_json_uint(j, "alloc_hint", pdu->u.fault.alloc_hint);
    kmsdiag_json_uint(j, "ctx_id", pdu->u.fault.ctx_id);
    kmsdiag_json_hex32(j, "status", pdu->u.fault.status);
    if (n)
      kmsdiag_json_str(j, "status_name", n);
    else
      kmsdiag_json_null(j, "status_name");
    break;
  }
  default:
    break;
  }
  kmsdiag_json_object_end(j);
}
