/* probe_run.c: the event loop. One poll() drives non-blocking sockets and
 * c-ares; each target in flight is a small state machine with one deadline
 * per stage. Memory in flight is bounded by the concurrency: a connection
 * owns a fixed receive buffer of KD_PROBE_PDU_MAX bytes and is freed as
 * soon as its target is done. */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "internal/log.h"
#include "probe_internal.h"

#define HR_F074 KMSDIAG_HR_BINDING_SERVICE_UNAVAILABLE
#define HR_SERVER_UNAVAILABLE 0x800706BAu /* RPC_S_SERVER_UNAVAILABLE 1722 */
#define HR_UNKNOWN_IF 0x800706B5u         /* RPC_S_UNKNOWN_IF 1717 */
#define HR_NO_PROTSEQS 0x800706B7u        /* RPC_S_NO_PROTSEQS 1719 */
#define HR_CALL_FAILED 0x800706BEu        /* RPC_S_CALL_FAILED 1726 */
#define HR_PROTOCOL_ERROR 0x800706C0u     /* RPC_S_PROTOCOL_ERROR 1728 */

typedef enum {
  CS_RESOLVE,
  CS_CONNECT,
  CS_WATCH, /* tcp only: watching an accepted connection for a close */
  CS_SEND,
  CS_RECV
} cstate_t;

struct resolve_req;

typedef struct conn {
  kmsdiag_probe_t *p;
  kmsdiag_probe_result_t *r;
  size_t idx;
  int fd;
  cstate_t state;
  kmsdiag_probe_stage_t stage;
  bool finished;
  /* monotonic ns: the stage's start and deadline, and the deadline the
   * loop watches (the stage's, or during a connect that address's share
   * of it) */
  uint64_t t_stage, stage_deadline, deadline;
  struct sockaddr_storage addr[KD_PROBE_MAX_ADDRS];
  socklen_t alen[KD_PROBE_MAX_ADDRS];
  size_t naddr, cur;
  uint64_t addr_t0; /* when the connect to addr[cur] started */
  kd_probe_attempt_t att[KD_PROBE_MAX_ADDRS];
  size_t natt;
  struct resolve_req *rq;
  bool resolved;
  int resolve_status;
  kd_buf_t out;
  size_t out_off;
  uint8_t in[KD_PROBE_PDU_MAX];
  size_t in_len, need;
  unsigned ctx;
  kd_probe_kms_t *kms;
  kmsdiag_status_t last_err;
  char last_msg[160];
} conn_t;

struct resolve_req {
  conn_t *c; /* NULL once the connection gave up waiting */
};

typedef struct loop {
  kmsdiag_probe_t *p;
  ares_channel ch;
  bool have_ch;
  conn_t **act;
  size_t nact;
  struct pollfd *pfd;
  conn_t **pconn; /* pfd[i] belongs to pconn[i] (NULL: c-ares or DNS) */
  unsigned char *pkind; /* 0 connection, 1 c-ares channel, 2 discovery */
  size_t pcap;
} loop_t;

#define DISC_FDS_MAX 64

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double ms_since(uint64_t t0) {
  return (double)(now_ns() - t0) / 1e6;
}

static void close_fd(conn_t *c) {
  if (c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
}

static void finish(conn_t *c) {
  kmsdiag_probe_result_t *r = c->r;
  close_fd(c);
  free(r->attempts);
  r->attempts = NULL;
  r->nattempts = 0;
  if (c->natt) {
    r->attempts = malloc(c->natt * sizeof *r->attempts);
    if (r->attempts) {
      memcpy(r->attempts, c->att, c->natt * sizeof *r->attempts);
      r->nattempts = c->natt;
    }
  }
  if (c->rq) {
    c->rq->c = NULL;
    c->rq = NULL;
  }
  r->done = true;
  c->finished = true;
  if (c->p->cb)
    c->p->cb(r, c->idx, c->p->cb_ud);
}

static const char *attempt_word(kmsdiag_status_t st) {
  switch (st) {
  case KMSDIAG_OK: return "connected";
  case KMSDIAG_ETIMEOUT: return "timed out";
  case KMSDIAG_ECONNREFUSED: return "refused";
  case KMSDIAG_EUNREACH: return "unreachable";
  default: return kmsdiag_status_name(st);
  }
}

/* Append ", ADDR (outcome N ms)" for each failed connect attempt to the
 * result's message, after `lead`. */
static void append_attempts(conn_t *c, const char *lead) {
  kmsdiag_probe_result_t *r = c->r;
  size_t n = strlen(r->message), failed = 0;
  for (size_t i = 0; i < c->natt; i++)
    failed += c->att[i].status != KMSDIAG_OK;
  if (!failed)
    return;
  for (size_t i = 0, k = 0; i < c->natt && n < sizeof r->message; i++) {
    const kd_probe_attempt_t *a = &c->att[i];
    int w;
    if (a->status == KMSDIAG_OK)
      continue;
    w = snprintf(r->message + n, sizeof r->message - n, "%s%s (%s, %.0f ms)",
                 k++ ? ", " : lead, a->address, attempt_word(a->status), a->ms);
    if (w < 0)
      break;
    n += (size_t)w;
  }
}

static void succeed(conn_t *c) {
  kmsdiag_probe_result_t *r = c->r;
  if (c->natt > 1)
    append_attempts(c, "; connected after trying ");
  r->ok = true;
  r->status = KMSDIAG_OK;
  r->failed = KMSDIAG_PROBE_STAGE_NONE;
  if (r->requested != KMSDIAG_PROBE_STAGE_KMS)
    r->hresult = 0;
  finish(c);
}

/* Fail the current stage. For resolve, tcp and rpc the client-visible
 * code is 0xC004F074 (once every host failed); `detail` is the per-host
 * code. The kms stage sets its own HRESULT before calling this when the
 * host answered; when it did not (silence, a trickle, a close, garbage)
 * the client moves on to the next host as after an rpc failure: the same
 * 0xC004F074 with `detail`. A local failure (detail 0) leaves it 0. */
static void fail(conn_t *c, kmsdiag_status_t st, uint32_t detail,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail(conn_t *c, kmsdiag_status_t st, uint32_t detail,
                 const char *fmt, ...) {
  kmsdiag_probe_result_t *r = c->r;
  va_list ap;
  r->ok = false;
  r->status = st;
  r->failed = c->stage;
  if (c->stage != KMSDIAG_PROBE_STAGE_KMS ||
      (r->hresult == 0 && detail != 0)) {
    r->hresult = HR_F074;
    r->detail = detail;
  }
  if (r->ms[c->stage] < 0)
    r->ms[c->stage] = ms_since(c->t_stage);
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
  finish(c);
}

static void begin_stage(conn_t *c, kmsdiag_probe_stage_t s) {
  c->stage = s;
  c->t_stage = now_ns();
  c->stage_deadline = c->t_stage + (uint64_t)c->p->timeout_ms * 1000000u;
  c->deadline = c->stage_deadline;
}

static void record_attempt(conn_t *c, kmsdiag_status_t st) {
  kd_probe_attempt_t *a;
  if (c->natt >= KD_PROBE_MAX_ADDRS)
    return;
  a = &c->att[c->natt++];
  snprintf(a->address, sizeof a->address, "%s", c->r->address);
  a->status = st;
  a->ms = ms_since(c->addr_t0);
}

static void set_address_text(conn_t *c) {
  const struct sockaddr *sa = (const struct sockaddr *)&c->addr[c->cur];
  char buf[INET6_ADDRSTRLEN];
  const void *a = sa->sa_family == AF_INET6
                      ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                      : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
  if (!inet_ntop(sa->sa_family, a, buf, sizeof buf))
    strcpy(buf, "?");
  snprintf(c->r->address, sizeof c->r->address, "%s", buf);
}

static void classify_connect_error(conn_t *c, int err) {
  switch (err) {
  case ECONNREFUSED:
    c->last_err = KMSDIAG_ECONNREFUSED;
    snprintf(c->last_msg, sizeof c->last_msg,
             "connection refused (RST): nothing listens on %s port %u",
             c->r->address, c->r->port);
    break;
  case ENETUNREACH:
  case EHOSTUNREACH:
  case ENETDOWN:
  case EHOSTDOWN:
  case EADDRNOTAVAIL:
    c->last_err = KMSDIAG_EUNREACH;
    snprintf(c->last_msg, sizeof c->last_msg, "%s unreachable (%s)",
             c->r->address, strerror(err));
    break;
  case EACCES:
  case EPERM:
    c->last_err = KMSDIAG_EUNREACH;
    snprintf(c->last_msg, sizeof c->last_msg,
             "connection to %s blocked by local policy (%s)", c->r->address,
             strerror(err));
    break;
  case ETIMEDOUT:
    c->last_err = KMSDIAG_ETIMEOUT;
    snprintf(c->last_msg, sizeof c->last_msg,
             "no answer to connect from %s (timed out in the kernel)",
             c->r->address);
    break;
  default:
    c->last_err = KMSDIAG_ESYS;
    snprintf(c->last_msg, sizeof c->last_msg, "connect to %s failed: %s",
             c->r->address, strerror(err));
  }
}

static void start_rpc(conn_t *c);
static void connected(conn_t *c);

/* The tcp stage's failure, after every address failed. */
static void fail_tcp(conn_t *c) {
  char msg[KD_PROBE_MSG_MAX];
  kd_probe_set_msg(c->r, "%s", c->last_msg);
  if (c->natt > 1)
    append_attempts(c, "; tried ");
  memcpy(msg, c->r->message, sizeof msg);
  fail(c, c->last_err, HR_SERVER_UNAVAILABLE, "%s", msg);
}

/* Try addresses from c->cur on, in order, within the tcp stage's deadline.
 * A connect that gets no answer gets a share of the time left: the time
 * left divided by the addresses left, so an address that times out (a
 * filtered one) leaves time for the next, and the whole stage still ends
 * by its deadline. An immediate failure (refused, unreachable) moves on at
 * once and leaves its share to the addresses after it. */
static void try_connect(conn_t *c) {
  while (c->cur < c->naddr) {
    const struct sockaddr *sa = (const struct sockaddr *)&c->addr[c->cur];
    uint64_t now = now_ns();
    if (now >= c->stage_deadline) {
      /* Only rounding can bring this: no time left for the rest. */
      if (c->natt == 0) {
        c->last_err = KMSDIAG_ETIMEOUT;
        snprintf(c->last_msg, sizeof c->last_msg,
                 "no time left to connect within %u ms", c->p->timeout_ms);
      }
      break;
    }
    set_address_text(c);
    c->addr_t0 = now;
    c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                   0);
    if (c->fd < 0) {
      int e = errno;
      if (e == EAFNOSUPPORT) {
        c->last_err = KMSDIAG_EUNREACH;
        snprintf(c->last_msg, sizeof c->last_msg,
                 "no %s support on this machine",
                 sa->sa_family == AF_INET6 ? "IPv6" : "IPv4");
        record_attempt(c, c->last_err);
        c->cur++;
        continue;
      }
      fail(c, e == EMFILE || e == ENFILE ? KMSDIAG_ELIMIT : KMSDIAG_ESYS, 0,
           "socket: %s", strerror(e));
      return;
    }
    if (connect(c->fd, sa, c->alen[c->cur]) == 0) {
      record_attempt(c, KMSDIAG_OK);
      connected(c);
      return;
    }
    if (errno == EINPROGRESS) {
      c->state = CS_CONNECT;
      c->deadline = now + (c->stage_deadline - now) / (c->naddr - c->cur);
      return;
    }
    classify_connect_error(c, errno);
    record_attempt(c, c->last_err);
    close_fd(c);
    c->cur++;
  }
  fail_tcp(c);
}

static void connected(conn_t *c) {
  kmsdiag_probe_result_t *r = c->r;
  c->deadline = c->stage_deadline;
  r->ms[KMSDIAG_PROBE_STAGE_TCP] = ms_since(c->t_stage);
  if (r->requested == KMSDIAG_PROBE_STAGE_TCP) {
    unsigned w = c->p->close_watch_ms;
    if (w == 0) {
      r->reached = KMSDIAG_PROBE_STAGE_TCP;
      kd_probe_set_msg(r, "TCP connection accepted");
      succeed(c);
      return;
    }
    if (w > c->p->timeout_ms)
      w = c->p->timeout_ms;
    c->state = CS_WATCH;
    c->deadline = now_ns() + (uint64_t)w * 1000000u;
    return;
  }
  r->reached = KMSDIAG_PROBE_STAGE_TCP;
  start_rpc(c);
}

static void start_send(conn_t *c) {
  c->out_off = 0;
  c->in_len = 0;
  c->need = 16;
  c->state = CS_SEND;
}

static void start_rpc(conn_t *c) {
  begin_stage(c, KMSDIAG_PROBE_STAGE_RPC);
  kd_buf_reset(&c->out);
  kd_probe_rpc_bind(&c->out);
  if (!kd_buf_ok(&c->out)) {
    fail(c, KMSDIAG_ENOMEM, 0, "out of memory building the bind");
    return;
  }
  start_send(c);
}

static void start_kms(conn_t *c) {
  char msg[KD_PROBE_MSG_MAX];
  kmsdiag_status_t st;
  begin_stage(c, KMSDIAG_PROBE_STAGE_KMS);
  kd_buf_reset(&c->out);
  st = kd_probe_kms_request(c->p, c->ctx, &c->out, &c->kms, c->r, msg,
                            sizeof msg);
  if (st != KMSDIAG_OK || !kd_buf_ok(&c->out)) {
    c->r->hresult = 0;
    fail(c, st != KMSDIAG_OK ? st : KMSDIAG_ENOMEM, 0, "%s",
         st != KMSDIAG_OK ? msg : "out of memory building the request");
    return;
  }
  start_send(c);
}

static void start(loop_t *L, conn_t *c) {
  kmsdiag_probe_result_t *r = c->r;
  struct in_addr a4;
  struct in6_addr a6;
  begin_stage(c, KMSDIAG_PROBE_STAGE_NONE);
  if (r->npre) {
    for (size_t i = 0; i < r->npre && i < KD_PROBE_MAX_ADDRS; i++) {
      memcpy(&c->addr[i], &r->pre[i], r->prelen[i]);
      if (r->pre[i].ss_family == AF_INET)
        ((struct sockaddr_in *)&c->addr[i])->sin_port = htons(r->port);
      else
        ((struct sockaddr_in6 *)&c->addr[i])->sin6_port = htons(r->port);
      c->alen[i] = r->prelen[i];
      c->naddr++;
    }
  } else if (inet_pton(AF_INET, r->host, &a4) == 1) {
    struct sockaddr_in *s = (struct sockaddr_in *)&c->addr[0];
    s->sin_family = AF_INET;
    s->sin_port = htons(r->port);
    s->sin_addr = a4;
    c->alen[0] = sizeof *s;
    c->naddr = 1;
  } else if (inet_pton(AF_INET6, r->host, &a6) == 1) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&c->addr[0];
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(r->port);
    s->sin6_addr = a6;
    c->alen[0] = sizeof *s;
    c->naddr = 1;
  } else {
    (void)L;
    c->state = CS_RESOLVE;
    return; /* the loop submits the query */
  }
  begin_stage(c, KMSDIAG_PROBE_STAGE_TCP);
  try_connect(c);
}

/* ---- name resolution ---- */

static void addrinfo_cb(void *arg, int status, int timeouts,
                        struct ares_addrinfo *res) {
  struct resolve_req *rq = arg;
  conn_t *c = rq->c;
  (void)timeouts;
  if (c) {
    c->resolved = true;
    c->resolve_status = status;
    c->rq = NULL;
    if (status == ARES_SUCCESS && res) {
      /* IPv4 and IPv6 in the resolver's order, at most KD_PROBE_MAX_ADDRS. */
      for (struct ares_addrinfo_node *n = res->nodes;
           n && c->naddr < KD_PROBE_MAX_ADDRS; n = n->ai_next) {
        if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
            !n->ai_addr || n->ai_addrlen > (int)sizeof c->addr[0])
          continue;
        memcpy(&c->addr[c->naddr], n->ai_addr, (size_t)n->ai_addrlen);
        if (n->ai_family == AF_INET)
          ((struct sockaddr_in *)&c->addr[c->naddr])->sin_port =
              htons(c->r->port);
        else
          ((struct sockaddr_in6 *)&c->addr[c->naddr])->sin6_port =
              htons(c->r->port);
        c->alen[c->naddr] = (socklen_t)n->ai_addrlen;
        c->naddr++;
      }
    }
  }
  if (res)
    ares_freeaddrinfo(res);
  free(rq);
}

static kmsdiag_status_t ensure_channel(loop_t *L) {
  struct ares_options o;
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (L->have_ch)
    return KMSDIAG_OK;
  memset(&o, 0, sizeof o);
  o.timeout = (int)(L->p->timeout_ms / 2 ? L->p->timeout_ms / 2 : 1);
  o.tries = 2;
  if (ares_init_options(&L->ch, &o, mask) != ARES_SUCCESS)
    return KMSDIAG_ESYS;
  if (L->p->dns_servers &&
      ares_set_servers_ports_csv(L->ch, L->p->dns_servers) != ARES_SUCCESS) {
    ares_destroy(L->ch);
    return KMSDIAG_EINVAL;
  }
  L->have_ch = true;
  return KMSDIAG_OK;
}

static void submit_resolve(loop_t *L, conn_t *c) {
  struct ares_addrinfo_hints h;
  kmsdiag_status_t st = ensure_channel(L);
  if (st != KMSDIAG_OK) {
    fail(c, KMSDIAG_EDNS, HR_SERVER_UNAVAILABLE,
         "cannot set up the resolver for %s (DNS servers '%s')",
         c->r->host, L->p->dns_servers ? L->p->dns_servers : "system");
    return;
  }
  c->rq = calloc(1, sizeof *c->rq);
  if (!c->rq) {
    fail(c, KMSDIAG_ENOMEM, 0, "out of memory");
    return;
  }
  c->rq->c = c;
  memset(&h, 0, sizeof h);
  h.ai_family = AF_UNSPEC;
  h.ai_socktype = SOCK_STREAM;
  ares_getaddrinfo(L->ch, c->r->host, NULL, &h, addrinfo_cb, c->rq);
}

static void after_resolve(conn_t *c) {
  c->resolved = false;
  c->r->ms[KMSDIAG_PROBE_STAGE_NONE] = ms_since(c->t_stage);
  if (c->naddr == 0) {
    char host[300];
    kd_probe_escape(host, sizeof host, c->r->host, strlen(c->r->host));
    fail(c, KMSDIAG_EDNS, HR_SERVER_UNAVAILABLE, "%s does not resolve: %s",
         host,
         c->resolve_status == ARES_SUCCESS ? "no addresses"
                                           : ares_strerror(c->resolve_status));
    return;
  }
  begin_stage(c, KMSDIAG_PROBE_STAGE_TCP);
  try_connect(c);
}

/* ---- socket events ---- */

static void pdu_complete(conn_t *c) {
  char msg[KD_PROBE_MSG_MAX];
  kmsdiag_probe_result_t *r = c->r;
  kmsdiag_status_t st;
  if (c->stage == KMSDIAG_PROBE_STAGE_RPC) {
    st = kd_probe_rpc_bind_answer(c->in, c->in_len, r, &c->ctx, msg,
                                  sizeof msg);
    switch (st) {
    case KMSDIAG_OK:
      r->ms[KMSDIAG_PROBE_STAGE_RPC] = ms_since(c->t_stage);
      r->reached = KMSDIAG_PROBE_STAGE_RPC;
      if (r->requested == KMSDIAG_PROBE_STAGE_RPC) {
        kd_probe_set_msg(r, "%s", msg);
        succeed(c);
      } else {
        start_kms(c);
      }
      return;
    case KMSDIAG_EBINDREJECT:
      fail(c, st, HR_NO_PROTSEQS, "%s", msg);
      return;
    case KMSDIAG_ERPCFAULT:
      fail(c, st, r->rpc_status == 0x1C010003u ? HR_UNKNOWN_IF : HR_CALL_FAILED,
           "%s", msg);
      return;
    default:
      fail(c, st, HR_PROTOCOL_ERROR, "%s", msg);
      return;
    }
  }
  st = kd_probe_kms_answer(c->p, c->kms, c->in, c->in_len, r, msg, sizeof msg);
  r->ms[KMSDIAG_PROBE_STAGE_KMS] = ms_since(c->t_stage);
  if (st == KMSDIAG_OK) {
    r->reached = KMSDIAG_PROBE_STAGE_KMS;
    kd_probe_set_msg(r, "%s", msg);
    succeed(c);
  } else {
    fail(c, st, r->detail, "%s", msg);
  }
}

static void on_readable(conn_t *c) {
  kmsdiag_probe_result_t *r = c->r;
  if (c->state == CS_WATCH) {
    uint8_t tmp[64];
    ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
    if (n == 0) {
      fail(c, KMSDIAG_ECLOSED, HR_SERVER_UNAVAILABLE,
           "accepted the connection, then closed it at once "
           "(closed-after-accept)");
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
               errno != EINTR) {
      fail(c, errno == ECONNRESET ? KMSDIAG_ECONNRESET : KMSDIAG_ESYS,
           HR_SERVER_UNAVAILABLE, "accepted the connection, then reset it (%s)",
           strerror(errno));
    } else if (n > 0) {
      r->reached = KMSDIAG_PROBE_STAGE_TCP;
      kd_probe_set_msg(r, "TCP connection accepted (the peer sent %zd bytes "
                       "unprompted)", n);
      succeed(c);
    }
    return;
  }
  if (c->state != CS_RECV)
    return;
  /* Read no more than the current need: never past one PDU. */
  for (int rounds = 0; rounds < 4 && !c->finished; rounds++) {
    ssize_t n = recv(c->fd, c->in + c->in_len, c->need - c->in_len, 0);
    if (n == 0) {
      if (c->in_len == 0)
        fail(c, KMSDIAG_ECLOSED, HR_SERVER_UNAVAILABLE,
             "the peer closed the connection without answering the %s",
             c->stage == KMSDIAG_PROBE_STAGE_RPC ? "bind" : "request");
      else
        fail(c, KMSDIAG_ECLOSED, HR_PROTOCOL_ERROR,
             "the peer closed the connection in the middle of a PDU "
             "(%zu of %zu bytes)", c->in_len, c->need);
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
      if (errno == ECONNRESET && c->in_len == 0)
        /* The peer closed (our send then drew a reset): closed after
         * accept, as far as an answer goes. */
        fail(c, KMSDIAG_ECLOSED, HR_SERVER_UNAVAILABLE,
             "the peer closed the connection (reset) without answering the "
             "%s", c->stage == KMSDIAG_PROBE_STAGE_RPC ? "bind" : "request");
      else
        fail(c, errno == ECONNRESET ? KMSDIAG_ECONNRESET : KMSDIAG_ESYS,
             HR_SERVER_UNAVAILABLE, "connection reset while waiting for the "
             "%s answer (%s)",
             c->stage == KMSDIAG_PROBE_STAGE_RPC ? "bind" : "KMS",
             strerror(errno));
      return;
    }
    size_t before = c->in_len;
    c->in_len += (size_t)n;
    /* Spot garbage at once: an RPC PDU starts with version 5.0. */
    if (before == 0 && c->in[0] != 5) {
      char esc[64];
      kd_probe_escape(esc, sizeof esc, c->in, c->in_len < 8 ? c->in_len : 8);
      fail(c, KMSDIAG_EPROTO, HR_PROTOCOL_ERROR,
           "not a DCE/RPC answer (garbage, starts \"%s\")", esc);
      return;
    }
    if (c->need == 16 && c->in_len == 16) {
      char msg[KD_PROBE_MSG_MAX];
      size_t flen;
      kmsdiag_status_t st =
          kd_probe_rpc_header(c->in, c->in_len, &flen, msg, sizeof msg);
      if (st != KMSDIAG_OK) {
        fail(c, KMSDIAG_EPROTO, HR_PROTOCOL_ERROR, "%s", msg);
        return;
      }
      c->need = flen;
    }
    if (c->in_len == c->need) {
      pdu_complete(c);
      return;
    }
  }
}

static void on_writable(conn_t *c) {
  if (c->state == CS_CONNECT) {
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
      err = errno;
    if (err == 0) {
      record_attempt(c, KMSDIAG_OK);
      connected(c);
      return;
    }
    if (err == EINPROGRESS)
      return;
    classify_connect_error(c, err);
    record_attempt(c, c->last_err);
    close_fd(c);
    c->cur++;
    try_connect(c);
    return;
  }
  if (c->state != CS_SEND)
    return;
  while (c->out_off < c->out.len) {
    ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                     MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
      fail(c, errno == EPIPE || errno == ECONNRESET ? KMSDIAG_ECLOSED
                                                    : KMSDIAG_ESYS,
           HR_SERVER_UNAVAILABLE, "the peer closed the connection before the %s was sent (%s)",
           c->stage == KMSDIAG_PROBE_STAGE_RPC ? "bind" : "request",
           strerror(errno));
      return;
    }
    c->out_off += (size_t)n;
  }
  c->state = CS_RECV;
}

static void on_deadline(conn_t *c) {
  unsigned ms = c->p->timeout_ms;
  switch (c->state) {
  case CS_RESOLVE: {
    char host[300];
    kd_probe_escape(host, sizeof host, c->r->host, strlen(c->r->host));
    fail(c, KMSDIAG_EDNS, HR_SERVER_UNAVAILABLE,
         "%s did not resolve within %u ms", host, ms);
    return;
  }
  case CS_CONNECT:
    /* This address's share of the stage ran out: on to the next one. */
    c->last_err = KMSDIAG_ETIMEOUT;
    snprintf(c->last_msg, sizeof c->last_msg,
             "no answer to connect from %s within %.0f ms (filtered, or the "
             "host is down)", c->r->address,
             (double)(c->deadline - c->addr_t0) / 1e6);
    record_attempt(c, KMSDIAG_ETIMEOUT);
    close_fd(c);
    c->cur++;
    try_connect(c);
    return;
  case CS_WATCH:
    c->r->reached = KMSDIAG_PROBE_STAGE_TCP;
    kd_probe_set_msg(c->r, "TCP connection accepted");
    succeed(c);
    return;
  case CS_SEND:
    fail(c, KMSDIAG_ETIMEOUT, HR_SERVER_UNAVAILABLE,
         "could not send the %s within %u ms (the peer does not read)",
         c->stage == KMSDIAG_PROBE_STAGE_RPC ? "bind" : "request", ms);
    return;
  case CS_RECV:
    if (c->in_len == 0)
      fail(c, KMSDIAG_ETIMEOUT, HR_SERVER_UNAVAILABLE,
           "no answer to the %s within %u ms (silence after accept)",
           c->stage == KMSDIAG_PROBE_STAGE_RPC ? "bind" : "request", ms);
    else
      fail(c, KMSDIAG_ETIMEOUT, HR_SERVER_UNAVAILABLE,
           "incomplete answer to the %s within %u ms (%zu of %zu bytes: the "
           "peer trickles)",
           c->stage == KMSDIAG_PROBE_STAGE_RPC ? "bind" : "request", ms,
           c->in_len, c->need);
    return;
  }
}

/* ---- the loop ---- */

static void conn_free(conn_t *c) {
  if (!c)
    return;
  close_fd(c);
  if (c->rq)
    c->rq->c = NULL;
  kd_buf_free(&c->out);
  kd_probe_kms_free(c->kms);
  free(c);
}

static unsigned effective_concurrency(const kmsdiag_probe_t *p) {
  struct rlimit rl;
  unsigned n = p->concurrency;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    /* Leave room for stdio, c-ares and the caller's own descriptors. */
    rlim_t room = rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 1;
    if (room < n)
      n = (unsigned)room;
  }
  return n ? n : 1;
}

static bool grow_pfd(loop_t *L, size_t need) {
  if (need <= L->pcap)
    return true;
  size_t nc = need * 2;
  struct pollfd *np = realloc(L->pfd, nc * sizeof *np);
  if (!np)
    return false;
  L->pfd = np;
  conn_t **nq = realloc(L->pconn, nc * sizeof *nq);
  if (!nq)
    return false;
  L->pconn = nq;
  unsigned char *nk = realloc(L->pkind, nc);
  if (!nk)
    return false;
  L->pkind = nk;
  L->pcap = nc;
  return true;
}

/* ---- discovery: SRV lookups in the same loop ---- */

/* Turn completed lookups into targets, domain after domain in the order
 * they were added, each in the client order of its records. */
static void flush_domains(kmsdiag_probe_t *p) {
  while (p->dom_next < p->ndom && p->dom[p->dom_next].done) {
    const kmsdiag_dns_result_t *r = p->dom[p->dom_next].result;
    for (size_t k = 0; r && k < r->nrecords; k++) {
      const kmsdiag_dns_srv_t *s = &r->records[k];
      const char *addrs[KD_PROBE_MAX_ADDRS];
      size_t na = 0, tl;
      char name[260];
      if (!s->target || strcmp(s->target, ".") == 0)
        continue;
      tl = strlen(s->target);
      if (tl == 0 || tl >= sizeof name)
        continue;
      memcpy(name, s->target, tl + 1);
      if (tl > 1 && name[tl - 1] == '.')
        name[tl - 1] = '\0';
      for (size_t a = 0; a < s->naddrs && na < KD_PROBE_MAX_ADDRS; a++)
        addrs[na++] = s->addrs[a].text;
      (void)kd_probe_add(p, name, s->port, addrs, na, NULL);
    }
    p->dom_next++;
  }
}

static void domain_done(kmsdiag_dns_result_t *r, void *ud) {
  kd_probe_domain_t *d = ud;
  kmsdiag_dns_result_free(d->result);
  d->result = r;
  d->done = true;
  flush_domains(d->p);
}

static kmsdiag_status_t start_domains(kmsdiag_probe_t *p) {
  for (; p->dom_started < p->ndom; p->dom_started++) {
    kd_probe_domain_t *d = &p->dom[p->dom_started];
    kmsdiag_status_t st;
    d->p = p;
    st = kmsdiag_dns_start(p->dns, d->name, d->source, 0, domain_done, d);
    if (st != KMSDIAG_OK)
      return st;
  }
  return KMSDIAG_OK;
}

/* Whether discovery still runs. Once the DNS context has nothing pending,
 * a domain without an answer (there should be none) is closed as done, so
 * the loop can never wait for a callback that will not come. */
static bool discovering(kmsdiag_probe_t *p) {
  if (!p->dns || p->dom_next >= p->ndom)
    return false;
  if (kmsdiag_dns_pending(p->dns) > 0)
    return true;
  for (size_t i = p->dom_next; i < p->ndom; i++)
    p->dom[i].done = true;
  flush_domains(p);
  return false;
}

kmsdiag_status_t kmsdiag_probe_run(kmsdiag_probe_t *p) {
  loop_t L;
  kmsdiag_status_t ret = KMSDIAG_OK;
  unsigned conc;
  if (!p)
    return KMSDIAG_EINVAL;
  if (p->running)
    return KMSDIAG_ESTATE;
  if (p->stage == KMSDIAG_PROBE_STAGE_KMS &&
      (!p->product_set || !p->cmid_set))
    return KMSDIAG_EINVAL;
  memset(&L, 0, sizeof L);
  L.p = p;
  conc = effective_concurrency(p);
  L.act = calloc(conc, sizeof *L.act);
  if (!L.act)
    return KMSDIAG_ENOMEM;
  p->running = true;
  if (p->dns && start_domains(p) != KMSDIAG_OK) {
    free(L.act);
    p->running = false;
    return KMSDIAG_ENOMEM;
  }
  for (;;) {
    /* Fill the free slots. */
    while (L.nact < conc && p->next < p->n) {
      size_t idx = p->next++;
      conn_t *c = calloc(1, sizeof *c);
      kmsdiag_probe_result_t *r = p->res[idx];
      if (!c) {
        ret = KMSDIAG_ENOMEM;
        p->next = p->n;
        break;
      }
      c->p = p;
      c->r = r;
      c->idx = idx;
      c->fd = -1;
      kd_buf_init(&c->out);
      c->out.max = 4096;
      r->requested = p->stage;
      if (p->stage == KMSDIAG_PROBE_STAGE_KMS)
        r->threshold = p->n_policy;
      L.act[L.nact++] = c;
      start(&L, c);
      if (!c->finished && c->state == CS_RESOLVE)
        submit_resolve(&L, c);
    }
    /* Resolutions that completed (possibly synchronously). */
    for (size_t i = 0; i < L.nact; i++)
      if (!L.act[i]->finished && L.act[i]->resolved)
        after_resolve(L.act[i]);
    /* Drop finished connections. */
    size_t k = 0;
    for (size_t i = 0; i < L.nact; i++) {
      if (L.act[i]->finished)
        conn_free(L.act[i]);
      else
        L.act[k++] = L.act[i];
    }
    L.nact = k;
    if (L.nact == 0 && p->next >= p->n && !discovering(p))
      break;
    if (L.nact < conc && p->next < p->n)
      continue;

    /* Poll set: our sockets, then c-ares's. */
    ares_socket_t as[ARES_GETSOCK_MAXNUM];
    int abits = 0;
    if (L.have_ch)
      abits = ares_getsock(L.ch, as, ARES_GETSOCK_MAXNUM);
    kmsdiag_dns_fd_t dfd[DISC_FDS_MAX];
    size_t ndfd = 0;
    if (discovering(p)) {
      ndfd = kmsdiag_dns_fds(p->dns, dfd, DISC_FDS_MAX);
      if (ndfd > DISC_FDS_MAX)
        ndfd = DISC_FDS_MAX; /* the rest wait for the next round */
    }
    if (!grow_pfd(&L, L.nact + ARES_GETSOCK_MAXNUM + ndfd)) {
      ret = KMSDIAG_ENOMEM;
      break;
    }
    size_t np = 0;
    uint64_t now = now_ns(), next_dl = UINT64_MAX;
    for (size_t i = 0; i < L.nact; i++) {
      conn_t *c = L.act[i];
      if (c->deadline < next_dl)
        next_dl = c->deadline;
      if (c->fd < 0)
        continue;
      short ev = c->state == CS_CONNECT || c->state == CS_SEND ? POLLOUT
                                                              : POLLIN;
      L.pfd[np].fd = c->fd;
      L.pfd[np].events = ev;
      L.pfd[np].revents = 0;
      L.pkind[np] = 0;
      L.pconn[np++] = c;
    }
    for (size_t i = 0; i < ndfd; i++) {
      short ev = (short)((dfd[i].want_read ? POLLIN : 0) |
                         (dfd[i].want_write ? POLLOUT : 0));
      if (!ev || dfd[i].fd < 0)
        continue;
      L.pfd[np].fd = dfd[i].fd;
      L.pfd[np].events = ev;
      L.pfd[np].revents = 0;
      L.pkind[np] = 2;
      L.pconn[np++] = NULL;
    }
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
      short ev = 0;
      /* The c-ares macros shift a signed int into the sign bit. */
      unsigned bits = (unsigned)abits;
      if (bits & (1u << i))
        ev |= POLLIN;
      if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
        ev |= POLLOUT;
      if (!ev)
        continue;
      L.pfd[np].fd = as[i];
      L.pfd[np].events = ev;
      L.pfd[np].revents = 0;
      L.pkind[np] = 1;
      L.pconn[np++] = NULL;
    }
    int tmo = 0;
    if (next_dl == UINT64_MAX)
      tmo = 1000; /* only discovery is running: its timers bound this */
    else if (next_dl > now)
      tmo = (int)((next_dl - now + 999999u) / 1000000u);
    if (discovering(p)) {
      int dt = kmsdiag_dns_next_timeout_ms(p->dns);
      if (dt >= 0 && dt < tmo)
        tmo = dt;
    }
    if (L.have_ch) {
      struct timeval tv, maxtv = {tmo / 1000, (tmo % 1000) * 1000}, *tp;
      tp = ares_timeout(L.ch, &maxtv, &tv);
      if (tp) {
        int at = (int)(tp->tv_sec * 1000 + (tp->tv_usec + 999) / 1000);
        if (at < tmo)
          tmo = at;
      }
    }
    int pr = poll(L.pfd, (nfds_t)np, tmo);
    if (pr < 0 && errno != EINTR) {
      ret = KMSDIAG_ESYS;
      break;
    }
    for (size_t i = 0; pr > 0 && i < np; i++) {
      short re = L.pfd[i].revents;
      conn_t *c = L.pconn[i];
      if (!re)
        continue;
      if (L.pkind[i] == 2) {
        kmsdiag_dns_process(p->dns, L.pfd[i].fd,
                            (re & (POLLIN | POLLERR | POLLHUP)) != 0,
                            (re & POLLOUT) != 0);
        continue;
      }
      if (!c) {
        ares_socket_t rfd = (re & (POLLIN | POLLERR | POLLHUP))
                                ? L.pfd[i].fd : ARES_SOCKET_BAD;
        ares_socket_t wfd = (re & POLLOUT) ? L.pfd[i].fd : ARES_SOCKET_BAD;
        ares_process_fd(L.ch, rfd, wfd);
        continue;
      }
      if (c->finished)
        continue;
      if (c->state == CS_CONNECT || c->state == CS_SEND)
        on_writable(c);
      else
        on_readable(c);
    }
    if (L.have_ch)
      ares_process_fd(L.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    if (discovering(p))
      kmsdiag_dns_process(p->dns, -1, false, false); /* its timers */
    /* Deadlines. */
    now = now_ns();
    for (size_t i = 0; i < L.nact; i++) {
      conn_t *c = L.act[i];
      if (!c->finished && !c->resolved && now >= c->deadline)
        on_deadline(c);
    }
  }
  for (size_t i = 0; i < L.nact; i++)
    conn_free(L.act[i]);
  if (L.have_ch)
    ares_destroy(L.ch); /* abandoned queries call back and free themselves */
  free(L.act);
  free(L.pfd);
  free(L.pconn);
  free(L.pkind);
  p->running = false;
  return ret;
}
