/* dns_resolv.c: the resolver configuration (resolv.conf(5): "nameserver",
 * "domain", "search") and DNS server strings "ADDR[:PORT]". The file is
 * read through kd_reader_t with capped line length and counts. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns_internal.h"
#include "internal/reader.h"

#define RESOLV_MAX_LINE 1024
#define RESOLV_MAX_LINES 10000
#define RESOLV_MAX_NAME 253

void kd_resolv_free(kd_resolv_t *rc) {
  if (!rc)
    return;
  free(rc->domain);
  for (size_t i = 0; i < rc->nsearch; i++)
    free(rc->search[i]);
  for (size_t i = 0; i < rc->nservers; i++)
    free(rc->servers[i]);
  memset(rc, 0, sizeof *rc);
}

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Split one line (already without '\n') into at most `max` tokens. A
 * token is a run of bytes other than blanks; '#' or ';' starts a comment
 * at the beginning of a line. Returns the token count. */
typedef struct tok {
  const uint8_t *p;
  size_t n;
} tok_t;

static size_t split(const uint8_t *line, size_t len, tok_t *toks,
                    size_t max) {
  kd_reader_t rd;
  size_t nt = 0;
  kd_rd_init(&rd, line, len);
  while (kd_rd_remaining(&rd) > 0 && nt < max) {
    const uint8_t *c = kd_rd_peek(&rd, 1);
    if (!c)
      break;
    if (is_space(*c)) {
      kd_rd_skip(&rd, 1);
      continue;
    }
    size_t start = kd_rd_offset(&rd), n = 0;
    while (kd_rd_remaining(&rd) > 0) {
      c = kd_rd_peek(&rd, 1);
      if (!c || is_space(*c))
        break;
      kd_rd_skip(&rd, 1);
      n++;
    }
    toks[nt].p = line + start;
    toks[nt].n = n;
    nt++;
  }
  return nt;
}

static bool tok_is(const tok_t *t, const char *word) {
  size_t n = strlen(word);
  return t->n == n && memcmp(t->p, word, n) == 0;
}

/* A domain token is accepted when it is printable ASCII without blanks or
 * controls and not longer than a DNS name. */
static char *domain_dup(const tok_t *t) {
  char *s;
  if (t->n == 0 || t->n > RESOLV_MAX_NAME)
    return NULL;
  for (size_t i = 0; i < t->n; i++)
    if (t->p[i] <= 0x20 || t->p[i] >= 0x7f)
      return NULL;
  if (t->n == 1 && t->p[0] == '.')
    return NULL; /* the root is no search domain */
  s = malloc(t->n + 1);
  if (!s)
    return NULL;
  memcpy(s, t->p, t->n);
  s[t->n] = '\0';
  return s;
}

kmsdiag_status_t kd_resolv_parse(const uint8_t *data, size_t len,
                                 kd_resolv_t *out) {
  kd_reader_t rd;
  memset(out, 0, sizeof *out);
  kd_rd_init(&rd, data, len);
  while (kd_rd_remaining(&rd) > 0 && out->lines < RESOLV_MAX_LINES) {
    size_t start = kd_rd_offset(&rd), n = 0;
    const uint8_t *line, *c;
    tok_t toks[1 + KD_RESOLV_MAX_SEARCH];
    size_t nt;
    bool too_long = false;
    while ((c = kd_rd_peek(&rd, 1)) != NULL && *c != '\n') {
      kd_rd_skip(&rd, 1);
      n++;
    }
    if (c)
      kd_rd_skip(&rd, 1); /* the newline */
    out->lines++;
    line = data + start;
    if (n > RESOLV_MAX_LINE) {
      too_long = true;
      n = RESOLV_MAX_LINE;
    }
    if (n == 0 || line[0] == '#' || line[0] == ';')
      continue;
    nt = split(line, n, toks, sizeof toks / sizeof toks[0]);
    if (nt == 0)
      continue;
    if (too_long) {
      out->bad_lines++;
      continue;
    }
    if (tok_is(&toks[0], "nameserver")) {
      char text[64];
      kd_server_t sv;
      if (nt < 2 || toks[1].n >= sizeof text ||
          out->nservers >= KD_RESOLV_MAX_SERVERS) {
        out->bad_lines++;
        continue;
      }
      memcpy(text, toks[1].p, toks[1].n);
      text[toks[1].n] = '\0';
      /* resolv.conf has no port; an IPv6 scope (%eth0) is not supported */
      if (!kd_server_parse(text, strlen(text), &sv)) {
        out->bad_lines++;
        continue;
      }
      out->servers[out->nservers] = strdup(text);
      if (!out->servers[out->nservers])
        goto nomem;
      out->nservers++;
    } else if (tok_is(&toks[0], "domain")) {
      /* the primary suffix; a later "domain" line replaces it. Unlike
       * glibc we keep "domain" and "search" apart: a KMS client has both a
       * primary suffix and a search list. */
      free(out->domain);
      out->domain = nt >= 2 ? domain_dup(&toks[1]) : NULL;
      if (!out->domain)
        out->bad_lines++;
    } else if (tok_is(&toks[0], "search")) {
      for (size_t i = 0; i < out->nsearch; i++)
        free(out->search[i]);
      out->nsearch = 0;
      for (size_t i = 1; i < nt && out->nsearch < KD_RESOLV_MAX_SEARCH; i++) {
        char *d = domain_dup(&toks[i]);
        if (!d) {
          out->bad_lines++;
          continue;
        }
        out->search[out->nsearch++] = d;
      }
    }
    /* options, sortlist and unknown keywords do not matter here */
  }
  return KMSDIAG_OK;
nomem:
  kd_resolv_free(out);
  return KMSDIAG_ENOMEM;
}

bool kd_server_parse(const char *s, size_t len, kd_server_t *out) {
  char host[64];
  const char *port = NULL;
  size_t hl;
  memset(out, 0, sizeof *out);
  out->port = 53;
  if (!s || len == 0 || len >= 80)
    return false;
  if (s[0] == '[') {
    const char *end = memchr(s, ']', len);
    if (!end)
      return false;
    hl = (size_t)(end - s - 1);
    if (hl == 0 || hl >= sizeof host)
      return false;
    memcpy(host, s + 1, hl);
    host[hl] = '\0';
    if ((size_t)(end - s) + 1 < len) {
      if (end[1] != ':')
        return false;
      port = end + 2;
    }
  } else {
    const char *colon = memchr(s, ':', len);
    const char *last = NULL;
    for (size_t i = 0; i < len; i++)
      if (s[i] == ':')
        last = s + i;
    if (colon && colon == last) { /* exactly one colon: IPv4:port */
      hl = (size_t)(colon - s);
      port = colon + 1;
    } else {
      hl = len; /* IPv6 without brackets, or IPv4 */
    }
    if (hl == 0 || hl >= sizeof host)
      return false;
    memcpy(host, s, hl);
    host[hl] = '\0';
  }
  if (port) {
    unsigned long v = 0;
    size_t plen = (size_t)(s + len - port);
    if (plen == 0 || plen > 5)
      return false;
    for (size_t i = 0; i < plen; i++) {
      if (port[i] < '0' || port[i] > '9')
        return false;
      v = v * 10 + (unsigned long)(port[i] - '0');
    }
    if (v == 0 || v > 65535)
      return false;
    out->port = (uint16_t)v;
  }
  if (inet_pton(AF_INET, host, out->addr) == 1) {
    out->family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, host, out->addr) == 1) {
    out->family = AF_INET6;
    return true;
  }
  return false;
}

void kd_server_text(int family, const void *addr, uint16_t port, char *buf,
                    size_t bufsz) {
  char a[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, addr, a, sizeof a))
    snprintf(a, sizeof a, "?");
  if (family == AF_INET6)
    snprintf(buf, bufsz, "[%s]:%u", a, port);
  else
    snprintf(buf, bufsz, "%s:%u", a, port);
}
