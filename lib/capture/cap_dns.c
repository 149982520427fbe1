/* cap_dns.c: DNS messages seen in a capture (UDP, and TCP after
 * reassembly). Only the lookups a KMS client makes are reported: SRV
 * queries for _vlmcs._tcp.<domain>, and A/AAAA queries for the targets those
 * SRV answers named. Queries wait in a fixed table for their response;
 * unanswered ones are reported after a timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture/cap_flow.h"
#include "capture/cap_int.h"
#include "internal/reader.h"

#define DNS_TIMEOUT_SEC 5
#define MAX_RR 64
#define MAX_PTR_HOPS 32

#define HR_NAME_ERROR 0x8007232Bu
#define HR_NO_RECORDS 0x8007251Du
#define HR_SERVER_FAILURE 0x8007232Au

/* Read a possibly compressed name starting at the reader's offset into
 * out (dotted, raw label bytes, no trailing dot; root is "."). The reader
 * advances past the name as stored at that place. False when damaged. */
static bool read_name(kd_reader_t *r, char *out, size_t outsz) {
  size_t o = 0;
  size_t end_after = 0; /* where the reader continues after a pointer */
  bool jumped = false;
  kd_reader_t w = *r;
  for (int hops = 0, labels = 0; labels < 128; labels++) {
    uint8_t len = kd_rd_u8(&w);
    if (!kd_rd_ok(&w))
      return false;
    if ((len & 0xC0) == 0xC0) {
      uint8_t lo = kd_rd_u8(&w);
      if (!kd_rd_ok(&w) || ++hops > MAX_PTR_HOPS)
        return false;
      size_t target = (size_t)(len & 0x3F) << 8 | lo;
      if (!jumped)
        end_after = kd_rd_offset(&w);
      jumped = true;
      kd_rd_seek(&w, target);
      if (!kd_rd_ok(&w))
        return false;
      continue;
    }
    if (len & 0xC0)
      return false; /* extended label types */
    if (len == 0)
      break;
    const uint8_t *lab = kd_rd_ptr(&w, len);
    if (!lab)
      return false;
    if (o + len + 2 > outsz || o + len + 1 > 254)
      return false;
    if (o)
      out[o++] = '.';
    memcpy(out + o, lab, len);
    o += len;
  }
  if (o == 0)
    out[o++] = '.';
  out[o] = '\0';
  kd_rd_seek(r, jumped ? end_after : kd_rd_offset(&w));
  return kd_rd_ok(r);
}

static bool is_vlmcs(const char *name) {
  return strncasecmp(name, "_vlmcs._tcp.", 12) == 0 ||
         strcasecmp(name, "_vlmcs._tcp") == 0;
}

static kd_dns_target_t *target_find(const kmsdiag_capture_t *cap,
                                    const char *name) {
  if (!cap->dns_targets)
    return NULL;
  for (size_t i = 0; i < cap->n_dns_targets; i++)
    if (strcasecmp(cap->dns_targets[i].name, name) == 0)
      return &cap->dns_targets[i];
  return NULL;
}

static bool is_target(const kmsdiag_capture_t *cap, const char *name) {
  return target_find(cap, name) != NULL;
}

/* Follow an SRV target: its A/AAAA lookups are reported, and its
 * addresses (from the same answer's additional section or a later
 * answer) become KMS endpoints on the SRV record's port. */
static void add_target(kmsdiag_capture_t *cap, const char *name,
                       uint16_t port) {
  kd_dns_target_t *t = target_find(cap, name);
  if (!t) {
    if (!cap->dns_targets) {
      cap->dns_targets = calloc(KD_DNS_TARGETS, sizeof *cap->dns_targets);
      if (!cap->dns_targets)
        return;
    }
    size_t i = cap->n_dns_targets < KD_DNS_TARGETS
                   ? cap->n_dns_targets++
                   : (size_t)(cap->st.dns_messages % KD_DNS_TARGETS);
    t = &cap->dns_targets[i];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
  }
  for (unsigned i = 0; i < t->nports; i++)
    if (t->ports[i] == port)
      return;
  if (t->nports < KD_TARGET_PORTS)
    t->ports[t->nports++] = port;
  else
    t->ports[port % KD_TARGET_PORTS] = port;
}

static void learn_target_addr(kmsdiag_capture_t *cap, const char *name,
                              uint8_t family, const uint8_t *addr) {
  const kd_dns_target_t *t = target_find(cap, name);
  if (!t)
    return;
  for (unsigned i = 0; i < t->nports; i++)
    kd_cap_learn_ep(cap, family, addr, t->ports[i]);
}

static void emit(kmsdiag_capture_t *cap, kd_dns_q_t *q, uint64_t frame,
                 int64_t sec, uint32_t nsec) {
  kmsdiag_capture_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = KMSDIAG_CAPEV_DNS;
  ev.frame = frame;
  ev.ts_sec = sec;
  ev.ts_nsec = nsec;
  ev.client = q->client;
  ev.server = q->server;
  ev.u.dns = q->d;
  kmsdiag_cap_dns_t *d = &ev.u.dns;
  if (!d->answered)
    d->rcode = -1;
  if (!d->answered && d->capture_ended)
    d->client_code = 0; /* the capture cannot tell */
  else if (!d->answered)
    d->client_code = HR_SERVER_FAILURE;
  else if (d->truncated)
    d->client_code = 0; /* retried over TCP: that answer decides */
  else if (d->rcode == 3)
    d->client_code = HR_NAME_ERROR;
  else if (d->rcode != 0)
    d->client_code = HR_SERVER_FAILURE;
  else if (d->is_vlmcs && d->n_srv == 0)
    d->client_code = HR_NO_RECORDS;
  else if (!d->is_vlmcs && d->n_addr == 0)
    d->client_code = HR_NO_RECORDS;
  else
    d->client_code = 0;
  if (d->client_code)
    cap->st.failures++;
  unsigned saved = cap->file_index;
  cap->file_index = q->file_index; /* the query's file */
  kd_cap_emit(cap, &ev);
  cap->file_index = saved;
}

static uint32_t slot_of(const kmsdiag_endpoint_t *client, uint16_t id) {
  uint32_t h = id * 2654435761u ^ client->port * 40503u;
  for (int i = 0; i < 16; i++)
    h = (h ^ client->addr[i]) * 16777619u;
  return h % KD_DNS_PENDING;
}

/* The answer section (SRV and address records kept in d), the authority
 * section skipped, and the additional section: addresses of SRV targets.
 * qname is the question; an address answer to a followed target's lookup
 * makes its addresses KMS endpoints. */
static void parse_answers(kmsdiag_capture_t *cap, kd_reader_t *r,
                          uint16_t ancount, uint16_t nscount,
                          uint16_t arcount, const char *qname,
                          kmsdiag_cap_dns_t *d, bool learn) {
  char name[KMSDIAG_CAP_NAME_MAX];
  unsigned total = (unsigned)ancount + nscount + arcount;
  for (unsigned i = 0; i < total && i < 3 * MAX_RR; i++) {
    /* authority records are read only to get past them */
    bool answer = i < ancount, additional = i >= (unsigned)ancount + nscount;
    if (!read_name(r, name, sizeof name))
      return;
    uint16_t type = kd_rd_be16(r);
    (void)kd_rd_be16(r);
    (void)kd_rd_be32(r);
    uint16_t rdlen = kd_rd_be16(r);
    size_t rdstart = kd_rd_offset(r);
    if (!kd_rd_ok(r) || rdlen > kd_rd_remaining(r))
      return;
    bool is_addr = (type == 1 && rdlen == 4) || (type == 28 && rdlen == 16);
    if (answer && type == 33 && rdlen >= 7) {
      kmsdiag_cap_srv_t s;
      memset(&s, 0, sizeof s);
      s.priority = kd_rd_be16(r);
      s.weight = kd_rd_be16(r);
      s.port = kd_rd_be16(r);
      if (d->is_vlmcs && read_name(r, s.target, sizeof s.target) &&
          kd_rd_ok(r)) {
        d->srv_total++;
        if (d->n_srv < KMSDIAG_CAP_MAX_SRV)
          d->srv[d->n_srv++] = s;
        if (learn)
          add_target(cap, s.target, s.port);
      }
    } else if (answer && is_addr) {
      uint8_t a[16] = {0};
      kd_rd_copy(r, a, rdlen);
      uint8_t fam = type == 1 ? 4 : 6;
      if (d->n_addr < KMSDIAG_CAP_MAX_ADDR) {
        kmsdiag_endpoint_t *e = &d->addr[d->n_addr++];
        memset(e, 0, sizeof *e);
        e->family = fam;
        memcpy(e->addr, a, 16);
      }
      if (learn && !d->is_vlmcs && d->rcode == 0)
        learn_target_addr(cap, qname, fam, a);
    } else if (learn && additional && is_addr && d->is_vlmcs &&
               d->rcode == 0) {
      uint8_t a[16] = {0};
      kd_rd_copy(r, a, rdlen);
      learn_target_addr(cap, name, type == 1 ? 4 : 6, a);
    }
    kd_rd_seek(r, rdstart + rdlen);
    if (!kd_rd_ok(r))
      return;
  }
}

void kd_dns_message(kmsdiag_capture_t *cap, const kd_frame_ctx_t *fc,
                    const kmsdiag_endpoint_t *src,
                    const kmsdiag_endpoint_t *dst, bool tcp,
                    const uint8_t *msg, size_t len) {
  kd_reader_t r;
  kd_rd_init(&r, msg, len);
  uint16_t id = kd_rd_be16(&r);
  uint16_t flags = kd_rd_be16(&r);
  uint16_t qd = kd_rd_be16(&r);
  uint16_t an = kd_rd_be16(&r);
  uint16_t ns = kd_rd_be16(&r);
  uint16_t ar = kd_rd_be16(&r);
  if (!kd_rd_ok(&r) || qd == 0)
    return;
  cap->st.dns_messages++;
  char qname[KMSDIAG_CAP_NAME_MAX];
  if (!read_name(&r, qname, sizeof qname))
    return;
  uint16_t qtype = kd_rd_be16(&r);
  (void)kd_rd_be16(&r);
  if (!kd_rd_ok(&r))
    return;
  bool vl = is_vlmcs(qname) && qtype == 33;
  bool tg = !vl && (qtype == 1 || qtype == 28) && is_target(cap, qname);
  if (!vl && !tg)
    return;
  /* skip the rest of a multi-question message */
  for (unsigned i = 1; i < qd && i < 8; i++) {
    char tmp[KMSDIAG_CAP_NAME_MAX];
    if (!read_name(&r, tmp, sizeof tmp))
      return;
    kd_rd_skip(&r, 4);
  }
  bool response = flags & 0x8000;
  if (!cap->dns_q) {
    cap->dns_q = calloc(KD_DNS_PENDING, sizeof *cap->dns_q);
    if (!cap->dns_q)
      return;
  }
  const kmsdiag_endpoint_t *client = response ? dst : src;
  uint32_t slot = slot_of(client, id);
  kd_dns_q_t *q = &cap->dns_q[slot];
  if (!response) {
    if (q->used && q->d.id == id &&
        memcmp(&q->client, client, sizeof *client) == 0 &&
        strcmp(q->d.qname, qname) == 0)
      return; /* retransmission */
    if (q->used)
      emit(cap, q, q->d.query_frame, q->sec, q->nsec);
    memset(q, 0, sizeof *q);
    q->used = true;
    q->client = *src;
    q->server = *dst;
    q->sec = fc->sec;
    q->mono = cap->mono_us;
    q->nsec = fc->nsec;
    q->file_index = cap->file_index;
    q->d.tcp = tcp;
    q->d.id = id;
    q->d.qtype = qtype;
    snprintf(q->d.qname, sizeof q->d.qname, "%s", qname);
    q->d.is_vlmcs = vl;
    q->d.query_frame = fc->frame;
    return;
  }
  kd_dns_q_t tmpq;
  bool matched = q->used && q->d.id == id &&
                 memcmp(&q->client, client, sizeof *client) == 0 &&
                 memcmp(&q->server, src, sizeof *src) == 0 &&
                 q->d.qtype == qtype && strcasecmp(q->d.qname, qname) == 0;
  if (!matched) { /* response whose query was not captured */
    memset(&tmpq, 0, sizeof tmpq);
    tmpq.client = *dst;
    tmpq.server = *src;
    tmpq.file_index = cap->file_index;
    tmpq.d.tcp = tcp;
    tmpq.d.id = id;
    tmpq.d.qtype = qtype;
    snprintf(tmpq.d.qname, sizeof tmpq.d.qname, "%s", qname);
    tmpq.d.is_vlmcs = vl;
    q = &tmpq;
  }
  q->d.answered = true;
  q->d.rcode = flags & 0x0F;
  q->d.ancount = an;
  q->d.response_frame = fc->frame;
  if ((flags & 0x0200) && !tcp)
    kd_cap_note(cap, fc->frame, 0,
                "DNS answer truncated (TC bit): the client retries over TCP");
  /* only an answer to a query seen, from the server asked, teaches KMS
   * endpoints: an unsolicited one could make any flow look like KMS */
  parse_answers(cap, &r, an, ns, ar, qname, &q->d, matched);
  if ((flags & 0x0200) && !tcp)
    q->d.truncated = true;
  emit(cap, q, fc->frame, fc->sec, fc->nsec);
  q->used = false;
}

void kd_dns_flush(kmsdiag_capture_t *cap, bool all, int64_t now) {
  if (!cap->dns_q)
    return;
  for (size_t i = 0; i < KD_DNS_PENDING; i++) {
    kd_dns_q_t *q = &cap->dns_q[i];
    if (!q->used)
      continue;
    if (all || now - q->sec > DNS_TIMEOUT_SEC) {
      if (all && cap->finishing) {
        uint64_t ms = (cap->mono_us - q->mono) / 1000;
        if (ms < DNS_TIMEOUT_SEC * 1000) {
          q->d.capture_ended = true;
          q->d.wait_ms = ms;
        }
      }
      emit(cap, q, q->d.query_frame, q->sec, q->nsec);
      q->used = false;
    }
  }
}

void kd_dns_free(kmsdiag_capture_t *cap) { (void)cap; }
