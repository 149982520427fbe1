/* kms-test-responder: a KMS host for tests, on loopback only.
 *
 * Answers the way a KMS host does (DCE/RPC bind, then RequestActivation
 * with a V4/V5/V6 response), or misbehaves on purpose, per listening
 * socket. Never installed; refuses any address outside 127.0.0.0/8 and ::1.
 * See README.md next to this file for the listener syntax and behaviours. */
#define _GNU_SOURCE 1 /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "responder.h"

#define MAX_LISTENERS 4096
#define MAX_CONNS 8192
#define IN_CAP 8192

typedef struct listener {
  int fd;
  int family;
  char addr[INET6_ADDRSTRLEN];
  uint16_t port;
  rsp_config_t cfg;
} listener_t;

typedef struct conn {
  int fd;
  const listener_t *l;
  uint8_t in[IN_CAP];
  size_t in_len;
  uint8_t *out;
  size_t out_len, out_off;
  uint64_t next_at;   /* monotonic ms when the next bytes may go */
  size_t chunk;       /* bytes per send (0 = all at once) */
  unsigned chunk_ms;  /* pause between chunks */
  bool close_after;   /* close once the output is sent */
  bool hold;          /* stop reading and answering (silent) */
  unsigned requests;  /* requests answered on this connection */
} conn_t;

static listener_t *g_lis;
static size_t g_nlis;
static conn_t *g_conns[MAX_CONNS];
static size_t g_nconns, g_peak_conns;
static bool g_quiet;
static FILE *g_log;
static volatile sig_atomic_t g_stop;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "kms-test-responder: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...) {
  va_list ap;
  if (g_quiet)
    return;
  fprintf(stderr, "kms-test-responder: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

uint64_t rsp_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- listeners ---- */

static bool is_loopback(int family, const void *a) {
  if (family == AF_INET)
    return ((const uint8_t *)a)[0] == 127;
  return memcmp(a, &in6addr_loopback, sizeof in6addr_loopback) == 0;
}

static void add_listener(const char *addr, uint16_t port,
                         const rsp_config_t *cfg) {
  struct sockaddr_storage ss;
  socklen_t sl;
  listener_t *l;
  int one = 1;
  memset(&ss, 0, sizeof ss);
  if (g_nlis >= MAX_LISTENERS)
    die("too many listeners (at most %d)", MAX_LISTENERS);
  l = &g_lis[g_nlis];
  memset(l, 0, sizeof *l);
  if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    sl = sizeof *s;
    l->family = AF_INET;
    if (!is_loopback(AF_INET, &s->sin_addr))
      die("refusing to listen on %s: only 127.0.0.0/8 and ::1 are allowed",
          addr);
  } else if (inet_pton(AF_INET6, addr,
                       &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    sl = sizeof *s;
    l->family = AF_INET6;
    if (!is_loopback(AF_INET6, &s->sin6_addr))
      die("refusing to listen on %s: only 127.0.0.0/8 and ::1 are allowed",
          addr);
  } else {
    die("not an IP address: %s (names are not accepted)", addr);
  }
  l->fd = socket(l->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (l->fd < 0)
    die("socket: %s", strerror(errno));
  setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (l->family == AF_INET6)
    setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(l->fd, (struct sockaddr *)&ss, sl) != 0)
    die("bind %s port %u: %s", addr, port, strerror(errno));
  if (listen(l->fd, 1024) != 0)
    die("listen: %s", strerror(errno));
  sl = sizeof ss;
  getsockname(l->fd, (struct sockaddr *)&ss, &sl);
  l->port = ntohs(l->family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                       : ((struct sockaddr_in6 *)&ss)->sin6_port);
  snprintf(l->addr, sizeof l->addr, "%s", addr);
  l->cfg = *cfg;
  g_nlis++;
}

/* "ADDR:PORT=BEHAVIOUR[,k=v...]", "[V6]:PORT=...", or a range
 * "A.B.C.D-A.B.C.E:P1-P2=..." (IPv4 only) for many listeners at once. */
static void parse_listener(const char *spec) {
  char buf[512], *eq, *hp, *colon;
  rsp_config_t cfg;
  char err[200];
  if (strlen(spec) >= sizeof buf)
    die("listener spec too long: %.40s...", spec);
  strcpy(buf, spec);
  eq = strchr(buf, '=');
  if (!eq)
    die("listener '%s' has no '=BEHAVIOUR'", spec);
  *eq = '\0';
  if (!rsp_config_parse(eq + 1, &cfg, err, sizeof err))
    die("listener '%s': %s", spec, err);
  hp = buf;
  if (hp[0] == '[') {
    char *end = strchr(hp, ']');
    if (!end || end[1] != ':')
      die("listener '%s': expected [V6ADDR]:PORT", spec);
    *end = '\0';
    char *pe;
    unsigned long port = strtoul(end + 2, &pe, 10);
    if (end[2] == '\0' || *pe || port > 65535)
      die("listener '%s': bad port", spec);
    add_listener(hp + 1, (uint16_t)port, &cfg);
    return;
  }
  colon = strrchr(hp, ':');
  if (!colon)
    die("listener '%s': expected ADDR:PORT", spec);
  *colon = '\0';
  char *portspec = colon + 1, *dash;
  unsigned long p1 = strtoul(portspec, &dash, 10), p2 = p1;
  char *pend = dash;
  if (*dash == '-')
    p2 = strtoul(dash + 1, &pend, 10);
  if (*portspec == '\0' || *pend || p1 > 65535 || p2 > 65535 || p2 < p1 ||
      (p1 == 0 && p2 != 0))
    die("listener '%s': bad port", spec);
  char *adash = strchr(hp, '-');
  if (!adash) {
    for (unsigned long p = p1; p <= p2; p++) {
      add_listener(hp, (uint16_t)p, &cfg);
      if (p == 0)
        break;
    }
    return;
  }
  *adash = '\0';
  struct in_addr a1, a2;
  if (inet_pton(AF_INET, hp, &a1) != 1 || inet_pton(AF_INET, adash + 1, &a2) != 1)
    die("listener '%s': bad IPv4 range", spec);
  uint32_t h1 = ntohl(a1.s_addr), h2 = ntohl(a2.s_addr);
  if (h2 < h1 || h2 - h1 > MAX_LISTENERS)
    die("listener '%s': bad IPv4 range", spec);
  for (uint32_t h = h1; h <= h2; h++) {
    struct in_addr a = {htonl(h)};
    char txt[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, txt, sizeof txt);
    for (unsigned long p = p1; p <= p2; p++) {
      add_listener(txt, (uint16_t)p, &cfg);
      if (p == 0)
        break;
    }
  }
}

static void parse_script(const char *path) {
  FILE *f = fopen(path, "r");
  char line[600];
  if (!f)
    die("cannot open %s: %s", path, strerror(errno));
  while (fgets(line, sizeof line, f)) {
    char *s = line;
    size_t n;
    while (*s == ' ' || *s == '\t')
      s++;
    n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
      s[--n] = '\0';
    if (!*s || *s == '#')
      continue;
    parse_listener(s);
  }
  fclose(f);
}

/* ---- connections ---- */

static void conn_close(size_t i) {
  conn_t *c = g_conns[i];
  close(c->fd);
  free(c->out);
  free(c);
  g_conns[i] = g_conns[--g_nconns];
}

void rsp_queue(rsp_conn_t *c, const uint8_t *data, size_t len) {
  conn_t *cc = (conn_t *)c;
  uint8_t *n;
  if (!len)
    return;
  n = realloc(cc->out, cc->out_len + len);
  if (!n)
    die("out of memory");
  memcpy(n + cc->out_len, data, len);
  cc->out = n;
  cc->out_len += len;
}

void rsp_pace(rsp_conn_t *c, unsigned delay_ms, size_t chunk,
              unsigned chunk_ms) {
  conn_t *cc = (conn_t *)c;
  cc->next_at = rsp_now_ms() + delay_ms;
  cc->chunk = chunk;
  cc->chunk_ms = chunk_ms;
}

void rsp_close_after(rsp_conn_t *c) { ((conn_t *)c)->close_after = true; }
void rsp_hold(rsp_conn_t *c) { ((conn_t *)c)->hold = true; }
unsigned rsp_requests(rsp_conn_t *c) { return ((conn_t *)c)->requests++; }

static void accept_all(const listener_t *l) {
  for (int k = 0; k < 64; k++) {
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return;
    if (l->cfg.behaviour == RSP_CLOSE && !l->cfg.at_request) {
      close(fd);
      continue;
    }
    if (g_nconns >= MAX_CONNS) {
      close(fd);
      continue;
    }
    conn_t *c = calloc(1, sizeof *c);
    if (!c)
      die("out of memory");
    c->fd = fd;
    c->l = l;
    g_conns[g_nconns++] = c;
    if (g_nconns > g_peak_conns)
      g_peak_conns = g_nconns;
  }
}

/* Returns false when the connection must close. */
static bool conn_read(conn_t *c) {
  ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
  if (n == 0)
    return false;
  if (n < 0)
    return errno == EAGAIN || errno == EINTR;
  c->in_len += (size_t)n;
  if (c->hold) {
    c->in_len = 0; /* swallow everything */
    return true;
  }
  /* Whole PDUs only. */
  while (c->in_len >= 16 && !c->hold) {
    size_t flen = (size_t)c->in[8] | ((size_t)c->in[9] << 8);
    if (c->in[0] != 5 || flen < 16 || flen > sizeof c->in)
      return false;
    if (c->in_len < flen)
      break;
    if (!rsp_handle_pdu((rsp_conn_t *)c, &c->l->cfg, c->in, flen))
      return false;
    memmove(c->in, c->in + flen, c->in_len - flen);
    c->in_len -= flen;
  }
  if (c->in_len == sizeof c->in)
    return false;
  return true;
}

static bool conn_write(conn_t *c) {
  uint64_t now = rsp_now_ms();
  while (c->out_off < c->out_len && now >= c->next_at) {
    size_t want = c->out_len - c->out_off;
    if (c->chunk && want > c->chunk)
      want = c->chunk;
    ssize_t n = send(c->fd, c->out + c->out_off, want, MSG_NOSIGNAL);
    if (n < 0)
      return errno == EAGAIN || errno == EINTR;
    c->out_off += (size_t)n;
    if (c->chunk) {
      c->next_at = now + c->chunk_ms;
      break;
    }
  }
  if (c->out_off == c->out_len) {
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    if (c->close_after)
      return false;
  }
  return true;
}

void rsp_log_request(unsigned major, const char *cmid, const char *ws) {
  if (!g_log)
    return;
  fprintf(g_log, "request version=%u cmid=%s workstation=", major, cmid);
  for (const unsigned char *q = (const unsigned char *)ws; *q; q++) {
    if (*q > 0x20 && *q < 0x7f && *q != '%')
      fputc(*q, g_log);
    else
      fprintf(g_log, "%%%02X", *q);
  }
  fputc('\n', g_log);
  fflush(g_log);
}

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void usage(FILE *f) {
  fprintf(f,
"usage: kms-test-responder [--ready-file FILE] [--script FILE] [--log FILE]\n"
"                          [--quiet]\n"
"                          [LISTENER...]\n"
"A KMS host for tests, loopback only (127.0.0.0/8, ::1); never installed.\n"
"LISTENER is ADDR:PORT=BEHAVIOUR[,KEY=VALUE...]; PORT 0 picks a free port;\n"
"ADDR may be [V6ADDR], or an IPv4 range A-B with a port range P1-P2.\n"
"Every bound listener is printed as 'ADDR PORT BEHAVIOUR' on stdout and\n"
"written to the ready file (atomically) once all are bound.\n"
"Behaviours: normal, hresult, bindnak, bindreject, fault, close, silent,\n"
"slow, garbage, hugefrag, badmac, badcmid, stale, stream. Keys: see README.md.\n");
}

int main(int argc, char **argv) {
  const char *ready = NULL;
  struct rlimit rl;
  g_lis = calloc(MAX_LISTENERS, sizeof *g_lis);
  if (!g_lis)
    die("out of memory");
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(argv[i], "--quiet") == 0) {
      g_quiet = true;
    } else if (strcmp(argv[i], "--ready-file") == 0 && i + 1 < argc) {
      ready = argv[++i];
    } else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
      g_log = fopen(argv[++i], "a");
      if (!g_log)
        die("cannot open %s: %s", argv[i], strerror(errno));
    } else if (strcmp(argv[i], "--script") == 0 && i + 1 < argc) {
      parse_script(argv[++i]);
    } else if (argv[i][0] == '-') {
      usage(stderr);
      return 2;
    } else {
      parse_listener(argv[i]);
    }
  }
  if (g_nlis == 0) {
    usage(stderr);
    return 2;
  }
  /* Report what is bound. */
  FILE *rf = NULL;
  char tmp[4200];
  if (ready) {
    snprintf(tmp, sizeof tmp, "%s.tmp", ready);
    rf = fopen(tmp, "w");
    if (!rf)
      die("cannot write %s: %s", tmp, strerror(errno));
  }
  for (size_t i = 0; i < g_nlis; i++) {
    const char *bn = rsp_behaviour_name(g_lis[i].cfg.behaviour);
    if (!g_quiet || !ready)
      printf("%s %u %s\n", g_lis[i].addr, g_lis[i].port, bn);
    if (rf)
      fprintf(rf, "%s %u %s\n", g_lis[i].addr, g_lis[i].port, bn);
  }
  fflush(stdout);
  if (rf) {
    if (fclose(rf) != 0 || rename(tmp, ready) != 0)
      die("cannot write %s", ready);
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);

  struct pollfd *pfd = calloc(MAX_LISTENERS + MAX_CONNS, sizeof *pfd);
  if (!pfd)
    die("out of memory");
  while (!g_stop) {
    size_t np = 0;
    uint64_t now = rsp_now_ms(), next = UINT64_MAX;
    for (size_t i = 0; i < g_nlis; i++) {
      pfd[np].fd = g_lis[i].fd;
      pfd[np].events = POLLIN;
      pfd[np].revents = 0;
      np++;
    }
    for (size_t i = 0; i < g_nconns; i++) {
      conn_t *c = g_conns[i];
      short ev = POLLIN;
      if (c->out_off < c->out_len) {
        if (c->next_at <= now)
          ev |= POLLOUT;
        else if (c->next_at < next)
          next = c->next_at;
      }
      pfd[np].fd = c->fd;
      pfd[np].events = ev;
      pfd[np].revents = 0;
      np++;
    }
    int tmo = next == UINT64_MAX ? 1000 : (int)(next - now);
    if (tmo > 1000)
      tmo = 1000;
    int pr = poll(pfd, (nfds_t)np, tmo);
    if (pr < 0 && errno != EINTR)
      die("poll: %s", strerror(errno));
    /* Connections first (so a connection the peer closed is reaped before
     * new ones are accepted and counted); walk backwards so closing
     * (swap-remove) is safe. */
    size_t polled = np - g_nlis;
    for (size_t i = polled; i-- > 0;) {
      conn_t *c = g_conns[i];
      short re = pfd[g_nlis + i].revents;
      bool keep = true;
      if (re & (POLLIN | POLLHUP | POLLERR))
        keep = conn_read(c);
      if (keep)
        keep = conn_write(c);
      if (!keep)
        conn_close(i);
    }
    for (size_t i = 0; i < g_nlis; i++)
      if (pfd[i].revents & POLLIN)
        accept_all(&g_lis[i]);
  }
  while (g_nconns)
    conn_close(g_nconns - 1);
  for (size_t i = 0; i < g_nlis; i++)
    close(g_lis[i].fd);
  free(g_lis);
  rsp_config_free_all();
  free(pfd);
  if (g_log) {
    fprintf(g_log, "peak_connections %zu\n", g_peak_conns);
    fclose(g_log);
  }
  note("stopped");
  return 0;
}
