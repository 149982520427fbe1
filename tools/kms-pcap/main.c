/* kms-pcap: what happened in a capture of KMS activation traffic.
 *
 *   kms-pcap [--json] [--summary] [--port N]... [--filter BPF]
 *            [-i IFACE [-c N] [-w FILE] [-Z USER]] [FILE...]
 *
 * Reads pcap/pcapng files (or a live interface), finds KMS by port and by
 * its RPC bind, and prints a timeline per client and a diagnosis, or JSON
 * Lines, or a summary table. Exit: 0 no failure seen, 1 failures seen,
 * 2 input unreadable or usage error. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kmsdiag/kmsdiag.h>
#include <kmsdiag/kmsdiag_capture.h>
#include <kmsdiag/kmsdiag_epid.h>
#include <kmsdiag/kmsdiag_errors.h>
#include <kmsdiag/kmsdiag_kms.h>
#include <kmsdiag/kmsdiag_products.h>
#include <kmsdiag/kmsdiag_rpc.h>

#include "tool.h"

#define MAX_PORTS 64
#define MAX_LINES 100000
#define MAX_HOSTS 1024
#define MAX_CLIENTS 4096

static void usage(FILE *f) {
  fprintf(f,
"Usage: kms-pcap [OPTION]... [FILE]...\n"
"Decode KMS activation traffic in packet captures and diagnose each client.\n"
"\n"
"Input:\n"
"  FILE...            pcap or pcapng files, read in order ('-' = standard input)\n"
"  -i, --interface IFACE  capture live on IFACE instead of reading files\n"
"  -c, --count N      stop after N frames\n"
"  -w, --write FILE   also save the frames read to FILE (pcap)\n"
"  -Z, --user USER    drop root privileges to USER once the capture is open\n"
"      --filter BPF   only frames matching this BPF expression\n"
"  -p, --port N       treat TCP port N as KMS too (repeatable; 1688 always is,\n"
"                     and any port where the KMS interface is bound)\n"
"\n"
"Output:\n"
"      --json         JSON Lines: one object per event, with a \"type\" key\n"
"                     (dns, connect, rpc_bind, exchange, rpc_fault, note,\n"
"                     diagnosis; with --summary: host, client)\n"
"      --summary      one table of KMS hosts and clients instead of timelines\n"
"  -q, --quiet        no progress display\n"
"  -v, --verbose      library messages on stderr\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show the version and exit\n"
"\n"
"Exit status: 0 input read and no failure seen (an undetermined client, one\n"
"the capture cannot show, is not a failure), 1 failures seen, 2 input cannot\n"
"be read, or a usage error.\n");
}

/* ---- state ------------------------------------------------------------------- */

typedef struct line {
  char client[KMSDIAG_ENDPOINT_STRLEN];
  unsigned file;
  uint64_t frame;
  unsigned seq;
  char *text;
} line_t;

typedef struct host_sum {
  char addr[KMSDIAG_ENDPOINT_STRLEN];
  uint64_t exchanges, failures;
  uint32_t count_min, count_max;
  bool have_count;
  unsigned versions; /* bit per major 4..6 */
  char products[160];
  char epid[64];
} host_sum_t;

typedef struct client_sum {
  char addr[KMSDIAG_ENDPOINT_STRLEN];
  char workstation[64];
  uint64_t exchanges, failures;
  unsigned versions;
  char products[160];
  char result[48];
} client_sum_t;

static struct {
  bool json, summary, progress;
  unsigned nfiles;
  kmsdiag_json_t *j;
  line_t *lines;
  size_t nlines, caplines;
  bool lines_dropped;
  unsigned seq;
  char **notes;
  size_t nnotes;
  char **diags;
  size_t ndiags;
  host_sum_t *hosts;
  size_t nhosts;
  client_sum_t *clients;
  size_t nclients;
  uint64_t hosts_dropped, clients_dropped; /* past the table caps */
  bool failures;
  bool unreadable; /* an input could not be read (or not all of it) */
  const char *cur_file;
} G;

static volatile sig_atomic_t g_stop;
static kmsdiag_pcap_source_t *g_src;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
  if (g_src)
    kmsdiag_pcap_break(g_src);
}

/* ---- text helpers ---------------------------------------------------------------- */

/* A growable string for one line of text; untrusted parts are escaped. */
typedef struct sb {
  char *p;
  size_t n, cap;
} sb_t;

static void sb_addn(sb_t *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 256;
    while (nc < b->n + n + 1)
      nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np)
      return;
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void sb_printf(sb_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *b, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  sb_addn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Untrusted text, escaped for a terminal. */
static void sb_esc(sb_t *b, const char *s) {
  if (!s) {
    sb_addn(b, "-", 1);
    return;
  }
  char *e = kmsdiag_text_escape_dup(s, strlen(s));
  if (e) {
    sb_addn(b, e, strlen(e));
    free(e);
  }
}

static void fmt_time(int64_t sec, uint32_t nsec, char *buf, size_t sz) {
  time_t t = (time_t)sec;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    snprintf(buf, sz, "?");
    return;
  }
  size_t n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sz - n, ".%06uZ", (unsigned)(nsec / 1000));
}

static void add_line_at(const kmsdiag_capture_event_t *ev, uint64_t frame,
                        sb_t *b) {
  if (G.nlines >= MAX_LINES) {
    G.lines_dropped = true;
    free(b->p);
    return;
  }
  if (G.nlines == G.caplines) {
    size_t nc = G.caplines ? G.caplines * 2 : 256;
    line_t *nl = realloc(G.lines, nc * sizeof *nl);
    if (!nl) {
      free(b->p);
      return;
    }
    G.lines = nl;
    G.caplines = nc;
  }
  line_t *l = &G.lines[G.nlines++];
  kmsdiag_endpoint_to_str(&ev->client, false, l->client, sizeof l->client);
  l->file = ev->file_index;
  l->frame = frame;
  l->seq = G.seq++;
  l->text = b->p ? b->p : strdup("");
}

static void add_line(const kmsdiag_capture_event_t *ev, sb_t *b) {
  add_line_at(ev, ev->frame, b);
}

static void push_str(char ***arr, size_t *n, char *s) {
  if (!s || *n >= MAX_LINES) {
    free(s);
    return;
  }
  char **na = realloc(*arr, (*n + 1) * sizeof **arr);
  if (!na) {
    free(s);
    return;
  }
  *arr = na;
  (*arr)[(*n)++] = s;
}

static const char *frame_ref(unsigned file, uint64_t frame, char *buf,
                             size_t sz) {
  if (G.nfiles > 1)
    snprintf(buf, sz, "%u:%" PRIu64, file + 1, frame);
  else
    snprintf(buf, sz, "%" PRIu64, frame);
  return buf;
}

static const char *hr_name(uint32_t hr) {
  const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(hr);
  if (!e)
    return NULL;
  return e->name ? e->name : e->message;
}

static const char *qtype_name(uint16_t t) {
  switch (t) {
  case 1: return "A";
  case 28: return "AAAA";
  case 33: return "SRV";
  default: return "other";
  }
}

static const char *rcode_name(int rc) {
  static const char *const n[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                  "NOTIMP",  "REFUSED"};
  if (rc < 0)
    return "no answer";
  if (rc < 6)
    return n[rc];
  return "other";
}

static const char *syntax_name(const kmsdiag_guid_t *u, uint32_t ver) {
  kmsdiag_rpc_syntax_t s = {.uuid = *u,
                            .ver_major = (uint16_t)(ver & 0xffff),
                            .ver_minor = (uint16_t)(ver >> 16)};
  return kmsdiag_rpc_syntax_kind_name(kmsdiag_rpc_syntax_classify(&s, NULL));
}

/* ---- summaries --------------------------------------------------------------------- */

static void add_name(char *list, size_t sz, const char *name) {
  if (!name || strstr(list, name))
    return;
  size_t l = strlen(list);
  if (l + strlen(name) + 3 >= sz)
    return;
  snprintf(list + l, sz - l, "%s%s", l ? "; " : "", name);
}

static host_sum_t *host_get(const kmsdiag_endpoint_t *e) {
  char a[KMSDIAG_ENDPOINT_STRLEN];
  kmsdiag_endpoint_to_str(e, true, a, sizeof a);
  for (size_t i = 0; i < G.nhosts; i++)
    if (strcmp(G.hosts[i].addr, a) == 0)
      return &G.hosts[i];
  if (G.nhosts >= MAX_HOSTS) {
    G.hosts_dropped++;
    return NULL;
  }
  host_sum_t *h = &G.hosts[G.nhosts++];
  memset(h, 0, sizeof *h);
  snprintf(h->addr, sizeof h->addr, "%s", a);
  return h;
}

static client_sum_t *client_get(const kmsdiag_endpoint_t *e) {
  char a[KMSDIAG_ENDPOINT_STRLEN];
  kmsdiag_endpoint_to_str(e, false, a, sizeof a);
  for (size_t i = 0; i < G.nclients; i++)
    if (strcmp(G.clients[i].addr, a) == 0)
      return &G.clients[i];
  if (G.nclients >= MAX_CLIENTS) {
    G.clients_dropped++;
    return NULL;
  }
  client_sum_t *c = &G.clients[G.nclients++];
  memset(c, 0, sizeof *c);
  snprintf(c->addr, sizeof c->addr, "%s", a);
  return c;
}

/* ---- events ----------------------------------------------------------------------------- */

static void json_common(const kmsdiag_capture_event_t *ev) {
  char t[64], a[KMSDIAG_ENDPOINT_STRLEN];
  kmsdiag_json_t *j = G.j;
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", kmsdiag_capture_event_type_name(ev->type));
  if (G.nfiles > 1)
    kmsdiag_json_uint(j, "file", ev->file_index + 1);
  if (ev->frame)
    kmsdiag_json_uint(j, "frame", ev->frame);
  else
    kmsdiag_json_null(j, "frame");
  if (ev->ts_sec || ev->ts_nsec) {
    fmt_time(ev->ts_sec, ev->ts_nsec, t, sizeof t);
    kmsdiag_json_str(j, "time", t);
  }
  if (ev->client.family) {
    kmsdiag_json_str(j, "client",
                     kmsdiag_endpoint_to_str(&ev->client,
                                             ev->client.port != 0, a,
                                             sizeof a));
  }
  if (ev->server.family)
    kmsdiag_json_str(j, "server",
                     kmsdiag_endpoint_to_str(&ev->server, true, a, sizeof a));
}

static void frame_or_null(const char *key, uint64_t f) {
  if (f)
    kmsdiag_json_uint(G.j, key, f);
  else
    kmsdiag_json_null(G.j, key);
}

static void do_dns(const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_dns_t *d = &ev->u.dns;
  char srv[KMSDIAG_ENDPOINT_STRLEN];
  if (G.json && !G.summary) {
    kmsdiag_json_t *j = G.j;
    json_common(ev);
    kmsdiag_json_str(j, "transport", d->tcp ? "tcp" : "udp");
    kmsdiag_json_bool(j, "truncated", d->truncated);
    kmsdiag_json_bool(j, "capture_ended", d->capture_ended);
    if (d->capture_ended)
      kmsdiag_json_uint(j, "wait_ms", d->wait_ms);
    kmsdiag_json_uint(j, "id", d->id);
    kmsdiag_json_strn(j, "qname", d->qname, strlen(d->qname));
    kmsdiag_json_uint(j, "ancount", d->ancount);
    kmsdiag_json_str(j, "qtype", qtype_name(d->qtype));
    frame_or_null("query_frame", d->query_frame);
    frame_or_null("response_frame", d->response_frame);
    if (d->rcode >= 0) {
      kmsdiag_json_int(j, "rcode", d->rcode);
      kmsdiag_json_str(j, "rcode_name", rcode_name(d->rcode));
    } else {
      kmsdiag_json_null(j, "rcode");
      kmsdiag_json_null(j, "rcode_name");
    }
    kmsdiag_json_array_begin(j, "srv");
    for (size_t i = 0; i < d->n_srv; i++) {
      kmsdiag_json_object_begin(j, NULL);
      kmsdiag_json_uint(j, "priority", d->srv[i].priority);
      kmsdiag_json_uint(j, "weight", d->srv[i].weight);
      kmsdiag_json_uint(j, "port", d->srv[i].port);
      kmsdiag_json_strn(j, "target", d->srv[i].target,
                        strlen(d->srv[i].target));
      kmsdiag_json_object_end(j);
    }
    kmsdiag_json_array_end(j);
    kmsdiag_json_uint(j, "srv_total", d->srv_total);
    kmsdiag_json_array_begin(j, "addresses");
    for (size_t i = 0; i < d->n_addr; i++)
      kmsdiag_json_str(j, NULL, kmsdiag_endpoint_to_str(&d->addr[i], false,
                                                        srv, sizeof srv));
    kmsdiag_json_array_end(j);
    if (d->client_code)
      kmsdiag_json_hex32(j, "client_code", d->client_code);
    else
      kmsdiag_json_null(j, "client_code");
    kmsdiag_json_object_end(j);
    tool_json_emit(j);
    return;
  }
  if (G.summary)
    return;
  sb_t b = {0};
  sb_printf(&b, "DNS %s ", qtype_name(d->qtype));
  sb_esc(&b, d->qname);
  sb_printf(&b, " via %s (%s): ",
            kmsdiag_endpoint_to_str(&ev->server, true, srv, sizeof srv),
            d->tcp ? "TCP" : "UDP");
  if (!d->answered && d->capture_ended) {
    sb_printf(&b, "no answer before the capture ended (%" PRIu64 " ms later)",
              d->wait_ms);
  } else if (!d->answered) {
    sb_printf(&b, "no answer");
  } else {
    sb_printf(&b, "%s", rcode_name(d->rcode));
    for (size_t i = 0; i < d->n_srv; i++) {
      sb_printf(&b, "%s", i ? ", " : "; SRV ");
      sb_esc(&b, d->srv[i].target);
      sb_printf(&b, ":%u (priority %u, weight %u)", d->srv[i].port,
                d->srv[i].priority, d->srv[i].weight);
    }
    for (size_t i = 0; i < d->n_addr; i++)
      sb_printf(&b, "%s%s", i ? ", " : "; address ",
                kmsdiag_endpoint_to_str(&d->addr[i], false, srv, sizeof srv));
    if (d->srv_total > d->n_srv)
      sb_printf(&b, " (%zu SRV records, first %zu shown)", d->srv_total,
                d->n_srv);
    else if (d->ancount > d->n_srv + d->n_addr)
      sb_printf(&b, " (%zu more answer records)",
                (size_t)d->ancount - d->n_srv - d->n_addr);
  }
  if (d->truncated)
    sb_printf(&b, " (truncated: retried over TCP)");
  if (d->client_code)
    sb_printf(&b, " -> client code 0x%08" PRIX32, d->client_code);
  add_line(ev, &b);
}

static void do_connect(const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_connect_t *c = &ev->u.connect;
  char srv[KMSDIAG_ENDPOINT_STRLEN], fr[32];
  if (G.summary) {
    if (c->state != KMSDIAG_CONN_ESTABLISHED &&
        c->state != KMSDIAG_CONN_MIDSTREAM &&
        c->state != KMSDIAG_CONN_UNDECIDED &&
        c->state != KMSDIAG_CONN_UNDECODABLE) {
      host_sum_t *h = host_get(&ev->server);
      client_sum_t *cl = client_get(&ev->client);
      if (h)
        h->failures++;
      if (cl)
        cl->failures++;
    }
    return;
  }
  if (G.json) {
    kmsdiag_json_t *j = G.j;
    json_common(ev);
    kmsdiag_json_str(j, "state", kmsdiag_conn_state_name(c->state));
    frame_or_null("syn_frame", c->syn_frame);
    frame_or_null("reply_frame", c->reply_frame);
    kmsdiag_json_uint(j, "syn_count", c->syn_count);
    if (c->state == KMSDIAG_CONN_RESET || c->state == KMSDIAG_CONN_CLOSED_EARLY)
      kmsdiag_json_str(j, "closed_by", c->server_closed ? "server" : "client");
    if (c->state == KMSDIAG_CONN_UNDECIDED) {
      kmsdiag_json_str(j, "waiting_for", c->waiting_for);
      kmsdiag_json_uint(j, "wait_ms", c->wait_ms);
      kmsdiag_json_bool(j, "evicted", c->evicted);
    }
    if (c->state == KMSDIAG_CONN_UNDECODABLE) {
      kmsdiag_json_str(j, "cut_reason", c->cut_reason);
      if (c->snaplen)
        kmsdiag_json_uint(j, "snaplen", c->snaplen);
      else
        kmsdiag_json_null(j, "snaplen");
      kmsdiag_json_uint(j, "cut_frames", c->cut_frames);
      frame_or_null("first_cut_frame", c->first_cut_frame);
      frame_or_null("last_cut_frame", c->last_cut_frame);
    }
    kmsdiag_json_object_end(j);
    tool_json_emit(j);
    return;
  }
  sb_t b = {0};
  kmsdiag_endpoint_to_str(&ev->server, true, srv, sizeof srv);
  switch (c->state) {
  case KMSDIAG_CONN_ESTABLISHED:
    sb_printf(&b, "TCP connect to %s: established", srv);
    break;
  case KMSDIAG_CONN_REFUSED:
    sb_printf(&b, "TCP connect to %s: REFUSED (RST in frame %s)", srv,
              frame_ref(ev->file_index, c->reply_frame, fr, sizeof fr));
    break;
  case KMSDIAG_CONN_NO_ANSWER:
    sb_printf(&b, "TCP connect to %s: NO ANSWER (%u SYN sent)", srv,
              c->syn_count);
    break;
  case KMSDIAG_CONN_RESET:
    sb_printf(&b, "TCP connection to %s RESET by the %s mid-exchange", srv,
              c->server_closed ? "host" : "client");
    break;
  case KMSDIAG_CONN_CLOSED_EARLY:
    sb_printf(&b, "TCP connection to %s CLOSED by the %s mid-exchange", srv,
              c->server_closed ? "host" : "client");
    break;
  case KMSDIAG_CONN_MIDSTREAM:
    sb_printf(&b, "TCP connection to %s (capture started after the "
                  "handshake)",
              srv);
    break;
  case KMSDIAG_CONN_UNDECIDED: {
    const char *w = c->waiting_for ? c->waiting_for : "?";
    sb_printf(&b, "TCP connection to %s: %s %" PRIu64 " ms after the %s, "
                  "before %s",
              srv, c->evicted ? "dropped from the full flow table"
                              : "capture ended",
              c->wait_ms,
              strcmp(w, "syn_ack") == 0    ? "SYN"
              : strcmp(w, "bind_ack") == 0 ? "RPC bind"
              : strcmp(w, "response") == 0 ? "KMS request"
                                           : "last frame",
              strcmp(w, "request") == 0 ? "the KMS request" : "an answer");
    break;
  }
  case KMSDIAG_CONN_UNDECODABLE:
    if (c->snaplen)
      sb_printf(&b, "TCP connection to %s: NOT DECODABLE, %" PRIu64
                    " frame%s cut by the snapshot length (%" PRIu32
                    " bytes per frame), frames %s to ",
                srv, c->cut_frames, c->cut_frames == 1 ? "" : "s", c->snaplen,
                frame_ref(ev->file_index, c->first_cut_frame, fr, sizeof fr));
    else
      sb_printf(&b, "TCP connection to %s: NOT DECODABLE, carried in %" PRIu64
                    " IPv6 fragments, frames %s to ",
                srv, c->cut_frames,
                frame_ref(ev->file_index, c->first_cut_frame, fr, sizeof fr));
    sb_printf(&b, "%s",
              frame_ref(ev->file_index, c->last_cut_frame, fr, sizeof fr));
    break;
  }
  add_line(ev, &b);
}

static void do_bind(const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_bind_t *x = &ev->u.bind;
  char g1[KMSDIAG_GUID_STRLEN], g2[KMSDIAG_GUID_STRLEN];
  if (G.summary) {
    if (!x->accepted) {
      host_sum_t *h = host_get(&ev->server);
      client_sum_t *cl = client_get(&ev->client);
      if (h)
        h->failures++;
      if (cl)
        cl->failures++;
    }
    return;
  }
  if (G.json) {
    kmsdiag_json_t *j = G.j;
    json_common(ev);
    kmsdiag_json_str(j, "kind", x->alter_context ? "alter_context" : "bind");
    kmsdiag_json_uint(j, "call_id", x->call_id);
    frame_or_null("bind_frame", x->bind_frame);
    frame_or_null("ack_frame", x->ack_frame);
    kmsdiag_json_bool(j, "kms_interface", x->kms_interface);
    kmsdiag_json_bool(j, "accepted", x->accepted);
    kmsdiag_json_str(j, "syntax", x->syntax);
    kmsdiag_json_bool(j, "nak", x->nak);
    if (x->nak)
      kmsdiag_json_str(j, "nak_reason",
                       kmsdiag_rpc_bind_nak_reason_name(x->nak_reason));
    kmsdiag_json_array_begin(j, "contexts");
    for (size_t i = 0; i < x->n_ctx; i++) {
      const kmsdiag_cap_ctx_t *c = &x->ctx[i];
      kmsdiag_json_object_begin(j, NULL);
      kmsdiag_json_uint(j, "ctx_id", c->ctx_id);
      kmsdiag_json_str(j, "abstract", kmsdiag_guid_to_str(&c->abstract_uuid, g1));
      kmsdiag_json_str(j, "transfer", kmsdiag_guid_to_str(&c->transfer_uuid, g2));
      kmsdiag_json_str(j, "transfer_name",
                       syntax_name(&c->transfer_uuid, c->transfer_version));
      if (c->result >= 0) {
        kmsdiag_json_str(j, "result",
                         kmsdiag_rpc_ack_result_name((uint16_t)c->result));
        kmsdiag_json_uint(j, "reason", c->reason);
      } else {
        kmsdiag_json_null(j, "result");
        kmsdiag_json_null(j, "reason");
      }
      kmsdiag_json_object_end(j);
    }
    kmsdiag_json_array_end(j);
    kmsdiag_json_object_end(j);
    tool_json_emit(j);
    return;
  }
  sb_t b = {0};
  sb_printf(&b, "RPC %s (call %" PRIu32 "): ",
            x->alter_context ? "alter_context" : "bind", x->call_id);
  if (!x->ack_frame)
    sb_printf(&b, "NO ANSWER");
  else if (x->nak)
    sb_printf(&b, "REJECTED (bind_nak: %s)",
              kmsdiag_rpc_bind_nak_reason_name(x->nak_reason));
  else if (x->accepted)
    sb_printf(&b, "accepted, %s", x->syntax ? x->syntax : "?");
  else
    sb_printf(&b, "REJECTED (no context accepted)");
  for (size_t i = 0; i < x->n_ctx; i++) {
    const kmsdiag_cap_ctx_t *c = &x->ctx[i];
    sb_printf(&b, "%s ctx %u %s", i ? "," : ";", c->ctx_id,
              syntax_name(&c->transfer_uuid, c->transfer_version));
    if (c->result >= 0)
      sb_printf(&b, " %s", kmsdiag_rpc_ack_result_name((uint16_t)c->result));
  }
  add_line(ev, &b);
}

static void do_fault(const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_fault_t *x = &ev->u.fault;
  const char *nm = kmsdiag_rpc_fault_name(x->status);
  if (G.summary) {
    host_sum_t *h = host_get(&ev->server);
    client_sum_t *cl = client_get(&ev->client);
    if (h)
      h->failures++;
    if (cl)
      cl->failures++;
    return;
  }
  if (G.json) {
    kmsdiag_json_t *j = G.j;
    json_common(ev);
    kmsdiag_json_uint(j, "call_id", x->call_id);
    kmsdiag_json_hex32(j, "status", x->status);
    kmsdiag_json_str(j, "status_name", nm);
    kmsdiag_json_uint(j, "flags", x->flags);
    frame_or_null("request_frame", x->request_frame);
    kmsdiag_json_object_end(j);
    tool_json_emit(j);
    return;
  }
  sb_t b = {0};
  sb_printf(&b, "RPC FAULT 0x%08" PRIX32 " (%s), call %" PRIu32, x->status,
            nm ? nm : "unknown", x->call_id);
  add_line(ev, &b);
}

static void product_names(const kmsdiag_kms_request_t *rq, const char **prod,
                          const char **group, const char **app) {
  const kmsdiag_product_t *p = kmsdiag_product_by_sku(&rq->sku_id);
  const kmsdiag_kms_group_t *g = kmsdiag_kms_group_by_id(&rq->kms_id);
  const kmsdiag_app_t *a = kmsdiag_app_by_id(&rq->app_id);
  *prod = p ? p->name : NULL;
  *group = g ? g->name : NULL;
  *app = a ? a->name : NULL;
}

static void do_exchange(const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_exchange_t *x = &ev->u.exchange;
  kmsdiag_kms_request_t rq;
  kmsdiag_kms_response_t rs;
  kmsdiag_status_t rqst = KMSDIAG_ENOTFOUND, rsst = KMSDIAG_ENOTFOUND;
  bool have_rq = false, have_rs = false;
  char g[KMSDIAG_GUID_STRLEN], t[64];
  if (x->request && x->request_len) {
    rqst = kmsdiag_kms_decode_request(x->request, x->request_len, &rq);
    have_rq = rqst == KMSDIAG_OK || rqst == KMSDIAG_EVERIFY;
  }
  if (x->has_response && x->response && x->response_len) {
    rsst = kmsdiag_kms_decode_response(x->response, x->response_len,
                                       have_rq ? &rq : NULL, &rs);
    have_rs = rsst == KMSDIAG_OK || rsst == KMSDIAG_EVERIFY;
  }
  const char *prod = NULL, *group = NULL, *app = NULL;
  if (have_rq)
    product_names(&rq, &prod, &group, &app);
  bool failed = !x->has_response || x->hresult != 0 || !have_rs ||
                (have_rq && have_rs && rs.count < rq.n_policy);

  if (G.summary) {
    host_sum_t *h = host_get(&ev->server);
    client_sum_t *c = client_get(&ev->client);
    if (h) {
      h->exchanges++;
      if (failed)
        h->failures++;
      if (have_rq && rq.version_major >= 4 && rq.version_major <= 6)
        h->versions |= 1u << rq.version_major;
      add_name(h->products, sizeof h->products, prod ? prod : group);
      if (have_rs) {
        if (!h->have_count || rs.count < h->count_min)
          h->count_min = rs.count;
        if (!h->have_count || rs.count > h->count_max)
          h->count_max = rs.count;
        h->have_count = true;
        snprintf(h->epid, sizeof h->epid, "%.63s", rs.epid);
      }
    }
    if (c) {
      c->exchanges++;
      if (failed)
        c->failures++;
      if (have_rq) {
        if (rq.version_major >= 4 && rq.version_major <= 6)
          c->versions |= 1u << rq.version_major;
        snprintf(c->workstation, sizeof c->workstation, "%.63s",
                 rq.workstation);
      }
      add_name(c->products, sizeof c->products, prod ? prod : group);
    }
    return;
  }

  if (G.json) {
    kmsdiag_json_t *j = G.j;
    json_common(ev);
    kmsdiag_json_uint(j, "call_id", x->call_id);
    kmsdiag_json_uint(j, "ctx_id", x->ctx_id);
    kmsdiag_json_str(j, "ndr", x->ndr64 ? "ndr64" : "ndr32");
    frame_or_null("request_frame", x->request_frame);
    frame_or_null("response_frame", x->response_frame);
    if (x->request_frame) {
      fmt_time(x->request_sec, x->request_nsec, t, sizeof t);
      kmsdiag_json_str(j, "request_captured", t);
    } else {
      kmsdiag_json_null(j, "request_captured");
    }
    if (x->response_frame) {
      fmt_time(x->response_sec, x->response_nsec, t, sizeof t);
      kmsdiag_json_str(j, "response_captured", t);
    } else {
      kmsdiag_json_null(j, "response_captured");
    }
    if (x->request_len)
      kmsdiag_json_uint(j, "request_size", x->request_len);
    else
      kmsdiag_json_null(j, "request_size");
    if (x->has_response && x->response_len)
      kmsdiag_json_uint(j, "response_size", x->response_len);
    else
      kmsdiag_json_null(j, "response_size");
    if (have_rq) {
      kmsdiag_kms_request_write_json(j, "request", &rq);
    } else {
      kmsdiag_json_null(j, "request");
    }
    kmsdiag_json_str(j, "product", prod);
    kmsdiag_json_str(j, "kms_group", group);
    kmsdiag_json_str(j, "application", app);
    if (have_rs) {
      kmsdiag_kms_response_write_json(j, "response", &rs);
      kmsdiag_epid_t ep;
      if (kmsdiag_epid_parse_at(rs.epid, strlen(rs.epid), x->response_sec,
                                &ep) == KMSDIAG_OK)
        kmsdiag_epid_write_json(j, "epid_info", &ep);
    } else {
      kmsdiag_json_null(j, "response");
    }
    if (x->has_response) {
      kmsdiag_json_hex32(j, "hresult", x->hresult);
      kmsdiag_json_str(j, "hresult_name", x->hresult ? hr_name(x->hresult)
                                                     : "S_OK");
      if (x->hresult)
        (void)kmsdiag_error_write_json(j, "hresult_info", x->hresult);
    } else {
      kmsdiag_json_null(j, "hresult");
      kmsdiag_json_null(j, "hresult_name");
    }
    kmsdiag_json_bool(j, "verified", have_rs && rs.verified);
    const char *err = x->stub_error;
    if (!err && x->request_len && !have_rq)
      err = "KMS request could not be decoded";
    if (!err && x->has_response && x->hresult == 0 && !have_rs)
      err = "KMS response could not be decoded";
    kmsdiag_json_str(j, "error", err);
    kmsdiag_json_object_end(j);
    tool_json_emit(j);
    return;
  }

  sb_t b = {0};
  if (!x->request_frame) {
    /* the request is not in the capture: only the response line */
  } else if (have_rq) {
    sb_printf(&b, "KMS request V%u.%u: ", rq.version_major,
              rq.version_minor);
    sb_printf(&b, "%s", prod ? prod : "unknown product");
    sb_printf(&b, " [%s]", kmsdiag_guid_to_str(&rq.sku_id, g));
    sb_printf(&b, ", KMS ID %s", group ? group : "unknown");
    sb_printf(&b, ", workstation ");
    sb_esc(&b, rq.workstation);
    sb_printf(&b, ", CMID %s, N policy %" PRIu32,
              kmsdiag_guid_to_str(&rq.cmid, g), rq.n_policy);
    kmsdiag_filetime_to_str(rq.client_time, t, sizeof t);
    sb_printf(&b, ", request time %s%s", t,
              rq.verified ? "" : " (request did NOT verify)");
  } else {
    sb_printf(&b, "KMS request: %s",
              x->stub_error ? x->stub_error
                            : x->request_len ? "could not be decoded"
                                             : "not captured");
  }
  if (x->request_frame)
    add_line_at(ev, x->request_frame, &b);
  memset(&b, 0, sizeof b);
  if (!x->has_response) {
    sb_printf(&b, "KMS response: NONE seen");
  } else if (x->hresult != 0) {
    const char *nm = hr_name(x->hresult);
    sb_printf(&b, "KMS response: REFUSED 0x%08" PRIX32 " %s",
              x->hresult, nm ? nm : "");
  } else if (have_rs) {
    sb_printf(&b, "KMS response: ePID ");
    sb_esc(&b, rs.epid);
    kmsdiag_epid_t ep;
    if (kmsdiag_epid_parse_at(rs.epid, strlen(rs.epid), x->response_sec,
                              &ep) == KMSDIAG_OK &&
        ep.syntax_ok && (ep.host_os || ep.csvlk))
      sb_printf(&b, " (host %s, host key %s)",
                ep.host_os ? ep.host_os->name : "unknown",
                ep.csvlk ? ep.csvlk->name : "unknown");
    sb_printf(&b, ", count %" PRIu32 ", activation %" PRIu32
                  " min, renewal %" PRIu32 " min",
              rs.count, rs.activation_interval, rs.renewal_interval);
    if (rs.has_hwid) {
      char hw[17];
      sb_printf(&b, ", HWID %s", kmsdiag_kms_hwid_to_str(rs.hwid, hw));
    }
    sb_printf(&b, ", %s", rs.verified ? "verified" : "NOT verified");
    if (!x->request_frame)
      sb_printf(&b, " (its request is not in the capture)");
  } else {
    sb_printf(&b, "KMS response: could not be decoded");
  }
  add_line(ev, &b);
}

static void do_note(const kmsdiag_capture_event_t *ev) {
  if (G.json) {
    json_common(ev);
    kmsdiag_json_str(G.j, "message", ev->u.note.message);
    if (G.cur_file)
      kmsdiag_json_strn(G.j, "input", G.cur_file, strlen(G.cur_file));
    kmsdiag_json_object_end(G.j);
    tool_json_emit(G.j);
    return;
  }
  sb_t b = {0};
  char fr[32];
  if (G.cur_file) {
    sb_esc(&b, G.cur_file);
    sb_addn(&b, ": ", 2);
  }
  if (ev->frame)
    sb_printf(&b, "frame %s: ",
              frame_ref(ev->file_index, ev->frame, fr, sizeof fr));
  sb_esc(&b, ev->u.note.message);
  push_str(&G.notes, &G.nnotes, b.p);
}

static const char *const step_names[] = {"dns", "connect", "bind",
                                         "request", "response"};

static void do_diag(const kmsdiag_capture_event_t *ev) {
  const kmsdiag_cap_diagnosis_t *d = &ev->u.diagnosis;
  char a[KMSDIAG_ENDPOINT_STRLEN], fr[32];
  const char *nm = d->hresult ? hr_name(d->hresult) : NULL;
  if (!d->ok && !d->undetermined)
    G.failures = true;
  if (G.summary && strcmp(d->kind, "client") == 0) {
    client_sum_t *c = client_get(&ev->client);
    if (c)
      snprintf(c->result, sizeof c->result, "%s",
               d->ok ? "activated" : d->undetermined ? "undetermined"
                                                     : "failed");
    if (c && !d->ok && !d->undetermined)
      snprintf(c->result, sizeof c->result, "0x%08" PRIX32, d->hresult);
  }
  if (G.json) {
    kmsdiag_json_t *j = G.j;
    json_common(ev);
    kmsdiag_json_str(j, "kind", d->kind);
    if (d->workstation)
      kmsdiag_json_strn(j, "workstation", d->workstation,
                        strlen(d->workstation));
    else
      kmsdiag_json_null(j, "workstation");
    kmsdiag_json_bool(j, "ok", d->ok);
    kmsdiag_json_bool(j, "undetermined", d->undetermined);
    kmsdiag_json_hex32(j, "hresult", d->hresult);
    kmsdiag_json_str(j, "hresult_name",
                     d->hresult ? nm : d->undetermined ? NULL : "S_OK");
    kmsdiag_json_str(j, "stage", d->stage);
    kmsdiag_json_array_begin(j, "steps");
    for (unsigned i = 0; i < 5; i++)
      if (d->steps & (1u << i))
        kmsdiag_json_str(j, NULL, step_names[i]);
    kmsdiag_json_array_end(j);
    kmsdiag_json_strn(j, "message", d->message, strlen(d->message));
    kmsdiag_json_array_begin(j, "evidence");
    for (size_t i = 0; i < d->n_evidence; i++)
      kmsdiag_json_uint(j, NULL, d->evidence[i]);
    kmsdiag_json_array_end(j);
    if (G.nfiles > 1) {
      kmsdiag_json_array_begin(j, "evidence_file");
      for (size_t i = 0; i < d->n_evidence; i++)
        kmsdiag_json_uint(j, NULL, d->evidence_file[i] + 1);
      kmsdiag_json_array_end(j);
    }
    kmsdiag_json_str(j, "remedy", d->remedy);
    if (!d->ok && d->hresult)
      (void)kmsdiag_error_write_json(j, "hresult_info", d->hresult);
    kmsdiag_json_object_end(j);
    tool_json_emit(j);
    return;
  }
  sb_t b = {0};
  if (strcmp(d->kind, "client") == 0) {
    sb_printf(&b, "client %s",
              kmsdiag_endpoint_to_str(&ev->client, false, a, sizeof a));
    if (d->workstation) {
      sb_addn(&b, " (", 2);
      sb_esc(&b, d->workstation);
      sb_addn(&b, ")", 1);
    }
  } else {
    sb_printf(&b, "%s", d->kind);
  }
  if (d->ok)
    sb_printf(&b, ": OK\n");
  else if (d->undetermined)
    sb_printf(&b, ": UNDETERMINED (at %s)\n", d->stage);
  else
    sb_printf(&b, ": 0x%08" PRIX32 " %s (at %s)\n", d->hresult,
              nm ? nm : "", d->stage);
  if (d->steps) {
    sb_addn(&b, "    steps:", 10);
    bool first = true;
    for (unsigned i = 0; i < 5; i++)
      if (d->steps & (1u << i)) {
        sb_printf(&b, "%s%s", first ? " " : " -> ", step_names[i]);
        first = false;
      }
    sb_addn(&b, "\n", 1);
  }
  sb_addn(&b, "    ", 4);
  sb_esc(&b, d->message);
  if (d->n_evidence) {
    sb_printf(&b, "\n    evidence: frame%s", d->n_evidence > 1 ? "s" : "");
    for (size_t i = 0; i < d->n_evidence; i++)
      sb_printf(&b, "%s%s", i ? ", " : " ",
                frame_ref(d->evidence_file[i], d->evidence[i], fr, sizeof fr));
  }
  if (d->remedy && !d->ok) {
    sb_addn(&b, "\n    remedy: ", 13);
    sb_esc(&b, d->remedy);
  }
  push_str(&G.diags, &G.ndiags, b.p);
}

static void on_event(const kmsdiag_capture_event_t *ev, void *ud) {
  (void)ud;
  switch (ev->type) {
  case KMSDIAG_CAPEV_NOTE: do_note(ev); break;
  case KMSDIAG_CAPEV_DNS: do_dns(ev); break;
  case KMSDIAG_CAPEV_CONNECT: do_connect(ev); break;
  case KMSDIAG_CAPEV_RPC_BIND: do_bind(ev); break;
  case KMSDIAG_CAPEV_EXCHANGE: do_exchange(ev); break;
  case KMSDIAG_CAPEV_RPC_FAULT: do_fault(ev); break;
  case KMSDIAG_CAPEV_DIAGNOSIS: do_diag(ev); break;
  }
}

/* ---- output at the end -------------------------------------------------------------- */

static int cmp_line(const void *a, const void *b) {
  const line_t *x = a, *y = b;
  int c = strcmp(x->client, y->client);
  if (c)
    return c;
  if (x->file != y->file)
    return x->file < y->file ? -1 : 1;
  if (x->frame != y->frame)
    return x->frame < y->frame ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void print_text(void) {
  char fr[32];
  if (G.nlines)
    qsort(G.lines, G.nlines, sizeof *G.lines, cmp_line);
  const char *cur = NULL;
  for (size_t i = 0; i < G.nlines; i++) {
    line_t *l = &G.lines[i];
    if (!cur || strcmp(cur, l->client) != 0) {
      printf("%sClient %s\n", cur ? "\n" : "", l->client);
      cur = l->client;
    }
    printf("  frame %-8s %s\n", frame_ref(l->file, l->frame, fr, sizeof fr),
           l->text);
  }
  if (G.lines_dropped)
    printf("  (timeline cut after %d lines)\n", MAX_LINES);
  if (G.nlines == 0)
    printf(G.unreadable ? "No KMS or KMS DNS traffic found in what could be "
                          "read (see the notes).\n"
                        : "No KMS or KMS DNS traffic found.\n");
  if (G.ndiags) {
    printf("\nDiagnosis\n");
    for (size_t i = 0; i < G.ndiags; i++)
      printf("  %s\n", G.diags[i]);
  }
  if (G.nnotes) {
    printf("\nNotes\n");
    for (size_t i = 0; i < G.nnotes; i++)
      printf("  %s\n", G.notes[i]);
  }
}

static void versions_str(unsigned v, char *buf, size_t sz) {
  size_t o = 0;
  buf[0] = '\0';
  for (unsigned m = 4; m <= 6; m++)
    if (v & (1u << m))
      o += (size_t)snprintf(buf + o, sz - o, "%sV%u", o ? "," : "", m);
  if (!o)
    snprintf(buf, sz, "-");
}

static void print_summary(void) {
  char vs[16];
  if (G.json) {
    kmsdiag_json_t *j = G.j;
    for (size_t i = 0; i < G.nhosts; i++) {
      host_sum_t *h = &G.hosts[i];
      kmsdiag_json_object_begin(j, NULL);
      kmsdiag_json_str(j, "type", "host");
      kmsdiag_json_str(j, "server", h->addr);
      kmsdiag_json_uint(j, "exchanges", h->exchanges);
      kmsdiag_json_uint(j, "failures", h->failures);
      versions_str(h->versions, vs, sizeof vs);
      kmsdiag_json_str(j, "versions", vs);
      kmsdiag_json_strn(j, "products", h->products, strlen(h->products));
      if (h->have_count) {
        kmsdiag_json_uint(j, "count_min", h->count_min);
        kmsdiag_json_uint(j, "count_max", h->count_max);
      } else {
        kmsdiag_json_null(j, "count_min");
        kmsdiag_json_null(j, "count_max");
      }
      kmsdiag_json_strn(j, "epid", h->epid, strlen(h->epid));
      kmsdiag_json_object_end(j);
      tool_json_emit(j);
    }
    for (size_t i = 0; i < G.nclients; i++) {
      client_sum_t *c = &G.clients[i];
      kmsdiag_json_object_begin(j, NULL);
      kmsdiag_json_str(j, "type", "client");
      kmsdiag_json_str(j, "client", c->addr);
      kmsdiag_json_strn(j, "workstation", c->workstation,
                        strlen(c->workstation));
      kmsdiag_json_uint(j, "exchanges", c->exchanges);
      kmsdiag_json_uint(j, "failures", c->failures);
      versions_str(c->versions, vs, sizeof vs);
      kmsdiag_json_str(j, "versions", vs);
      kmsdiag_json_strn(j, "products", c->products, strlen(c->products));
      kmsdiag_json_str(j, "result", c->result[0] ? c->result : NULL);
      kmsdiag_json_object_end(j);
      tool_json_emit(j);
    }
    if (G.hosts_dropped || G.clients_dropped) {
      char msg[160];
      snprintf(msg, sizeof msg,
               "summary tables full (%d hosts, %d clients): %" PRIu64
               " events of other hosts and %" PRIu64 " of other clients are "
               "not shown",
               MAX_HOSTS, MAX_CLIENTS, G.hosts_dropped, G.clients_dropped);
      kmsdiag_json_object_begin(j, NULL);
      kmsdiag_json_str(j, "type", "note");
      kmsdiag_json_null(j, "frame");
      kmsdiag_json_str(j, "message", msg);
      kmsdiag_json_object_end(j);
      tool_json_emit(j);
    }
    return;
  }
  printf("%-28s %9s %8s %-8s %-11s %s\n", "KMS HOST", "EXCHANGES", "FAILURES",
         "VERSIONS", "COUNTS", "PRODUCTS");
  for (size_t i = 0; i < G.nhosts; i++) {
    host_sum_t *h = &G.hosts[i];
    char counts[24];
    if (h->have_count)
      snprintf(counts, sizeof counts, "%" PRIu32 "-%" PRIu32, h->count_min,
               h->count_max);
    else
      snprintf(counts, sizeof counts, "-");
    versions_str(h->versions, vs, sizeof vs);
    printf("%-28s %9" PRIu64 " %8" PRIu64 " %-8s %-11s ", h->addr,
           h->exchanges, h->failures, vs, counts);
    tool_puts_escaped(stdout, h->products[0] ? h->products : "-");
    putchar('\n');
  }
  if (G.hosts_dropped)
    printf("(more than %d hosts: %" PRIu64 " events of the others are not "
           "shown)\n",
           MAX_HOSTS, G.hosts_dropped);
  printf("\n%-28s %-24s %9s %8s %-8s %-11s %s\n", "CLIENT", "WORKSTATION",
         "EXCHANGES", "FAILURES", "VERSIONS", "RESULT", "PRODUCTS");
  for (size_t i = 0; i < G.nclients; i++) {
    client_sum_t *c = &G.clients[i];
    versions_str(c->versions, vs, sizeof vs);
    printf("%-28s ", c->addr);
    char *w = kmsdiag_text_escape_dup(c->workstation, strlen(c->workstation));
    printf("%-24s %9" PRIu64 " %8" PRIu64 " %-8s %-11s ",
           w && *w ? w : "-", c->exchanges, c->failures, vs,
           c->result[0] ? c->result : "-");
    free(w);
    tool_puts_escaped(stdout, c->products[0] ? c->products : "-");
    putchar('\n');
  }
  if (G.clients_dropped)
    printf("(more than %d clients: %" PRIu64 " events of the others are "
           "not shown)\n",
           MAX_CLIENTS, G.clients_dropped);
  if (G.nnotes)
    printf("\n%zu note(s); run without --summary to see them\n", G.nnotes);
}

/* ---- main ---------------------------------------------------------------------------------- */

static void progress_cb(uint64_t bytes, uint64_t total, uint64_t frames,
                        void *ud) {
  (void)ud;
  if (total)
    fprintf(stderr, "\r%s: %3u%% (%" PRIu64 " of %" PRIu64 " MB, %" PRIu64
            " frames)", tool_name(), (unsigned)(bytes * 100 / total),
            bytes >> 20, total >> 20, frames);
  else
    fprintf(stderr, "\r%s: %" PRIu64 " MB, %" PRIu64 " frames", tool_name(),
            bytes >> 20, frames);
}

static int drop_privileges(const char *user) {
  struct passwd *pw = getpwnam(user);
  if (!pw) {
    tool_err("-Z: no such user '%s'", user);
    return -1;
  }
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
      setuid(pw->pw_uid) != 0) {
    tool_err("-Z %s: cannot drop privileges: %s", user, strerror(errno));
    return -1;
  }
  if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
    tool_err("-Z %s: privileges could be regained; refusing to go on", user);
    return -1;
  }
  return 0;
}

enum { OPT_JSON = 256, OPT_SUMMARY, OPT_FILTER };

/* The note where reading file `index` stopped, as the library's notes are
 * shown (timeline and JSON). */
static void stop_note(unsigned index, uint64_t frame, const char *what,
                      const char *err) {
  kmsdiag_capture_event_t ev;
  char msg[800];
  memset(&ev, 0, sizeof ev);
  ev.type = KMSDIAG_CAPEV_NOTE;
  ev.file_index = index;
  snprintf(msg, sizeof msg,
           "%s: reading stopped after frame %" PRIu64 ": %s", what, frame,
           err);
  ev.frame = frame;
  ev.u.note.message = msg;
  on_event(&ev, NULL);
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"json", no_argument, NULL, OPT_JSON},
      {"summary", no_argument, NULL, OPT_SUMMARY},
      {"filter", required_argument, NULL, OPT_FILTER},
      {"port", required_argument, NULL, 'p'},
      {"interface", required_argument, NULL, 'i'},
      {"count", required_argument, NULL, 'c'},
      {"write", required_argument, NULL, 'w'},
      {"user", required_argument, NULL, 'Z'},
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  const char *iface = NULL, *wfile = NULL, *user = NULL, *filter = NULL;
  long count = 0;
  uint16_t ports[MAX_PORTS];
  size_t nports = 0;
  int verbose = 0, c;
  bool quiet = false;
  tool_init("kms-pcap");
  while ((c = getopt_long(argc, argv, "p:i:c:w:Z:qvhV", opts, NULL)) != -1) {
    long v;
    switch (c) {
    case OPT_JSON: G.json = true; break;
    case OPT_SUMMARY: G.summary = true; break;
    case OPT_FILTER: filter = optarg; break;
    case 'p':
      if (!tool_parse_long(optarg, 1, 65535, &v))
        return tool_usage_error("--port: '%s' is not a port (1-65535)", optarg);
      if (nports >= MAX_PORTS)
        return tool_usage_error("--port: at most %d ports", MAX_PORTS);
      ports[nports++] = (uint16_t)v;
      break;
    case 'i': iface = optarg; break;
    case 'c':
      if (!tool_parse_long(optarg, 1, 2000000000L, &count))
        return tool_usage_error("-c: '%s' is not a positive count", optarg);
      break;
    case 'w': wfile = optarg; break;
    case 'Z': user = optarg; break;
    case 'q': quiet = true; break;
    case 'v': verbose++; break;
    case 'h': usage(stdout); return TOOL_EXIT_OK;
    case 'V': tool_print_version(); return TOOL_EXIT_OK;
    default: fprintf(stderr, "Try 'kms-pcap --help'.\n"); return TOOL_EXIT_USAGE;
    }
  }
  int nfiles = argc - optind;
  if (iface && nfiles > 0)
    return tool_usage_error("give either -i IFACE or files, not both");
  if (!iface && nfiles == 0)
    return tool_usage_error("no input: give capture files or -i IFACE");
  if (!iface && (wfile || user))
    return tool_usage_error("-w and -Z apply to live capture (-i) only");
  if (verbose)
    tool_log_to_stderr(verbose);
  G.nfiles = iface ? 1 : (unsigned)nfiles;
  G.progress = !quiet && !iface && isatty(STDERR_FILENO);

  kmsdiag_capture_t *cap = NULL;
  if (kmsdiag_capture_new(&cap) != KMSDIAG_OK ||
      kmsdiag_json_new(&G.j) != KMSDIAG_OK) {
    tool_err("out of memory");
    kmsdiag_capture_free(cap);
    return TOOL_EXIT_USAGE;
  }
  G.hosts = calloc(MAX_HOSTS, sizeof *G.hosts);
  G.clients = calloc(MAX_CLIENTS, sizeof *G.clients);
  if (!G.hosts || !G.clients) {
    tool_err("out of memory");
    return TOOL_EXIT_USAGE;
  }
  for (size_t i = 0; i < nports; i++)
    (void)kmsdiag_capture_add_port(cap, ports[i]);
  kmsdiag_capture_set_callback(cap, on_event, NULL);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  int rc = TOOL_EXIT_OK;
  bool unreadable = false;
  char err[512];
  if (iface) {
    kmsdiag_pcap_source_t *src = NULL;
    err[0] = '\0';
    if (kmsdiag_pcap_open_live(iface, filter, 0, &src, err, sizeof err) !=
        KMSDIAG_OK) {
      tool_err("cannot capture: %s", err);
      unreadable = true;
    } else {
      if (user && drop_privileges(user) != 0) {
        kmsdiag_pcap_source_close(src);
        kmsdiag_capture_free(cap);
        kmsdiag_json_free(G.j);
        return TOOL_EXIT_USAGE;
      }
      if (wfile &&
          kmsdiag_pcap_set_dump(src, wfile, err, sizeof err) != KMSDIAG_OK) {
        tool_err("-w: %s", err); /* err names the file */
        kmsdiag_pcap_source_close(src);
        kmsdiag_capture_free(cap);
        kmsdiag_json_free(G.j);
        return TOOL_EXIT_USAGE;
      }
      g_src = src;
      kmsdiag_status_t st = kmsdiag_pcap_run(src, cap, (uint64_t)count, NULL,
                                             NULL, err, sizeof err);
      if (st != KMSDIAG_OK && st != KMSDIAG_ECANCELED) {
        tool_err("%s: capture stopped: %s", iface, err);
        unreadable = true;
      }
      g_src = NULL;
      fprintf(stderr, "%s: %" PRIu64 " frames captured on %s\n", tool_name(),
              kmsdiag_pcap_frames(src), iface);
      kmsdiag_pcap_source_close(src);
    }
  } else {
    uint64_t left = (uint64_t)count;
    for (int i = optind; i < argc && !g_stop; i++) {
      const char *path = argv[i];
      kmsdiag_pcap_source_t *src = NULL;
      err[0] = '\0';
      kmsdiag_capture_next_file(cap);
      G.cur_file = path;
      if (kmsdiag_pcap_open_file(path, filter, &src, err, sizeof err) !=
          KMSDIAG_OK) {
        tool_err("cannot read %s", err);
        unreadable = true;
        continue;
      }
      g_src = src;
      kmsdiag_status_t st =
          kmsdiag_pcap_run(src, cap, left, G.progress ? progress_cb : NULL,
                           NULL, err, sizeof err);
      g_src = NULL;
      uint64_t got = kmsdiag_pcap_frames(src);
      if (G.progress)
        fprintf(stderr, "\r\033[K");
      if (st == KMSDIAG_EUNSUPPORTED || (st == KMSDIAG_EPCAP && got == 0)) {
        /* nothing (or not all) of it can be read: not "no traffic" */
        stop_note((unsigned)(i - optind), got, "input not readable", err);
        fprintf(stderr, "%s: cannot read ", tool_name());
        tool_puts_escaped(stderr, path);
        fprintf(stderr, " (stopped after frame %" PRIu64 "): ", got);
        tool_puts_escaped(stderr, err);
        fputc('\n', stderr);
        if (st == KMSDIAG_EUNSUPPORTED)
          fprintf(stderr,
                  "%s: split the file per interface, e.g. tshark -r FILE -Y "
                  "'frame.interface_id == 0' -w part0.pcapng, or give all "
                  "interfaces one link type with editcap -T\n",
                  tool_name());
        unreadable = true;
        G.unreadable = true;
      } else if (st == KMSDIAG_EPCAP || st == KMSDIAG_ENOMEM) {
        stop_note((unsigned)(i - optind), got, "input damaged", err);
        fprintf(stderr, "%s: ", tool_name());
        tool_puts_escaped(stderr, path);
        fprintf(stderr, ": read stopped after frame %" PRIu64 ": ", got);
        tool_puts_escaped(stderr, err);
        fputc('\n', stderr);
      }
      kmsdiag_pcap_source_close(src);
      if (count) {
        left = got >= left ? 0 : left - got;
        if (left == 0)
          break;
      }
    }
  }
  G.cur_file = NULL;
  if (kmsdiag_capture_finish(cap) == KMSDIAG_ENOMEM) {
    tool_err("out of memory while analysing");
    unreadable = true;
  }
  if (G.summary)
    print_summary();
  else if (!G.json)
    print_text();
  if (verbose) {
    kmsdiag_capture_stats_t st;
    kmsdiag_capture_get_stats(cap, &st);
    fprintf(stderr,
            "%s: %" PRIu64 " frames, %" PRIu64 " bytes, %" PRIu64
            " TCP, %" PRIu64 " UDP, %" PRIu64 " flows tracked (peak %zu), "
            "%" PRIu64 " gaps, %" PRIu64 " KMS exchanges, %" PRIu64
            " DNS messages, peak buffered %zu bytes\n",
            tool_name(), st.frames, st.bytes, st.tcp_packets, st.udp_packets,
            st.flows_tracked, st.peak_flows, st.gaps, st.kms_exchanges,
            st.dns_messages, st.peak_buffered_bytes);
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    tool_err("error writing output: %s", strerror(errno));
    unreadable = true;
  }
  kmsdiag_capture_free(cap);
  kmsdiag_json_free(G.j);
  for (size_t i = 0; i < G.nlines; i++)
    free(G.lines[i].text);
  free(G.lines);
  for (size_t i = 0; i < G.nnotes; i++)
    free(G.notes[i]);
  free(G.notes);
  for (size_t i = 0; i < G.ndiags; i++)
    free(G.diags[i]);
  free(G.diags);
  free(G.hosts);
  free(G.clients);
  if (unreadable)
    rc = TOOL_EXIT_USAGE;
  else if (G.failures)
    rc = TOOL_EXIT_PROBLEM;
  return rc;
}
