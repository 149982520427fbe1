/* dns_lookup.c: the discovery context. c-ares does the transport (one UDP
 * channel that ignores truncation, so a TC answer is seen and reported,
 * and one TCP channel for the retry); ldns parses every answer
 * (dns_parse.c). Many lookups run in flight in one event loop, bounded by
 * max_inflight; completions are queued and delivered after c-ares returns,
 * so a callback never runs inside c-ares.
 *
 * Which server answered: c-ares 1.18 does not say, so the context installs
 * its own socket functions and remembers the peer of the socket that the
 * answer was read from (c-ares reads an answer and calls back in the same
 * step). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>

#include "dns/dns_internal.h"
#include "internal/log.h"
#include "internal/reader.h"

#define MAX_FDS 128
#define RESOLV_MAX_FILE (1u << 20)

enum qkind { Q_SRV, Q_A, Q_AAAA, Q_NEAR };

/* Near-miss names worth a look when nothing usable was found. */
static const struct {
  const char *prefix;
  const char *rule;
  const char *what;
} near_miss[] = {
    {"_vlmcs._udp.", "udp-not-tcp",
     "records under _vlmcs._udp; KMS clients only query _vlmcs._tcp"},
    {"_vmlcs._tcp.", "near-miss-label",
     "records under the misspelled _vmlcs._tcp; clients query _vlmcs._tcp"},
    {"_v1mcs._tcp.", "near-miss-label",
     "records under the misspelled _v1mcs._tcp (digit one); clients query "
     "_vlmcs._tcp"},
    {"vlmcs._tcp.", "near-miss-label",
     "records under vlmcs._tcp (no underscore); clients query _vlmcs._tcp"},
    {"_vlmcs.tcp.", "near-miss-label",
     "records under _vlmcs.tcp (no underscore before tcp); clients query "
     "_vlmcs._tcp"},
};
#define N_NEAR (sizeof near_miss / sizeof near_miss[0])

typedef struct job job_t;
struct job {
  kmsdiag_dns_t *d;
  kmsdiag_dns_result_t *r;
  kmsdiag_dns_done_fn cb;
  void *ud;
  char *name;   /* as given */
  unsigned flags;
  int outstanding;
  bool resolve;   /* A/AAAA follow-ups were on */
  struct timespec t0;
  job_t *next;    /* queue, running list or done list */
  job_t *prev;    /* running list only */
  char *near_names[N_NEAR];
  uint64_t order_seed; /* the draws for this lookup's RFC 2782 order */
};

/* One query in flight. It sits in the context's id table from ares_send()
 * until its callback, so that the socket function can tell which query a
 * reply c-ares will drop (wrong id, other question) was meant for. */
#define QWIRE_MAX 260
#define IDTAB 256
typedef struct subq subq_t;
struct subq {
  job_t *job;
  enum qkind kind;
  size_t idx;
  uint16_t qid;
  bool linked;
  uint8_t qwire[QWIRE_MAX]; /* question as sent: name, type, class */
  size_t qwlen;             /* 0: not kept (never matched by question) */
  unsigned mismatched;      /* dropped replies meant for this query */
  char mm_peer[64];         /* who sent the last of them */
  subq_t *hnext, *hprev;
};

typedef struct chan {
  kmsdiag_dns_t *d;
  ares_channel ch;
  bool tcp;
} chan_t;

typedef struct fdent {
  int fd;
  chan_t *c;
  bool r, w;
} fdent_t;

typedef struct peer {
  int fd;
  struct sockaddr_storage sa;
} peer_t;

struct kmsdiag_dns {
  chan_t udp, tcp;
  bool channels_ready;
  bool destroying;
  kd_server_t servers[KD_RESOLV_MAX_SERVERS];
  size_t nservers;
  bool servers_explicit;
  char *resolv_path;
  char servers_text[KD_RESOLV_MAX_SERVERS * 50];
  char config_note[256];
  unsigned timeout_ms, tries, max_inflight;
  bool follow_up;
  kmsdiag_dns_rand_fn rnd;
  void *rnd_ud;
  uint64_t rng;
  uint64_t order_base; /* drawn from rnd once, see order_seed() */
  bool order_base_set;
  job_t *q_head, *q_tail;
  job_t *running;
  job_t *done_head, *done_tail;
  size_t nqueued, nrunning, ndone;
  fdent_t fds[MAX_FDS];
  size_t nfds;
  peer_t peers[MAX_FDS];
  size_t npeers;
  char last_peer[64];
  subq_t *idtab[IDTAB]; /* queries in flight by id (low byte) */
  /* query ids: random (c-ares 1.18's ares_send uses the id we give it),
   * never two in flight at once */
  uint8_t ids_busy[65536 / 8];
  uint8_t idpool[256];
  size_t idpool_left;
};

/* ---- random source ------------------------------------------------------- */

static uint32_t default_rand(void *ud) {
  kmsdiag_dns_t *d = ud;
  uint64_t z = (d->rng += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

void kmsdiag_dns_set_random(kmsdiag_dns_t *d, kmsdiag_dns_rand_fn rnd,
                            void *userdata) {
  if (!d)
    return;
  d->rnd = rnd ? rnd : default_rand;
  d->rnd_ud = rnd ? userdata : d;
  d->order_base_set = false;
}

/* Each lookup orders its records with its own generator, seeded from one
 * draw of the context's random source and the name queried: the order of
 * a domain then depends on the source (a --seed) and the name only, not
 * on which other lookups ran or in which order answers arrived. */
static uint64_t order_seed(kmsdiag_dns_t *d, const char *qname) {
  uint64_t h = UINT64_C(0xCBF29CE484222325);
  if (!d->order_base_set) {
    d->order_base = ((uint64_t)d->rnd(d->rnd_ud) << 32) | d->rnd(d->rnd_ud);
    d->order_base_set = true;
  }
  for (const char *p = qname; p && *p; p++) {
    unsigned char c = (unsigned char)*p;
    h = (h ^ (uint64_t)(c >= 'A' && c <= 'Z' ? c + 32 : c)) *
        UINT64_C(0x100000001B3);
  }
  return d->order_base ^ h;
}

static uint32_t job_rand(void *ud) {
  uint64_t *s = ud;
  uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* ---- socket functions: remember who answered ------------------------------ */

static peer_t *peer_find(kmsdiag_dns_t *d, int fd) {
  for (size_t i = 0; i < d->npeers; i++)
    if (d->peers[i].fd == fd)
      return &d->peers[i];
  return NULL;
}

static void peer_text(const struct sockaddr *sa, char *buf, size_t bufsz) {
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
    kd_server_text(AF_INET, &s4->sin_addr, ntohs(s4->sin_port), buf, bufsz);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 =
        (const struct sockaddr_in6 *)(const void *)sa;
    kd_server_text(AF_INET6, &s6->sin6_addr, ntohs(s6->sin6_port), buf, bufsz);
  } else if (bufsz) {
    buf[0] = '\0';
  }
}

static ares_socket_t sf_socket(int domain, int type, int protocol, void *ud) {
  kmsdiag_dns_t *d = ud;
  int fd = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (fd >= 0 && type == SOCK_DGRAM) {
    /* one UDP socket carries every query in flight: room for a burst of
     * answers (the kernel caps this at net.core.rmem_max) */
    int want = (int)(d->max_inflight * 2048u);
    if (want < 262144)
      want = 262144;
    if (want > (8 << 20))
      want = 8 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  }
  return fd;
}

static int sf_close(ares_socket_t fd, void *ud) {
  kmsdiag_dns_t *d = ud;
  peer_t *p = peer_find(d, fd);
  if (p)
    *p = d->peers[--d->npeers];
  return close(fd);
}

static int sf_connect(ares_socket_t fd, const struct sockaddr *sa,
                      ares_socklen_t len, void *ud) {
  kmsdiag_dns_t *d = ud;
  peer_t *p = peer_find(d, fd);
  if (!p && d->npeers < MAX_FDS)
    p = &d->peers[d->npeers++];
  if (p) {
    p->fd = fd;
    memset(&p->sa, 0, sizeof p->sa);
    if (len <= sizeof p->sa)
      memcpy(&p->sa, sa, len);
  }
  return connect(fd, sa, len);
}

/* ---- queries in flight, and replies that c-ares will drop ----------------- */

static void subq_link(kmsdiag_dns_t *d, subq_t *s) {
  subq_t **head = &d->idtab[s->qid & (IDTAB - 1)];
  s->hprev = NULL;
  s->hnext = *head;
  if (*head)
    (*head)->hprev = s;
  *head = s;
  s->linked = true;
}

static void subq_unlink(kmsdiag_dns_t *d, subq_t *s) {
  if (!s->linked)
    return;
  if (s->hprev)
    s->hprev->hnext = s->hnext;
  else
    d->idtab[s->qid & (IDTAB - 1)] = s->hnext;
  if (s->hnext)
    s->hnext->hprev = s->hprev;
  s->hnext = s->hprev = NULL;
  s->linked = false;
}

static uint8_t lower_ascii(uint8_t c) {
  return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Does the reply carry exactly the question of `s` (one question, same
 * name ignoring ASCII case, same type and class), as c-ares requires? The
 * walk follows our own question bytes; the reply is only compared. */
static bool same_question(const subq_t *s, const uint8_t *buf, size_t n) {
  kd_reader_t rd;
  const uint8_t *q;
  uint16_t qd;
  size_t i = 0;
  if (s->qwlen == 0)
    return false;
  kd_rd_init(&rd, buf, n);
  kd_rd_skip(&rd, 4);
  qd = kd_rd_be16(&rd);
  kd_rd_skip(&rd, 6);
  q = kd_rd_ptr(&rd, s->qwlen);
  if (!kd_rd_ok(&rd) || !q || qd != 1)
    return false;
  while (i < s->qwlen && s->qwire[i] != 0) {
    size_t len = s->qwire[i];
    if (q[i] != s->qwire[i] || i + 1 + len > s->qwlen)
      return false;
    for (size_t k = i + 1; k <= i + len; k++)
      if (lower_ascii(q[k]) != lower_ascii(s->qwire[k]))
        return false;
    i += 1 + len;
  }
  return i + 5 == s->qwlen && memcmp(q + i, s->qwire + i, 5) == 0;
}

/* A UDP reply was read: if c-ares will not accept it for any query in
 * flight, count it against the query it was meant for (same id, else same
 * question). Replies no query can be named for are not counted. */
static void note_udp_reply(kmsdiag_dns_t *d, const uint8_t *buf, size_t n) {
  kd_reader_t rd;
  uint16_t id;
  subq_t *s = NULL;
  kd_rd_init(&rd, buf, n);
  id = kd_rd_be16(&rd);
  if (!kd_rd_ok(&rd))
    return;
  for (subq_t *c = d->idtab[id & (IDTAB - 1)]; c; c = c->hnext)
    if (c->qid == id) {
      s = c;
      break;
    }
  if (s && n >= 12 && same_question(s, buf, n))
    return; /* what c-ares accepts */
  if (!s)
    for (size_t b = 0; !s && b < IDTAB; b++)
      for (subq_t *c = d->idtab[b]; c; c = c->hnext)
        if (same_question(c, buf, n)) {
          s = c;
          break;
        }
  if (!s)
    return;
  if (s->mismatched < 1000000u)
    s->mismatched++;
  snprintf(s->mm_peer, sizeof s->mm_peer, "%s", d->last_peer);
}

static ares_ssize_t sf_recvfrom(ares_socket_t fd, void *buf, size_t len,
                                int flags, struct sockaddr *from,
                                ares_socklen_t *fromlen, void *ud) {
  kmsdiag_dns_t *d = ud;
  ares_ssize_t n;
  if (from && fromlen)
    n = recvfrom(fd, buf, len, flags, from, fromlen);
  else
    n = recv(fd, buf, len, flags);
  if (n > 0) {
    if (from && fromlen && *fromlen > 0) {
      /* UDP (c-ares reads TCP without a source address) */
      peer_text(from, d->last_peer, sizeof d->last_peer);
      note_udp_reply(d, buf, (size_t)n);
    } else {
      peer_t *p = peer_find(d, fd);
      if (p)
        peer_text((const struct sockaddr *)&p->sa, d->last_peer,
                  sizeof d->last_peer);
    }
  }
  return n;
}

static ares_ssize_t sf_sendv(ares_socket_t fd, const struct iovec *iov,
                             int iovcnt, void *ud) {
  struct msghdr m;
  (void)ud;
  memset(&m, 0, sizeof m);
  m.msg_iov = (struct iovec *)(uintptr_t)iov;
  m.msg_iovlen = (size_t)iovcnt;
  return sendmsg(fd, &m, MSG_NOSIGNAL);
}

static const struct ares_socket_functions sock_funcs = {
    sf_socket, sf_close, sf_connect, sf_recvfrom, sf_sendv};

static void sock_state_cb(void *data, ares_socket_t fd, int readable,
                          int writable) {
  chan_t *c = data;
  kmsdiag_dns_t *d = c->d;
  for (size_t i = 0; i < d->nfds; i++) {
    if (d->fds[i].fd == fd) {
      if (!readable && !writable) {
        d->fds[i] = d->fds[--d->nfds];
      } else {
        d->fds[i].r = readable;
        d->fds[i].w = writable;
        d->fds[i].c = c;
      }
      return;
    }
  }
  if ((readable || writable) && d->nfds < MAX_FDS) {
    d->fds[d->nfds].fd = fd;
    d->fds[d->nfds].c = c;
    d->fds[d->nfds].r = readable;
    d->fds[d->nfds].w = writable;
    d->nfds++;
  }
}

/* ---- configuration --------------------------------------------------------- */

static const char *resolv_path(const kmsdiag_dns_t *d) {
  const char *env;
  if (d->resolv_path)
    return d->resolv_path;
  env = getenv("KMSDIAG_RESOLV_CONF");
  if (env && *env)
    return env;
  return "/etc/resolv.conf";
}

static kmsdiag_status_t read_small_file(const char *path, uint8_t **data,
                                        size_t *len) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  size_t n;
  *data = NULL;
  *len = 0;
  if (!f)
    return KMSDIAG_EIO;
  buf = malloc(RESOLV_MAX_FILE);
  if (!buf) {
    fclose(f);
    return KMSDIAG_ENOMEM;
  }
  n = fread(buf, 1, RESOLV_MAX_FILE, f);
  if (ferror(f)) {
    fclose(f);
    free(buf);
    return KMSDIAG_EIO;
  }
  fclose(f);
  *data = buf;
  *len = n;
  return KMSDIAG_OK;
}

static kmsdiag_status_t load_resolv(const kmsdiag_dns_t *d, kd_resolv_t *rc) {
  uint8_t *data;
  size_t len;
  kmsdiag_status_t st = read_small_file(resolv_path(d), &data, &len);
  memset(rc, 0, sizeof *rc);
  if (st != KMSDIAG_OK)
    return st;
  st = kd_resolv_parse(data, len, rc);
  free(data);
  if (st == KMSDIAG_OK && rc->bad_lines)
    KD_LOG_INFO("%s: %u line(s) ignored as invalid", resolv_path(d),
                rc->bad_lines);
  return st;
}

static void destroy_channels(kmsdiag_dns_t *d) {
  if (!d->channels_ready)
    return;
  ares_destroy(d->udp.ch);
  ares_destroy(d->tcp.ch);
  d->udp.ch = d->tcp.ch = NULL;
  d->channels_ready = false;
  d->nfds = 0;
}

static void servers_text(kmsdiag_dns_t *d) {
  size_t off = 0;
  d->servers_text[0] = '\0';
  for (size_t i = 0; i < d->nservers; i++) {
    char one[64];
    int w;
    kd_server_text(d->servers[i].family, d->servers[i].addr,
                   d->servers[i].port, one, sizeof one);
    w = snprintf(d->servers_text + off, sizeof d->servers_text - off, "%s%s",
                 i ? ", " : "", one);
    if (w < 0 || (size_t)w >= sizeof d->servers_text - off)
      break;
    off += (size_t)w;
  }
}

static int init_channel(kmsdiag_dns_t *d, chan_t *c, bool tcp) {
  struct ares_options o;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
             ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS;
  char lookups[] = "b";
  struct ares_addr_port_node nodes[KD_RESOLV_MAX_SERVERS];
  int rc;
  memset(&o, 0, sizeof o);
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP |
            (tcp ? ARES_FLAG_USEVC : ARES_FLAG_IGNTC);
  o.timeout = (int)d->timeout_ms;
  o.tries = (int)d->tries;
  o.sock_state_cb = sock_state_cb;
  o.sock_state_cb_data = c;
  o.lookups = lookups;
  o.ndomains = 0;
  o.domains = NULL;
  c->d = d;
  c->tcp = tcp;
  rc = ares_init_options(&c->ch, &o, mask);
  if (rc != ARES_SUCCESS)
    return rc;
  ares_set_socket_functions(c->ch, &sock_funcs, d);
  memset(nodes, 0, sizeof nodes);
  for (size_t i = 0; i < d->nservers; i++) {
    nodes[i].next = i + 1 < d->nservers ? &nodes[i + 1] : NULL;
    nodes[i].family = d->servers[i].family;
    if (d->servers[i].family == AF_INET)
      memcpy(&nodes[i].addr.addr4, d->servers[i].addr, 4);
    else
      memcpy(&nodes[i].addr.addr6, d->servers[i].addr, 16);
    nodes[i].udp_port = d->servers[i].port;
    nodes[i].tcp_port = d->servers[i].port;
  }
  rc = ares_set_servers_ports(c->ch, d->nservers ? nodes : NULL);
  if (rc != ARES_SUCCESS) {
    ares_destroy(c->ch);
    c->ch = NULL;
  }
  return rc;
}

/* Set up servers and channels before the first lookup. */
static kmsdiag_status_t ensure_channels(kmsdiag_dns_t *d) {
  int rc;
  if (d->channels_ready)
    return KMSDIAG_OK;
  d->config_note[0] = '\0';
  if (!d->servers_explicit) {
    kd_resolv_t rcf;
    kmsdiag_status_t st = load_resolv(d, &rcf);
    d->nservers = 0;
    if (st == KMSDIAG_ENOMEM)
      return st;
    if (st != KMSDIAG_OK)
      snprintf(d->config_note, sizeof d->config_note, "cannot read %s",
               resolv_path(d));
    for (size_t i = 0; i < rcf.nservers; i++)
      if (kd_server_parse(rcf.servers[i], strlen(rcf.servers[i]),
                          &d->servers[d->nservers]))
        d->nservers++;
    kd_resolv_free(&rcf);
    if (d->nservers == 0 && !d->config_note[0])
      snprintf(d->config_note, sizeof d->config_note,
               "no nameserver line in %s", resolv_path(d));
  }
  servers_text(d);
  if (d->nservers == 0)
    return KMSDIAG_OK; /* lookups fail one by one with a clear message */
  rc = init_channel(d, &d->udp, false);
  if (rc != ARES_SUCCESS) {
    KD_LOG_ERR("c-ares: %s", ares_strerror(rc));
    return rc == ARES_ENOMEM ? KMSDIAG_ENOMEM : KMSDIAG_EDNS;
  }
  rc = init_channel(d, &d->tcp, true);
  if (rc != ARES_SUCCESS) {
    ares_destroy(d->udp.ch);
    d->udp.ch = NULL;
    KD_LOG_ERR("c-ares: %s", ares_strerror(rc));
    return rc == ARES_ENOMEM ? KMSDIAG_ENOMEM : KMSDIAG_EDNS;
  }
  d->channels_ready = true;
  return KMSDIAG_OK;
}

static bool busy(const kmsdiag_dns_t *d) {
  return d->nrunning > 0 || d->nqueued > 0 || d->ndone > 0;
}

kmsdiag_status_t kmsdiag_dns_new(kmsdiag_dns_t **out) {
  kmsdiag_dns_t *d;
  struct timespec ts;
  if (!out)
    return KMSDIAG_EINVAL;
  *out = NULL;
  if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
    return KMSDIAG_EDNS;
  d = calloc(1, sizeof *d);
  if (!d) {
    ares_library_cleanup();
    return KMSDIAG_ENOMEM;
  }
  d->timeout_ms = 2000;
  d->tries = 2;
  d->max_inflight = 128;
  d->follow_up = true;
  clock_gettime(CLOCK_REALTIME, &ts);
  d->rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
           ((uint64_t)getpid() << 40);
  {
    /* a fixed seed for reproducible runs (demos, tests) of tools that
     * have no --seed option */
    /* the same range as kms-find --seed: 0..2147483647, digits only */
    const char *e = getenv("KMSDIAG_DNS_SEED");
    if (e && *e) {
      uint64_t v = 0;
      size_t i = 0;
      for (; e[i] >= '0' && e[i] <= '9' && v <= 2147483647u && i < 12; i++)
        v = v * 10 + (uint64_t)(e[i] - '0');
      if (e[i] == '\0' && v <= 2147483647u)
        d->rng = v;
      else
        KD_LOG_WARN("KMSDIAG_DNS_SEED is not a number 0..2147483647: "
                    "ignored, the order is random");
    }
  }
  kmsdiag_dns_set_random(d, NULL, NULL);
  *out = d;
  return KMSDIAG_OK;
}

static void job_free(job_t *j) {
  if (!j)
    return;
  kmsdiag_dns_result_free(j->r);
  free(j->name);
  for (size_t i = 0; i < N_NEAR; i++)
    free(j->near_names[i]);
  free(j);
}

void kmsdiag_dns_free(kmsdiag_dns_t *d) {
  job_t *j, *n;
  if (!d)
    return;
  d->destroying = true;
  destroy_channels(d); /* callbacks see ARES_EDESTRUCTION */
  for (j = d->q_head; j; j = n) {
    n = j->next;
    job_free(j);
  }
  for (j = d->running; j; j = n) {
    n = j->next;
    job_free(j);
  }
  for (j = d->done_head; j; j = n) {
    n = j->next;
    job_free(j);
  }
  free(d->resolv_path);
  free(d);
  ares_library_cleanup();
}

kmsdiag_status_t kmsdiag_dns_set_servers(kmsdiag_dns_t *d,
                                         const char *list) {
  kd_server_t tmp[KD_RESOLV_MAX_SERVERS];
  size_t n = 0;
  const char *p;
  if (!d)
    return KMSDIAG_EINVAL;
  if (busy(d))
    return KMSDIAG_ESTATE;
  if (!list || !*list) {
    destroy_channels(d);
    d->servers_explicit = false;
    d->nservers = 0;
    return KMSDIAG_OK;
  }
  p = list;
  while (*p) {
    size_t len;
    while (*p == ',' || *p == ' ' || *p == '\t')
      p++;
    if (!*p)
      break;
    len = strcspn(p, ", \t");
    if (n >= KD_RESOLV_MAX_SERVERS)
      return KMSDIAG_ETOOBIG;
    if (!kd_server_parse(p, len, &tmp[n]))
      return KMSDIAG_EPARSE;
    n++;
    p += len;
  }
  if (n == 0)
    return KMSDIAG_EPARSE;
  destroy_channels(d);
  memcpy(d->servers, tmp, n * sizeof tmp[0]);
  d->nservers = n;
  d->servers_explicit = true;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_dns_set_resolv_conf(kmsdiag_dns_t *d,
                                             const char *path) {
  char *c = NULL;
  if (!d)
    return KMSDIAG_EINVAL;
  if (busy(d))
    return KMSDIAG_ESTATE;
  if (path) {
    c = strdup(path);
    if (!c)
      return KMSDIAG_ENOMEM;
  }
  free(d->resolv_path);
  d->resolv_path = c;
  if (!d->servers_explicit)
    destroy_channels(d);
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_dns_set_timeout_ms(kmsdiag_dns_t *d, unsigned ms) {
  if (!d || ms < 10 || ms > 600000)
    return KMSDIAG_EINVAL;
  if (busy(d))
    return KMSDIAG_ESTATE;
  d->timeout_ms = ms;
  destroy_channels(d);
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_dns_set_tries(kmsdiag_dns_t *d, unsigned tries) {
  if (!d || tries < 1 || tries > 10)
    return KMSDIAG_EINVAL;
  if (busy(d))
    return KMSDIAG_ESTATE;
  d->tries = tries;
  destroy_channels(d);
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_dns_set_max_inflight(kmsdiag_dns_t *d, unsigned n) {
  if (!d || n < 1 || n > 4096)
    return KMSDIAG_EINVAL;
  d->max_inflight = n;
  return KMSDIAG_OK;
}

void kmsdiag_dns_set_follow_up(kmsdiag_dns_t *d, bool on) {
  if (d)
    d->follow_up = on;
}

void kmsdiag_dns_strv_free(char **v) {
  if (!v)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

static bool same_domain(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la && a[la - 1] == '.')
    la--;
  if (lb && b[lb - 1] == '.')
    lb--;
  return la == lb && strncasecmp(a, b, la) == 0;
}

kmsdiag_status_t kmsdiag_dns_config_domains(kmsdiag_dns_t *d,
                                            char ***domains,
                                            const char ***sources) {
  kd_resolv_t rc;
  kmsdiag_status_t st;
  char **v;
  const char **src = NULL;
  size_t n = 0;
  if (!d || !domains)
    return KMSDIAG_EINVAL;
  *domains = NULL;
  if (sources)
    *sources = NULL;
  st = load_resolv(d, &rc);
  if (st == KMSDIAG_ENOMEM)
    return st;
  v = calloc(KD_RESOLV_MAX_SEARCH + 2, sizeof *v);
  if (sources)
    src = calloc(KD_RESOLV_MAX_SEARCH + 2, sizeof *src);
  if (!v || (sources && !src)) {
    free(v);
    free(src);
    kd_resolv_free(&rc);
    return KMSDIAG_ENOMEM;
  }
  if (st == KMSDIAG_OK) {
    if (rc.domain) {
      v[n] = rc.domain;
      rc.domain = NULL;
      if (src)
        src[n] = "primary-suffix";
      n++;
    }
    for (size_t i = 0; i < rc.nsearch; i++) {
      bool dup = false;
      for (size_t k = 0; k < n; k++)
        if (same_domain(v[k], rc.search[i]))
          dup = true;
      if (dup)
        continue;
      v[n] = rc.search[i];
      rc.search[i] = NULL;
      if (src)
        src[n] = "search-list";
      n++;
    }
  }
  kd_resolv_free(&rc);
  *domains = v;
  if (sources)
    *sources = src;
  return st;
}

/* ---- jobs ------------------------------------------------------------------ */

static unsigned ms_since(const struct timespec *t0) {
  struct timespec now;
  long long ms;
  clock_gettime(CLOCK_MONOTONIC, &now);
  ms = (long long)(now.tv_sec - t0->tv_sec) * 1000 +
       (now.tv_nsec - t0->tv_nsec) / 1000000;
  return ms < 0 ? 0 : (unsigned)ms;
}

static void unlink_running(kmsdiag_dns_t *d, job_t *j) {
  if (j->prev)
    j->prev->next = j->next;
  else
    d->running = j->next;
  if (j->next)
    j->next->prev = j->prev;
  j->next = j->prev = NULL;
  d->nrunning--;
}

static void push_done(kmsdiag_dns_t *d, job_t *j) {
  j->next = NULL;
  if (d->done_tail)
    d->done_tail->next = j;
  else
    d->done_head = j;
  d->done_tail = j;
  d->ndone++;
}

static void complete(job_t *j) {
  kmsdiag_dns_t *d = j->d;
  if (j->flags & KD_DNS_ADDR_QUERY)
    j->r->hresult = j->r->status == KMSDIAG_OK ? KMSDIAG_HR_OK
                                               : KMSDIAG_HR_DNS_SERVER_FAILURE;
  else
    kd_dns_finish(j->r, j->resolve, job_rand, &j->order_seed);
  j->r->elapsed_ms = ms_since(&j->t0);
  unlink_running(d, j);
  push_done(d, j);
}

static void sub_done(job_t *j) {
  if (--j->outstanding == 0)
    complete(j);
}

static void ares_cb(void *arg, int status, int timeouts, unsigned char *abuf,
                    int alen);

static uint16_t random_u16(kmsdiag_dns_t *d) {
  uint16_t v;
  if (d->idpool_left < 2) {
    ssize_t n = getrandom(d->idpool, sizeof d->idpool, 0);
    if (n != (ssize_t)sizeof d->idpool) {
      /* no kernel entropy call: fall back to the context generator */
      for (size_t i = 0; i < sizeof d->idpool; i += 4) {
        uint32_t x = default_rand(d);
        memcpy(d->idpool + i, &x, 4);
      }
    }
    d->idpool_left = sizeof d->idpool;
  }
  d->idpool_left -= 2;
  memcpy(&v, d->idpool + d->idpool_left, 2);
  return v;
}

static uint16_t new_qid(kmsdiag_dns_t *d) {
  uint16_t id = 0;
  for (int tries = 0; tries < 64; tries++) {
    id = random_u16(d);
    if (!(d->ids_busy[id >> 3] & (1u << (id & 7))))
      break;
  }
  d->ids_busy[id >> 3] |= (uint8_t)(1u << (id & 7));
  return id;
}

static void release_qid(kmsdiag_dns_t *d, uint16_t id) {
  d->ids_busy[id >> 3] &= (uint8_t)~(1u << (id & 7));
}

static bool send_query(job_t *j, chan_t *c, const char *qname, int type,
                       enum qkind kind, size_t idx) {
  unsigned char *q = NULL;
  int qlen = 0;
  subq_t *s;
  uint16_t qid = new_qid(j->d);
  if (ares_create_query(qname, 1 /* IN */, type, qid, 1, &q, &qlen, 0) !=
      ARES_SUCCESS) {
    release_qid(j->d, qid);
    return false;
  }
  s = calloc(1, sizeof *s);
  if (!s) {
    release_qid(j->d, qid);
    ares_free_string(q);
    return false;
  }
  s->qid = qid;
  s->job = j;
  s->kind = kind;
  s->idx = idx;
  if (qlen > 12 && (size_t)qlen - 12 <= sizeof s->qwire) {
    s->qwlen = (size_t)qlen - 12;
    memcpy(s->qwire, q + 12, s->qwlen);
  }
  subq_link(j->d, s);
  j->outstanding++;
  ares_send(c->ch, q, qlen, ares_cb, s);
  ares_free_string(q);
  return true;
}

static void transport_error(job_t *j, const subq_t *s, int status,
                            int timeouts) {
  kmsdiag_dns_t *d = j->d;
  kmsdiag_dns_result_t *r = j->r;
  const char *via = r->truncated_udp ? " over TCP" : "";
  if (s->kind == Q_SRV)
    r->mismatched_replies += s->mismatched;
  if (status == ARES_ETIMEOUT && s->kind == Q_SRV && s->mismatched > 0) {
    /* c-ares dropped them and timed out; the client would not have
     * accepted them either, but this is not silence */
    snprintf(r->server, sizeof r->server, "%s", s->mm_peer);
    kd_dns_fail(r, KMSDIAG_EPROTO,
                "no valid answer%s from %s: %u repl%s that %s not match the "
                "query (wrong id or question, or cut short) arrived instead "
                "(%d tr%s of %u ms each)",
                via, s->mm_peer[0] ? s->mm_peer : d->servers_text,
                s->mismatched, s->mismatched == 1 ? "y" : "ies",
                s->mismatched == 1 ? "does" : "do",
                timeouts > 0 ? timeouts : (int)d->tries,
                timeouts == 1 ? "y" : "ies", d->timeout_ms);
    return;
  }
  switch (status) {
  case ARES_ETIMEOUT:
    kd_dns_fail(r, KMSDIAG_ETIMEOUT,
                "no answer%s from %s (%d tr%s of %u ms each)", via,
                d->servers_text, timeouts > 0 ? timeouts : (int)d->tries,
                timeouts == 1 ? "y" : "ies", d->timeout_ms);
    break;
  case ARES_ECONNREFUSED:
    kd_dns_fail(r, KMSDIAG_ECONNREFUSED, "connection refused%s by %s", via,
                d->servers_text);
    break;
  case ARES_ENOMEM:
    kd_dns_fail(r, KMSDIAG_ENOMEM, "out of memory");
    break;
  default:
    kd_dns_fail(r, KMSDIAG_EDNS, "query%s to %s failed: %s", via,
                d->servers_text, ares_strerror(status));
  }
}

static void srv_answer(job_t *j, subq_t *s, const unsigned char *abuf,
                       int alen) {
  kmsdiag_dns_t *d = j->d;
  kmsdiag_dns_result_t *old = j->r, *r = kd_dns_result_new();
  if (!r || !(r->qname = strdup(old->qname))) {
    kmsdiag_dns_result_free(r);
    kd_dns_fail(old, KMSDIAG_ENOMEM, "out of memory");
    return;
  }
  /* the new result replaces the old one; keep what the job set */
  r->domain = old->domain;
  old->domain = NULL;
  r->source = old->source;
  r->truncated_udp = old->truncated_udp;
  r->via_tcp = old->truncated_udp;
  r->mismatched_replies = old->mismatched_replies + s->mismatched;
  snprintf(r->server, sizeof r->server, "%s", d->last_peer);
  kd_dns_parse_srv(r, abuf, (size_t)alen);
  kmsdiag_dns_result_free(old);
  j->r = r;
  if (r->status != KMSDIAG_OK)
    return;
  if (r->tc && !r->via_tcp) {
    /* retry over TCP, as a client does; keep the UDP answer's facts */
    r->truncated_udp = true;
    for (size_t i = 0; i < r->nrecords; i++) {
      free(r->records[i].target);
      free(r->records[i].addrs);
      free(r->records[i].cname);
    }
    free(r->records);
    r->records = NULL;
    r->nrecords = 0;
    for (size_t i = 0; i < r->nproblems; i++)
      free(r->problems[i].message);
    free(r->problems);
    r->problems = NULL;
    r->nproblems = 0;
    r->answered = false;
    if (!send_query(j, &d->tcp, r->qname, KD_DNS_TYPE_SRV, Q_SRV, 0))
      kd_dns_fail(r, KMSDIAG_ENOMEM, "out of memory");
    return;
  }
  if (!d->follow_up)
    return;
  j->resolve = true;
  for (size_t i = 0, sent = 0; i < r->nrecords; i++) {
    kmsdiag_dns_srv_t *sv = &r->records[i];
    bool has4 = false, has6 = false;
    if (strcmp(sv->target, ".") == 0)
      continue;
    for (size_t k = 0; k < sv->naddrs; k++) {
      if (sv->addrs[k].family == AF_INET)
        has4 = true;
      else
        has6 = true;
    }
    /* the additional section is a courtesy of the server: a family it
     * does not carry may still exist, so ask for what is missing */
    if (has4 && has6)
      continue;
    if (sent >= KD_DNS_MAX_RESOLVE)
      break;
    sv->addrs_queried = true;
    if (!has4)
      send_query(j, &d->udp, sv->target, KD_DNS_TYPE_A, Q_A, i);
    if (!has6)
      send_query(j, &d->udp, sv->target, KD_DNS_TYPE_AAAA, Q_AAAA, i);
    sent++;
  }
  if (!(j->flags & KMSDIAG_DNS_EXACT_NAME) && j->r->domain) {
    bool usable = false;
    for (size_t i = 0; i < r->nrecords; i++)
      if (strcmp(r->records[i].target, ".") != 0 && r->records[i].port != 0)
        usable = true;
    if (!usable) {
      for (size_t k = 0; k < N_NEAR; k++) {
        char name[600];
        const char *dom = j->r->domain;
        snprintf(name, sizeof name, "%s%s", near_miss[k].prefix, dom);
        j->near_names[k] = strdup(name);
        if (j->near_names[k])
          send_query(j, &d->udp, name, KD_DNS_TYPE_SRV, Q_NEAR, k);
      }
    }
  }
}

static void ares_cb(void *arg, int status, int timeouts, unsigned char *abuf,
                    int alen) {
  subq_t *s = arg;
  job_t *j = s->job;
  kmsdiag_dns_t *d = j->d;
  subq_unlink(d, s);
  release_qid(d, s->qid);
  if (status == ARES_EDESTRUCTION || d->destroying) {
    free(s);
    return;
  }
  switch (s->kind) {
  case Q_SRV:
    if (status == ARES_SUCCESS && abuf && alen > 0)
      srv_answer(j, s, abuf, alen);
    else
      transport_error(j, s, status, timeouts);
    break;
  case Q_A:
  case Q_AAAA:
    if (s->idx < j->r->nrecords) {
      kmsdiag_dns_srv_t *sv = &j->r->records[s->idx];
      char err[300];
      int rc = -1;
      err[0] = '\0';
      if (status == ARES_SUCCESS && abuf && alen > 0)
        rc = kd_dns_parse_addr(sv, abuf, (size_t)alen, err, sizeof err);
      else if (s->mismatched)
        snprintf(err, sizeof err, "%s (%u repl%s from %s did not match the "
                 "query)", ares_strerror(status), s->mismatched,
                 s->mismatched == 1 ? "y" : "ies", s->mm_peer);
      else
        snprintf(err, sizeof err, "%s", ares_strerror(status));
      if (j->flags & KD_DNS_ADDR_QUERY) {
        /* an address lookup job: the result tells what the server said */
        if (rc >= 0) {
          j->r->status = KMSDIAG_OK;
          free(j->r->error);
          j->r->error = NULL;
          j->r->answered = true;
          if (j->r->rcode < 0 || rc == 0)
            j->r->rcode = rc;
          if (!j->r->server[0])
            snprintf(j->r->server, sizeof j->r->server, "%s", d->last_peer);
        } else if (!j->r->answered) {
          if (status == ARES_SUCCESS)
            kd_dns_fail(j->r, KMSDIAG_EMALFORMED, "%s", err);
          else
            transport_error(j, s, status, timeouts);
        }
      }
      if (rc < 0 || (rc != 0 && rc != 3))
        kd_dns_problem(j->r, KMSDIAG_DNS_WARNING, "target-lookup-failed",
                       "%s lookup for %s failed: %s",
                       s->kind == Q_A ? "A" : "AAAA", sv->target,
                       rc < 0 ? err : kmsdiag_dns_rcode_name(rc));
    }
    break;
  case Q_NEAR:
    if (status == ARES_SUCCESS && abuf && alen > 0 && s->idx < N_NEAR &&
        j->near_names[s->idx]) {
      int n = kd_dns_count_srv(abuf, (size_t)alen, j->near_names[s->idx]);
      if (n > 0)
        kd_dns_problem(j->r, KMSDIAG_DNS_WARNING, near_miss[s->idx].rule,
                       "%d SRV record%s at %s: %s", n, n == 1 ? "" : "s",
                       j->near_names[s->idx], near_miss[s->idx].what);
    }
    break;
  }
  free(s);
  sub_done(j);
}

static void start_job(kmsdiag_dns_t *d, job_t *j) {
  char qname[600];
  char norm[600];
  kmsdiag_dns_result_t *r = j->r;
  kmsdiag_status_t st;
  clock_gettime(CLOCK_MONOTONIC, &j->t0);
  /* running list */
  j->next = d->running;
  j->prev = NULL;
  if (d->running)
    d->running->prev = j;
  d->running = j;
  d->nrunning++;
  j->outstanding = 1; /* held by the start itself */
  if (!j->name) {
    kd_dns_fail(r, KMSDIAG_EINVAL,
                "no domain: no primary DNS suffix and no search list");
    goto out;
  }
  if (j->flags & (KMSDIAG_DNS_EXACT_NAME | KD_DNS_ADDR_QUERY))
    snprintf(qname, sizeof qname, "%s", j->name);
  else
    snprintf(qname, sizeof qname, "_vlmcs._tcp.%s", j->name);
  if (strlen(j->name) > 253 || j->name[0] == '.' ||
      !kd_dns_normalize_name(qname, norm, sizeof norm) || strlen(norm) > 254) {
    kd_dns_fail(r, KMSDIAG_EINVAL, "\"%s\" is not a valid DNS domain",
                j->name);
    goto out;
  }
  r->qname = strdup(norm);
  if (!r->qname) {
    kd_dns_fail(r, KMSDIAG_ENOMEM, "out of memory");
    goto out;
  }
  j->order_seed = order_seed(d, norm);
  st = ensure_channels(d);
  if (st != KMSDIAG_OK) {
    kd_dns_fail(r, st, "cannot start the resolver: %s", kmsdiag_strerror(st));
    goto out;
  }
  if (d->nservers == 0) {
    kd_dns_fail(r, KMSDIAG_EDNS, "no DNS server configured (%s)",
                d->config_note[0] ? d->config_note : "empty server list");
    goto out;
  }
  if (j->flags & KD_DNS_ADDR_QUERY) {
    /* A and AAAA of the name itself, into one pseudo-record */
    r->qtype = KD_DNS_TYPE_A;
    r->records = calloc(1, sizeof *r->records);
    if (!r->records || !(r->records[0].target = strdup(norm))) {
      kd_dns_fail(r, KMSDIAG_ENOMEM, "out of memory");
      goto out;
    }
    r->nrecords = 1;
    r->records[0].addrs_queried = true;
    if (!send_query(j, &d->udp, norm, KD_DNS_TYPE_A, Q_A, 0) ||
        !send_query(j, &d->udp, norm, KD_DNS_TYPE_AAAA, Q_AAAA, 0))
      kd_dns_fail(r, KMSDIAG_ENOMEM, "out of memory");
    goto out;
  }
  if (!send_query(j, &d->udp, r->qname, KD_DNS_TYPE_SRV, Q_SRV, 0))
    kd_dns_fail(r, KMSDIAG_ENOMEM, "out of memory");
out:
  sub_done(j);
}

static void pump(kmsdiag_dns_t *d) {
  while (d->q_head && d->nrunning < d->max_inflight) {
    job_t *j = d->q_head;
    d->q_head = j->next;
    if (!d->q_head)
      d->q_tail = NULL;
    d->nqueued--;
    start_job(d, j);
  }
}

static void deliver(kmsdiag_dns_t *d) {
  while (d->done_head) {
    job_t *j = d->done_head;
    kmsdiag_dns_result_t *r = j->r;
    d->done_head = j->next;
    if (!d->done_head)
      d->done_tail = NULL;
    d->ndone--;
    j->r = NULL;
    j->cb(r, j->ud);
    job_free(j);
  }
}

kmsdiag_status_t kmsdiag_dns_start(kmsdiag_dns_t *d, const char *name,
                                   const char *source, unsigned flags,
                                   kmsdiag_dns_done_fn cb, void *userdata) {
  job_t *j;
  if (!d || !cb)
    return KMSDIAG_EINVAL;
  j = calloc(1, sizeof *j);
  if (!j)
    return KMSDIAG_ENOMEM;
  j->d = d;
  j->cb = cb;
  j->ud = userdata;
  j->flags = flags;
  j->r = kd_dns_result_new();
  if (!j->r)
    goto nomem;
  j->r->source = source ? source
                  : (flags & (KMSDIAG_DNS_EXACT_NAME | KD_DNS_ADDR_QUERY))
                      ? "exact-name"
                      : "argument";
  if (name) {
    j->name = strdup(name);
    if (!j->name)
      goto nomem;
    if (!(flags & (KMSDIAG_DNS_EXACT_NAME | KD_DNS_ADDR_QUERY))) {
      j->r->domain = strdup(name);
      if (!j->r->domain)
        goto nomem;
    }
  }
  if (d->q_tail)
    d->q_tail->next = j;
  else
    d->q_head = j;
  d->q_tail = j;
  d->nqueued++;
  return KMSDIAG_OK;
nomem:
  job_free(j);
  return KMSDIAG_ENOMEM;
}

size_t kmsdiag_dns_pending(const kmsdiag_dns_t *d) {
  return d ? d->nqueued + d->nrunning + d->ndone : 0;
}

size_t kmsdiag_dns_fds(kmsdiag_dns_t *d, kmsdiag_dns_fd_t *fds, size_t max) {
  if (!d)
    return 0;
  pump(d);
  for (size_t i = 0; i < d->nfds && i < max && fds; i++) {
    fds[i].fd = d->fds[i].fd;
    fds[i].want_read = d->fds[i].r;
    fds[i].want_write = d->fds[i].w;
  }
  return d->nfds;
}

int kmsdiag_dns_next_timeout_ms(kmsdiag_dns_t *d) {
  struct timeval tv, *tp;
  long best = -1;
  if (!d)
    return -1;
  if (d->ndone || (d->nqueued && d->nrunning < d->max_inflight))
    return 0;
  if (!d->channels_ready)
    return d->nrunning ? 0 : -1;
  for (int k = 0; k < 2; k++) {
    ares_channel ch = k ? d->tcp.ch : d->udp.ch;
    tp = ares_timeout(ch, NULL, &tv);
    if (tp) {
      long ms = (long)tp->tv_sec * 1000 + (tp->tv_usec + 999) / 1000;
      if (best < 0 || ms < best)
        best = ms;
    }
  }
  if (best < 0 && d->nrunning)
    best = 100; /* should not happen; never sleep forever with work */
  return best > 600000 ? 600000 : (int)best;
}

void kmsdiag_dns_process(kmsdiag_dns_t *d, int fd, bool readable,
                         bool writable) {
  if (!d)
    return;
  if (d->channels_ready) {
    chan_t *owner = NULL;
    for (size_t i = 0; fd >= 0 && i < d->nfds; i++)
      if (d->fds[i].fd == fd)
        owner = d->fds[i].c;
    if (owner) {
      d->last_peer[0] = '\0';
      ares_process_fd(owner->ch, readable ? fd : ARES_SOCKET_BAD,
                      writable ? fd : ARES_SOCKET_BAD);
    }
    /* timers of both channels */
    d->last_peer[0] = '\0';
    ares_process_fd(d->udp.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    ares_process_fd(d->tcp.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
  deliver(d);
  pump(d);
}

kmsdiag_status_t kmsdiag_dns_run(kmsdiag_dns_t *d) {
  struct pollfd pfd[MAX_FDS];
  kmsdiag_dns_fd_t f[MAX_FDS];
  if (!d)
    return KMSDIAG_EINVAL;
  for (;;) {
    size_t n;
    int tmo, rc;
    deliver(d);
    n = kmsdiag_dns_fds(d, f, MAX_FDS);
    if (n > MAX_FDS)
      n = MAX_FDS;
    deliver(d); /* jobs that completed while starting */
    if (kmsdiag_dns_pending(d) == 0)
      return KMSDIAG_OK;
    tmo = kmsdiag_dns_next_timeout_ms(d);
    for (size_t i = 0; i < n; i++) {
      pfd[i].fd = f[i].fd;
      pfd[i].events = (short)((f[i].want_read ? POLLIN : 0) |
                              (f[i].want_write ? POLLOUT : 0));
      pfd[i].revents = 0;
    }
    rc = poll(pfd, (nfds_t)n, tmo);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      return KMSDIAG_ESYS;
    }
    if (rc == 0) {
      kmsdiag_dns_process(d, -1, false, false);
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      if (!pfd[i].revents)
        continue;
      kmsdiag_dns_process(
          d, pfd[i].fd, (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0,
          (pfd[i].revents & (POLLOUT | POLLERR)) != 0);
    }
  }
}

/* Forget every job without calling back. */
static void drop_all(kmsdiag_dns_t *d) {
  job_t *lists[3] = {d->q_head, d->running, d->done_head};
  d->destroying = true;
  destroy_channels(d);
  d->destroying = false;
  for (int k = 0; k < 3; k++) {
    job_t *j = lists[k], *n;
    for (; j; j = n) {
      n = j->next;
      job_free(j);
    }
  }
  d->q_head = d->q_tail = d->running = d->done_head = d->done_tail = NULL;
  d->nqueued = d->nrunning = d->ndone = 0;
}

/* ---- blocking lookup ------------------------------------------------------- */

typedef struct slot {
  kmsdiag_dns_results_t *rs;
  size_t idx;
} slot_t;

static void collect(kmsdiag_dns_result_t *r, void *ud) {
  slot_t *s = ud;
  s->rs->items[s->idx] = r;
}

kmsdiag_status_t kmsdiag_dns_lookup(kmsdiag_dns_t *d,
                                    const char *const *domains, size_t n,
                                    kmsdiag_dns_results_t **out) {
  kmsdiag_dns_results_t *rs;
  slot_t *slots = NULL;
  char **cfg = NULL;
  const char **src = NULL;
  kmsdiag_status_t st = KMSDIAG_OK;
  size_t count;
  if (!d || !out || (n && !domains))
    return KMSDIAG_EINVAL;
  *out = NULL;
  if (busy(d))
    return KMSDIAG_ESTATE;
  if (n == 0) {
    st = kmsdiag_dns_config_domains(d, &cfg, &src);
    if (st == KMSDIAG_ENOMEM)
      return st;
    st = KMSDIAG_OK;
    for (count = 0; cfg && cfg[count]; count++)
      ;
  } else {
    count = n;
  }
  rs = calloc(1, sizeof *rs);
  if (!rs)
    goto nomem;
  rs->count = count ? count : 1;
  rs->items = calloc(rs->count, sizeof *rs->items);
  slots = calloc(rs->count, sizeof *slots);
  if (!rs->items || !slots)
    goto nomem;
  for (size_t i = 0; i < rs->count; i++) {
    const char *name = n ? domains[i] : (count ? cfg[i] : NULL);
    const char *source = n ? "argument" : (count ? src[i] : "primary-suffix");
    slots[i].rs = rs;
    slots[i].idx = i;
    st = kmsdiag_dns_start(d, name, source, 0, collect, &slots[i]);
    if (st != KMSDIAG_OK)
      break;
  }
  if (st == KMSDIAG_OK)
    st = kmsdiag_dns_run(d);
  if (st != KMSDIAG_OK)
    drop_all(d); /* their callbacks point into `slots` */
  free(slots);
  kmsdiag_dns_strv_free(cfg);
  free(src);
  for (size_t i = 0; i < rs->count; i++)
    if (!rs->items[i]) {
      kmsdiag_dns_results_free(rs);
      return st != KMSDIAG_OK ? st : KMSDIAG_ESTATE;
    }
  *out = rs;
  return KMSDIAG_OK;
nomem:
  if (rs)
    kmsdiag_dns_results_free(rs);
  free(slots);
  kmsdiag_dns_strv_free(cfg);
  free(src);
  return KMSDIAG_ENOMEM;
}
