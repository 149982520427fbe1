/* cap_diag.c: what the events say about each client, and about many.
 *
 * Per client address: the furthest step reached (dns -> connect -> bind ->
 * request -> response), the code the client would report for its last
 * attempt, and the frames that show it. Across clients: duplicate CMIDs
 * (cloned images), clock skew between the request time and the capture
 * time, counts below the product's threshold, and hosts whose ePID cannot
 * activate the product asked of them. Tables are fixed-size: memory does
 * not grow with the capture. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_epid.h>
#include <kmsdiag/kmsdiag_errors.h>
#include <kmsdiag/kmsdiag_kms.h>
#include <kmsdiag/kmsdiag_products.h>
#include <kmsdiag/kmsdiag_rpc.h>

#include "capture/cap_flow.h"
#include "capture/cap_int.h"

#define MAX_CLIENTS 4096
#define MAX_CMIDS 8192
#define MAX_FINDINGS 128
#define MSG_LEN 512
#define FMSG_LEN 1024 /* findings: a duplicate CMID names 8 machines */

#define HR_UNAVAILABLE 0xC004F074u
#define HR_NOT_ENOUGH_COUNT 0xC004F038u
#define HR_INVALID_TIMESTAMP 0xC004F06Cu
#define HR_ID_MISMATCH 0xC004F042u

enum { ST_NONE = 0, ST_DNS, ST_CONNECT, ST_BIND, ST_REQUEST, ST_RESPONSE };
static const char *const stage_names[] = {"none", "dns", "connect", "bind",
                                          "request", "response"};

typedef struct client {
  bool used;
  kmsdiag_endpoint_t addr;
  uint32_t ws_hash; /* 0: the record of the address itself */
  char workstation[KMSDIAG_KMS_WORKSTATION_UTF8_MAX];
  int stage;
  bool decided; /* an outcome was recorded */
  bool ok;
  bool undetermined; /* the capture cannot show the outcome */
  uint32_t hresult;
  char message[MSG_LEN];
  const char *remedy;
  size_t n_ev;
  uint64_t ev[KMSDIAG_CAP_MAX_EVIDENCE];
  unsigned evf[KMSDIAG_CAP_MAX_EVIDENCE];
  unsigned order;
  bool skew_reported;
  bool attempt_failed; /* the current connection already failed */
  unsigned steps;      /* KMSDIAG_CAP_STEP_* seen */
  bool cut_answer; /* decided by a whole answer whose request was cut */
} client_t;

typedef struct cmid_ent {
  bool used;
  bool reported;
  int finding; /* index of its duplicate_cmid finding, -1 none */
  kmsdiag_guid_t cmid;
  kmsdiag_endpoint_t addr;
  char workstation[KMSDIAG_KMS_WORKSTATION_UTF8_MAX];
  uint64_t frame;
  unsigned file;
} cmid_ent_t;

#define NAMED_SHARERS 8 /* machines named per duplicate_cmid finding */
#define MAX_SHARERS 64  /* machines counted per duplicate_cmid finding */

typedef struct sharer {
  kmsdiag_endpoint_t addr;
  char workstation[KMSDIAG_KMS_WORKSTATION_UTF8_MAX];
} sharer_t;

typedef struct finding {
  const char *kind;
  kmsdiag_endpoint_t client, server;
  uint32_t hresult;
  char message[FMSG_LEN];
  const char *remedy;
  size_t n_ev;
  uint64_t ev[KMSDIAG_CAP_MAX_EVIDENCE];
  unsigned evf[KMSDIAG_CAP_MAX_EVIDENCE];
  uint64_t frame;
  unsigned file;
  uint8_t key[40]; /* dedupe key */
  /* duplicate_cmid: who shares the CMID (first MAX_SHARERS), how many */
  kmsdiag_guid_t cmid;
  sharer_t *sharers;
  size_t n_sharers, more_sharers;
  size_t more_evidence; /* evidence frames beyond the array */
} finding_t;

struct kd_diag {
  client_t *clients; /* open addressing, grows up to MAX_CLIENTS */
  size_t cap_clients;
  size_t n_clients;
  unsigned next_order;
  bool clients_full;
  cmid_ent_t *cmids; /* open addressing, grows up to MAX_CMIDS */
  size_t cap_cmids;
  size_t n_cmids;
  finding_t *findings;
  size_t n_findings;
  uint64_t findings_dropped; /* past MAX_FINDINGS */
  uint64_t cmids_unchecked;  /* requests whose CMID did not fit the table */
};

static kd_diag_t *diag_get(kmsdiag_capture_t *cap) {
  if (cap->diag)
    return cap->diag;
  kd_diag_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->cap_clients = 16;
  d->cap_cmids = 16;
  d->clients = calloc(d->cap_clients, sizeof *d->clients);
  d->cmids = calloc(d->cap_cmids, sizeof *d->cmids);
  d->findings = calloc(MAX_FINDINGS, sizeof *d->findings);
  if (!d->clients || !d->cmids || !d->findings) {
    free(d->clients);
    free(d->cmids);
    free(d->findings);
    free(d);
    cap->enomem = true;
    return NULL;
  }
  cap->diag = d;
  return d;
}

void kd_diag_free(kmsdiag_capture_t *cap) {
  kd_diag_t *d = cap->diag;
  if (!d)
    return;
  free(d->clients);
  free(d->cmids);
  for (size_t i = 0; i < d->n_findings; i++)
    free(d->findings[i].sharers);
  free(d->findings);
  free(d);
  cap->diag = NULL;
}

static uint32_t hash_bytes(const void *p, size_t n) {
  const uint8_t *b = p;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

static uint32_t client_hash(const kmsdiag_endpoint_t *key, uint32_t ws) {
  return hash_bytes(key, sizeof *key) ^ ws;
}

/* Double the client table (up to MAX_CLIENTS); false when it cannot. */
static bool clients_grow(kd_diag_t *d) {
  size_t nc = d->cap_clients * 2;
  if (nc > MAX_CLIENTS)
    return false;
  client_t *n = calloc(nc, sizeof *n);
  if (!n)
    return false;
  for (size_t i = 0; i < d->cap_clients; i++) {
    client_t *c = &d->clients[i];
    if (!c->used)
      continue;
    size_t h = client_hash(&c->addr, c->ws_hash) % nc;
    while (n[h].used)
      h = (h + 1) % nc;
    n[h] = *c;
  }
  free(d->clients);
  d->clients = n;
  d->cap_clients = nc;
  return true;
}

static client_t *client_get_ws(kd_diag_t *d, const kmsdiag_endpoint_t *ep,
                               uint32_t ws_hash) {
  kmsdiag_endpoint_t key;
  memset(&key, 0, sizeof key);
  key.family = ep->family;
  memcpy(key.addr, ep->addr, 16);
  if (d->n_clients + 1 > d->cap_clients * 3 / 4)
    (void)clients_grow(d);
  size_t capn = d->cap_clients;
  uint32_t h = client_hash(&key, ws_hash) % capn;
  for (size_t i = 0; i < capn; i++) {
    client_t *c = &d->clients[(h + i) % capn];
    if (!c->used) {
      if (d->n_clients >= capn * 3 / 4) {
        d->clients_full = true;
        return NULL;
      }
      c->used = true;
      c->addr = key;
      c->ws_hash = ws_hash;
      c->order = d->next_order++;
      d->n_clients++;
      return c;
    }
    if (c->ws_hash == ws_hash && memcmp(&c->addr, &key, sizeof key) == 0)
      return c;
  }
  return NULL;
}

static client_t *client_get(kd_diag_t *d, const kmsdiag_endpoint_t *ep) {
  return client_get_ws(d, ep, 0);
}

/* Several workstations behind one address (NAT, a test tool): one record
 * per workstation once a second name shows up. */
static client_t *client_for_ws(kd_diag_t *d, const kmsdiag_endpoint_t *ep,
                               const char *ws) {
  client_t *c = client_get(d, ep);
  if (!c || !ws || !ws[0] || !c->workstation[0] ||
      strcmp(c->workstation, ws) == 0)
    return c;
  uint32_t h = hash_bytes(ws, strlen(ws)) | 1u;
  return client_get_ws(d, ep, h);
}

static const char *remedy_for(uint32_t code) {
  const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(code);
  if (e && e->remedies && e->remedies[0])
    return e->remedies[0];
  return NULL;
}

/* File index of the event being handled (events are handled one at a
 * time, in the thread that feeds the analyser). */
static _Thread_local unsigned cur_file;

static void evidence_add(size_t *n, uint64_t *ev, unsigned *evf,
                         uint64_t frame) {
  if (!frame)
    return;
  for (size_t i = 0; i < *n; i++)
    if (ev[i] == frame && evf[i] == cur_file)
      return;
  if (*n < KMSDIAG_CAP_MAX_EVIDENCE) {
    evf[*n] = cur_file;
    ev[(*n)++] = frame;
  }
}

/* Record the outcome of one attempt; a later attempt replaces an earlier
 * one (the client reports its last), evidence accumulates. */
static void outcome(client_t *c, int stage, bool ok, uint32_t hr,
                    const char *remedy, uint64_t f1, uint64_t f2,
                    const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void outcome(client_t *c, int stage, bool ok, uint32_t hr,
                    const char *remedy, uint64_t f1, uint64_t f2,
                    const char *fmt, ...) {
  va_list ap;
  /* a DNS success is only a step: it does not replace a decided outcome */
  if (ok && stage == ST_DNS && c->decided)
    return;
  c->decided = true;
  c->attempt_failed = !ok;
  c->stage = stage;
  c->ok = ok;
  c->undetermined = false;
  c->hresult = hr;
  c->remedy = remedy;
  if (!ok) {
    c->n_ev = 0;
  }
  evidence_add(&c->n_ev, c->ev, c->evf, f1);
  evidence_add(&c->n_ev, c->ev, c->evf, f2);
  va_start(ap, fmt);
  vsnprintf(c->message, sizeof c->message, fmt, ap);
  va_end(ap);
}

/* The capture cannot show how the attempt ended: no code is claimed. */
static void undetermined(client_t *c, int stage, uint64_t f1, uint64_t f2,
                         const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void undetermined(client_t *c, int stage, uint64_t f1, uint64_t f2,
                         const char *fmt, ...) {
  va_list ap;
  c->decided = true;
  c->attempt_failed = true; /* the attempt is over as far as we can see */
  c->stage = stage;
  c->ok = false;
  c->undetermined = true;
  c->hresult = 0;
  c->remedy = NULL;
  c->n_ev = 0;
  evidence_add(&c->n_ev, c->ev, c->evf, f1);
  evidence_add(&c->n_ev, c->ev, c->evf, f2);
  va_start(ap, fmt);
  vsnprintf(c->message, sizeof c->message, fmt, ap);
  va_end(ap);
}

static finding_t *finding_new(kd_diag_t *d, const char *kind, const void *key,
                              size_t keylen) {
  uint8_t k[40] = {0};
  size_t kl = strlen(kind);
  memcpy(k, kind, kl < 8 ? kl : 8);
  memcpy(k + 8, key, keylen < 32 ? keylen : 32);
  for (size_t i = 0; i < d->n_findings; i++)
    if (memcmp(d->findings[i].key, k, sizeof k) == 0)
      return NULL; /* already reported */
  if (d->n_findings >= MAX_FINDINGS) {
    d->findings_dropped++;
    return NULL;
  }
  finding_t *f = &d->findings[d->n_findings++];
  memset(f, 0, sizeof *f);
  memcpy(f->key, k, sizeof k);
  f->kind = kind;
  f->file = cur_file;
  return f;
}

/* Copy a NUL-terminated string, truncating to fit. */
static void scopy(char *dst, size_t dstsz, const char *src) {
  size_t n = strnlen(src, dstsz - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static void guid_str(const kmsdiag_guid_t *g, char *buf) {
  kmsdiag_guid_to_str(g, buf);
}

/* ---- per event ------------------------------------------------------------------ */

static void on_dns(kd_diag_t *d, const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_dns_t *x = &ev->u.dns;
  client_t *c = client_get(d, &ev->client);
  if (!c)
    return;
  c->steps |= KMSDIAG_CAP_STEP_DNS;
  if (x->capture_ended) {
    if (!c->decided || c->stage <= ST_DNS)
      undetermined(c, ST_DNS, x->query_frame, 0,
                   "the capture ended %" PRIu64 " ms after the DNS %s "
                   "lookup of %s, before an answer (a lookup is called "
                   "unanswered after 5 s)",
                   x->wait_ms,
                   x->qtype == 33 ? "SRV" : x->qtype == 28 ? "AAAA" : "A",
                   x->qname);
    return;
  }
  if (x->client_code == 0) {
    if (x->truncated)
      return; /* the TCP retry tells */
    char srvs[48];
    if (x->srv_total > x->n_srv)
      snprintf(srvs, sizeof srvs, "%zu SRV (first %zu shown)", x->srv_total,
               x->n_srv);
    else
      snprintf(srvs, sizeof srvs, "%zu SRV", x->n_srv);
    if (c->stage < ST_DNS || !c->decided)
      outcome(c, ST_DNS, true, 0, NULL, x->query_frame, x->response_frame,
              "DNS lookup of %s answered with %s and %zu address records",
              x->qname, srvs, x->n_addr);
    return;
  }
  const char *why = !x->answered ? "no answer"
                    : x->rcode == 3 ? "NXDOMAIN (name does not exist)"
                    : x->rcode == 2 ? "SERVFAIL"
                    : x->rcode != 0 ? "an error rcode"
                                    : "no records of the type asked";
  outcome(c, ST_DNS, false, x->client_code, remedy_for(x->client_code),
          x->query_frame, x->response_frame,
          "DNS %s lookup of %s got %s; the client cannot find a KMS host "
          "this way",
          x->qtype == 33 ? "SRV" : x->qtype == 28 ? "AAAA" : "A", x->qname,
          why);
}

static void on_connect(kd_diag_t *d, const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_connect_t *x = &ev->u.connect;
  client_t *c = client_get(d, &ev->client);
  char srv[KMSDIAG_ENDPOINT_STRLEN];
  if (!c)
    return;
  c->steps |= KMSDIAG_CAP_STEP_CONNECT;
  kmsdiag_endpoint_to_str(&ev->server, true, srv, sizeof srv);
  switch (x->state) {
  case KMSDIAG_CONN_ESTABLISHED:
  case KMSDIAG_CONN_MIDSTREAM:
    if (c->stage <= ST_CONNECT)
      c->stage = ST_CONNECT;
    c->attempt_failed = false; /* a new attempt */
    c->cut_answer = false;
    return;
  case KMSDIAG_CONN_UNDECIDED: {
    const char *w = x->waiting_for ? x->waiting_for : "";
    const char *why = x->evicted ? "the flow was dropped from the full flow "
                                   "table"
                                 : "the capture ended";
    int st = c->stage > ST_CONNECT ? c->stage : ST_CONNECT;
    if (c->decided && !c->ok && !c->undetermined) {
      /* an earlier attempt failed for sure: a later one the capture does
       * not see end is no success, the failure stands */
      evidence_add(&c->n_ev, c->ev, c->evf, ev->frame);
      size_t n = strlen(c->message);
      snprintf(c->message + n, sizeof c->message - n,
               "; a later attempt to %s had not ended when %s", srv,
               x->evicted ? "its flow was dropped from the full flow table"
                          : "the capture ended");
      return;
    }
    if (strcmp(w, "syn_ack") == 0)
      undetermined(c, ST_CONNECT, x->syn_frame, ev->frame,
                   "%s %" PRIu64 " ms after the SYN to %s (%u sent), before "
                   "an answer; a SYN is called unanswered after 3 s",
                   why, x->wait_ms, srv, x->syn_count);
    else if (strcmp(w, "request") == 0)
      undetermined(c, st, x->syn_frame, ev->frame,
                   "connected to %s, but %s %" PRIu64 " ms after the last "
                   "frame of the connection, before the client sent its KMS "
                   "request",
                   srv, why, x->wait_ms);
    else
      undetermined(c, strcmp(w, "bind_ack") == 0 ? ST_BIND : ST_REQUEST,
                   x->syn_frame, ev->frame,
                   "%s %" PRIu64 " ms after the %s to %s, before its answer; "
                   "a bind or request is called unanswered after 30 s",
                   why, x->wait_ms,
                   strcmp(w, "bind_ack") == 0 ? "RPC bind" : "KMS request",
                   srv);
    return;
  }
  case KMSDIAG_CONN_UNDECODABLE: {
    int st = c->stage > ST_CONNECT ? c->stage : ST_CONNECT;
    if (c->cut_answer) { /* the host's whole answer decides on its own */
      c->cut_answer = false;
      evidence_add(&c->n_ev, c->ev, c->evf, x->first_cut_frame);
      return;
    }
    if (x->cut_reason && strcmp(x->cut_reason, "snaplen") == 0)
      undetermined(c, st, x->first_cut_frame, x->last_cut_frame,
                   "the exchange with %s could not be decoded: the capture "
                   "was cut by its snapshot length (%" PRIu32 " bytes per "
                   "frame; %" PRIu64 " frame%s cut, the first %" PRIu64
                   ", the last %" PRIu64 "); capture again with -s 0 "
                   "(tcpdump) or without a snapshot length",
                   srv, x->snaplen, x->cut_frames,
                   x->cut_frames == 1 ? "" : "s", x->first_cut_frame,
                   x->last_cut_frame);
    else
      undetermined(c, st, x->first_cut_frame, x->last_cut_frame,
                   "the exchange with %s could not be decoded: it was "
                   "carried in IPv6 fragments (%" PRIu64 " fragments, frames "
                   "%" PRIu64 " to %" PRIu64 "), which are not put together",
                   srv, x->cut_frames, x->first_cut_frame, x->last_cut_frame);
    return;
  }
  case KMSDIAG_CONN_REFUSED:
    outcome(c, ST_CONNECT, false, HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE),
            x->syn_frame, x->reply_frame,
            "connection to %s refused (SYN answered by RST): no KMS host "
            "listens there or a firewall rejects it",
            srv);
    return;
  case KMSDIAG_CONN_NO_ANSWER:
    outcome(c, ST_CONNECT, false, HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE),
            x->syn_frame, 0,
            "connection to %s never answered (%u SYN sent): host down, "
            "wrong address, or a firewall drops it",
            srv, x->syn_count);
    return;
  case KMSDIAG_CONN_RESET:
  case KMSDIAG_CONN_CLOSED_EARLY:
    if (c->attempt_failed) { /* the close follows a failure it explains */
      evidence_add(&c->n_ev, c->ev, c->evf, x->reply_frame);
      return;
    }
    if (x->wait_ms) /* the request was cut, the silence after it was not */
      outcome(c, c->stage >= ST_BIND ? ST_REQUEST : ST_CONNECT, false,
              HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE), x->reply_frame, 0,
              "connection to %s %s by the client after %" PRIu64 " s with "
              "no answer from the host (its request was cut by the "
              "snapshot length)",
              srv, x->state == KMSDIAG_CONN_RESET ? "reset" : "closed",
              x->wait_ms / 1000);
    else
      outcome(c, c->stage >= ST_BIND ? ST_REQUEST : ST_CONNECT, false,
              HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE), x->reply_frame, 0,
              "connection to %s %s by the %s before the exchange completed",
              srv, x->state == KMSDIAG_CONN_RESET ? "reset" : "closed",
              x->server_closed ? "host" : "client");
    return;
  }
}

static void on_bind(kd_diag_t *d, const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_bind_t *x = &ev->u.bind;
  client_t *c = client_get(d, &ev->client);
  if (!c)
    return;
  c->steps |= KMSDIAG_CAP_STEP_CONNECT | KMSDIAG_CAP_STEP_BIND;
  if (x->accepted) {
    if (c->stage <= ST_BIND)
      c->stage = ST_BIND;
    return;
  }
  if (!x->ack_frame)
    outcome(c, ST_BIND, false, HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE),
            x->bind_frame, 0, "RPC %s to the KMS interface was never answered",
            x->alter_context ? "alter_context" : "bind");
  else if (x->nak)
    outcome(c, ST_BIND, false, HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE),
            x->bind_frame, x->ack_frame,
            "RPC bind rejected (bind_nak, reason %u): the host does not "
            "offer the KMS interface",
            (unsigned)x->nak_reason);
  else
    outcome(c, ST_BIND, false, HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE),
            x->bind_frame, x->ack_frame,
            "RPC %s rejected every context offered: the host is not a KMS "
            "host or does not support the transfer syntax",
            x->alter_context ? "alter_context" : "bind");
}

static void on_fault(kd_diag_t *d, const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_fault_t *x = &ev->u.fault;
  client_t *c = client_get(d, &ev->client);
  if (!c)
    return;
  c->steps |= KMSDIAG_CAP_STEP_CONNECT | KMSDIAG_CAP_STEP_REQUEST |
              KMSDIAG_CAP_STEP_RESPONSE;
  const char *nm = kmsdiag_rpc_fault_name(x->status);
  outcome(c, ST_REQUEST, false, HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE),
          x->request_frame, ev->frame,
          "the host answered the request with an RPC fault 0x%08" PRIX32
          " (%s)",
          x->status, nm ? nm : "unknown status");
}

/* Add one machine (address, workstation) sharing a CMID. */
static void sharer_add(finding_t *f, const kmsdiag_endpoint_t *a,
                       const char *ws) {
  for (size_t i = 0; i < f->n_sharers; i++)
    if (memcmp(&f->sharers[i].addr, a, sizeof *a) == 0 &&
        strcmp(f->sharers[i].workstation, ws) == 0)
      return;
  if (f->n_sharers < MAX_SHARERS) {
    sharer_t *x = &f->sharers[f->n_sharers++];
    x->addr = *a;
    scopy(x->workstation, sizeof x->workstation, ws);
  } else {
    f->more_sharers++; /* may count a machine more than once */
  }
}

static void finding_evidence(finding_t *f, uint64_t frame) {
  for (size_t i = 0; i < f->n_ev; i++)
    if (f->ev[i] == frame && f->evf[i] == cur_file)
      return;
  if (f->n_ev < KMSDIAG_CAP_MAX_EVIDENCE)
    evidence_add(&f->n_ev, f->ev, f->evf, frame);
  else
    f->more_evidence++;
}

static void check_cmid(kmsdiag_capture_t *cap, kd_diag_t *d,
                       const kmsdiag_capture_event_t *ev,
                       const kmsdiag_kms_request_t *rq) {
  if (kmsdiag_guid_is_null(&rq->cmid))
    return;
  if (d->n_cmids + 1 > d->cap_cmids * 3 / 4 && d->cap_cmids < MAX_CMIDS) {
    size_t nc = d->cap_cmids * 2;
    cmid_ent_t *n = calloc(nc, sizeof *n);
    if (n) {
      for (size_t i = 0; i < d->cap_cmids; i++) {
        if (!d->cmids[i].used)
          continue;
        size_t k = hash_bytes(&d->cmids[i].cmid, 16) % nc;
        while (n[k].used)
          k = (k + 1) % nc;
        n[k] = d->cmids[i];
      }
      free(d->cmids);
      d->cmids = n;
      d->cap_cmids = nc;
    }
  }
  size_t capn = d->cap_cmids;
  uint32_t h = hash_bytes(&rq->cmid, sizeof rq->cmid) % capn;
  kmsdiag_endpoint_t a = ev->client;
  a.port = 0;
  char ws[KMSDIAG_KMS_WORKSTATION_UTF8_MAX];
  scopy(ws, sizeof ws, rq->workstation);
  for (size_t i = 0; i < capn; i++) {
    cmid_ent_t *e = &d->cmids[(h + i) % capn];
    if (!e->used) {
      if (d->n_cmids >= capn * 3 / 4) {
        d->cmids_unchecked++; /* table full: noted at the end */
        return;
      }
      e->used = true;
      e->finding = -1;
      e->cmid = rq->cmid;
      e->addr = a;
      scopy(e->workstation, sizeof e->workstation, ws);
      e->frame = ev->u.exchange.request_frame;
      e->file = cur_file;
      d->n_cmids++;
      return;
    }
    if (!kmsdiag_guid_equal(&e->cmid, &rq->cmid))
      continue;
    bool other = strcmp(ws, e->workstation) != 0 ||
                 memcmp(&a, &e->addr, sizeof a) != 0;
    if (e->finding < 0 && !other)
      return; /* the same machine again */
    finding_t *f;
    if (e->finding < 0) {
      if (e->reported)
        return; /* no room for its finding */
      e->reported = true;
      f = finding_new(d, "dupcmid", &rq->cmid, 16);
      if (!f)
        return;
      f->sharers = calloc(MAX_SHARERS, sizeof *f->sharers);
      if (!f->sharers) {
        d->n_findings--;
        cap->enomem = true;
        return;
      }
      e->finding = (int)(f - d->findings);
      f->kind = "duplicate_cmid";
      f->cmid = rq->cmid;
      f->client = a;
      f->server = ev->server;
      f->hresult = HR_NOT_ENOUGH_COUNT;
      f->frame = ev->u.exchange.request_frame;
      f->remedy = "generalize the image (sysprep /generalize) or run "
                  "slmgr /rearm on the clones, then reactivate";
      sharer_add(f, &e->addr, e->workstation);
      unsigned now_file = cur_file;
      cur_file = e->file;
      finding_evidence(f, e->frame);
      cur_file = now_file;
    } else {
      f = &d->findings[e->finding];
    }
    sharer_add(f, &a, ws);
    finding_evidence(f, ev->u.exchange.request_frame);
    return;
  }
}

/* The message of a duplicate_cmid finding, from who shares the CMID. */
static void cmid_message(finding_t *f) {
  char g[KMSDIAG_GUID_STRLEN], ad[KMSDIAG_ENDPOINT_STRLEN];
  guid_str(&f->cmid, g);
  size_t total = f->n_sharers + f->more_sharers;
  int o = snprintf(f->message, sizeof f->message,
                   "CMID %s is used by %zu%s machines:", g, total,
                   f->more_sharers ? " or more" : "");
  size_t named = f->n_sharers < NAMED_SHARERS ? f->n_sharers : NAMED_SHARERS;
  for (size_t i = 0; i < named && o > 0 && (size_t)o < sizeof f->message;
       i++) {
    kmsdiag_endpoint_to_str(&f->sharers[i].addr, false, ad, sizeof ad);
    o += snprintf(f->message + o, sizeof f->message - (size_t)o,
                  "%s %.60s (%s)", i ? "," : "",
                  f->sharers[i].workstation[0] ? f->sharers[i].workstation
                                               : "-",
                  ad);
  }
  if (o > 0 && (size_t)o < sizeof f->message && total > named)
    o += snprintf(f->message + o, sizeof f->message - (size_t)o,
                  " and %zu%s more", total - named,
                  f->more_sharers ? " or so" : "");
  if (o > 0 && (size_t)o < sizeof f->message && f->more_evidence)
    o += snprintf(f->message + o, sizeof f->message - (size_t)o,
                  " (%zu more request frames not listed as evidence)",
                  f->more_evidence);
  if (o > 0 && (size_t)o < sizeof f->message)
    snprintf(f->message + o, sizeof f->message - (size_t)o,
             "; cloned images count once, so the host count does not grow");
}

static void on_exchange(kmsdiag_capture_t *cap, kd_diag_t *d,
                        const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_exchange_t *x = &ev->u.exchange;
  client_t *c;
  kmsdiag_kms_request_t rq;
  kmsdiag_kms_response_t rs;
  bool have_rq = false, have_rs = false;
  char srv[KMSDIAG_ENDPOINT_STRLEN];
  kmsdiag_endpoint_to_str(&ev->server, true, srv, sizeof srv);
  if (x->request && x->request_len) {
    kmsdiag_status_t st =
        kmsdiag_kms_decode_request(x->request, x->request_len, &rq);
    have_rq = st == KMSDIAG_OK || st == KMSDIAG_EVERIFY;
  }
  c = client_for_ws(d, &ev->client, have_rq ? rq.workstation : NULL);
  if (have_rq && c)
    scopy(c->workstation, sizeof c->workstation, rq.workstation);
  if (x->has_response && x->response && x->response_len) {
    kmsdiag_status_t st = kmsdiag_kms_decode_response(
        x->response, x->response_len, have_rq ? &rq : NULL, &rs);
    have_rs = st == KMSDIAG_OK || st == KMSDIAG_EVERIFY;
  }
  if (have_rq) {
    check_cmid(cap, d, ev, &rq);
    /* clock skew: request time against the capture time */
    int64_t t = kmsdiag_filetime_to_unix(rq.client_time, NULL);
    int64_t skew = t - x->request_sec;
    int64_t mag = skew < 0 ? -skew : skew;
    if (mag > (int64_t)cap->lim.max_skew_sec && c && !c->skew_reported) {
      kmsdiag_endpoint_t a = ev->client;
      a.port = 0;
      finding_t *f = finding_new(d, "skew", &a, sizeof a);
      if (f) {
        c->skew_reported = true;
        f->kind = "clock_skew";
        f->client = a;
        f->server = ev->server;
        f->hresult = HR_INVALID_TIMESTAMP;
        f->frame = x->request_frame;
        f->remedy = remedy_for(HR_INVALID_TIMESTAMP);
        snprintf(f->message, sizeof f->message,
                 "%s's clock is %" PRId64 " h %02" PRId64
                 " min %s the capture's (more than %u h): a KMS host "
                 "refuses such requests with 0xC004F06C",
                 rq.workstation, mag / 3600, (mag % 3600) / 60,
                 skew > 0 ? "ahead of" : "behind",
                 cap->lim.max_skew_sec / 3600);
        evidence_add(&f->n_ev, f->ev, f->evf, x->request_frame);
      }
    }
  }
  if (!c)
    return;
  c->steps |= KMSDIAG_CAP_STEP_CONNECT;
  if (x->request_frame)
    c->steps |= KMSDIAG_CAP_STEP_REQUEST;
  if (x->has_response)
    c->steps |= KMSDIAG_CAP_STEP_RESPONSE;
  if (x->stub_error && !x->has_response) {
    outcome(c, ST_REQUEST, false, HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE),
            x->request_frame, 0, "request could not be decoded (%s)",
            x->stub_error);
    return;
  }
  if (!x->has_response) {
    if (c->attempt_failed) { /* e.g. the host reset the connection */
      evidence_add(&c->n_ev, c->ev, c->evf, x->request_frame);
      return;
    }
    outcome(c, ST_REQUEST, false, HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE),
            x->request_frame, 0,
            "request to %s was never answered", srv);
    return;
  }
  if (x->hresult != 0) {
    const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(x->hresult);
    outcome(c, ST_RESPONSE, false, x->hresult, remedy_for(x->hresult),
            x->request_frame, x->response_frame,
            "host %s refused the request with 0x%08" PRIX32 " (%s)%s%s", srv,
            x->hresult, e ? (e->name ? e->name : e->message) : "unknown code",
            !x->request_frame && x->stub_error ? "; " : "",
            !x->request_frame && x->stub_error ? x->stub_error : "");
    c->cut_answer = !x->request_frame && x->stub_error;
    return;
  }
  if (!have_rs && !x->request_frame) {
    /* an answer whose request the capture lacks: what it says of the
     * request cannot be checked; no code is claimed */
    undetermined(c, ST_RESPONSE, x->response_frame, 0,
                 "the response of %s could not be read%s%s", srv,
                 x->stub_error ? ": " : "", x->stub_error ? x->stub_error : "");
    return;
  }
  if (!have_rs) {
    outcome(c, ST_RESPONSE, false, HR_UNAVAILABLE, remedy_for(HR_UNAVAILABLE),
            x->request_frame, x->response_frame,
            "the response of %s could not be decoded%s%s", srv,
            x->stub_error ? ": " : "", x->stub_error ? x->stub_error : "");
    return;
  }
  uint32_t need = have_rq ? rq.n_policy : 0;
  const char *pname = NULL;
  const kmsdiag_product_t *prod = have_rq ? kmsdiag_product_by_sku(&rq.sku_id)
                                          : NULL;
  if (prod)
    pname = prod->name;
  if (have_rq) {
    const kmsdiag_kms_group_t *g = kmsdiag_kms_group_by_id(&rq.kms_id);
    if (need == 0 && g)
      need = g->n_policy;
  }
  /* can this host (by its ePID) activate the product at all? */
  if (prod) {
    kmsdiag_epid_t ep;
    kmsdiag_activation_verdict_t v;
    if (kmsdiag_epid_parse_at(rs.epid, strlen(rs.epid), x->response_sec,
                              &ep) == KMSDIAG_OK &&
        ep.syntax_ok &&
        kmsdiag_epid_can_activate(&ep, prod, &v) == KMSDIAG_OK &&
        v.answer == KMSDIAG_ACTIVATE_NO) {
      uint8_t key[32] = {0};
      memcpy(key, &ev->server.addr, 16);
      memcpy(key + 16, &rq.sku_id, 16);
      finding_t *f = finding_new(d, "epid", key, sizeof key);
      if (f) {
        f->kind = "epid_cannot_activate";
        f->client = ev->client;
        f->client.port = 0;
        f->server = ev->server;
        f->hresult = HR_ID_MISMATCH;
        f->frame = x->response_frame;
        f->remedy = remedy_for(HR_ID_MISMATCH);
        snprintf(f->message, sizeof f->message,
                 "host %s (ePID %s) answered for %s, but its host key cannot "
                 "activate that product: %.600s",
                 srv, rs.epid, pname, v.reason);
        evidence_add(&f->n_ev, f->ev, f->evf, x->response_frame);
      }
    }
  }
  if (need && rs.count < need) {
    uint8_t key[32] = {0};
    memcpy(key, &ev->server.addr, 16);
    memcpy(key + 16, &rq.kms_id, 16);
    finding_t *f = finding_new(d, "lowcount", key, sizeof key);
    if (f) {
      f->kind = "low_count";
      f->client = ev->client;
      f->client.port = 0;
      f->server = ev->server;
      f->hresult = HR_NOT_ENOUGH_COUNT;
      f->frame = x->response_frame;
      f->remedy = remedy_for(HR_NOT_ENOUGH_COUNT);
      snprintf(f->message, sizeof f->message,
               "host %s reports count %" PRIu32 " for %s, below the %" PRIu32
               " it needs to activate it",
               srv, rs.count, pname ? pname : "the product", need);
      evidence_add(&f->n_ev, f->ev, f->evf, x->response_frame);
    }
    outcome(c, ST_RESPONSE, false, HR_NOT_ENOUGH_COUNT,
            remedy_for(HR_NOT_ENOUGH_COUNT), x->request_frame,
            x->response_frame,
            "host %s answered, but its count %" PRIu32
            " is below the %" PRIu32 " %s needs",
            srv, rs.count, need, pname ? pname : "the product");
    return;
  }
  outcome(c, ST_RESPONSE, true, 0, NULL, x->request_frame, x->response_frame,
          "activated by %s%s%s: count %" PRIu32 ", ePID %s, renewal every "
          "%" PRIu32 " min%s",
          srv, pname ? " for " : "", pname ? pname : "", rs.count, rs.epid,
          rs.renewal_interval,
          rs.verified ? "" : " (response did NOT verify)");
}

void kd_diag_event(kmsdiag_capture_t *cap, const kmsdiag_capture_event_t *ev) {
  kd_diag_t *d = diag_get(cap);
  if (!d || ev->client.family == 0)
    return;
  cur_file = ev->file_index;
  switch (ev->type) {
  case KMSDIAG_CAPEV_DNS: on_dns(d, ev); break;
  case KMSDIAG_CAPEV_CONNECT: on_connect(d, ev); break;
  case KMSDIAG_CAPEV_RPC_BIND: on_bind(d, ev); break;
  case KMSDIAG_CAPEV_RPC_FAULT: on_fault(d, ev); break;
  case KMSDIAG_CAPEV_EXCHANGE: on_exchange(cap, d, ev); break;
  default: break;
  }
}

static int cmp_order(const void *a, const void *b) {
  const client_t *x = *(const client_t *const *)a;
  const client_t *y = *(const client_t *const *)b;
  return x->order < y->order ? -1 : x->order > y->order;
}

void kd_diag_finish(kmsdiag_capture_t *cap) {
  kd_diag_t *d = cap->diag;
  if (!d)
    return; /* no event at all */
  if (d->clients_full)
    kd_cap_note(cap, 0, 0,
                "more than %d clients: the rest are not diagnosed",
                MAX_CLIENTS * 3 / 4);
  if (d->cmids_unchecked)
    kd_cap_note(cap, 0, 0,
                "more than %d distinct CMIDs: %" PRIu64 " requests with "
                "other CMIDs were not checked for duplicates",
                MAX_CMIDS * 3 / 4, d->cmids_unchecked);
  if (d->findings_dropped)
    kd_cap_note(cap, 0, 0,
                "more than %d findings: the rest are not reported (%" PRIu64
                " dropped, counting repeats)",
                MAX_FINDINGS, d->findings_dropped);
  client_t **list = malloc((d->n_clients ? d->n_clients : 1) * sizeof *list);
  if (!list) {
    cap->enomem = true;
    return;
  }
  size_t n = 0;
  for (size_t i = 0; i < d->cap_clients; i++)
    if (d->clients[i].used)
      list[n++] = &d->clients[i];
  qsort(list, n, sizeof *list, cmp_order);
  kmsdiag_capture_event_t ev;
  for (size_t i = 0; i < n; i++) {
    client_t *c = list[i];
    if (!c->decided && c->stage == ST_NONE)
      continue;
    memset(&ev, 0, sizeof ev);
    ev.type = KMSDIAG_CAPEV_DIAGNOSIS;
    ev.client = c->addr;
    ev.frame = c->n_ev ? c->ev[c->n_ev - 1] : 0;
    ev.file_index = c->n_ev ? c->evf[c->n_ev - 1] : 0;
    kmsdiag_cap_diagnosis_t *g = &ev.u.diagnosis;
    g->kind = "client";
    g->workstation = c->workstation[0] ? c->workstation : NULL;
    g->stage = stage_names[c->stage];
    g->steps = c->steps;
    g->undetermined = c->decided && c->undetermined;
    if (!c->decided) {
      g->ok = false;
      g->hresult = HR_UNAVAILABLE;
      g->message = "connected, but no KMS request was seen";
      g->remedy = remedy_for(HR_UNAVAILABLE);
    } else {
      g->ok = c->ok;
      g->hresult = c->hresult;
      g->message = c->message;
      g->remedy = c->remedy;
      if (c->ok && c->stage == ST_DNS) {
        size_t l = strlen(c->message);
        snprintf(c->message + l, sizeof c->message - l,
                 "; no connection to a KMS host was seen");
      }
    }
    if (!g->ok && !g->undetermined)
      cap->st.failures++;
    g->n_evidence = c->n_ev;
    memcpy(g->evidence, c->ev, sizeof g->evidence);
    memcpy(g->evidence_file, c->evf, sizeof g->evidence_file);
    kd_cap_emit(cap, &ev);
  }
  free(list);
  for (size_t i = 0; i < d->n_findings; i++) {
    finding_t *f = &d->findings[i];
    if (f->sharers)
      cmid_message(f);
    memset(&ev, 0, sizeof ev);
    ev.type = KMSDIAG_CAPEV_DIAGNOSIS;
    ev.client = f->client;
    ev.server = f->server;
    ev.frame = f->frame;
    ev.file_index = f->file;
    kmsdiag_cap_diagnosis_t *g = &ev.u.diagnosis;
    g->kind = f->kind;
    g->ok = false;
    g->hresult = f->hresult;
    g->stage = "response";
    g->message = f->message;
    g->remedy = f->remedy;
    g->n_evidence = f->n_ev;
    memcpy(g->evidence, f->ev, sizeof g->evidence);
    memcpy(g->evidence_file, f->evf, sizeof g->evidence_file);
    cap->st.failures++;
    kd_cap_emit(cap, &ev);
  }
}
