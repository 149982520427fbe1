/* cap_rpc.c: DCE/RPC PDUs on a reassembled KMS flow.
 *
 * PDU boundaries and decoding come from the proto module (kmsdiag_rpc.h);
 * this file keeps per-flow state (bind in progress, negotiated contexts,
 * requests waiting for their response) and turns PDUs into events. After
 * a gap in the stream it resynchronises on the next plausible RPC header. */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_rpc.h>

#include "capture/cap_flow.h"
#include "capture/cap_int.h"
#include "internal/reader.h"

const uint8_t kd_kms_iface_wire[16] = {0x75, 0x21, 0xc8, 0x51, 0x4e, 0x84,
                                       0x50, 0x47, 0xb0, 0xd8, 0xec, 0x25,
                                       0x55, 0x55, 0xbc, 0x06};

#define MAX_KMS_MSG 4096 /* KMS messages are < 400 bytes */

void kd_rpc_init(kd_rpc_state_t *r) {
  memset(r, 0, sizeof *r);
  memset(r->ctx_ndr64, -1, sizeof r->ctx_ndr64);
}

void kd_rpc_free(kd_rpc_state_t *r) {
  kmsdiag_rpc_reasm_free(r->reasm[0]);
  kmsdiag_rpc_reasm_free(r->reasm[1]);
  r->reasm[0] = r->reasm[1] = NULL;
  for (int i = 0; i < KD_RPC_MAX_PENDING; i++) {
    free(r->pend[i].req);
    r->pend[i].req = NULL;
    r->pend[i].used = false;
  }
}

bool kd_rpc_is_kms_bind(const uint8_t *p, size_t n) {
  kd_reader_t r;
  kd_rd_init(&r, p, n);
  uint8_t v = kd_rd_u8(&r), vm = kd_rd_u8(&r), pt = kd_rd_u8(&r);
  if (!kd_rd_ok(&r) || v != 5 || vm > 1 || (pt != 11 && pt != 14))
    return false;
  kd_rd_seek(&r, 24);
  uint8_t nctx = kd_rd_u8(&r);
  kd_rd_seek(&r, 28);
  for (unsigned i = 0; i < nctx && i < 8 && kd_rd_ok(&r); i++) {
    size_t at = kd_rd_offset(&r);
    (void)kd_rd_le16(&r);
    uint8_t ntr = kd_rd_u8(&r);
    (void)kd_rd_u8(&r);
    const uint8_t *uuid = kd_rd_ptr(&r, 16);
    if (uuid && memcmp(uuid, kd_kms_iface_wire, 16) == 0)
      return true;
    kd_rd_seek(&r, at + 4 + 20 + (size_t)ntr * 20);
  }
  return false;
}

static bool is_kms_syntax(const kmsdiag_rpc_syntax_t *s) {
  return kmsdiag_rpc_syntax_classify(s, NULL) == KMSDIAG_RPC_SYNTAX_KMS;
}

static void base_event(kmsdiag_capture_event_t *ev, kd_flow_t *f,
                       kmsdiag_capture_event_type_t t, const kd_frame_ctx_t *fc) {
  memset(ev, 0, sizeof *ev);
  ev->type = t;
  ev->frame = fc->frame;
  ev->ts_sec = fc->sec;
  ev->ts_nsec = fc->nsec;
  ev->client = f->client;
  ev->server = f->server;
}

static void on_bind(kmsdiag_capture_t *cap, kd_flow_t *f,
                    const kmsdiag_rpc_pdu_t *pdu, const kd_frame_ctx_t *fc) {
  kd_rpc_state_t *r = &f->rpc;
  kmsdiag_cap_bind_t *b = &r->bind;
  if (r->have_bind) { /* previous bind never answered: report it */
    kmsdiag_capture_event_t ev;
    base_event(&ev, f, KMSDIAG_CAPEV_RPC_BIND, fc);
    ev.frame = b->bind_frame;
    ev.u.bind = *b;
    kd_cap_emit(cap, &ev);
  }
  memset(b, 0, sizeof *b);
  r->have_bind = true;
  b->alter_context = pdu->hdr.ptype == KMSDIAG_RPC_ALTER_CONTEXT;
  b->call_id = pdu->hdr.call_id;
  b->bind_frame = fc->frame;
  b->bind_sec = fc->sec;
  r->bind_mono = cap->mono_us;
  b->bind_nsec = fc->nsec;
  size_t n = pdu->u.bind.n_items;
  if (n > KMSDIAG_CAP_MAX_CTX)
    n = KMSDIAG_CAP_MAX_CTX;
  for (size_t i = 0; i < n; i++) {
    const kmsdiag_rpc_ctx_item_t *it = &pdu->u.bind.items[i];
    kmsdiag_cap_ctx_t *c = &b->ctx[i];
    c->ctx_id = it->ctx_id;
    c->abstract_uuid = it->abstract.uuid;
    c->abstract_major = it->abstract.ver_major;
    c->abstract_minor = it->abstract.ver_minor;
    if (it->n_transfer > 0) {
      c->transfer_uuid = it->transfer[0].uuid;
      c->transfer_version = (uint32_t)it->transfer[0].ver_major |
                            (uint32_t)it->transfer[0].ver_minor << 16;
    }
    c->result = -1;
    if (is_kms_syntax(&it->abstract))
      b->kms_interface = true;
  }
  b->n_ctx = n;
}

static void on_bind_ack(kmsdiag_capture_t *cap, kd_flow_t *f,
                        const kmsdiag_rpc_pdu_t *pdu,
                        const kd_frame_ctx_t *fc) {
  kd_rpc_state_t *r = &f->rpc;
  kmsdiag_cap_bind_t *b = &r->bind;
  kmsdiag_capture_event_t ev;
  if (!r->have_bind) {
    memset(b, 0, sizeof *b);
    b->alter_context = pdu->hdr.ptype == KMSDIAG_RPC_ALTER_CONTEXT_RESP;
    b->call_id = pdu->hdr.call_id;
  }
  b->ack_frame = fc->frame;
  if (pdu->hdr.ptype == KMSDIAG_RPC_BIND_NAK) {
    b->nak = true;
    b->nak_reason = pdu->u.bind_nak.reject_reason;
  } else {
    size_t n = pdu->u.bind_ack.n_results;
    for (size_t i = 0; i < n && i < KMSDIAG_CAP_MAX_CTX; i++) {
      const kmsdiag_rpc_ctx_result_t *res = &pdu->u.bind_ack.results[i];
      if (i >= b->n_ctx) { /* results without a bind seen */
        b->n_ctx = i + 1;
        b->ctx[i].ctx_id = (uint16_t)i;
        b->ctx[i].transfer_uuid = res->transfer.uuid;
      }
      kmsdiag_cap_ctx_t *c = &b->ctx[i];
      c->result = res->result;
      c->reason = res->reason;
      if (res->result == KMSDIAG_RPC_ACK_ACCEPTANCE) {
        kmsdiag_rpc_syntax_t ts = {.uuid = res->transfer.uuid,
                                   .ver_major = res->transfer.ver_major,
                                   .ver_minor = res->transfer.ver_minor};
        kmsdiag_rpc_syntax_kind_t k = kmsdiag_rpc_syntax_classify(&ts, NULL);
        bool ndr64 = k == KMSDIAG_RPC_SYNTAX_NDR64;
        if (c->ctx_id < 16)
          r->ctx_ndr64[c->ctx_id] = ndr64 ? 1 : 0;
        if (b->kms_interface || !r->have_bind) {
          b->accepted = true;
          if (!b->syntax || ndr64)
            b->syntax = ndr64 ? "ndr64" : "ndr32";
        }
      }
    }
  }
  if (b->accepted)
    r->bound = true;
  if (!r->have_bind)
    b->kms_interface = b->accepted; /* we only track KMS flows */
  base_event(&ev, f, KMSDIAG_CAPEV_RPC_BIND, fc);
  ev.frame = fc->frame;
  ev.u.bind = *b;
  kd_cap_emit(cap, &ev);
  r->have_bind = false;
}

static kd_rpc_pending_t *pend_slot(kd_rpc_state_t *r) {
  kd_rpc_pending_t *oldest = NULL;
  for (int i = 0; i < KD_RPC_MAX_PENDING; i++) {
    if (!r->pend[i].used)
      return &r->pend[i];
    if (!oldest || r->pend[i].frame < oldest->frame)
      oldest = &r->pend[i];
  }
  return oldest; /* caller flushes it first */
}

static void emit_exchange(kmsdiag_capture_t *cap, kd_flow_t *f,
                          kd_rpc_pending_t *p, const kd_frame_ctx_t *fc,
                          const uint8_t *resp, size_t resp_len,
                          bool has_response, uint32_t hresult,
                          const char *stub_error) {
  kmsdiag_capture_event_t ev;
  kd_frame_ctx_t at = *fc;
  if (!has_response) { /* tie it to the request */
    at.frame = p->frame;
    at.sec = p->sec;
    at.nsec = p->nsec;
  }
  base_event(&ev, f, KMSDIAG_CAPEV_EXCHANGE, &at);
  kmsdiag_cap_exchange_t *x = &ev.u.exchange;
  x->call_id = p->call_id;
  x->ctx_id = p->ctx_id;
  x->ndr64 = p->ndr64;
  x->request_frame = p->frame;
  x->request_sec = p->sec;
  x->request_nsec = p->nsec;
  x->request = p->req;
  x->request_len = p->req_len;
  x->has_response = has_response;
  if (has_response) {
    x->response_frame = fc->frame;
    x->response_sec = fc->sec;
    x->response_nsec = fc->nsec;
    x->response = resp;
    x->response_len = resp_len;
    x->hresult = hresult;
  }
  x->stub_error = stub_error ? stub_error : p->stub_error;
  f->rpc.exchanges++;
  kd_cap_emit(cap, &ev);
  free(p->req);
  memset(p, 0, sizeof *p);
}

static void on_request(kmsdiag_capture_t *cap, kd_flow_t *f,
                       const kmsdiag_rpc_pdu_t *pdu, const kd_frame_ctx_t *fc) {
  kd_rpc_state_t *r = &f->rpc;
  kd_rpc_pending_t *p = pend_slot(r);
  if (p->used)
    emit_exchange(cap, f, p, fc, NULL, 0, false, 0, NULL);
  r->any_request = true;
  p->used = true;
  p->call_id = pdu->hdr.call_id;
  p->ctx_id = pdu->u.request.ctx_id;
  p->frame = fc->frame;
  p->sec = fc->sec;
  p->mono = cap->mono_us;
  p->nsec = fc->nsec;
  int known = p->ctx_id < 16 ? r->ctx_ndr64[p->ctx_id] : -1;
  const uint8_t *stub = pdu->u.request.stub;
  size_t slen = pdu->u.request.stub_len;
  bool ndr64;
  if (known >= 0) {
    ndr64 = known == 1;
  } else {
    /* context never negotiated in the capture: NDR64 if its sizes fit */
    kd_reader_t rd;
    kd_rd_init(&rd, stub, slen);
    uint64_t sz = kd_rd_le64(&rd), mc = kd_rd_le64(&rd);
    ndr64 = kd_rd_ok(&rd) && sz == mc && sz == kd_rd_remaining(&rd);
  }
  p->ndr64 = ndr64;
  if (pdu->u.request.opnum != 0) {
    p->stub_error = "request for an operation other than opnum 0";
    return;
  }
  const uint8_t *kms = NULL;
  size_t kms_len = 0;
  kmsdiag_rpc_stub_info_t info;
  kmsdiag_status_t st =
      kmsdiag_rpc_request_stub(stub, slen, ndr64, &kms, &kms_len, &info);
  if (st != KMSDIAG_OK) {
    p->stub_error = "request stub could not be decoded";
    return;
  }
  if (kms_len > MAX_KMS_MSG) {
    p->stub_error = "KMS request larger than 4096 bytes";
    return;
  }
  p->req = malloc(kms_len ? kms_len : 1);
  if (!p->req) {
    p->stub_error = "out of memory";
    return;
  }
  if (kms_len)
    memcpy(p->req, kms, kms_len);
  p->req_len = kms_len;
}

static kd_rpc_pending_t *find_pending(kd_rpc_state_t *r, uint32_t call_id) {
  kd_rpc_pending_t *oldest = NULL;
  for (int i = 0; i < KD_RPC_MAX_PENDING; i++) {
    kd_rpc_pending_t *p = &r->pend[i];
    if (!p->used)
      continue;
    if (p->call_id == call_id)
      return p;
    if (!oldest || p->frame < oldest->frame)
      oldest = p;
  }
  return oldest;
}

static void on_response(kmsdiag_capture_t *cap, kd_flow_t *f,
                        const kmsdiag_rpc_pdu_t *pdu,
                        const kd_frame_ctx_t *fc) {
  kd_rpc_state_t *r = &f->rpc;
  r->any_response = true;
  kd_rpc_pending_t *p = find_pending(r, pdu->hdr.call_id);
  kd_rpc_pending_t orphan;
  if (!p) { /* the request was not captured */
    memset(&orphan, 0, sizeof orphan);
    orphan.used = true;
    orphan.call_id = pdu->hdr.call_id;
    orphan.ctx_id = pdu->u.response.ctx_id;
    orphan.stub_error = f->cut_count
                            ? "response without a captured request (the "
                              "request was cut by the snapshot length)"
                            : "response without a captured request";
    int known = orphan.ctx_id < 16 ? r->ctx_ndr64[orphan.ctx_id] : -1;
    orphan.ndr64 = known == 1;
    p = &orphan;
    if (known < 0) {
      /* the bind was not captured either: an NDR64 refusal read as NDR32
       * looks like HRESULT 0, so take the flavour that reads a refusal */
      const uint8_t *k2 = NULL;
      size_t k2_len = 0;
      uint32_t hr2 = 0;
      kmsdiag_rpc_stub_info_t i2;
      if (kmsdiag_rpc_response_stub(pdu->u.response.stub,
                                    pdu->u.response.stub_len, true, &k2,
                                    &k2_len, &hr2, &i2) == KMSDIAG_OK &&
          hr2 != 0 && k2_len == 0)
        orphan.ndr64 = true;
    }
  }
  const uint8_t *kms = NULL;
  size_t kms_len = 0;
  uint32_t hr = 0;
  kmsdiag_rpc_stub_info_t info;
  kmsdiag_status_t st =
      kmsdiag_rpc_response_stub(pdu->u.response.stub, pdu->u.response.stub_len,
                                p->ndr64, &kms, &kms_len, &hr, &info);
  if (st != KMSDIAG_OK) /* try the other NDR flavour before giving up */
    st = kmsdiag_rpc_response_stub(pdu->u.response.stub,
                                   pdu->u.response.stub_len, !p->ndr64, &kms,
                                   &kms_len, &hr, &info);
  if (st != KMSDIAG_OK) {
    emit_exchange(cap, f, p, fc, NULL, 0, true, 0,
                  "response stub could not be decoded");
    return;
  }
  emit_exchange(cap, f, p, fc, kms, kms_len, true, hr, NULL);
}

static void on_fault(kmsdiag_capture_t *cap, kd_flow_t *f,
                     const kmsdiag_rpc_pdu_t *pdu, const kd_frame_ctx_t *fc) {
  kd_rpc_state_t *r = &f->rpc;
  kmsdiag_capture_event_t ev;
  base_event(&ev, f, KMSDIAG_CAPEV_RPC_FAULT, fc);
  ev.u.fault.call_id = pdu->hdr.call_id;
  ev.u.fault.status = pdu->u.fault.status;
  ev.u.fault.flags = pdu->hdr.pfc_flags;
  kd_rpc_pending_t *p = find_pending(r, pdu->hdr.call_id);
  if (p) {
    ev.u.fault.request_frame = p->frame;
    free(p->req);
    memset(p, 0, sizeof *p);
  }
  r->any_response = true;
  kd_cap_emit(cap, &ev);
}

/* Find the next offset that looks like an RPC v5 header of a type KMS
 * uses, or n when none. */
static size_t resync(const uint8_t *d, size_t n) {
  for (size_t i = 0; i + 16 <= n; i++) {
    if (d[i] != 5 || d[i + 1] > 1 || d[i + 4] != 0x10)
      continue;
    uint8_t t = d[i + 2];
    if (t == 0 || t == 2 || t == 3 || (t >= 11 && t <= 15)) {
      uint16_t fl = (uint16_t)(d[i + 8] | d[i + 9] << 8);
      if (fl >= 16 && fl <= KMSDIAG_RPC_MAX_FRAG)
        return i;
    }
  }
  return n >= 15 ? n - 15 : 0; /* keep a possible partial header */
}

/* At most a few notes per flow direction: a port-1688 flow that does not
 * carry RPC must not flood the notes. */
static bool may_note(kd_flow_t *f, bool from_client) {
  return f->rpc.notes[from_client ? 0 : 1]++ < 3;
}

void kd_rpc_consume(kmsdiag_capture_t *cap, kd_flow_t *f, kd_stream_t *s,
                    bool from_client, const kd_frame_ctx_t *fc) {
  for (int guard = 0; guard < 4096 && s->len > 0; guard++) {
    if (s->gap) {
      size_t skip = resync(s->buf, s->len);
      if (skip && may_note(f, from_client))
        kd_cap_note(cap, fc->frame, 0,
                    "missing TCP data on %s stream: %zu bytes skipped to "
                    "resynchronise on an RPC header",
                    from_client ? "client" : "server", skip);
      kd_stream_consume(s, skip);
      if (s->len < 16)
        return;
      s->gap = false;
    }
    size_t flen = 0;
    kmsdiag_status_t st = kmsdiag_rpc_pdu_length(s->buf, s->len, &flen);
    if (st == KMSDIAG_ETRUNC)
      return;
    if (st != KMSDIAG_OK) {
      if (may_note(f, from_client))
        kd_cap_note(cap, fc->frame, 0,
                    "%s stream of a KMS flow does not hold an RPC header "
                    "(%s); looking for the next one",
                    from_client ? "client" : "server", kmsdiag_strerror(st));
      s->gap = true;
      kd_stream_consume(s, 1);
      continue;
    }
    if (flen > s->len)
      return; /* wait for the rest */
    kmsdiag_rpc_pdu_t pdu;
    st = kmsdiag_rpc_decode(s->buf, flen, &pdu);
    if (st != KMSDIAG_OK) {
      kd_cap_note(cap, fc->frame, 0,
                  "RPC PDU (%s) could not be decoded: %s at field %s, offset "
                  "%zu",
                  kmsdiag_rpc_ptype_name(s->buf[2]), kmsdiag_strerror(st),
                  pdu.err.field ? pdu.err.field : "?", pdu.err.offset);
    } else if ((pdu.hdr.pfc_flags & 3) != 3 &&
               (pdu.hdr.ptype == KMSDIAG_RPC_REQUEST ||
                pdu.hdr.ptype == KMSDIAG_RPC_RESPONSE)) {
      /* KMS peers never fragment, but a call may come in fragments:
       * join them, then handle the whole call */
      kmsdiag_rpc_reasm_t **ra = &f->rpc.reasm[from_client ? 0 : 1];
      bool complete = false;
      const uint8_t *stub = NULL;
      size_t stub_len = 0;
      kmsdiag_status_t rs = KMSDIAG_ENOMEM;
      if (*ra || kmsdiag_rpc_reasm_new(ra) == KMSDIAG_OK)
        rs = kmsdiag_rpc_reasm_add(*ra, &pdu, &complete, &stub, &stub_len);
      if (rs != KMSDIAG_OK) {
        if (may_note(f, from_client))
          kd_cap_note(cap, fc->frame, 0,
                      "RPC %s fragment (flags 0x%02x) does not continue the "
                      "call in progress: %s",
                      kmsdiag_rpc_ptype_name(pdu.hdr.ptype),
                      pdu.hdr.pfc_flags, kmsdiag_strerror(rs));
      } else if (complete) {
        if (pdu.hdr.ptype == KMSDIAG_RPC_REQUEST && from_client) {
          pdu.u.request.stub = stub;
          pdu.u.request.stub_len = stub_len;
          on_request(cap, f, &pdu, fc);
        } else if (pdu.hdr.ptype == KMSDIAG_RPC_RESPONSE && !from_client) {
          pdu.u.response.stub = stub;
          pdu.u.response.stub_len = stub_len;
          on_response(cap, f, &pdu, fc);
        }
      }
    } else if (from_client) {
      switch (pdu.hdr.ptype) {
      case KMSDIAG_RPC_BIND:
      case KMSDIAG_RPC_ALTER_CONTEXT:
        on_bind(cap, f, &pdu, fc);
        break;
      case KMSDIAG_RPC_REQUEST:
        on_request(cap, f, &pdu, fc);
        break;
      default:
        break;
      }
    } else {
      switch (pdu.hdr.ptype) {
      case KMSDIAG_RPC_BIND_ACK:
      case KMSDIAG_RPC_BIND_NAK:
      case KMSDIAG_RPC_ALTER_CONTEXT_RESP:
        on_bind_ack(cap, f, &pdu, fc);
        break;
      case KMSDIAG_RPC_RESPONSE:
        on_response(cap, f, &pdu, fc);
        break;
      case KMSDIAG_RPC_FAULT:
        on_fault(cap, f, &pdu, fc);
        break;
      default:
        break;
      }
    }
    kd_stream_consume(s, flen);
  }
}

void kd_rpc_flush(kmsdiag_capture_t *cap, kd_flow_t *f,
                  const kd_frame_ctx_t *fc) {
  kd_rpc_state_t *r = &f->rpc;
  if (r->have_bind) {
    kmsdiag_capture_event_t ev;
    base_event(&ev, f, KMSDIAG_CAPEV_RPC_BIND, fc);
    ev.frame = r->bind.bind_frame;
    ev.u.bind = r->bind;
    kd_cap_emit(cap, &ev);
    r->have_bind = false;
  }
  for (;;) {
    kd_rpc_pending_t *p = find_pending(r, UINT32_MAX);
    if (!p)
      break;
    emit_exchange(cap, f, p, fc, NULL, 0, false, 0, NULL);
  }
}
