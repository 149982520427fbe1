/* zonecheck.c: KMS SRV records in DNS master files (RFC 1035 section 5,
 * RFC 2782), checked offline and against a live server.
 *
 * ldns reads the file one record at a time (ldns_rr_new_frm_fp_l keeps
 * $ORIGIN, $TTL and the previous owner), so a syntax error costs one
 * record and checking goes on, as named-checkzone does. The raw text of
 * each record (for trailing dots and field counts) is scanned with
 * kd_reader_t. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include <kmsdiag/kmsdiag_zone.h>

#include "dns/dns_internal.h"
#include "internal/reader.h"

#define ZONE_MAX_FILE (64u << 20)
#define ZONE_MAX_RECORDS 500000u
#define ZONE_MAX_STEPS 4000000u /* parser calls: records, blank lines... */
#define ZONE_MAX_FINDINGS 100000u
#define ZONE_MAX_KMS 10000u
#define ZONE_MAX_TOKENS 64
#define ZONE_MAX_LIVE 4096u
#define ZONE_MAX_ORIGINS 16u

struct kmsdiag_zone_check {
  char *origin;
  kmsdiag_dns_t *live;
};

typedef struct tok {
  const uint8_t *p;
  size_t n;
} tok_t;

typedef struct zrec {
  ldns_rr *rr;
  unsigned long line;
  bool target_relative; /* SRV whose target was written without a dot */
  int kind;             /* owner class, see enum okind */
} zrec_t;

enum okind { O_OTHER = 0, O_VLMCS, O_UDP, O_NEAR };

typedef struct zctx {
  const char *file;
  kmsdiag_zone_report_t *rep;
  zrec_t *recs;
  size_t nrecs, cap;
  zrec_t **idx; /* sorted by owner */
  ldns_rdf *apex;
  char *apex_str;
  ldns_rdf *origins[ZONE_MAX_ORIGINS]; /* distinct $ORIGIN values seen */
  size_t norigins;
  bool oom;
} zctx_t;

/* ---- findings ---------------------------------------------------------------- */

static void add(zctx_t *x, unsigned long line, kmsdiag_dns_severity_t sev,
                const char *rule, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void add(zctx_t *x, unsigned long line, kmsdiag_dns_severity_t sev,
                const char *rule, const char *name, const char *fmt, ...) {
  kmsdiag_zone_report_t *r = x->rep;
  kmsdiag_zone_finding_t *nf, *f;
  char msg[600];
  va_list ap;
  if (r->count >= ZONE_MAX_FINDINGS)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (r->count == ZONE_MAX_FINDINGS - 1) {
    sev = KMSDIAG_DNS_ERROR;
    rule = "too-many-findings";
    name = NULL;
    snprintf(msg, sizeof msg, "more than %u findings; the rest are not "
                              "shown", ZONE_MAX_FINDINGS - 1);
  }
  nf = realloc(r->findings, (r->count + 1) * sizeof *nf);
  if (!nf) {
    x->oom = true;
    return;
  }
  r->findings = nf;
  f = &nf[r->count];
  memset(f, 0, sizeof *f);
  f->file = strdup(x->file);
  f->line = line;
  f->severity = sev;
  f->rule = rule;
  f->message = strdup(msg);
  f->name = name ? strdup(name) : NULL;
  if (!f->file || !f->message || (name && !f->name)) {
    free(f->file);
    free(f->message);
    free(f->name);
    x->oom = true;
    return;
  }
  r->count++;
  if (sev == KMSDIAG_DNS_ERROR)
    r->errors++;
  else if (sev == KMSDIAG_DNS_WARNING)
    r->warnings++;
  else
    r->infos++;
}

void kmsdiag_zone_report_free(kmsdiag_zone_report_t *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->count; i++) {
    free(r->findings[i].file);
    free(r->findings[i].message);
    free(r->findings[i].name);
  }
  free(r->findings);
  free(r->origin);
  free(r);
}

/* ---- the checker object ------------------------------------------------------- */

kmsdiag_status_t kmsdiag_zone_check_new(kmsdiag_zone_check_t **out) {
  if (!out)
    return KMSDIAG_EINVAL;
  *out = calloc(1, sizeof **out);
  return *out ? KMSDIAG_OK : KMSDIAG_ENOMEM;
}

void kmsdiag_zone_check_free(kmsdiag_zone_check_t *c) {
  if (!c)
    return;
  free(c->origin);
  free(c);
}

kmsdiag_status_t kmsdiag_zone_check_set_origin(kmsdiag_zone_check_t *c,
                                               const char *origin) {
  ldns_rdf *d = NULL;
  char *s;
  size_t n;
  if (!c)
    return KMSDIAG_EINVAL;
  if (!origin) {
    free(c->origin);
    c->origin = NULL;
    return KMSDIAG_OK;
  }
  n = strlen(origin);
  if (n == 0 || n > 253 ||
      ldns_str2rdf_dname(&d, origin) != LDNS_STATUS_OK || !d)
    return KMSDIAG_EPARSE;
  s = ldns_rdf2str(d);
  ldns_rdf_deep_free(d);
  if (!s)
    return KMSDIAG_ENOMEM;
  free(c->origin);
  c->origin = s;
  return KMSDIAG_OK;
}

void kmsdiag_zone_check_set_live(kmsdiag_zone_check_t *c, kmsdiag_dns_t *dns) {
  if (c)
    c->live = dns;
}

/* ---- raw text ------------------------------------------------------------------ */

/* Tokens of one record's text: blanks, parentheses and ';' comments
 * separate; "..." is one token. `lead` gets the newlines before the first
 * token (blank and comment lines ldns skipped). */
static size_t raw_tokens(const uint8_t *p, size_t n, tok_t *toks, size_t max,
                         unsigned long *lead) {
  kd_reader_t rd;
  size_t nt = 0;
  *lead = 0;
  kd_rd_init(&rd, p, n);
  while (kd_rd_remaining(&rd) > 0) {
    const uint8_t *c = kd_rd_peek(&rd, 1);
    size_t start;
    if (!c)
      break;
    if (*c == '\n') {
      if (nt == 0)
        (*lead)++;
      kd_rd_skip(&rd, 1);
      continue;
    }
    if (*c == ' ' || *c == '\t' || *c == '\r' || *c == '(' || *c == ')') {
      kd_rd_skip(&rd, 1);
      continue;
    }
    if (*c == ';') {
      while ((c = kd_rd_peek(&rd, 1)) != NULL && *c != '\n')
        kd_rd_skip(&rd, 1);
      continue;
    }
    start = kd_rd_offset(&rd);
    if (*c == '"') {
      kd_rd_skip(&rd, 1);
      while ((c = kd_rd_peek(&rd, 1)) != NULL && *c != '"') {
        if (*c == '\\')
          kd_rd_skip(&rd, 1);
        kd_rd_skip(&rd, 1);
      }
      if (kd_rd_remaining(&rd) > 0)
        kd_rd_skip(&rd, 1);
    } else {
      while ((c = kd_rd_peek(&rd, 1)) != NULL && *c != ' ' && *c != '\t' &&
             *c != '\r' && *c != '\n' && *c != '(' && *c != ')' &&
             *c != ';') {
        if (*c == '\\' && kd_rd_remaining(&rd) > 1)
          kd_rd_skip(&rd, 1);
        kd_rd_skip(&rd, 1);
      }
    }
    if (nt < max) {
      toks[nt].p = p + start;
      toks[nt].n = kd_rd_offset(&rd) - start;
      if (rd.err || toks[nt].n == 0) /* ran off the end: stop here */
        break;
      nt++;
    }
  }
  return nt;
}

static bool tok_ci(const tok_t *t, const char *w) {
  size_t n = strlen(w);
  return t->n == n && strncasecmp((const char *)t->p, w, n) == 0;
}

/* A decimal number token, optionally signed. true when it is one; *range
 * then says it is outside 0..65535 (negative, or too large). ldns reads
 * such numbers with strtol and keeps the low 16 bits without a word, so
 * "-1" would silently become 65535: the text is what counts. */
static bool tok_u16(const tok_t *t, bool *range) {
  unsigned long v = 0;
  size_t i = 0;
  bool neg = false;
  *range = false;
  if (t->n == 0 || t->n > 64)
    return false;
  if (t->p[0] == '-' || t->p[0] == '+') {
    neg = t->p[0] == '-';
    i = 1;
    if (t->n == 1)
      return false;
  }
  for (; i < t->n; i++) {
    if (t->p[i] < '0' || t->p[i] > '9')
      return false;
    if (v <= 65535)
      v = v * 10 + (unsigned long)(t->p[i] - '0');
  }
  *range = neg || v > 65535;
  return true;
}

/* Index of the "SRV" type token, or -1. */
static int srv_token(const tok_t *t, size_t nt) {
  for (size_t i = 0; i < nt && i < 5; i++)
    if (tok_ci(&t[i], "SRV"))
      return (int)i;
  return -1;
}

static void tok_text(const tok_t *t, char *buf, size_t bufsz) {
  size_t n = t->n < bufsz - 1 ? t->n : bufsz - 1;
  memcpy(buf, t->p, n);
  buf[n] = '\0';
}

/* ---- names ----------------------------------------------------------------------- */

static char *name_str(const ldns_rdf *d) {
  char *s = d ? ldns_rdf2str(d) : NULL;
  return s;
}

/* Lower-case first and second label of a presentation name. */
static void two_labels(const char *s, char *l0, char *l1, size_t sz) {
  size_t k = 0;
  int which = 0;
  l0[0] = l1[0] = '\0';
  for (const char *p = s; *p && which < 2; p++) {
    char *dst = which ? l1 : l0;
    if (*p == '\\' && p[1]) {
      if (k + 1 < sz)
        dst[k++] = *p;
      p++;
      if (k + 1 < sz)
        dst[k++] = (char)tolower((unsigned char)*p);
      dst[k] = '\0';
      continue;
    }
    if (*p == '.') {
      dst[k] = '\0';
      which++;
      k = 0;
      continue;
    }
    if (k + 1 < sz)
      dst[k++] = (char)tolower((unsigned char)*p);
    dst[k] = '\0';
  }
}

static size_t label_count(const char *s) {
  size_t n = 0;
  bool in = false;
  for (const char *p = s; *p; p++) {
    if (*p == '\\' && p[1]) {
      p++;
      in = true;
    } else if (*p == '.') {
      if (in)
        n++;
      in = false;
    } else {
      in = true;
    }
  }
  return in ? n + 1 : n;
}

static bool ends_ci(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcasecmp(s + a - b, suf) == 0;
}

/* Optimal string alignment distance, capped at 3 (labels are short). */
static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  int d[24][24];
  if (la > 22 || lb > 22)
    return 3;
  for (size_t i = 0; i <= la; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v)
        v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v)
        v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  return d[la][lb] > 3 ? 3 : d[la][lb];
}

static bool proto_like(const char *l) {
  return strcmp(l, "_tcp") == 0 || strcmp(l, "_udp") == 0 ||
         strcmp(l, "tcp") == 0 || strcmp(l, "udp") == 0 ||
         edit_distance(l, "_tcp") == 1;
}

static int classify_owner(const char *owner) {
  char l0[64], l1[64];
  two_labels(owner, l0, l1, sizeof l0);
  if (strcmp(l0, "_vlmcs") == 0) {
    if (strcmp(l1, "_tcp") == 0)
      return O_VLMCS;
    if (strcmp(l1, "_udp") == 0)
      return O_UDP;
    return O_NEAR;
  }
  if (strlen(l0) >= 4 && edit_distance(l0, "_vlmcs") <= 2 && proto_like(l1))
    return O_NEAR;
  return O_OTHER;
}

/* ---- reading ------------------------------------------------------------------------ */

static void syntax_finding(zctx_t *x, unsigned long line, ldns_status st,
                           const tok_t *t, size_t nt) {
  int s = srv_token(t, nt);
  if (s >= 0) {
    size_t fields = nt - (size_t)s - 1;
    if (fields != 4) {
      add(x, line, KMSDIAG_DNS_ERROR, "srv-field-count", NULL,
          "SRV record with %zu field%s after the type; it needs 4: priority "
          "weight port target%s",
          fields, fields == 1 ? "" : "s",
          fields == 3 ? " (a missing port is a common mistake)" : "");
      return;
    }
    for (size_t i = 0; i < 3; i++) {
      bool range;
      char v[32];
      tok_text(&t[(size_t)s + 1 + i], v, sizeof v);
      if (!tok_u16(&t[(size_t)s + 1 + i], &range) || range) {
        static const char *const what[] = {"priority", "weight", "port"};
        add(x, line, KMSDIAG_DNS_ERROR, "srv-field-range", NULL,
            "SRV %s \"%s\" is not a number from 0 to 65535", what[i], v);
        return;
      }
    }
  }
  {
    /* quote the record (tokens, printable ASCII only, capped) */
    char text[100];
    size_t k = 0;
    for (size_t i = 0; i < nt && k + 2 < sizeof text; i++) {
      if (i)
        text[k++] = ' ';
      for (size_t c = 0; c < t[i].n && k + 4 < sizeof text; c++)
        text[k++] = t[i].p[c] >= 0x20 && t[i].p[c] < 0x7f ? (char)t[i].p[c]
                                                          : '?';
      if (k + 4 >= sizeof text) {
        memcpy(text + k, "...", 3);
        k += 3;
        break;
      }
    }
    text[k] = '\0';
    add(x, line, KMSDIAG_DNS_ERROR, "syntax-error", NULL,
        "cannot parse \"%s\": %s", text, ldns_get_errorstr_by_id(st));
  }
}

static bool push_rec(zctx_t *x, ldns_rr *rr, unsigned long line, bool rel) {
  if (x->nrecs == x->cap) {
    size_t nc = x->cap ? x->cap * 2 : 64;
    zrec_t *n = realloc(x->recs, nc * sizeof *n);
    if (!n)
      return false;
    x->recs = n;
    x->cap = nc;
  }
  x->recs[x->nrecs].rr = rr;
  x->recs[x->nrecs].line = line;
  x->recs[x->nrecs].target_relative = rel;
  x->recs[x->nrecs].kind = O_OTHER;
  x->nrecs++;
  return true;
}

static unsigned long count_nl(const uint8_t *p, size_t n) {
  unsigned long c = 0;
  const uint8_t *e = p + n;
  while (p < e) {
    const uint8_t *q = memchr(p, '\n', (size_t)(e - p));
    if (!q)
      break;
    c++;
    p = q + 1;
  }
  return c;
}

static kmsdiag_status_t read_records(zctx_t *x, const char *origin,
                                     const uint8_t *data, size_t len,
                                     ldns_rdf **first_origin) {
  FILE *fp;
  uint32_t ttl = 3600;
  ldns_rdf *org = NULL, *prev = NULL;
  int line_nr = 0;
  unsigned long lines_before = 0;
  long pos = 0;
  if (len == 0)
    return KMSDIAG_OK;
  if (origin && ldns_str2rdf_dname(&org, origin) != LDNS_STATUS_OK)
    org = NULL;
  if (org)
    *first_origin = ldns_rdf_clone(org);
  fp = fmemopen((void *)(uintptr_t)data, len, "r");
  if (!fp) {
    ldns_rdf_deep_free(org);
    return errno == ENOMEM ? KMSDIAG_ENOMEM : KMSDIAG_ESYS;
  }
  for (unsigned long iter = 0;; iter++) {
    ldns_rr *rr = NULL;
    ldns_status st;
    long after;
    int ch = fgetc(fp);
    tok_t toks[ZONE_MAX_TOKENS];
    size_t nt, span;
    unsigned long lead, line;
    if (ch == EOF)
      break;
    if (iter >= ZONE_MAX_STEPS) {
      add(x, lines_before + 1, KMSDIAG_DNS_ERROR, "too-many-records", NULL,
          "more than %u lines, records or directives: the rest of the file "
          "is not checked",
          ZONE_MAX_STEPS);
      break;
    }
    ungetc(ch, fp);
    st = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &org, &prev, &line_nr);
    after = ftell(fp);
    if (after < pos || (size_t)after > len)
      after = (long)len; /* never trust a position outside the buffer */
    span = (size_t)(after - pos);
    nt = raw_tokens(data + pos, span, toks, ZONE_MAX_TOKENS, &lead);
    line = lines_before + lead + 1;
    lines_before += count_nl(data + pos, span);
    if (!*first_origin && org)
      *first_origin = ldns_rdf_clone(org);
    if (org && x->norigins < ZONE_MAX_ORIGINS) {
      bool seen = false;
      for (size_t k = 0; k < x->norigins && !seen; k++)
        seen = ldns_dname_compare(x->origins[k], org) == 0;
      if (!seen && (x->origins[x->norigins] = ldns_rdf_clone(org)) != NULL)
        x->norigins++;
    }
    if (st == LDNS_STATUS_OK && rr) {
      bool rel = false, bad = false;
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SRV) {
        int s = srv_token(toks, nt);
        if (s >= 0 && (size_t)s + 4 < nt) {
          const tok_t *tt = &toks[(size_t)s + 4];
          rel = !(tt->n == 1 && tt->p[0] == '@') && tt->p[tt->n - 1] != '.';
          /* ldns wraps numbers above 65535 silently: check the text */
          for (size_t i = 1; i <= 3; i++) {
            bool range;
            if (tok_u16(&toks[(size_t)s + i], &range) && range) {
              syntax_finding(x, line, LDNS_STATUS_SYNTAX_INTEGER_OVERFLOW,
                             toks, nt);
              bad = true;
              break;
            }
          }
        }
      }
      if (!bad && !org) {
        /* no origin in effect: ldns would make "kms" the top-level name
         * "kms." without a word */
        bool owner_rel = false;
        if (nt > 0) {
          const tok_t *o = &toks[0];
          bool at_line_start = o->p == data || o->p[-1] == '\n';
          owner_rel = at_line_start && o->p[o->n - 1] != '.';
        }
        if (owner_rel || rel) {
          char *on = name_str(ldns_rr_owner(rr));
          add(x, line, KMSDIAG_DNS_ERROR, "relative-without-origin", on,
              "relative %s with no origin: give --origin or put a $ORIGIN "
              "line first",
              owner_rel ? "owner name" : "target");
          free(on);
          bad = true;
        }
      }
      if (bad) {
        ldns_rr_free(rr);
        goto next;
      }
      if (x->nrecs >= ZONE_MAX_RECORDS) {
        ldns_rr_free(rr);
        add(x, line, KMSDIAG_DNS_ERROR, "too-many-records", NULL,
            "more than %u records: the rest of the file is not checked",
            ZONE_MAX_RECORDS);
        break;
      }
      if (!push_rec(x, rr, line, rel)) {
        ldns_rr_free(rr);
        x->oom = true;
        break;
      }
    } else {
      if (rr)
        ldns_rr_free(rr);
      switch (st) {
      case LDNS_STATUS_SYNTAX_EMPTY:
      case LDNS_STATUS_SYNTAX_TTL:
      case LDNS_STATUS_SYNTAX_ORIGIN:
        break;
      case LDNS_STATUS_SYNTAX_INCLUDE:
        add(x, line, KMSDIAG_DNS_WARNING, "include-not-followed", NULL,
            "$INCLUDE is not followed: check the included file on its own");
        break;
      default:
        syntax_finding(x, line, st, toks, nt);
      }
    }
  next:
    if (after <= pos) {
      if (!feof(fp))
        add(x, line, KMSDIAG_DNS_ERROR, "syntax-error", NULL,
            "the parser cannot get past this point; the rest of the file is "
            "not checked");
      break;
    }
    pos = after;
    if (x->oom)
      break;
  }
  fclose(fp);
  ldns_rdf_deep_free(org);
  ldns_rdf_deep_free(prev);
  return x->oom ? KMSDIAG_ENOMEM : KMSDIAG_OK;
}

/* ---- index ---------------------------------------------------------------------------- */

static int cmp_owner(const void *a, const void *b) {
  const zrec_t *x = *(const zrec_t *const *)a, *y = *(const zrec_t *const *)b;
  int c = ldns_dname_compare(ldns_rr_owner(x->rr), ldns_rr_owner(y->rr));
  if (c)
    return c;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Records at `name`: [*lo, *hi) in x->idx. */
static void find_owner(const zctx_t *x, const ldns_rdf *name, size_t *lo,
                       size_t *hi) {
  size_t l = 0, h = x->nrecs;
  while (l < h) {
    size_t m = l + (h - l) / 2;
    if (ldns_dname_compare(ldns_rr_owner(x->idx[m]->rr), name) < 0)
      l = m + 1;
    else
      h = m;
  }
  *lo = l;
  while (l < x->nrecs &&
         ldns_dname_compare(ldns_rr_owner(x->idx[l]->rr), name) == 0)
    l++;
  *hi = l;
}

static bool has_type(const zctx_t *x, const ldns_rdf *name, ldns_rr_type t,
                     const ldns_rr **first) {
  size_t lo, hi;
  find_owner(x, name, &lo, &hi);
  for (size_t i = lo; i < hi; i++)
    if (ldns_rr_get_type(x->idx[i]->rr) == t) {
      if (first)
        *first = x->idx[i]->rr;
      return true;
    }
  return false;
}

static bool in_zone(const zctx_t *x, const ldns_rdf *name) {
  return x->apex && (ldns_dname_compare(name, x->apex) == 0 ||
                     ldns_dname_is_subdomain(name, x->apex));
}

/* An NS record strictly between the apex and `name` (a delegation). */
static bool delegated(const zctx_t *x, const ldns_rdf *name) {
  ldns_rdf *cur = ldns_rdf_clone(name);
  bool found = false;
  for (int i = 0; cur && i < 128; i++) {
    ldns_rdf *up;
    if (ldns_dname_compare(cur, x->apex) == 0 || ldns_rdf_size(cur) <= 1)
      break;
    if (has_type(x, cur, LDNS_RR_TYPE_NS, NULL)) {
      found = true;
      break;
    }
    up = ldns_dname_left_chop(cur);
    ldns_rdf_deep_free(cur);
    cur = up;
  }
  ldns_rdf_deep_free(cur);
  return found;
}

/* ---- checks ------------------------------------------------------------------------------ */

static void check_srv(zctx_t *x, const zrec_t *z, const char *owner) {
  const ldns_rr *rr = z->rr;
  const ldns_rdf *tg;
  char *t;
  uint16_t prio, weight, port;
  uint32_t ttl = ldns_rr_ttl(rr);
  if (ldns_rr_rd_count(rr) != 4 || ldns_rdf_size(ldns_rr_rdf(rr, 0)) != 2 ||
      ldns_rdf_size(ldns_rr_rdf(rr, 1)) != 2 ||
      ldns_rdf_size(ldns_rr_rdf(rr, 2)) != 2 ||
      ldns_rdf_get_type(ldns_rr_rdf(rr, 3)) != LDNS_RDF_TYPE_DNAME) {
    add(x, z->line, KMSDIAG_DNS_ERROR, "srv-field-count", owner,
        "SRV record without the four fields priority weight port target");
    return;
  }
  x->rep->kms_records++;
  prio = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
  weight = ldns_rdf2native_int16(ldns_rr_rdf(rr, 1));
  port = ldns_rdf2native_int16(ldns_rr_rdf(rr, 2));
  tg = ldns_rr_rdf(rr, 3);
  t = name_str(tg);
  if (!t) {
    x->oom = true;
    return;
  }
  if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
    add(x, z->line, KMSDIAG_DNS_ERROR, "class-not-in", owner,
        "record class is not IN: clients query class IN");
  if (strcmp(t, ".") == 0) {
    add(x, z->line, KMSDIAG_DNS_WARNING, "target-root", owner,
        "target \".\" says the KMS service is explicitly not available "
        "here; clients get no host from this record");
    free(t);
    return;
  }
  if (port == 0)
    add(x, z->line, KMSDIAG_DNS_ERROR, "port-zero", owner,
        "port 0: no client can connect to %s", t);
  else if (port != KMSDIAG_KMS_PORT)
    add(x, z->line, KMSDIAG_DNS_WARNING, "port-not-1688", owner,
        "port %u instead of the KMS default 1688: the host must listen "
        "there (slmgr /sprt) and firewalls must allow it",
        port);
  (void)prio;
  (void)weight;
  if (ttl == 0)
    add(x, z->line, KMSDIAG_DNS_WARNING, "ttl-zero", owner,
        "TTL 0: the record cannot be cached");
  else if (ttl < 60)
    add(x, z->line, KMSDIAG_DNS_INFO, "ttl-low", owner,
        "TTL %u s is very short: every client activation and renewal "
        "queries the DNS again",
        (unsigned)ttl);
  else if (ttl > 86400)
    add(x, z->line, KMSDIAG_DNS_INFO, "ttl-high", owner,
        "TTL %u s is longer than a day: after a host is retired, caches "
        "keep pointing clients at it that long",
        (unsigned)ttl);
  if (label_count(t) == 1)
    add(x, z->line, KMSDIAG_DNS_WARNING, "target-single-label", owner,
        "target %s is a single-label name; clients cannot resolve it "
        "reliably",
        t);
  if (ends_ci(t, ".local.") || strcasecmp(t, "local.") == 0)
    add(x, z->line, KMSDIAG_DNS_WARNING, "target-local", owner,
        "target %s is under .local, which is multicast DNS: the unicast "
        "DNS client of a KMS client does not resolve it",
        t);
  if (x->apex_str && z->target_relative) {
    char twice[600];
    size_t al = strlen(x->apex_str);
    snprintf(twice, sizeof twice, ".%.*s.%s", (int)(al ? al - 1 : 0),
             x->apex_str, x->apex_str);
    if (ends_ci(t, twice) || ends_ci(t, twice + 1)) {
      add(x, z->line, KMSDIAG_DNS_ERROR, "target-doubled-origin", owner,
          "target written without a trailing dot expands to %s: add the "
          "dot after the full name",
          t);
      free(t);
      return;
    }
    add(x, z->line, KMSDIAG_DNS_INFO, "target-relative", owner,
        "relative target expands to %s (the origin is appended)", t);
  }
  if (!in_zone(x, tg)) {
    add(x, z->line, KMSDIAG_DNS_INFO, "target-out-of-zone", owner,
        "target %s is outside %s: its addresses cannot be checked offline "
        "(kms-find checks them live)",
        t, x->apex_str ? x->apex_str : "the zone");
  } else if (delegated(x, tg)) {
    add(x, z->line, KMSDIAG_DNS_INFO, "target-out-of-zone", owner,
        "target %s is in a delegated subzone: not checkable offline", t);
  } else {
    const ldns_rr *cn = NULL;
    if (has_type(x, tg, LDNS_RR_TYPE_CNAME, &cn)) {
      char *to = ldns_rr_rd_count(cn) ? name_str(ldns_rr_rdf(cn, 0)) : NULL;
      add(x, z->line, KMSDIAG_DNS_ERROR, "target-cname", owner,
          "target %s is an alias (CNAME to %s); RFC 2782 requires a name "
          "with A/AAAA records",
          t, to ? to : "?");
      free(to);
    } else if (!has_type(x, tg, LDNS_RR_TYPE_A, NULL) &&
               !has_type(x, tg, LDNS_RR_TYPE_AAAA, NULL)) {
      add(x, z->line, KMSDIAG_DNS_ERROR, "target-no-address", owner,
          "target %s has no A or AAAA record in this zone: clients cannot "
          "connect to it",
          t);
    }
  }
  free(t);
}

static void check_owner_set(zctx_t *x, size_t lo, size_t hi) {
  const zrec_t *first = x->idx[lo];
  char *owner = name_str(ldns_rr_owner(first->rr));
  int kind;
  bool any_srv = false, any_cname = false;
  unsigned long first_line = first->line;
  if (!owner) {
    x->oom = true;
    return;
  }
  kind = classify_owner(owner);
  for (size_t i = lo; i < hi; i++) {
    x->idx[i]->kind = kind;
    if (x->idx[i]->line < first_line)
      first_line = x->idx[i]->line;
    if (ldns_rr_get_type(x->idx[i]->rr) == LDNS_RR_TYPE_SRV)
      any_srv = true;
    if (ldns_rr_get_type(x->idx[i]->rr) == LDNS_RR_TYPE_CNAME)
      any_cname = true;
  }
  if (kind == O_OTHER) {
    free(owner);
    return;
  }
  if (ends_ci(owner, ".local."))
    add(x, first_line, KMSDIAG_DNS_WARNING, "owner-local", owner,
        "%s is under .local (multicast DNS): Windows clients do not query "
        "unicast DNS servers for it",
        owner);
  if (kind == O_UDP)
    add(x, first_line, KMSDIAG_DNS_ERROR, "udp-not-tcp", owner,
        "%s uses _udp: KMS clients only query _vlmcs._tcp", owner);
  else if (kind == O_NEAR)
    add(x, first_line, KMSDIAG_DNS_ERROR, "near-miss-label", owner,
        "%s looks like a misspelling of _vlmcs._tcp; clients only query "
        "_vlmcs._tcp",
        owner);
  if (kind == O_VLMCS && any_cname)
    add(x, first_line, KMSDIAG_DNS_INFO, "srv-name-cname", owner,
        "%s is an alias: clients follow it, the SRV records must exist at "
        "its target",
        owner);
  else if (kind == O_VLMCS && !any_srv)
    add(x, first_line, KMSDIAG_DNS_ERROR, "vlmcs-no-srv", owner,
        "%s has records but no SRV record: clients get no host "
        "(0x8007251D)",
        owner);
  for (size_t i = lo; i < hi; i++) {
    const ldns_rr *rr = x->idx[i]->rr;
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SRV && ldns_rr_rd_count(rr) == 4 &&
        ldns_rdf_size(ldns_rr_rdf(rr, 0)) == 2 &&
        ldns_rdf_size(ldns_rr_rdf(rr, 1)) == 2 &&
        (ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)) ||
         ldns_rdf2native_int16(ldns_rr_rdf(rr, 1)))) {
      add(x, first_line, KMSDIAG_DNS_INFO, "priority-weight", owner,
          "records use priority/weight: honoured only by Windows 7 / Server "
          "2008 R2 and later clients with host caching off; Microsoft's "
          "current guidance is 0 and 0");
      break;
    }
  }
  for (size_t i = lo; i < hi && !x->oom; i++) {
    const zrec_t *z = x->idx[i];
    if (ldns_rr_get_type(z->rr) != LDNS_RR_TYPE_SRV)
      continue;
    if (x->rep->kms_records >= ZONE_MAX_KMS) {
      add(x, z->line, KMSDIAG_DNS_WARNING, "too-many-records", owner,
          "more than %u KMS SRV records: the rest are not checked",
          ZONE_MAX_KMS);
      break;
    }
    check_srv(x, z, owner);
    /* duplicates among the earlier SRV records of this owner */
    for (size_t k = lo; k < i; k++) {
      const ldns_rr *a = x->idx[k]->rr, *b = z->rr;
      if (ldns_rr_get_type(a) != LDNS_RR_TYPE_SRV ||
          ldns_rr_rd_count(a) != 4 || ldns_rr_rd_count(b) != 4)
        continue;
      if (ldns_rdf_compare(ldns_rr_rdf(a, 2), ldns_rr_rdf(b, 2)) == 0 &&
          ldns_dname_compare(ldns_rr_rdf(a, 3), ldns_rr_rdf(b, 3)) == 0) {
        bool same = ldns_rdf_compare(ldns_rr_rdf(a, 0), ldns_rr_rdf(b, 0)) ==
                        0 &&
                    ldns_rdf_compare(ldns_rr_rdf(a, 1), ldns_rr_rdf(b, 1)) == 0;
        add(x, z->line, KMSDIAG_DNS_WARNING,
            same ? "duplicate-record" : "duplicate-target", owner,
            same ? "same target and port as the record on line %lu"
                 : "same target and port as the record on line %lu, with a "
                   "different priority or weight",
            x->idx[k]->line);
        break;
      }
    }
  }
  free(owner);
}

/* ---- live comparison ------------------------------------------------------------------- */

enum lkind { L_OWNER, L_ORIGIN, L_ADDR };

typedef struct live_slot {
  kmsdiag_dns_result_t *r;
  enum lkind kind;
  size_t lo, hi;      /* L_OWNER: the owner's records; L_ADDR: the
                         target's records (maybe none) */
  char *name;         /* the name queried (owned) */
  unsigned long line; /* where findings go: the owner's first record, or
                         for L_ADDR the first SRV record naming it */
  const ldns_rdf *target; /* L_ADDR: the target (in a record of the file) */
} live_slot_t;

typedef struct live_set {
  live_slot_t *v;
  size_t n, cap;
} live_set_t;

static void live_done(kmsdiag_dns_result_t *r, void *ud) {
  live_slot_t *s = ud;
  s->r = r;
}

static live_slot_t *live_add(zctx_t *x, live_set_t *ls, enum lkind kind,
                             char *name) {
  live_slot_t *s;
  if (!name) {
    x->oom = true;
    return NULL;
  }
  if (ls->n >= ZONE_MAX_LIVE) {
    free(name);
    return NULL;
  }
  if (ls->n == ls->cap) {
    size_t nc = ls->cap ? ls->cap * 2 : 16;
    live_slot_t *nv = realloc(ls->v, nc * sizeof *nv);
    if (!nv) {
      free(name);
      x->oom = true;
      return NULL;
    }
    ls->v = nv;
    ls->cap = nc;
  }
  s = &ls->v[ls->n++];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->name = name;
  return s;
}

static unsigned long first_line(const zctx_t *x, size_t lo, size_t hi) {
  unsigned long line = lo < hi ? x->idx[lo]->line : 0;
  for (size_t k = lo; k < hi; k++)
    if (x->idx[k]->line < line)
      line = x->idx[k]->line;
  return line;
}

static bool srv_fields(const ldns_rr *rr, uint16_t *p, uint16_t *w,
                       uint16_t *po) {
  if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SRV || ldns_rr_rd_count(rr) != 4 ||
      ldns_rdf_size(ldns_rr_rdf(rr, 0)) != 2 ||
      ldns_rdf_size(ldns_rr_rdf(rr, 1)) != 2 ||
      ldns_rdf_size(ldns_rr_rdf(rr, 2)) != 2 ||
      ldns_rdf_get_type(ldns_rr_rdf(rr, 3)) != LDNS_RDF_TYPE_DNAME)
    return false;
  *p = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
  *w = ldns_rdf2native_int16(ldns_rr_rdf(rr, 1));
  *po = ldns_rdf2native_int16(ldns_rr_rdf(rr, 2));
  return true;
}

/* The SRV records a client gets for the owner [lo,hi): its own, or when
 * it has none and is an alias, those at the alias target (one hop, as far
 * as the file has it). */
static void srv_range(const zctx_t *x, size_t lo, size_t hi, size_t *flo,
                      size_t *fhi) {
  const ldns_rr *cn = NULL;
  *flo = lo;
  *fhi = hi;
  for (size_t i = lo; i < hi; i++)
    if (ldns_rr_get_type(x->idx[i]->rr) == LDNS_RR_TYPE_SRV)
      return;
  for (size_t i = lo; i < hi; i++)
    if (ldns_rr_get_type(x->idx[i]->rr) == LDNS_RR_TYPE_CNAME &&
        ldns_rr_rd_count(x->idx[i]->rr) == 1)
      cn = x->idx[i]->rr;
  if (cn && ldns_rdf_get_type(ldns_rr_rdf(cn, 0)) == LDNS_RDF_TYPE_DNAME)
    find_owner(x, ldns_rr_rdf(cn, 0), flo, fhi);
}

/* The owners to query, the zone's _vlmcs._tcp names the file lacks, and
 * the in-zone targets whose addresses are compared. */
static void live_plan(zctx_t *x, live_set_t *ls) {
  const ldns_rdf *origins[ZONE_MAX_ORIGINS + 1];
  size_t norig = 0;
  for (size_t lo = 0; lo < x->nrecs && !x->oom;) {
    size_t hi, flo, fhi;
    live_slot_t *s;
    find_owner(x, ldns_rr_owner(x->idx[lo]->rr), &lo, &hi);
    if (x->idx[lo]->kind == O_OTHER) {
      lo = hi;
      continue;
    }
    s = live_add(x, ls, L_OWNER, name_str(ldns_rr_owner(x->idx[lo]->rr)));
    if (s) {
      s->lo = lo;
      s->hi = hi;
      s->line = first_line(x, lo, hi);
    }
    /* targets of the SRV records a client would get here */
    srv_range(x, lo, hi, &flo, &fhi);
    for (size_t i = flo; i < fhi && !x->oom; i++) {
      const ldns_rr *rr = x->idx[i]->rr;
      const ldns_rdf *tg;
      uint16_t p, w, po;
      bool dup = false;
      if (!srv_fields(rr, &p, &w, &po))
        continue;
      tg = ldns_rr_rdf(rr, 3);
      if (ldns_rdf_size(tg) <= 1 || !in_zone(x, tg) || delegated(x, tg) ||
          has_type(x, tg, LDNS_RR_TYPE_CNAME, NULL))
        continue;
      for (size_t k = 0; k < ls->n && !dup; k++)
        if (ls->v[k].kind == L_ADDR &&
            ldns_dname_compare(ls->v[k].target, tg) == 0) {
          dup = true;
          if (x->idx[i]->line < ls->v[k].line)
            ls->v[k].line = x->idx[i]->line;
        }
      if (dup)
        continue;
      s = live_add(x, ls, L_ADDR, name_str(tg));
      if (s) {
        s->target = tg;
        find_owner(x, tg, &s->lo, &s->hi);
        s->line = x->idx[i]->line;
      }
    }
    lo = hi;
  }
  /* _vlmcs._tcp at the apex and at every $ORIGIN: names a server may
   * serve although the file has nothing there */
  if (x->apex)
    origins[norig++] = x->apex;
  for (size_t i = 0; i < x->norigins; i++) {
    bool seen = false;
    for (size_t k = 0; k < norig && !seen; k++)
      seen = ldns_dname_compare(origins[k], x->origins[i]) == 0;
    if (!seen)
      origins[norig++] = x->origins[i];
  }
  for (size_t i = 0; i < norig && !x->oom; i++) {
    ldns_rdf *name = NULL;
    size_t lo, hi;
    {
      char *o = name_str(origins[i]);
      char buf[600];
      if (!o) {
        x->oom = true;
        break;
      }
      snprintf(buf, sizeof buf, "_vlmcs._tcp.%s", strcmp(o, ".") ? o : "");
      free(o);
      if (ldns_str2rdf_dname(&name, buf) != LDNS_STATUS_OK || !name)
        continue;
      find_owner(x, name, &lo, &hi);
      ldns_rdf_deep_free(name);
      if (lo < hi)
        continue; /* the file has that name: queried as an owner */
      live_add(x, ls, L_ORIGIN, strdup(buf));
    }
  }
}

static void live_no_answer(zctx_t *x, const live_slot_t *s) {
  const kmsdiag_dns_result_t *r = s->r;
  add(x, s->line, KMSDIAG_DNS_ERROR, "live-no-answer", s->name,
      "no usable answer from the live server for %s: %s", s->name,
      r->error ? r->error : kmsdiag_strerror(r->status));
}

static void live_owner(zctx_t *x, const live_slot_t *s) {
  const kmsdiag_dns_result_t *r = s->r;
  const char *owner = s->name;
  size_t flo, fhi, nfile = 0;
  bool *matched;
  srv_range(x, s->lo, s->hi, &flo, &fhi);
  for (size_t k = flo; k < fhi; k++)
    if (ldns_rr_get_type(x->idx[k]->rr) == LDNS_RR_TYPE_SRV)
      nfile++;
  if (r->status != KMSDIAG_OK) {
    live_no_answer(x, s);
    return;
  }
  if (r->rcode == 5) {
    add(x, s->line, KMSDIAG_DNS_ERROR, "live-refused", owner,
        "the live server %s refused the query: it does not serve this "
        "zone",
        r->server);
    return;
  }
  if (r->rcode != 0 || r->nrecords == 0) {
    if (nfile)
      add(x, s->line, KMSDIAG_DNS_ERROR, "live-missing", owner,
          "the file has %zu SRV record%s here, the live server %s answers "
          "%s with none: zone not loaded or not reloaded since the change?",
          nfile, nfile == 1 ? "" : "s", r->server,
          kmsdiag_dns_rcode_name(r->rcode));
    return;
  }
  matched = calloc(r->nrecords, sizeof *matched);
  if (!matched) {
    x->oom = true;
    return;
  }
  for (size_t k = flo; k < fhi; k++) {
    const ldns_rr *rr = x->idx[k]->rr;
    char *t;
    bool found = false;
    uint16_t p, w, po;
    if (!srv_fields(rr, &p, &w, &po))
      continue;
    t = name_str(ldns_rr_rdf(rr, 3));
    if (!t) {
      x->oom = true;
      break;
    }
    for (size_t m = 0; m < r->nrecords; m++) {
      const kmsdiag_dns_srv_t *v = &r->records[m];
      if (!matched[m] && v->priority == p && v->weight == w &&
          v->port == po && strcasecmp(v->target, t) == 0) {
        matched[m] = true;
        found = true;
        if (v->ttl != ldns_rr_ttl(rr))
          add(x, x->idx[k]->line, KMSDIAG_DNS_INFO, "live-ttl", owner,
              "TTL %u in the file, %u from the live server (a cache "
              "counts down; an authoritative server serves the file's "
              "value)",
              (unsigned)ldns_rr_ttl(rr), (unsigned)v->ttl);
        break;
      }
    }
    if (!found)
      add(x, x->idx[k]->line, KMSDIAG_DNS_ERROR, "live-missing", owner,
          "SRV %u %u %u %s is in the file but not served by %s", p, w, po,
          t, r->server);
    free(t);
  }
  for (size_t m = 0; m < r->nrecords; m++)
    if (!matched[m])
      add(x, s->line, KMSDIAG_DNS_WARNING, "live-extra", owner,
          "%s serves SRV %u %u %u %s, which is not in the file%s",
          r->server, r->records[m].priority, r->records[m].weight,
          r->records[m].port, r->records[m].target,
          nfile ? "" : " (the file has no SRV record at this name)");
  free(matched);
}

static void live_origin(zctx_t *x, const live_slot_t *s) {
  const kmsdiag_dns_result_t *r = s->r;
  /* only a positive answer says something: a server that does not serve
   * this origin is reported through the owners of the file */
  if (r->status != KMSDIAG_OK || r->rcode != 0)
    return;
  for (size_t m = 0; m < r->nrecords; m++)
    add(x, 0, KMSDIAG_DNS_WARNING, "live-extra-name", s->name,
        "%s serves SRV %u %u %u %s at %s, a name the file has no record "
        "for: clients get these hosts, not what the file says",
        r->server, r->records[m].priority, r->records[m].weight,
        r->records[m].port, r->records[m].target, s->name);
}

/* An address of the file at a target's records [lo,hi), as bytes. */
static bool rr_addr(const ldns_rr *rr, int *fam, const uint8_t **b,
                    size_t *n) {
  const ldns_rdf *d;
  if (ldns_rr_rd_count(rr) != 1)
    return false;
  d = ldns_rr_rdf(rr, 0);
  if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A && ldns_rdf_size(d) == 4)
    *fam = 4;
  else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA &&
           ldns_rdf_size(d) == 16)
    *fam = 6;
  else
    return false;
  *b = ldns_rdf_data(d);
  *n = ldns_rdf_size(d);
  return true;
}

static bool served_has(const kmsdiag_dns_srv_t *v, int fam, const uint8_t *b,
                       size_t n) {
  for (size_t i = 0; i < v->naddrs; i++) {
    bool v6 = v->addrs[i].family == AF_INET6;
    if ((fam == 6) == v6 && memcmp(v->addrs[i].addr, b, n) == 0)
      return true;
  }
  return false;
}

static void live_addr(zctx_t *x, const live_slot_t *s) {
  const kmsdiag_dns_result_t *r = s->r;
  const kmsdiag_dns_srv_t *v;
  char list[400];
  size_t used = 0;
  unsigned long aline = 0;
  if (r->status != KMSDIAG_OK || r->nrecords != 1) {
    live_no_answer(x, s);
    return;
  }
  if (r->rcode == 5) {
    add(x, s->line, KMSDIAG_DNS_ERROR, "live-refused", s->name,
        "the live server %s refused the address query for %s", r->server,
        s->name);
    return;
  }
  v = &r->records[0];
  list[0] = '\0';
  for (size_t i = 0; i < v->naddrs; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                     v->addrs[i].text);
    if (w < 0 || (size_t)w >= sizeof list - used)
      break;
    used += (size_t)w;
  }
  for (size_t k = s->lo; k < s->hi; k++) {
    const ldns_rr *rr = x->idx[k]->rr;
    int fam;
    const uint8_t *b;
    size_t n;
    char text[64];
    if (!rr_addr(rr, &fam, &b, &n))
      continue;
    if (!aline || x->idx[k]->line < aline)
      aline = x->idx[k]->line;
    if (served_has(v, fam, b, n))
      continue;
    if (!inet_ntop(fam == 4 ? AF_INET : AF_INET6, b, text, sizeof text))
      snprintf(text, sizeof text, "?");
    add(x, x->idx[k]->line, KMSDIAG_DNS_ERROR, "live-address-missing",
        s->name,
        "%s %s of target %s is in the file but not served by %s (it "
        "serves %s): clients connect to what the server says",
        fam == 4 ? "A" : "AAAA", text, s->name, r->server,
        used ? list : "no address");
  }
  for (size_t i = 0; i < v->naddrs; i++) {
    bool in_file = false;
    bool v6 = v->addrs[i].family == AF_INET6;
    for (size_t k = s->lo; k < s->hi && !in_file; k++) {
      int fam;
      const uint8_t *b;
      size_t n;
      if (rr_addr(x->idx[k]->rr, &fam, &b, &n) && (fam == 6) == v6 &&
          memcmp(v->addrs[i].addr, b, n) == 0)
        in_file = true;
    }
    if (!in_file)
      add(x, aline ? aline : s->line, KMSDIAG_DNS_WARNING,
          "live-address-extra", s->name,
          "%s serves %s %s for target %s, which is not in the file",
          r->server, v6 ? "AAAA" : "A", v->addrs[i].text, s->name);
  }
}

static void compare_live(zctx_t *x, kmsdiag_dns_t *dns) {
  live_set_t ls = {NULL, 0, 0};
  bool owner_failed = false;
  kmsdiag_dns_set_follow_up(dns, false);
  live_plan(x, &ls);
  for (size_t i = 0; i < ls.n && !x->oom; i++) {
    unsigned flags = ls.v[i].kind == L_ADDR ? KD_DNS_ADDR_QUERY
                                            : KMSDIAG_DNS_EXACT_NAME;
    if (kmsdiag_dns_start(dns, ls.v[i].name, "exact-name", flags, live_done,
                          &ls.v[i]) != KMSDIAG_OK)
      x->oom = true;
  }
  if (kmsdiag_dns_run(dns) != KMSDIAG_OK)
    add(x, 0, KMSDIAG_DNS_ERROR, "live-no-answer", NULL,
        "the live queries could not be run (poll failed)");
  x->rep->live_queries = ls.n;
  /* owners first: when the server does not answer them, the address
   * queries of their targets failing too is no news */
  for (size_t i = 0; i < ls.n && !x->oom; i++)
    if (ls.v[i].r && ls.v[i].kind == L_OWNER) {
      if (ls.v[i].r->status != KMSDIAG_OK)
        owner_failed = true;
      live_owner(x, &ls.v[i]);
    }
  for (size_t i = 0; i < ls.n && !x->oom; i++) {
    live_slot_t *s = &ls.v[i];
    if (!s->r || s->kind == L_OWNER)
      continue;
    if (s->kind == L_ORIGIN)
      live_origin(x, s);
    else if (!(owner_failed && s->r->status != KMSDIAG_OK))
      live_addr(x, s);
  }
  for (size_t i = 0; i < ls.n; i++) {
    kmsdiag_dns_result_free(ls.v[i].r);
    free(ls.v[i].name);
  }
  free(ls.v);
}

/* ---- driver ----------------------------------------------------------------------------- */

static int cmp_finding(const void *a, const void *b) {
  const kmsdiag_zone_finding_t *x = a, *y = b;
  unsigned long lx = x->line ? x->line : (unsigned long)-1;
  unsigned long ly = y->line ? y->line : (unsigned long)-1;
  if (lx != ly)
    return lx < ly ? -1 : 1;
  if (x->severity != y->severity)
    return x->severity > y->severity ? -1 : 1;
  if (strcmp(x->rule, y->rule))
    return strcmp(x->rule, y->rule);
  return strcmp(x->message, y->message);
}

kmsdiag_status_t kmsdiag_zone_check_buffer(kmsdiag_zone_check_t *c,
                                           const char *name, const void *data,
                                           size_t len,
                                           kmsdiag_zone_report_t **out) {
  zctx_t x;
  ldns_rdf *first_origin = NULL;
  kmsdiag_status_t st;
  bool any_kms = false;
  if (!c || !out || (!data && len))
    return KMSDIAG_EINVAL;
  *out = NULL;
  if (len > ZONE_MAX_FILE)
    return KMSDIAG_ETOOBIG;
  memset(&x, 0, sizeof x);
  x.file = name ? name : "-";
  x.rep = calloc(1, sizeof *x.rep);
  if (!x.rep)
    return KMSDIAG_ENOMEM;
  if (len && memchr(data, '\0', len))
    add(&x, 0, KMSDIAG_DNS_WARNING, "binary-content", NULL,
        "the file contains NUL bytes: not a text zone file?");
  st = read_records(&x, c->origin, data, len, &first_origin);
  if (st != KMSDIAG_OK)
    goto done;
  x.rep->records = x.nrecs;
  /* the apex: the SOA owner, else the given origin, else the first
   * $ORIGIN of the file */
  for (size_t i = 0; i < x.nrecs; i++)
    if (ldns_rr_get_type(x.recs[i].rr) == LDNS_RR_TYPE_SOA) {
      x.apex = ldns_rdf_clone(ldns_rr_owner(x.recs[i].rr));
      break;
    }
  if (!x.apex && first_origin)
    x.apex = ldns_rdf_clone(first_origin);
  if (x.apex) {
    x.apex_str = name_str(x.apex);
    x.rep->origin = x.apex_str ? strdup(x.apex_str) : NULL;
  }
  x.idx = malloc((x.nrecs ? x.nrecs : 1) * sizeof *x.idx);
  if (!x.idx) {
    st = KMSDIAG_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < x.nrecs; i++)
    x.idx[i] = &x.recs[i];
  qsort(x.idx, x.nrecs, sizeof *x.idx, cmp_owner);
  for (size_t lo = 0; lo < x.nrecs && !x.oom;) {
    size_t hi = lo + 1;
    while (hi < x.nrecs && ldns_dname_compare(ldns_rr_owner(x.idx[lo]->rr),
                                              ldns_rr_owner(x.idx[hi]->rr)) == 0)
      hi++;
    check_owner_set(&x, lo, hi);
    if (x.idx[lo]->kind != O_OTHER)
      any_kms = true;
    lo = hi;
  }
  if (!any_kms && !x.oom)
    add(&x, 0, KMSDIAG_DNS_INFO, "no-kms-record", NULL,
        "no _vlmcs._tcp record and nothing that looks like one in this file");
  if (c->live && !x.oom)
    compare_live(&x, c->live);
  if (x.oom)
    st = KMSDIAG_ENOMEM;
  else if (x.rep->count > 1)
    qsort(x.rep->findings, x.rep->count, sizeof *x.rep->findings,
          cmp_finding);
done:
  for (size_t i = 0; i < x.nrecs; i++)
    ldns_rr_free(x.recs[i].rr);
  free(x.recs);
  free(x.idx);
  ldns_rdf_deep_free(x.apex);
  ldns_rdf_deep_free(first_origin);
  for (size_t i = 0; i < x.norigins; i++)
    ldns_rdf_deep_free(x.origins[i]);
  free(x.apex_str);
  if (st != KMSDIAG_OK) {
    kmsdiag_zone_report_free(x.rep);
    return st;
  }
  *out = x.rep;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_zone_check_file(kmsdiag_zone_check_t *c,
                                         const char *path,
                                         kmsdiag_zone_report_t **out) {
  FILE *f;
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  kmsdiag_status_t st;
  if (!c || !path || !out)
    return KMSDIAG_EINVAL;
  *out = NULL;
  f = fopen(path, "rb");
  if (!f)
    return KMSDIAG_EIO;
  for (;;) {
    size_t n;
    if (len == cap) {
      size_t nc = cap ? cap * 2 : 65536;
      uint8_t *nb;
      if (cap >= ZONE_MAX_FILE + 1) {
        free(buf);
        fclose(f);
        return KMSDIAG_ETOOBIG;
      }
      if (nc > ZONE_MAX_FILE + 1)
        nc = ZONE_MAX_FILE + 1;
      nb = realloc(buf, nc);
      if (!nb) {
        free(buf);
        fclose(f);
        return KMSDIAG_ENOMEM;
      }
      buf = nb;
      cap = nc;
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0)
      break;
  }
  if (ferror(f)) {
    int e = errno;
    free(buf);
    fclose(f);
    errno = e;
    return KMSDIAG_EIO;
  }
  fclose(f);
  if (len > ZONE_MAX_FILE) {
    free(buf);
    return KMSDIAG_ETOOBIG;
  }
  st = kmsdiag_zone_check_buffer(c, path, buf, len, out);
  free(buf);
  return st;
}

void kmsdiag_zone_finding_write_json(kmsdiag_json_t *j,
                                     const kmsdiag_zone_finding_t *f) {
  if (!j || !f)
    return;
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", "finding");
  kmsdiag_json_strn(j, "file", f->file, f->file ? strlen(f->file) : 0);
  kmsdiag_json_uint(j, "line", f->line);
  kmsdiag_json_str(j, "severity", kmsdiag_dns_severity_name(f->severity));
  kmsdiag_json_str(j, "rule", f->rule);
  kmsdiag_json_strn(j, "message", f->message,
                    f->message ? strlen(f->message) : 0);
  if (f->name)
    kmsdiag_json_strn(j, "name", f->name, strlen(f->name));
  else
    kmsdiag_json_null(j, "name");
  kmsdiag_json_object_end(j);
}
