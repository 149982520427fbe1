/* capture.c: the analyser object, the flow table and TCP/UDP dispatch.
 *
 * Hot path per frame: decode the headers (no allocation), and for TCP a
 * hash lookup; only flows on a KMS port, with a KMS bind, or on port 53
 * are tracked and reassembled. The table is capped (least recently used
 * flow evicted) and idle flows are expired on capture time, so memory is
 * bounded whatever the file size. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap_flow.h"
#include "capture/cap_int.h"

#define DEFAULT_MAX_FLOWS 4096
#define DEFAULT_FLOW_BYTES 65536
#define DEFAULT_IDLE 120
#define DEFAULT_SYN_TIMEOUT 21
#define DEFAULT_SKEW (4 * 3600)
#define DEFAULT_BUDGET ((size_t)32 << 20)
/* What is still waiting when the capture ends is called never answered
 * only after this much capture time (see kmsdiag_capture_finish). */
#define SYN_DECIDE_MS 3000
#define RPC_DECIDE_MS 30000
#define MAX_NOTES 1000
#define SWEEP_EVERY 4096

/* ---- small helpers ----------------------------------------------------------- */

KMSDIAG_API const char *
kmsdiag_capture_event_type_name(kmsdiag_capture_event_type_t t) {
  switch (t) {
  case KMSDIAG_CAPEV_NOTE: return "note";
  case KMSDIAG_CAPEV_DNS: return "dns";
  case KMSDIAG_CAPEV_CONNECT: return "connect";
  case KMSDIAG_CAPEV_RPC_BIND: return "rpc_bind";
  case KMSDIAG_CAPEV_EXCHANGE: return "exchange";
  case KMSDIAG_CAPEV_RPC_FAULT: return "rpc_fault";
  case KMSDIAG_CAPEV_DIAGNOSIS: return "diagnosis";
  }
  return "unknown";
}

KMSDIAG_API const char *kmsdiag_conn_state_name(kmsdiag_conn_state_t s) {
  switch (s) {
  case KMSDIAG_CONN_ESTABLISHED: return "established";
  case KMSDIAG_CONN_REFUSED: return "refused";
  case KMSDIAG_CONN_NO_ANSWER: return "no_answer";
  case KMSDIAG_CONN_RESET: return "reset";
  case KMSDIAG_CONN_CLOSED_EARLY: return "closed_early";
  case KMSDIAG_CONN_MIDSTREAM: return "midstream";
  case KMSDIAG_CONN_UNDECIDED: return "undecided";
  case KMSDIAG_CONN_UNDECODABLE: return "undecodable";
  }
  return "unknown";
}

KMSDIAG_API char *kmsdiag_endpoint_to_str(const kmsdiag_endpoint_t *e,
                                          bool with_port, char *buf,
                                          size_t bufsz) {
  char a[INET6_ADDRSTRLEN] = "-";
  if (!buf || bufsz == 0)
    return buf;
  if (!e || (e->family != 4 && e->family != 6)) {
    snprintf(buf, bufsz, "-");
    return buf;
  }
  inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, a, sizeof a);
  if (!with_port)
    snprintf(buf, bufsz, "%s", a);
  else if (e->family == 4)
    snprintf(buf, bufsz, "%s:%u", a, (unsigned)e->port);
  else
    snprintf(buf, bufsz, "[%s]:%u", a, (unsigned)e->port);
  return buf;
}

bool kd_cap_is_kms_port(const kmsdiag_capture_t *cap, uint16_t port) {
  return (cap->ports[port >> 3] >> (port & 7)) & 1;
}

static void set_port(uint8_t *bits, uint16_t port) {
  bits[port >> 3] |= (uint8_t)(1u << (port & 7));
}

static uint32_t learn_hash(uint8_t family, const uint8_t *addr,
                           uint16_t port) {
  uint32_t h = 2166136261u ^ family;
  size_t n = family == 4 ? 4 : 16;
  for (size_t i = 0; i < n; i++)
    h = (h ^ addr[i]) * 16777619u;
  return (h ^ port) * 2654435761u;
}

static bool learn_eq(const kd_learn_t *e, uint8_t family, const uint8_t *addr,
                     uint16_t port) {
  return e->used && e->family == family && e->port == port &&
         memcmp(e->addr, addr, family == 4 ? 4 : 16) == 0;
}

bool kd_cap_is_kms_ep(const kmsdiag_capture_t *cap, uint8_t family,
                      const uint8_t *addr, uint16_t port) {
  if (kd_cap_is_kms_port(cap, port))
    return true;
  if (!((cap->learned_ports[port >> 3] >> (port & 7)) & 1) || !cap->learn)
    return false;
  uint32_t h = learn_hash(family, addr, port);
  for (unsigned i = 0; i < KD_LEARN_PROBE; i++) {
    const kd_learn_t *e = &cap->learn[(h + i) % KD_LEARN_SLOTS];
    if (learn_eq(e, family, addr, port))
      return true;
    if (!e->used)
      return false;
  }
  return false;
}

void kd_cap_learn_ep(kmsdiag_capture_t *cap, uint8_t family,
                     const uint8_t *addr, uint16_t port) {
  if (port == 0 || port == 53 || (family != 4 && family != 6) ||
      kd_cap_is_kms_port(cap, port))
    return;
  if (!cap->learn) {
    cap->learn = calloc(KD_LEARN_SLOTS, sizeof *cap->learn);
    if (!cap->learn)
      return;
  }
  uint32_t h = learn_hash(family, addr, port);
  kd_learn_t *slot = NULL;
  for (unsigned i = 0; i < KD_LEARN_PROBE; i++) {
    kd_learn_t *e = &cap->learn[(h + i) % KD_LEARN_SLOTS];
    if (learn_eq(e, family, addr, port))
      return;
    if (!e->used) {
      slot = e;
      break;
    }
  }
  if (!slot) /* neighbourhood full: replace one (bounded table) */
    slot = &cap->learn[(h + (unsigned)cap->n_learned % KD_LEARN_PROBE) %
                       KD_LEARN_SLOTS];
  else
    cap->n_learned++;
  memset(slot, 0, sizeof *slot);
  slot->used = 1;
  slot->family = family;
  slot->port = port;
  memcpy(slot->addr, addr, family == 4 ? 4 : 16);
  set_port(cap->learned_ports, port);
}

void kd_cap_emit(kmsdiag_capture_t *cap, kmsdiag_capture_event_t *ev) {
  if (ev->type != KMSDIAG_CAPEV_DIAGNOSIS) /* those carry their own */
    ev->file_index = cap->file_index;
  if (ev->type == KMSDIAG_CAPEV_EXCHANGE)
    cap->st.kms_exchanges++;
  if (ev->type != KMSDIAG_CAPEV_DIAGNOSIS && ev->type != KMSDIAG_CAPEV_NOTE)
    kd_diag_event(cap, ev);
  if (cap->fn)
    cap->fn(ev, cap->ud);
}

void kd_cap_note(kmsdiag_capture_t *cap, uint64_t frame, size_t off,
                 const char *fmt, ...) {
  kmsdiag_capture_event_t ev;
  va_list ap;
  cap->notes++;
  if (cap->notes > MAX_NOTES + 1)
    return;
  kd_buf_reset(&cap->note_buf);
  if (cap->notes == MAX_NOTES + 1) {
    kd_buf_puts(&cap->note_buf,
                "more than 1000 notes: further notes are not reported");
  } else {
    va_start(ap, fmt);
    kd_buf_vprintf(&cap->note_buf, fmt, ap);
    va_end(ap);
  }
  if (!kd_buf_ok(&cap->note_buf))
    return;
  memset(&ev, 0, sizeof ev);
  ev.type = KMSDIAG_CAPEV_NOTE;
  ev.frame = frame;
  ev.ts_sec = cap->now_sec;
  ev.ts_nsec = cap->now_nsec;
  ev.u.note.message = (const char *)cap->note_buf.data;
  ev.u.note.offset = off;
  kd_cap_emit(cap, &ev);
}

/* ---- life cycle -------------------------------------------------------------- */

KMSDIAG_API kmsdiag_status_t kmsdiag_capture_new(kmsdiag_capture_t **out) {
  if (!out)
    return KMSDIAG_EINVAL;
  *out = NULL;
  kmsdiag_capture_t *cap = calloc(1, sizeof *cap);
  if (!cap)
    return KMSDIAG_ENOMEM;
  cap->lim.max_flows = DEFAULT_MAX_FLOWS;
  cap->lim.max_flow_bytes = DEFAULT_FLOW_BYTES;
  cap->lim.idle_timeout_sec = DEFAULT_IDLE;
  cap->lim.syn_timeout_sec = DEFAULT_SYN_TIMEOUT;
  cap->lim.max_skew_sec = DEFAULT_SKEW;
  cap->lim.max_buffered_bytes = DEFAULT_BUDGET;
  cap->nbuckets = 8192;
  cap->buckets = calloc(cap->nbuckets, sizeof *cap->buckets);
  kd_buf_init(&cap->note_buf);
  cap->note_buf.max = 4096;
  if (!cap->buckets) {
    kmsdiag_capture_free(cap);
    return KMSDIAG_ENOMEM;
  }
  set_port(cap->ports, 1688);
  *out = cap;
  return KMSDIAG_OK;
}

static void flow_destroy(kmsdiag_capture_t *cap, kd_flow_t *f) {
  kd_stream_free(&f->up, &cap->mem);
  kd_stream_free(&f->down, &cap->mem);
  kd_rpc_free(&f->rpc);
  free(f);
}

KMSDIAG_API void kmsdiag_capture_free(kmsdiag_capture_t *cap) {
  if (!cap)
    return;
  kd_flow_t *f = cap->lru_head;
  while (f) {
    kd_flow_t *n = f->lru_next;
    flow_destroy(cap, f);
    f = n;
  }
  free(cap->buckets);
  free(cap->dns_q);
  free(cap->dns_targets);
  free(cap->syns);
  free(cap->learn);
  if (cap->frags)
    for (size_t i = 0; i < KD_FRAG_SLOTS; i++)
      free(cap->frags[i].buf);
  free(cap->frags);
  kd_buf_free(&cap->note_buf);
  kd_diag_free(cap);
  free(cap);
}

KMSDIAG_API void kmsdiag_capture_set_callback(kmsdiag_capture_t *cap,
                                              kmsdiag_capture_event_fn fn,
                                              void *userdata) {
  if (!cap)
    return;
  cap->fn = fn;
  cap->ud = userdata;
}

KMSDIAG_API kmsdiag_status_t kmsdiag_capture_add_port(kmsdiag_capture_t *cap,
                                                      uint16_t port) {
  if (!cap || port == 0)
    return KMSDIAG_EINVAL;
  set_port(cap->ports, port);
  return KMSDIAG_OK;
}

KMSDIAG_API kmsdiag_status_t
kmsdiag_capture_set_limits(kmsdiag_capture_t *cap,
                           const kmsdiag_capture_limits_t *lim) {
  if (!cap || !lim)
    return KMSDIAG_EINVAL;
  if (lim->max_flows)
    cap->lim.max_flows = lim->max_flows;
  if (lim->max_flow_bytes) {
    if (lim->max_flow_bytes < 1024 || lim->max_flow_bytes > (16u << 20))
      return KMSDIAG_EINVAL;
    cap->lim.max_flow_bytes = lim->max_flow_bytes;
  }
  if (lim->idle_timeout_sec)
    cap->lim.idle_timeout_sec = lim->idle_timeout_sec;
  if (lim->syn_timeout_sec)
    cap->lim.syn_timeout_sec = lim->syn_timeout_sec;
  if (lim->max_skew_sec)
    cap->lim.max_skew_sec = lim->max_skew_sec;
  if (lim->max_buffered_bytes) {
    if (lim->max_buffered_bytes < 2 * cap->lim.max_flow_bytes)
      return KMSDIAG_EINVAL;
    cap->lim.max_buffered_bytes = lim->max_buffered_bytes;
  }
  return KMSDIAG_OK;
}

KMSDIAG_API void kmsdiag_capture_next_file(kmsdiag_capture_t *cap) {
  if (!cap)
    return;
  if (cap->frame > 0 || cap->st.frames > 0)
    cap->file_index++;
  cap->frame = 0;
  cap->prev_valid = false; /* the clock of the next file starts afresh */
}

KMSDIAG_API void kmsdiag_capture_get_stats(const kmsdiag_capture_t *cap,
                                           kmsdiag_capture_stats_t *out) {
  if (!cap || !out)
    return;
  *out = cap->st;
  out->flows_now = cap->nflows;
  out->buffered_bytes = cap->mem.now;
  out->peak_buffered_bytes = cap->mem.peak;
}

/* ---- flow table ------------------------------------------------------------------ */

static uint32_t mix(uint32_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

/* Direction-independent hash of the 5-tuple. */
static uint32_t flow_hash(const kd_pkt_t *p) {
  size_t alen = p->family == 4 ? 4 : 16;
  uint32_t a = mix(2166136261u, p->src, alen) ^ (uint32_t)p->sport * 2654435761u;
  uint32_t b = mix(2166136261u, p->dst, alen) ^ (uint32_t)p->dport * 2654435761u;
  return (a ^ b) * 0x9E3779B1u + (a + b);
}

static bool ep_eq(const kmsdiag_endpoint_t *e, uint8_t fam, const uint8_t *a,
                  uint16_t port) {
  return e->family == fam && e->port == port &&
         memcmp(e->addr, a, fam == 4 ? 4 : 16) == 0;
}

static void ep_set(kmsdiag_endpoint_t *e, uint8_t fam, const uint8_t *a,
                   uint16_t port) {
  memset(e, 0, sizeof *e);
  e->family = fam;
  memcpy(e->addr, a, fam == 4 ? 4 : 16);
  e->port = port;
}

static kd_flow_t *flow_find(kmsdiag_capture_t *cap, const kd_pkt_t *p,
                            uint32_t h, bool *from_client) {
  kd_flow_t *f = cap->buckets[h & (cap->nbuckets - 1)];
  for (; f; f = f->hnext) {
    if (f->hash != h)
      continue;
    if (ep_eq(&f->client, p->family, p->src, p->sport) &&
        ep_eq(&f->server, p->family, p->dst, p->dport)) {
      *from_client = true;
      return f;
    }
    if (ep_eq(&f->server, p->family, p->src, p->sport) &&
        ep_eq(&f->client, p->family, p->dst, p->dport)) {
      *from_client = false;
      return f;
    }
  }
  return NULL;
}

static void lru_unlink(kmsdiag_capture_t *cap, kd_flow_t *f) {
  if (f->lru_prev)
    f->lru_prev->lru_next = f->lru_next;
  else
    cap->lru_head = f->lru_next;
  if (f->lru_next)
    f->lru_next->lru_prev = f->lru_prev;
  else
    cap->lru_tail = f->lru_prev;
  f->lru_prev = f->lru_next = NULL;
}

static void lru_push(kmsdiag_capture_t *cap, kd_flow_t *f) {
  f->lru_prev = cap->lru_tail;
  f->lru_next = NULL;
  if (cap->lru_tail)
    cap->lru_tail->lru_next = f;
  else
    cap->lru_head = f;
  cap->lru_tail = f;
}

/* A connect event for flow f; wait_ms is how long the client had waited
 * when the connection was reset or closed early (0 otherwise). */
static void flow_event_wait(kmsdiag_capture_t *cap, kd_flow_t *f,
                            kmsdiag_conn_state_t state, uint64_t reply_frame,
                            bool server_side, uint64_t wait_ms) {
  kmsdiag_capture_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = KMSDIAG_CAPEV_CONNECT;
  ev.client = f->client;
  ev.server = f->server;
  if (state == KMSDIAG_CONN_NO_ANSWER) {
    ev.frame = f->syn_frame;
    ev.ts_sec = f->syn_sec;
    ev.ts_nsec = f->syn_nsec;
  } else {
    ev.frame = reply_frame;
    ev.ts_sec = cap->now_sec;
    ev.ts_nsec = cap->now_nsec;
  }
  ev.u.connect.state = state;
  ev.u.connect.syn_frame = f->syn_frame;
  ev.u.connect.reply_frame = reply_frame;
  ev.u.connect.syn_count = f->syn_count;
  ev.u.connect.server_closed = server_side;
  ev.u.connect.wait_ms = wait_ms;
  if (state != KMSDIAG_CONN_ESTABLISHED && state != KMSDIAG_CONN_MIDSTREAM)
    cap->st.failures++;
  kd_cap_emit(cap, &ev);
}

static void flow_event(kmsdiag_capture_t *cap, kd_flow_t *f,
                       kmsdiag_conn_state_t state, uint64_t reply_frame,
                       bool server_side) {
  flow_event_wait(cap, f, state, reply_frame, server_side, 0);
}

static bool request_pending(const kd_flow_t *f) {
  for (int i = 0; i < KD_RPC_MAX_PENDING; i++)
    if (f->rpc.pend[i].used)
      return true;
  return false;
}

/* The snapshot length cut only what the client sent, and the host sent
 * nothing captured after it for ms: what is missing cannot be an answer. */
static uint64_t cut_silence_ms(const kmsdiag_capture_t *cap,
                               const kd_flow_t *f) {
  if (!f->cut_count || f->cut_down || f->down_after_cut)
    return 0;
  return (cap->mono_us - f->cut_mono) / 1000;
}

static bool exchange_incomplete(const kd_flow_t *f) {
  if (f->rpc.have_bind)
    return true;
  for (int i = 0; i < KD_RPC_MAX_PENDING; i++)
    if (f->rpc.pend[i].used)
      return true;
  return !f->rpc.any_response;
}

static void consume(kmsdiag_capture_t *cap, kd_flow_t *f, bool from_client,
                    const kd_frame_ctx_t *fc);

/* Give up on holes in one direction that the capture will not fill: all
 * of them (the flow is over) or those the peer has acknowledged (the data
 * was delivered but not captured). Decoding resumes after each hole. */
static void drain_holes(kmsdiag_capture_t *cap, kd_flow_t *f, bool from_client,
                        const kd_frame_ctx_t *fc, bool all, uint32_t acked) {
  kd_stream_t *s = from_client ? &f->up : &f->down;
  for (int i = 0; i < 64 && s->ooo; i++) {
    if (!all && (int32_t)(acked - s->ooo->seq) < 0)
      break;
    uint32_t missing = s->ooo->seq - s->next_seq;
    uint64_t at = s->ooo->frame;
    kd_cap_note(cap, at, 0,
                "%" PRIu32 " bytes of the %s stream are missing from the "
                "capture before this frame; decoding resumes at the next "
                "PDU",
                missing, from_client ? "client" : "server");
    kd_frame_ctx_t c2 = *fc;
    c2.frame = at;
    if (kd_stream_skip_gap(s, &cap->mem, at) || s->len)
      consume(cap, f, from_client, &c2);
  }
}


static bool addr_eq(const uint8_t *a, const uint8_t *b) {
  return memcmp(a, b, 16) == 0;
}

/* IPv6 fragments seen between the two ends of this flow. */
static const kd_v6frag_t *v6frag_find(const kmsdiag_capture_t *cap,
                                      const kd_flow_t *f) {
  if (f->client.family != 6)
    return NULL;
  for (size_t i = 0; i < KD_V6FRAG_SLOTS; i++) {
    const kd_v6frag_t *v = &cap->v6frags[i];
    if (v->used && ((addr_eq(v->a, f->client.addr) &&
                     addr_eq(v->b, f->server.addr)) ||
                    (addr_eq(v->b, f->client.addr) &&
                     addr_eq(v->a, f->server.addr))))
      return v;
  }
  return NULL;
}

static void v6frag_add(kmsdiag_capture_t *cap, const kd_pkt_t *p) {
  kd_v6frag_t *slot = NULL;
  for (size_t i = 0; i < KD_V6FRAG_SLOTS; i++) {
    kd_v6frag_t *v = &cap->v6frags[i];
    if (v->used && ((addr_eq(v->a, p->src) && addr_eq(v->b, p->dst)) ||
                    (addr_eq(v->b, p->src) && addr_eq(v->a, p->dst)))) {
      v->last = cap->frame;
      v->count++;
      return;
    }
    if (!slot || (slot->used && (!v->used || v->last < slot->last)))
      slot = v;
  }
  memset(slot, 0, sizeof *slot);
  slot->used = true;
  memcpy(slot->a, p->src, 16);
  memcpy(slot->b, p->dst, 16);
  slot->first = slot->last = cap->frame;
  slot->count = 1;
}

/* Bytes of this flow are missing from the capture in a way decoding cannot
 * get around: frames cut by the snapshot length, or IPv6 fragments. */
static bool flow_cut(const kmsdiag_capture_t *cap, const kd_flow_t *f) {
  return f->cut_count > 0 || v6frag_find(cap, f) != NULL;
}

/* A cut flow that ends by a reset or a close: decided all the same when
 * the cut hides no answer of the host (only client bytes were cut, no IPv6
 * fragments), and the end came from the host, or from the client after it
 * waited at least 30 s with nothing from the host. */
static bool cut_decides(const kmsdiag_capture_t *cap, const kd_flow_t *f,
                        bool from_client) {
  if (!f->synack || !f->cut_count || f->cut_down ||
      v6frag_find(cap, f) != NULL)
    return false;
  if (!from_client)
    return true;
  return cut_silence_ms(cap, f) >= RPC_DECIDE_MS;
}

static void undecodable_event(kmsdiag_capture_t *cap, kd_flow_t *f) {
  kmsdiag_capture_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = KMSDIAG_CAPEV_CONNECT;
  ev.client = f->client;
  ev.server = f->server;
  ev.ts_sec = cap->now_sec;
  ev.ts_nsec = cap->now_nsec;
  kmsdiag_cap_connect_t *c = &ev.u.connect;
  c->state = KMSDIAG_CONN_UNDECODABLE;
  c->syn_frame = f->syn_frame;
  c->syn_count = f->syn_count;
  if (f->cut_count) {
    c->cut_reason = "snaplen";
    c->snaplen = f->snaplen;
    c->cut_frames = f->cut_count;
    c->first_cut_frame = f->cut_first;
    c->last_cut_frame = f->cut_last;
  } else {
    const kd_v6frag_t *v = v6frag_find(cap, f);
    c->cut_reason = "ipv6_fragments";
    c->cut_frames = v ? v->count : 0;
    c->first_cut_frame = v ? v->first : 0;
    c->last_cut_frame = v ? v->last : 0;
  }
  ev.frame = c->first_cut_frame;
  kd_cap_emit(cap, &ev);
}

static void undecided_event(kmsdiag_capture_t *cap, kd_flow_t *f,
                            const char *waiting, uint64_t wait_ms,
                            uint64_t frame, int64_t sec, uint32_t nsec,
                            bool evicted) {
  kmsdiag_capture_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = KMSDIAG_CAPEV_CONNECT;
  ev.client = f->client;
  ev.server = f->server;
  ev.frame = frame;
  ev.ts_sec = sec;
  ev.ts_nsec = nsec;
  kmsdiag_cap_connect_t *c = &ev.u.connect;
  c->state = KMSDIAG_CONN_UNDECIDED;
  c->syn_frame = f->syn_frame;
  c->syn_count = f->syn_count;
  c->waiting_for = waiting;
  c->wait_ms = wait_ms;
  c->evicted = evicted;
  kd_cap_emit(cap, &ev);
}

/* Flow is over: closed or reset (open false), or still open when the
 * capture ended, idle-expired or evicted (open true). Report what is
 * pending; what an open flow still waits for counts as never answered
 * only when enough capture time followed it. */
static void flow_end(kmsdiag_capture_t *cap, kd_flow_t *f, uint64_t frame,
                     bool open, bool evicted) {
  kd_frame_ctx_t fc = {frame, cap->now_sec, cap->now_nsec};
  bool kms = f->kind == KD_FLOW_KMS;
  bool up = f->synack || f->syn_count == 0; /* handshake done or not seen */
  bool incomplete = kms && up && exchange_incomplete(f);
  const char *waiting = NULL;
  int64_t wsec = 0;
  uint32_t wnsec = 0;
  uint64_t wframe = 0, wmono = 0, limit = RPC_DECIDE_MS;
  if (kms && open) {
    if (f->syn_count > 0 && !f->synack && !f->connect_reported) {
      waiting = "syn_ack";
      wsec = f->syn_sec;
      wnsec = f->syn_nsec;
      wframe = f->syn_frame;
      wmono = f->syn_mono;
      limit = SYN_DECIDE_MS;
    } else if (up && !f->client_fin && !f->server_fin && !f->rst &&
               !f->closed_reported) {
      const kd_rpc_pending_t *old = NULL;
      for (int i = 0; i < KD_RPC_MAX_PENDING; i++)
        if (f->rpc.pend[i].used &&
            (!old || f->rpc.pend[i].frame < old->frame))
          old = &f->rpc.pend[i];
      if (f->rpc.have_bind) {
        waiting = "bind_ack";
        wsec = f->rpc.bind.bind_sec;
        wnsec = f->rpc.bind.bind_nsec;
        wframe = f->rpc.bind.bind_frame;
        wmono = f->rpc.bind_mono;
      } else if (old) {
        waiting = "response";
        wsec = old->sec;
        wnsec = old->nsec;
        wframe = old->frame;
        wmono = old->mono;
      } else if (!f->rpc.any_request && !f->rpc.any_response) {
        waiting = "request";
        wsec = f->last_sec;
        wnsec = f->last_nsec;
        wframe = f->last_frame;
        wmono = f->last_mono;
      }
    }
  }
  uint64_t wait = waiting ? (cap->mono_us - wmono) / 1000 : 0;
  bool undecided = waiting && wait < limit;
  drain_holes(cap, f, true, &fc, true, 0);
  drain_holes(cap, f, false, &fc, true, 0);
  if (kms) {
    if (f->syn_count > 0 && !f->synack && !f->connect_reported) {
      f->connect_reported = true;
      if (!undecided)
        flow_event(cap, f, KMSDIAG_CONN_NO_ANSWER, 0, false);
    }
    kd_rpc_flush(cap, f, &fc);
    if ((f->undecodable || (incomplete && !f->closed_reported)) &&
        flow_cut(cap, f))
      undecodable_event(cap, f);
    else if (undecided)
      undecided_event(cap, f, waiting, wait, wframe, wsec, wnsec, evicted);
  }
}

static void flow_remove(kmsdiag_capture_t *cap, kd_flow_t *f) {
  kd_flow_t **pp = &cap->buckets[f->hash & (cap->nbuckets - 1)];
  while (*pp && *pp != f)
    pp = &(*pp)->hnext;
  if (*pp)
    *pp = f->hnext;
  lru_unlink(cap, f);
  cap->nflows--;
  cap->st.gaps += f->up.gaps + f->down.gaps;
  cap->st.retransmissions += f->up.retrans + f->down.retrans;
  cap->st.overlaps += f->up.overlaps + f->down.overlaps;
  flow_destroy(cap, f);
}

static kd_flow_t *flow_new(kmsdiag_capture_t *cap, const kd_pkt_t *p,
                           uint32_t h, bool src_is_client) {
  if (cap->nflows >= cap->lim.max_flows && cap->lru_head) {
    kd_flow_t *old = cap->lru_head;
    cap->st.flows_evicted++;
    if (cap->st.flows_evicted == 1)
      kd_cap_note(cap, cap->frame, 0,
                  "flow table full (%zu flows): least recently used flows "
                  "are dropped",
                  cap->lim.max_flows);
    flow_end(cap, old, cap->frame, true, true);
    flow_remove(cap, old);
  }
  kd_flow_t *f = calloc(1, sizeof *f);
  if (!f) {
    cap->enomem = true;
    return NULL;
  }
  f->hash = h;
  if (src_is_client) {
    ep_set(&f->client, p->family, p->src, p->sport);
    ep_set(&f->server, p->family, p->dst, p->dport);
  } else {
    ep_set(&f->client, p->family, p->dst, p->dport);
    ep_set(&f->server, p->family, p->src, p->sport);
  }
  kd_stream_init(&f->up, cap->lim.max_flow_bytes);
  kd_stream_init(&f->down, cap->lim.max_flow_bytes);
  kd_rpc_init(&f->rpc);
  size_t b = h & (cap->nbuckets - 1);
  f->hnext = cap->buckets[b];
  cap->buckets[b] = f;
  lru_push(cap, f);
  cap->nflows++;
  cap->st.flows_tracked++;
  if (cap->nflows > cap->st.peak_flows)
    cap->st.peak_flows = cap->nflows;
  return f;
}

static void sweep(kmsdiag_capture_t *cap) {
  int64_t now = cap->now_sec;
  kd_flow_t *f = cap->lru_head;
  while (f) {
    kd_flow_t *n = f->lru_next;
    int64_t idle = now - f->last_sec;
    if (idle <= (int64_t)cap->lim.syn_timeout_sec)
      break; /* LRU order: everything after is more recent */
    bool syn_pending = f->syn_count > 0 && !f->synack && !f->rst;
    if (syn_pending || idle > (int64_t)cap->lim.idle_timeout_sec) {
      flow_end(cap, f, cap->frame, true, false);
      flow_remove(cap, f);
      cap->st.flows_expired++;
    }
    f = n;
  }
  kd_dns_flush(cap, false, now);
}

/* ---- TCP ----------------------------------------------------------------------------- */

static void dns_tcp_consume(kmsdiag_capture_t *cap, kd_flow_t *f,
                            kd_stream_t *s, bool from_client,
                            const kd_frame_ctx_t *fc) {
  for (int guard = 0; guard < 1024 && s->len >= 2; guard++) {
    if (s->gap) {
      /* no way to find a DNS message boundary after a hole */
      kd_stream_consume(s, s->len);
      return;
    }
    size_t mlen = (size_t)s->buf[0] << 8 | s->buf[1];
    if (2 + mlen > s->len) {
      if (2 + mlen > s->limit)
        kd_stream_discard(s);
      return;
    }
    const kmsdiag_endpoint_t *src = from_client ? &f->client : &f->server;
    const kmsdiag_endpoint_t *dst = from_client ? &f->server : &f->client;
    kd_dns_message(cap, fc, src, dst, true, s->buf + 2, mlen);
    kd_stream_consume(s, 2 + mlen);
  }
}

static void consume(kmsdiag_capture_t *cap, kd_flow_t *f, bool from_client,
                    const kd_frame_ctx_t *fc) {
  kd_stream_t *s = from_client ? &f->up : &f->down;
  if (f->kind == KD_FLOW_KMS)
    kd_rpc_consume(cap, f, s, from_client, fc);
  else if (f->kind == KD_FLOW_DNS)
    dns_tcp_consume(cap, f, s, from_client, fc);
  else
    kd_stream_discard(s);
  kd_stream_trim(s, &cap->mem); /* an idle flow holds no buffer */
}

/* Keep the bytes buffered over all flows under the budget: give up on
 * the data of the least recently used flows (out-of-order data first),
 * down to 3/4 of the budget. Each flow direction dropped is a gap. */
static void enforce_budget(kmsdiag_capture_t *cap) {
  size_t target = cap->lim.max_buffered_bytes / 4 * 3;
  uint64_t dropped = 0;
  for (int pass = 0; pass < 2 && cap->mem.now > target; pass++) {
    for (kd_flow_t *f = cap->lru_head; f && cap->mem.now > target;
         f = f->lru_next) {
      kd_stream_t *ss[2] = {&f->up, &f->down};
      for (int i = 0; i < 2; i++) {
        kd_stream_t *s = ss[i];
        if (pass == 0 ? s->ooo != NULL : (s->len > 0 || s->cap > 0)) {
          if (s->len || s->ooo)
            dropped++;
          kd_stream_drop(s, &cap->mem);
        }
      }
    }
  }
  if (dropped) {
    if (cap->st.budget_drops == 0)
      kd_cap_note(cap, cap->frame, 0,
                  "buffered TCP data reached the %zu KiB budget: the "
                  "buffered data of the least recently used flows is "
                  "dropped (gaps; decoding resumes at the next PDU)",
                  cap->lim.max_buffered_bytes >> 10);
    cap->st.budget_drops += dropped;
  }
}

/* Remember the handshake of an untracked flow. */
static void syn_note(kmsdiag_capture_t *cap, const kd_pkt_t *p, uint32_t h,
                     bool synack) {
  if (!cap->syns) {
    if (synack)
      return;
    cap->syns = calloc(KD_SYN_SLOTS, sizeof *cap->syns);
    if (!cap->syns)
      return;
  }
  kd_syn_t *e = &cap->syns[h % KD_SYN_SLOTS];
  size_t alen = p->family == 4 ? 4 : 16;
  uint32_t key = h | 1u; /* never 0 */
  if (!synack) {
    if (e->hash == key && e->family == p->family && e->cport == p->sport &&
        e->sport == p->dport && memcmp(e->cli, p->src, alen) == 0 &&
        memcmp(e->srv, p->dst, alen) == 0) {
      e->syn_count++; /* retransmitted SYN */
      return;
    }
    memset(e, 0, sizeof *e);
    e->hash = key;
    e->family = p->family;
    memcpy(e->cli, p->src, alen);
    memcpy(e->srv, p->dst, alen);
    e->cport = p->sport;
    e->sport = p->dport;
    e->syn_count = 1;
    e->syn_frame = cap->frame;
    e->syn_sec = cap->now_sec;
    e->syn_nsec = cap->now_nsec;
    return;
  }
  if (e->hash == key && !e->synack && e->family == p->family &&
      e->cport == p->dport && e->sport == p->sport &&
      memcmp(e->cli, p->dst, alen) == 0 && memcmp(e->srv, p->src, alen) == 0) {
    e->synack = true;
    e->synack_frame = cap->frame;
    e->synack_sec = cap->now_sec;
    e->synack_nsec = cap->now_nsec;
  }
}

/* A flow found by content: take its handshake from the SYN cache. */
static bool syn_recall(kmsdiag_capture_t *cap, kd_flow_t *f) {
  if (!cap->syns)
    return false;
  kd_syn_t *e = &cap->syns[f->hash % KD_SYN_SLOTS];
  size_t alen = f->client.family == 4 ? 4 : 16;
  if (e->hash != (f->hash | 1u) || e->family != f->client.family ||
      e->cport != f->client.port || e->sport != f->server.port ||
      memcmp(e->cli, f->client.addr, alen) != 0 ||
      memcmp(e->srv, f->server.addr, alen) != 0)
    return false;
  f->syn_count = e->syn_count;
  f->syn_frame = e->syn_frame;
  f->syn_sec = e->syn_sec;
  f->syn_mono = cap->mono_us;
  f->syn_nsec = e->syn_nsec;
  f->synack = e->synack;
  e->hash = 0;
  if (!f->synack)
    return false;
  kmsdiag_capture_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = KMSDIAG_CAPEV_CONNECT;
  ev.client = f->client;
  ev.server = f->server;
  ev.frame = e->synack_frame;
  ev.ts_sec = e->synack_sec;
  ev.ts_nsec = e->synack_nsec;
  ev.u.connect.state = KMSDIAG_CONN_ESTABLISHED;
  ev.u.connect.syn_frame = f->syn_frame;
  ev.u.connect.reply_frame = e->synack_frame;
  ev.u.connect.syn_count = f->syn_count;
  kd_cap_emit(cap, &ev);
  return true;
}

static bool port_in(const uint8_t *bits, uint16_t port) {
  return (bits[port >> 3] >> (port & 7)) & 1;
}

static void handle_tcp(kmsdiag_capture_t *cap, const kd_pkt_t *p) {
  bool from_client = true;
  uint8_t fl0 = p->tcp_flags;
  /* Fast reject of ordinary traffic, before any hashing: no tracked flow
   * can have this packet when neither port is a KMS port (global or
   * learned), 53, or a port of a flow found by content; and the packet
   * starts nothing unless it is a SYN (handshake cache) or may hold a
   * KMS bind. */
  if (!(fl0 & KD_TCP_SYN) &&
      !(p->paylen >= 28 && p->payload[0] == 5) && p->sport != 53 &&
      p->dport != 53 && !port_in(cap->ports, p->sport) &&
      !port_in(cap->ports, p->dport) &&
      !port_in(cap->learned_ports, p->sport) &&
      !port_in(cap->learned_ports, p->dport) &&
      !port_in(cap->content_ports, p->sport) &&
      !port_in(cap->content_ports, p->dport))
    return;
  uint32_t h = flow_hash(p);
  kd_flow_t *f = flow_find(cap, p, h, &from_client);
  uint8_t fl = p->tcp_flags;
  bool syn = fl & KD_TCP_SYN, ack = fl & KD_TCP_ACK;
  if (!f) {
    bool kms_s = kd_cap_is_kms_ep(cap, p->family, p->src, p->sport);
    bool kms_d = kd_cap_is_kms_ep(cap, p->family, p->dst, p->dport);
    bool dns = p->sport == 53 || p->dport == 53;
    bool bind = !kms_s && !kms_d && p->paylen >= 28 && p->payload[0] == 5 &&
                kd_rpc_is_kms_bind(p->payload, p->paylen);
    if (!kms_s && !kms_d && !dns && !bind) {
      if (syn)
        syn_note(cap, p, h, ack);
      return;
    }
    /* a bare ACK, FIN or RST of a connection not tracked (or already
     * closed) starts nothing */
    if (!syn && p->paylen == 0)
      return;
    bool src_client;
    if (syn && !ack)
      src_client = true;
    else if (syn && ack)
      src_client = false;
    else if (bind)
      src_client = true;
    else if (kms_d != kms_s)
      src_client = kms_d;
    else if (dns && (p->sport == 53) != (p->dport == 53))
      src_client = p->dport == 53;
    else
      src_client = p->sport > p->dport;
    f = flow_new(cap, p, h, src_client);
    if (!f)
      return;
    /* a port learned from DNS never makes DNS (port 53) a KMS flow */
    bool kms_port = kd_cap_is_kms_port(cap, p->sport) ||
                    kd_cap_is_kms_port(cap, p->dport);
    f->kind = (kms_port || bind || ((kms_s || kms_d) && !dns)) ? KD_FLOW_KMS
                                                               : KD_FLOW_DNS;
    f->by_learned = f->kind == KD_FLOW_KMS && !kms_port && !bind;
    if (bind) { /* its later packets must get past the fast reject */
      set_port(cap->content_ports, p->sport);
      set_port(cap->content_ports, p->dport);
    }
    from_client = src_client;
    if (!syn && f->kind == KD_FLOW_KMS) {
      f->connect_reported = true;
      if (!(bind && syn_recall(cap, f)))
        flow_event(cap, f, KMSDIAG_CONN_MIDSTREAM, cap->frame, false);
    }
  } else if (cap->lru_tail != f) {
    lru_unlink(cap, f);
    lru_push(cap, f);
  }
  f->last_sec = cap->now_sec;
  f->last_nsec = cap->now_nsec;
  f->last_frame = cap->frame;
  f->last_mono = cap->mono_us;
  kd_frame_ctx_t fc = {cap->frame, cap->now_sec, cap->now_nsec};

  if (syn && !ack && from_client) {
    if (f->syn_count++ == 0) {
      f->syn_frame = cap->frame;
      f->syn_sec = cap->now_sec;
      f->syn_nsec = cap->now_nsec;
      f->syn_mono = cap->mono_us;
    }
  }
  if (syn && ack && !from_client && !f->synack) {
    f->synack = true;
    if (!f->connect_reported && f->kind == KD_FLOW_KMS) {
      f->connect_reported = true;
      flow_event(cap, f, KMSDIAG_CONN_ESTABLISHED, cap->frame, false);
    }
  }

  /* the peer acknowledged data the capture holds a hole for */
  if (ack) {
    kd_stream_t *o = from_client ? &f->down : &f->up;
    if (o->ooo && (int32_t)(p->ack - o->ooo->seq) >= 0)
      drain_holes(cap, f, !from_client, &fc, false, p->ack);
  }

  if (f->by_learned && f->kind == KD_FLOW_KMS && p->paylen >= 2 &&
      p->payload[0] == 0x16 && p->payload[1] == 0x03 &&
      !f->rpc.any_request && !f->rpc.any_response && !f->rpc.have_bind) {
    /* a TLS handshake on a port learned from DNS: not KMS after all */
    f->kind = KD_FLOW_OTHER;
    kd_stream_discard(&f->up);
    kd_stream_discard(&f->down);
  }
  kd_stream_t *s = from_client ? &f->up : &f->down;
  bool fin = fl & KD_TCP_FIN;
  if (!from_client && p->paylen && f->cut_count)
    f->down_after_cut = true;
  if (p->paylen || syn || fin) {
    bool added = kd_stream_add(s, &cap->mem, p->seq, syn, fin, p->payload,
                               p->paylen, cap->frame);
    if (added || (s->len && s->gap))
      consume(cap, f, from_client, &fc);
    if (p->truncated && p->paylen < p->wire_paylen) {
      if (f->cut_count++ == 0) {
        f->cut_first = cap->frame;
        f->snaplen = cap->cur_caplen;
      }
      f->cut_last = cap->frame;
      f->cut_mono = cap->mono_us;
      if (!from_client) {
        f->cut_down++;
        f->down_after_cut = false;
      }
      /* bytes missing from the capture: resynchronise after them */
      kd_stream_discard(s);
      s->next_seq = p->seq + (syn ? 1u : 0u) + (uint32_t)p->wire_paylen;
      s->gap = true;
      if (f->cut_count == 1)
        kd_cap_note(cap, cap->frame, 0,
                    "TCP segment cut by the snapshot length (%zu of %zu "
                    "bytes captured, %" PRIu32 " bytes per frame)",
                    p->paylen, p->wire_paylen, cap->cur_caplen);
    }
    if (cap->mem.now > cap->lim.max_buffered_bytes)
      enforce_budget(cap);
  }

  if (fl & KD_TCP_RST) {
    f->rst = true;
    if (f->kind == KD_FLOW_KMS) {
      if (!f->synack && f->syn_count > 0 && !from_client &&
          !f->connect_reported) {
        f->connect_reported = true;
        flow_event(cap, f, KMSDIAG_CONN_REFUSED, cap->frame, true);
      } else if ((f->synack || f->syn_count == 0) && exchange_incomplete(f) &&
                 !f->closed_reported && flow_cut(cap, f) &&
                 !cut_decides(cap, f, from_client)) {
        /* what the capture lacks may be what went wrong: reported as
         * undecodable when the flow ends */
        f->closed_reported = true;
        f->undecodable = true;
      } else if (f->synack && exchange_incomplete(f) && !f->closed_reported &&
                 !(from_client && request_pending(f))) {
        /* a client that gives up on a pending request: the exchange
         * without a response tells it */
        f->closed_reported = true;
        flow_event_wait(cap, f, KMSDIAG_CONN_RESET, cap->frame, !from_client,
                        from_client ? cut_silence_ms(cap, f) : 0);
      }
    }
    flow_end(cap, f, cap->frame, false, false);
    flow_remove(cap, f);
    return;
  }
  if (fin) {
    if (from_client)
      f->client_fin = true;
    else
      f->server_fin = true;
    if (f->kind == KD_FLOW_KMS && (f->synack || f->syn_count == 0) &&
        exchange_incomplete(f) && !f->closed_reported && flow_cut(cap, f) &&
        !cut_decides(cap, f, from_client)) {
      f->closed_reported = true;
      f->undecodable = true;
    } else if (f->kind == KD_FLOW_KMS && f->synack && exchange_incomplete(f) &&
        !f->closed_reported && !(from_client && request_pending(f))) {
      f->closed_reported = true;
      flow_event_wait(cap, f, KMSDIAG_CONN_CLOSED_EARLY, cap->frame,
                      !from_client, from_client ? cut_silence_ms(cap, f) : 0);
    }
    if (f->client_fin && f->server_fin) {
      flow_end(cap, f, cap->frame, false, false);
      flow_remove(cap, f);
    }
  }
}

/* ---- feeding ------------------------------------------------------------------------- */

static void frag_add(kmsdiag_capture_t *cap, const kd_pkt_t *p);

/* TCP and UDP handling of one decoded packet. */
static void dispatch(kmsdiag_capture_t *cap, const kd_pkt_t *p) {
  if (p->proto == KD_PKT_TCP) {
    cap->st.tcp_packets++;
    handle_tcp(cap, p);
  } else if (p->proto == KD_PKT_UDP) {
    cap->st.udp_packets++;
    if ((p->sport == 53 || p->dport == 53) && p->paylen) {
      kmsdiag_endpoint_t s, d;
      ep_set(&s, p->family, p->src, p->sport);
      ep_set(&d, p->family, p->dst, p->dport);
      kd_frame_ctx_t fc = {cap->frame, cap->now_sec, cap->now_nsec};
      kd_dns_message(cap, &fc, &s, &d, false, p->payload, p->paylen);
    }
  }
}

/* ---- IPv4 fragments ------------------------------------------------------- */

static void frag_free(kd_frag_t *g) {
  free(g->buf);
  memset(g, 0, sizeof *g);
}

static bool frag_complete(const kd_frag_t *g) {
  if (!g->total)
    return false;
  size_t blocks = (g->total + 7) / 8;
  for (size_t b = 0; b < blocks; b++)
    if (!(g->bits[b / 8] & (1u << (b % 8))))
      return false;
  return true;
}

/* Put IPv4 fragments together (bounded: 32 datagrams of at most 16 KiB,
 * oldest dropped first); a complete datagram is decoded like any
 * packet, tied to the frame of its last fragment. */
static void frag_add(kmsdiag_capture_t *cap, const kd_pkt_t *p) {
  if (!cap->frags) {
    cap->frags = calloc(KD_FRAG_SLOTS, sizeof *cap->frags);
    if (!cap->frags)
      return;
  }
  if (p->frag_cut) {
    kd_cap_note(cap, cap->frame, 0,
                "IPv4 fragment cut by the snapshot length: its datagram "
                "cannot be put together");
    return;
  }
  kd_frag_t *g = NULL, *oldest = NULL;
  for (size_t i = 0; i < KD_FRAG_SLOTS; i++) {
    kd_frag_t *x = &cap->frags[i];
    if (x->used && x->id == p->frag_id && x->proto == p->frag_proto &&
        memcmp(x->src, p->src, 4) == 0 && memcmp(x->dst, p->dst, 4) == 0) {
      g = x;
      break;
    }
    if (!x->used || cap->now_sec - x->sec > 30) {
      if (!oldest || oldest->used)
        oldest = x;
    } else if (!oldest || (oldest->used && x->sec < oldest->sec)) {
      oldest = x;
    }
  }
  if (!g) {
    g = oldest;
    if (g->used)
      frag_free(g); /* incomplete and oldest: given up */
    g->used = true;
    g->id = p->frag_id;
    g->proto = p->frag_proto;
    memcpy(g->src, p->src, 4);
    memcpy(g->dst, p->dst, 4);
    g->sec = cap->now_sec;
    g->frame = cap->frame;
  }
  if (p->frag_off + p->frag_len > KD_FRAG_MAX) {
    kd_cap_note(cap, cap->frame, 0,
                "fragmented IPv4 datagram larger than %d bytes: not put "
                "together",
                KD_FRAG_MAX);
    frag_free(g);
    return;
  }
  if (!g->buf) {
    g->buf = malloc(KD_FRAG_MAX);
    if (!g->buf) {
      frag_free(g);
      return;
    }
  }
  if (p->frag_len)
    memcpy(g->buf + p->frag_off, p->frag_data, p->frag_len);
  size_t end = p->frag_off + p->frag_len;
  for (size_t b = p->frag_off / 8; b * 8 < end; b++) {
    /* a block counts when this fragment covers it to its end, or when the
     * fragment is the last one */
    if (b * 8 + 8 <= end || !p->frag_more)
      g->bits[b / 8] |= (uint8_t)(1u << (b % 8));
  }
  if (!p->frag_more)
    g->total = end;
  if (!frag_complete(g))
    return;
  size_t n = 20 + g->total;
  uint8_t *pkt = malloc(n);
  if (pkt) {
    memset(pkt, 0, 20);
    pkt[0] = 0x45;
    pkt[2] = (uint8_t)(n >> 8);
    pkt[3] = (uint8_t)n;
    pkt[4] = (uint8_t)(g->id >> 8);
    pkt[5] = (uint8_t)g->id;
    pkt[8] = 64;
    pkt[9] = g->proto;
    memcpy(pkt + 12, g->src, 4);
    memcpy(pkt + 16, g->dst, 4);
    memcpy(pkt + 20, g->buf, g->total);
    kd_pkt_t q;
    if (kd_cap_decode(12, pkt, n, &q) == KMSDIAG_OK && q.family == 4 &&
        !q.fragment)
      dispatch(cap, &q);
    else
      kd_cap_note(cap, cap->frame, 0,
                  "reassembled IPv4 datagram is malformed: %s",
                  q.err ? q.err : "unknown");
    free(pkt);
  }
  frag_free(g);
}

KMSDIAG_API kmsdiag_status_t kmsdiag_capture_feed(kmsdiag_capture_t *cap,
                                                  const kmsdiag_frame_t *fr) {
  if (!cap || !fr || (!fr->data && fr->caplen))
    return KMSDIAG_EINVAL;
  if (cap->finished)
    return KMSDIAG_ESTATE;
  cap->frame++;
  cap->st.frames++;
  cap->st.bytes += fr->caplen;
  if (fr->ts_sec > cap->now_sec ||
      (fr->ts_sec == cap->now_sec && fr->ts_nsec > cap->now_nsec)) {
    cap->now_sec = fr->ts_sec;
    cap->now_nsec = fr->ts_nsec;
  } else if (cap->now_sec - fr->ts_sec > 86400) {
    cap->now_sec = fr->ts_sec; /* clock went far back: follow it */
    cap->now_nsec = fr->ts_nsec;
  }
  if (cap->prev_valid) {
    int64_t d = (fr->ts_sec - cap->prev_sec) * 1000000 +
                ((int64_t)fr->ts_nsec - (int64_t)cap->prev_nsec) / 1000;
    if (d > 0 && d < (int64_t)86400 * 1000000) /* forward steps only */
      cap->mono_us += (uint64_t)d;
  }
  cap->prev_sec = fr->ts_sec;
  cap->prev_nsec = fr->ts_nsec;
  cap->prev_valid = true;
  if (fr->caplen < fr->wirelen)
    cap->st.truncated++;
  cap->cur_caplen = fr->caplen;

  kd_pkt_t p;
  int st = kd_cap_decode(fr->linktype, fr->data, fr->caplen, &p);
  if (st != KMSDIAG_OK) {
    cap->st.malformed++;
    if (st == KMSDIAG_EUNSUPPORTED) {
      if (cap->st.malformed == 1)
        kd_cap_note(cap, cap->frame, 0, "link type %d is not supported",
                    fr->linktype);
    } else if (!(st == KMSDIAG_ETRUNC && fr->caplen < fr->wirelen)) {
      kd_cap_note(cap, cap->frame, p.err_off, "%s (frame offset %zu)",
                  p.err ? p.err : "damaged frame", p.err_off);
    }
    goto done;
  }
  if (p.family == 0) {
    cap->st.non_ip++;
    goto done;
  }
  cap->st.ip_packets++;
  if (p.fragment) {
    cap->st.fragments++;
    if (p.family == 4) {
      frag_add(cap, &p);
    } else {
      v6frag_add(cap, &p);
      if (!cap->v6frag_noted) {
        cap->v6frag_noted = true;
        kd_cap_note(cap, cap->frame, 0,
                    "IPv6 fragments are not reassembled (first one here); a "
                    "fragmented KMS or DNS message over IPv6 is not decoded");
      }
    }
    goto done;
  }
  dispatch(cap, &p);
done:
  if ((cap->st.frames % SWEEP_EVERY) == 0)
    sweep(cap);
  return cap->enomem ? KMSDIAG_ENOMEM : KMSDIAG_OK;
}

KMSDIAG_API kmsdiag_status_t kmsdiag_capture_finish(kmsdiag_capture_t *cap) {
  if (!cap)
    return KMSDIAG_EINVAL;
  if (cap->finished)
    return KMSDIAG_ESTATE;
  cap->finishing = true;
  while (cap->lru_head) {
    kd_flow_t *f = cap->lru_head;
    flow_end(cap, f, f->syn_frame ? f->syn_frame : cap->frame, true, false);
    flow_remove(cap, f);
  }
  kd_dns_flush(cap, true, cap->now_sec);
  kd_diag_finish(cap);
  cap->finished = true;
  return cap->enomem ? KMSDIAG_ENOMEM : KMSDIAG_OK;
}
