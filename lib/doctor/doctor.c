/* doctor.c: the check engine behind kms-doctor (see kmsdiag_doctor.h).
 *
 * The run gathers facts step by step (slmgr text, product, resolver, SRV
 * lookups, probes), records a check for each, then decides one verdict
 * from the facts in the order a Windows client meets them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_dns.h>
#include <kmsdiag/kmsdiag_doctor.h>
#include <kmsdiag/kmsdiag_epid.h>
#include <kmsdiag/kmsdiag_errors.h>
#include <kmsdiag/kmsdiag_probe.h>
#include <kmsdiag/kmsdiag_products.h>

#include "doctor/doctor_internal.h"
#include "internal/buf.h"
#include "internal/reader.h"

#define MAX_CHECKS 4096u
#define MAX_FIXES 16u
#define MAX_TARGETS 256u
#define RESOLV_MAX_BYTES 65536u
#define SKEW_LIMIT_S (4 * 3600)

#define HR_F074 0xC004F074u
#define HR_F038 0xC004F038u
#define HR_F042 0xC004F042u
#define HR_F06C 0xC004F06Cu
#define HR_232B 0x8007232Bu
#define HR_251D 0x8007251Du
#define HR_232A 0x8007232Au
#define HR_007B 0x8007007Bu

/* A check and the strings it owns (pub points at them). */
typedef struct check {
  kmsdiag_doctor_check_t pub;
  char *subject, *evidence;
} check_t;

struct kmsdiag_doctor {
  /* options */
  char *domain, *host, *servers, *resolv, *product_name;
  int stage;
  unsigned timeout_ms;
  bool has_cmid;
  kmsdiag_guid_t cmid;
  const kmsdiag_slmgr_t *slmgr;
  /* results */
  check_t *checks;
  size_t nchecks, capchecks;
  bool truncated;
  bool ran;
  kmsdiag_doctor_verdict_t verdict;
  char *v_cause, *v_meaning;
  char *fixes[MAX_FIXES];
  size_t nfixes;
};

/* One probe target and where it came from. */
typedef struct target {
  char *label;       /* SRV target name or the pinned host spec */
  char *host;        /* what the prober gets: address or name */
  uint16_t port;
  bool pinned;       /* from --host or slmgr /skms */
  bool no_address;   /* SRV target without any address: not probed */
  bool cached;       /* the host slmgr shows as found through DNS */
  bool key_doubt;    /* activated, but its ePID's host key should not */
  size_t same_as;    /* 1 + index of an earlier target with this host:port */
  size_t probe_index;
  const kmsdiag_probe_result_t *r;
} target_t;

/* Working state of one run. */
typedef struct ctx {
  const kmsdiag_slmgr_product_t *sp;   /* slmgr primary block */
  bool not_kms_client;
  const char *pinned_spec;             /* slmgr or option */
  bool pinned_from_slmgr;
  char pinned_buf[300];
  const kmsdiag_product_t *product;
  bool product_known;                  /* named or matched, not the default */
  kmsdiag_dns_results_t *dns;
  bool no_domain;
  bool dns_ran;
  const kmsdiag_dns_result_t *first_with_records;
  const kmsdiag_dns_result_t *first_failure;
  target_t targets[MAX_TARGETS];
  size_t ntargets;
  kmsdiag_probe_t *probe;
  char *probe_servers;
  /* set by decide() for fixes_for(): who failed, and where */
  bool fix_pinned;
  bool fail_rpc_only;          /* every failing host passed tcp, failed rpc */
  bool fail_records_only;      /* nothing probed failed: the records are bad */
  const target_t *first_rpc_fail;
  kmsdiag_status_t err;
} ctx_t;

/* ---- results storage ---------------------------------------------------- */

static char *vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vfmt(const char *fmt, va_list ap) {
  kd_buf_t b;
  size_t n;
  kd_buf_init(&b);
  b.max = 16384;
  kd_buf_vprintf(&b, fmt, ap);
  if (!kd_buf_ok(&b)) {
    kd_buf_free(&b);
    return NULL;
  }
  if (!b.data)
    return strdup("");
  return (char *)kd_buf_steal(&b, &n);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  va_list ap;
  char *s;
  va_start(ap, f);
  s = vfmt(f, ap);
  va_end(ap);
  return s;
}

static void add_check(kmsdiag_doctor_t *d, ctx_t *x, const char *name,
                      kmsdiag_doctor_status_t st, uint32_t hr,
                      const char *subject, const char *f, ...)
    __attribute__((format(printf, 7, 8)));
static void add_check(kmsdiag_doctor_t *d, ctx_t *x, const char *name,
                      kmsdiag_doctor_status_t st, uint32_t hr,
                      const char *subject, const char *f, ...) {
  va_list ap;
  check_t *c;
  if (d->nchecks >= MAX_CHECKS) {
    d->truncated = true;
    return;
  }
  if (d->nchecks == d->capchecks) {
    size_t nc = d->capchecks ? d->capchecks * 2 : 32;
    void *p = realloc(d->checks, nc * sizeof *d->checks);
    if (!p) {
      x->err = KMSDIAG_ENOMEM;
      return;
    }
    d->checks = p;
    d->capchecks = nc;
  }
  c = &d->checks[d->nchecks];
  memset(c, 0, sizeof *c);
  c->subject = subject ? strdup(subject) : NULL;
  va_start(ap, f);
  c->evidence = vfmt(f, ap);
  va_end(ap);
  if ((subject && !c->subject) || !c->evidence) {
    free(c->subject);
    free(c->evidence);
    x->err = KMSDIAG_ENOMEM;
    return;
  }
  c->pub.name = name;
  c->pub.status = st;
  c->pub.hresult = hr;
  c->pub.subject = c->subject;
  c->pub.evidence = c->evidence;
  d->nchecks++;
}

static void add_fix(kmsdiag_doctor_t *d, const char *f, ...)
    __attribute__((format(printf, 2, 3)));
static void add_fix(kmsdiag_doctor_t *d, const char *f, ...) {
  va_list ap;
  char *s;
  if (d->nfixes >= MAX_FIXES)
    return;
  va_start(ap, f);
  s = vfmt(f, ap);
  va_end(ap);
  if (s)
    d->fixes[d->nfixes++] = s;
}

static void clear_results(kmsdiag_doctor_t *d) {
  for (size_t i = 0; i < d->nchecks; i++) {
    free(d->checks[i].subject);
    free(d->checks[i].evidence);
  }
  free(d->checks);
  d->checks = NULL;
  d->nchecks = d->capchecks = 0;
  for (size_t i = 0; i < d->nfixes; i++)
    free(d->fixes[i]);
  d->nfixes = 0;
  free(d->v_cause);
  free(d->v_meaning);
  d->v_cause = d->v_meaning = NULL;
  memset(&d->verdict, 0, sizeof d->verdict);
  d->ran = false;
  d->truncated = false;
}

/* ---- options -------------------------------------------------------------- */

kmsdiag_status_t kmsdiag_doctor_new(kmsdiag_doctor_t **out) {
  kmsdiag_doctor_t *d;
  if (!out)
    return KMSDIAG_EINVAL;
  *out = NULL;
  d = calloc(1, sizeof *d);
  if (!d)
    return KMSDIAG_ENOMEM;
  d->stage = KMSDIAG_PROBE_STAGE_RPC;
  d->timeout_ms = 2000;
  *out = d;
  return KMSDIAG_OK;
}

void kmsdiag_doctor_free(kmsdiag_doctor_t *d) {
  if (!d)
    return;
  clear_results(d);
  free(d->domain);
  free(d->host);
  free(d->servers);
  free(d->resolv);
  free(d->product_name);
  free(d);
}

static kmsdiag_status_t set_str(char **slot, const char *v, size_t max) {
  char *c = NULL;
  if (v) {
    if (strlen(v) > max)
      return KMSDIAG_ETOOBIG;
    c = strdup(v);
    if (!c)
      return KMSDIAG_ENOMEM;
  }
  free(*slot);
  *slot = c;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_doctor_set_domain(kmsdiag_doctor_t *d,
                                           const char *domain) {
  if (!d)
    return KMSDIAG_EINVAL;
  if (domain && !*domain)
    return KMSDIAG_EPARSE;
  return set_str(&d->domain, domain, 253);
}

kmsdiag_status_t kmsdiag_doctor_set_host(kmsdiag_doctor_t *d, const char *spec) {
  kmsdiag_probe_t *p;
  kmsdiag_status_t st;
  if (!d)
    return KMSDIAG_EINVAL;
  if (spec) {
    /* validate with the prober's own parser */
    if (kmsdiag_probe_new(&p) != KMSDIAG_OK)
      return KMSDIAG_ENOMEM;
    st = kmsdiag_probe_add_target_spec(p, spec, NULL);
    kmsdiag_probe_free(p);
    if (st != KMSDIAG_OK)
      return KMSDIAG_EPARSE;
  }
  return set_str(&d->host, spec, 300);
}

kmsdiag_status_t kmsdiag_doctor_set_dns_servers(kmsdiag_doctor_t *d,
                                                const char *list) {
  kmsdiag_dns_t *dns;
  kmsdiag_status_t st;
  if (!d)
    return KMSDIAG_EINVAL;
  if (list && *list) {
    if ((st = kmsdiag_dns_new(&dns)) != KMSDIAG_OK)
      return st;
    st = kmsdiag_dns_set_servers(dns, list);
    kmsdiag_dns_free(dns);
    if (st != KMSDIAG_OK)
      return st;
  }
  return set_str(&d->servers, list && *list ? list : NULL, 1024);
}

kmsdiag_status_t kmsdiag_doctor_set_resolv_conf(kmsdiag_doctor_t *d,
                                                const char *path) {
  if (!d)
    return KMSDIAG_EINVAL;
  return set_str(&d->resolv, path, 4096);
}

kmsdiag_status_t kmsdiag_doctor_set_product(kmsdiag_doctor_t *d,
                                            const char *name) {
  if (!d)
    return KMSDIAG_EINVAL;
  return set_str(&d->product_name, name, 256);
}

kmsdiag_status_t kmsdiag_doctor_set_stage(kmsdiag_doctor_t *d, int stage) {
  if (!d || stage < KMSDIAG_PROBE_STAGE_TCP || stage > KMSDIAG_PROBE_STAGE_KMS)
    return KMSDIAG_EINVAL;
  d->stage = stage;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_doctor_set_timeout_ms(kmsdiag_doctor_t *d,
                                               unsigned ms) {
  if (!d || ms < 10 || ms > 600000)
    return KMSDIAG_EINVAL;
  d->timeout_ms = ms;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_doctor_set_cmid(kmsdiag_doctor_t *d,
                                         const kmsdiag_guid_t *cmid) {
  if (!d)
    return KMSDIAG_EINVAL;
  d->has_cmid = cmid != NULL;
  if (cmid)
    d->cmid = *cmid;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_doctor_set_slmgr(kmsdiag_doctor_t *d,
                                          const kmsdiag_slmgr_t *s) {
  if (!d)
    return KMSDIAG_EINVAL;
  d->slmgr = s;
  return KMSDIAG_OK;
}

/* ---- step: slmgr text ------------------------------------------------------ */

static void step_slmgr(kmsdiag_doctor_t *d, ctx_t *x) {
  const kmsdiag_slmgr_t *s = d->slmgr;
  const kmsdiag_slmgr_product_t *p;
  uint32_t code;
  if (!s)
    return;
  p = x->sp = kmsdiag_slmgr_primary(s);
  add_check(d, x, "slmgr_input",
            kmsdiag_slmgr_warning_count(s) ? KMSDIAG_DOCTOR_WARN
                                           : KMSDIAG_DOCTOR_INFO,
            0, NULL, "read %u lines (%s), %zu product block(s)%s%s%s",
            kmsdiag_slmgr_line_count(s), kmsdiag_slmgr_encoding(s),
            kmsdiag_slmgr_product_count(s),
            p && p->name ? "; using \"" : "", p && p->name ? p->name : "",
            p && p->name ? "\"" : "");
  for (size_t i = 0; i < kmsdiag_slmgr_warning_count(s) && i < 8; i++) {
    unsigned line = 0;
    const char *w = kmsdiag_slmgr_warning_at(s, i, &line);
    add_check(d, x, "slmgr_input", KMSDIAG_DOCTOR_WARN, 0, NULL,
              "line %u: %s", line, w);
  }
  if (!p)
    return;
  switch (p->channel) {
  case KMSDIAG_SLMGR_CHANNEL_KMSCLIENT:
    add_check(d, x, "license_channel", KMSDIAG_DOCTOR_OK, 0, NULL,
              "channel %s: a KMS client setup key (GVLK) is installed",
              p->channel_text ? p->channel_text : "VOLUME_KMSCLIENT");
    break;
  case KMSDIAG_SLMGR_CHANNEL_UNKNOWN:
    add_check(d, x, "license_channel", KMSDIAG_DOCTOR_WARN, 0, NULL,
              "the text shows no Description or Product Key Channel line: "
              "cannot tell whether a KMS client key is installed");
    break;
  default:
    x->not_kms_client = true;
    add_check(d, x, "license_channel", KMSDIAG_DOCTOR_FAIL, 0, NULL,
              "channel %s (%s): not a KMS client key; only VOLUME_KMSCLIENT "
              "(GVLK) installations ask a KMS host for activation",
              p->channel_text ? p->channel_text : "?",
              kmsdiag_slmgr_channel_name(p->channel));
  }
  if (p->license == KMSDIAG_SLMGR_LICENSE_LICENSED) {
    add_check(d, x, "license_status", KMSDIAG_DOCTOR_OK, 0, NULL,
              "License Status: Licensed%s", p->has_expiration
                                                ? " (volume activation "
                                                  "expiration shown)"
                                                : "");
  } else if (p->license != KMSDIAG_SLMGR_LICENSE_UNKNOWN) {
    add_check(d, x, "license_status", KMSDIAG_DOCTOR_WARN,
              p->has_notification_reason ? p->notification_reason : 0, NULL,
              "License Status: %s%s",
              p->license_text ? p->license_text
                              : kmsdiag_slmgr_license_name(p->license),
              p->has_notification_reason ? " (Notification Reason shown)"
                                         : "");
  }
  if (p->has_cmid) {
    char g[KMSDIAG_GUID_STRLEN];
    kmsdiag_guid_to_str(&p->cmid, g);
    if (kmsdiag_guid_is_null(&p->cmid))
      add_check(d, x, "cmid", KMSDIAG_DOCTOR_WARN, 0, NULL,
                "Client Machine ID (CMID) %s is all zero: the host cannot "
                "count this client", g);
    else
      add_check(d, x, "cmid", KMSDIAG_DOCTOR_INFO, 0, NULL,
                "Client Machine ID (CMID) %s: must differ on every client "
                "(clones that were not generalized share one and the host's "
                "count stays stuck)", g);
  }
  if (kmsdiag_slmgr_last_error(s, &code))
    add_check(d, x, "client_last_error", KMSDIAG_DOCTOR_WARN, code, NULL,
              "the pasted text holds an error line: 0x%08X", code);
  if (p->pinned_host) {
    x->pinned_from_slmgr = true;
    if (strchr(p->pinned_host, ':'))
      snprintf(x->pinned_buf, sizeof x->pinned_buf, "[%s]:%u", p->pinned_host,
               p->pinned_port);
    else
      snprintf(x->pinned_buf, sizeof x->pinned_buf, "%s:%u", p->pinned_host,
               p->pinned_port);
    x->pinned_spec = x->pinned_buf;
  }
  if (p->dns_host)
    add_check(d, x, "cached_host", KMSDIAG_DOCTOR_INFO, 0, NULL,
              "last host found through DNS: %s:%u (host caching %s)",
              p->dns_host, p->dns_port,
              p->host_caching == 1   ? "enabled: the client returns to it "
                                       "first"
              : p->host_caching == 0 ? "disabled"
                                     : "not shown");
}

/* ---- step: product ------------------------------------------------------- */

static void step_product(kmsdiag_doctor_t *d, ctx_t *x) {
  const kmsdiag_product_t *found[4];
  size_t n = 0;
  const char *how = "the default; name the client's with --product";
  bool named = false;
  char lines[512];
  size_t used = 0;
  x->product = NULL;
  if (d->product_name) {
    kmsdiag_status_t st = kmsdiag_product_find(d->product_name, found, 4, &n);
    if (st == KMSDIAG_OK) {
      x->product = found[0];
      how = "--product";
      named = true;
    } else if (st == KMSDIAG_EAMBIGUOUS) {
      char cand[400];
      size_t cu = 0;
      cand[0] = '\0';
      for (size_t i = 0; i < n && i < 4; i++) {
        int w = snprintf(cand + cu, sizeof cand - cu, "%s\"%s\"",
                         i ? ", " : "", found[i]->name);
        if (w < 0 || (size_t)w >= sizeof cand - cu)
          break;
        cu += (size_t)w;
      }
      add_check(d, x, "product", KMSDIAG_DOCTOR_WARN, 0, NULL,
                "product \"%s\" matches several products (%s%s); using "
                "the default product", d->product_name, cand,
                n > 4 ? ", ..." : "");
    } else {
      add_check(d, x, "product", KMSDIAG_DOCTOR_WARN, 0, NULL,
                "product \"%s\" is not known; using the default product",
                d->product_name);
    }
  }
  if (!x->product && x->sp && x->sp->has_activation_id) {
    x->product = kmsdiag_product_by_sku(&x->sp->activation_id);
    if (x->product)
      how = "the slmgr Activation ID";
  }
  x->product_known = x->product != NULL;
  if (!x->product)
    x->product = kmsdiag_product_default();
  if (!x->product)
    return;
  /* the same decision as kms-info product and can-activate: the host
   * keys that activate the lines the name asks for (all of them when the
   * product comes from slmgr or the default), then those that cover only
   * some of its lines */
  lines[0] = '\0';
  kmsdiag_line_mask_t asked =
      named ? kmsdiag_product_query_lines(x->product, d->product_name)
          : 0;
  static const kmsdiag_activation_answer_t answers[] = {
      KMSDIAG_ACTIVATE_YES, KMSDIAG_ACTIVATE_PARTLY};
  for (size_t a = 0; a < 2; a++) {
    const kmsdiag_csvlk_t *keys[32];
    size_t nk = kmsdiag_product_host_keys(x->product, asked, answers[a],
                                          keys, 32);
    for (size_t i = 0; i < nk && i < 32; i++) {
      int w = snprintf(lines + used, sizeof lines - used, "%s%s%s",
                       used ? ", " : "", keys[i]->name,
                       a ? " (some lines)" : "");
      if (w < 0 || (size_t)w >= sizeof lines - used)
        break;
      used += (size_t)w;
    }
  }
  add_check(d, x, "product", KMSDIAG_DOCTOR_INFO, 0, NULL,
            "%s (from %s): KMS group %s, the host must count at least %u "
            "machines; host keys that activate it: %s",
            x->product->name, how, x->product->kms_group->name,
            (unsigned)x->product->kms_group->n_policy,
            used ? lines : "none known");
}

/* ---- step: resolver and SRV ------------------------------------------------ */

static void srv_summary(const kmsdiag_dns_result_t *r, char *buf, size_t sz) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < r->nrecords && used + 1 < sz; i++) {
    const kmsdiag_dns_srv_t *s = &r->records[i];
    int w = snprintf(buf + used, sz - used, "%s%s:%u (priority %u weight %u)",
                     i ? ", " : "", s->target, s->port, s->priority,
                     s->weight);
    if (w < 0 || (size_t)w >= sz - used)
      break;
    used += (size_t)w;
  }
}

static bool add_target(ctx_t *x, const char *label, const char *host,
                       uint16_t port, bool pinned, bool no_address) {
  target_t *t;
  if (x->ntargets >= MAX_TARGETS)
    return false;
  t = &x->targets[x->ntargets];
  memset(t, 0, sizeof *t);
  t->label = strdup(label);
  t->host = strdup(host);
  if (!t->label || !t->host) {
    free(t->label);
    free(t->host);
    x->err = KMSDIAG_ENOMEM;
    return false;
  }
  t->port = port;
  t->pinned = pinned;
  t->no_address = no_address;
  x->ntargets++;
  return true;
}

static void step_dns(kmsdiag_doctor_t *d, ctx_t *x) {
  kmsdiag_dns_t *dns = NULL;
  kmsdiag_status_t st;
  char **cfg = NULL;
  const char **src = NULL;
  const char *doms[1];
  size_t nd = 0;
  const char *skms_domain = x->sp ? x->sp->skms_domain : NULL;
  bool for_whatif = x->pinned_spec != NULL;

  if ((st = kmsdiag_dns_new(&dns)) != KMSDIAG_OK) {
    add_check(d, x, "resolver_config", KMSDIAG_DOCTOR_FAIL, HR_232A, NULL,
              "cannot start the DNS resolver: %s", kmsdiag_strerror(st));
    x->err = st == KMSDIAG_ENOMEM ? st : KMSDIAG_OK;
    x->dns_ran = true;
    x->no_domain = false;
    return;
  }
  if (d->resolv)
    (void)kmsdiag_dns_set_resolv_conf(dns, d->resolv);
  if (d->servers)
    (void)kmsdiag_dns_set_servers(dns, d->servers);
  (void)kmsdiag_dns_set_timeout_ms(dns, d->timeout_ms);
  (void)kmsdiag_dns_set_tries(dns, 2);

  if (d->domain || skms_domain) {
    doms[0] = d->domain ? d->domain : skms_domain;
    nd = 1;
    add_check(d, x, "resolver_config", KMSDIAG_DOCTOR_INFO, 0, NULL,
              "domain %s: %s", doms[0],
              d->domain ? "given on the command line (the resolver's suffix "
                          "and search list are not used)"
                        : "slmgr /skms-domain is set: the client searches "
                          "only this domain");
  } else {
    st = kmsdiag_dns_config_domains(dns, &cfg, &src);
    if (st == KMSDIAG_ENOMEM) {
      x->err = st;
      kmsdiag_dns_free(dns);
      return;
    }
    size_t n = 0;
    char list[1024];
    size_t used = 0;
    list[0] = '\0';
    for (n = 0; cfg && cfg[n]; n++) {
      int w = snprintf(list + used, sizeof list - used, "%s%s (%s)",
                       n ? ", " : "", cfg[n], src ? src[n] : "?");
      if (w > 0 && (size_t)w < sizeof list - used)
        used += (size_t)w;
    }
    if (n == 0) {
      x->no_domain = !for_whatif;
      add_check(d, x, "resolver_config",
                for_whatif ? KMSDIAG_DOCTOR_WARN : KMSDIAG_DOCTOR_FAIL,
                HR_007B, d->resolv ? d->resolv : NULL,
                "%s: no primary DNS suffix (domain) and no search list: the "
                "client sends no SRV query at all",
                st == KMSDIAG_EIO ? "resolver configuration unreadable"
                                  : "resolver configuration");
    } else {
      bool primary = src && src[0] && strcmp(src[0], "primary-suffix") == 0;
      add_check(d, x, "resolver_config",
                primary ? KMSDIAG_DOCTOR_OK : KMSDIAG_DOCTOR_WARN, 0,
                d->resolv ? d->resolv : NULL, "domains to search: %s%s", list,
                primary ? ""
                        : "; no primary DNS suffix: a Windows client without "
                          "one may send no query (0x8007007B) even though a "
                          "search list is set");
    }
  }
  x->dns_ran = true;
  if (x->no_domain || (nd == 0 && (!cfg || !cfg[0]))) {
    kmsdiag_dns_strv_free(cfg);
    free((void *)src);
    kmsdiag_dns_free(dns);
    return;
  }
  st = kmsdiag_dns_lookup(dns, nd ? doms : NULL, nd, &x->dns);
  kmsdiag_dns_strv_free(cfg);
  free((void *)src);
  if (st != KMSDIAG_OK) {
    add_check(d, x, "srv_lookup", KMSDIAG_DOCTOR_FAIL, HR_232A, NULL,
              "the DNS lookup could not run: %s", kmsdiag_strerror(st));
    if (st == KMSDIAG_ENOMEM)
      x->err = st;
    kmsdiag_dns_free(dns);
    return;
  }
  for (size_t i = 0; x->dns && i < x->dns->count; i++) {
    const kmsdiag_dns_result_t *r = x->dns->items[i];
    char sum[1024];
    /* records whose targets are all unusable ("." or port 0) carry
     * 0xC004F074: the lookup worked, the targets are checked below */
    if (r->nrecords > 0 && (r->hresult == 0 || r->hresult == HR_F074)) {
      srv_summary(r, sum, sizeof sum);
      add_check(d, x, "srv_lookup",
                r->hresult ? KMSDIAG_DOCTOR_WARN : KMSDIAG_DOCTOR_OK,
                r->hresult, r->qname, "%zu SRV record(s) from %s: %s%s",
                r->nrecords, r->server[0] ? r->server : "the resolver", sum,
                r->hresult ? "; none names a usable host" : "");
      if (!x->first_with_records)
        x->first_with_records = r;
    } else {
      const char *why = r->hresult == HR_232B   ? "the name does not exist "
                                                  "(NXDOMAIN)"
                        : r->hresult == HR_251D ? "the name exists but holds "
                                                  "no SRV record"
                        : r->hresult == HR_007B ? "no valid name to query"
                                                : "no usable answer from the "
                                                  "DNS server";
      add_check(d, x, "srv_lookup",
                for_whatif ? KMSDIAG_DOCTOR_WARN : KMSDIAG_DOCTOR_FAIL,
                r->hresult ? r->hresult : HR_232A,
                r->qname ? r->qname : r->domain, "%s; rcode %s, server %s%s%s",
                why, kmsdiag_dns_rcode_name(r->rcode),
                r->server[0] ? r->server : "none answered",
                r->error ? ": " : "", r->error ? r->error : "");
      if (!x->first_failure)
        x->first_failure = r;
    }
    for (size_t k = 0; k < r->nproblems; k++) {
      const kmsdiag_dns_problem_t *pb = &r->problems[k];
      /* problems that restate the lookup's outcome (srv_lookup) or a
       * target's (srv_target) are not repeated */
      static const char *const restated[] = {
          "nxdomain", "no-srv-data", "servfail", "no-domain", "query-failed",
          "connection-refused", "invalid-name", "target-no-address",
          "target-root", "no-usable-host", "port-zero"};
      bool skip = pb->severity == KMSDIAG_DNS_INFO;
      for (size_t q = 0; !skip && pb->rule &&
                         q < sizeof restated / sizeof restated[0];
           q++)
        skip = strcmp(pb->rule, restated[q]) == 0;
      if (skip)
        continue;
      add_check(d, x, "srv_record", KMSDIAG_DOCTOR_WARN, 0, r->qname,
                "%s: %s", pb->rule, pb->message ? pb->message : "");
    }
  }
  /* every target of the domain the client would use, in client order */
  if (x->first_with_records) {
    const kmsdiag_dns_result_t *r = x->first_with_records;
    for (size_t i = 0; i < r->nrecords; i++) {
      const kmsdiag_dns_srv_t *s = &r->records[i];
      if (strcmp(s->target, ".") == 0) {
        add_check(d, x, "srv_target", KMSDIAG_DOCTOR_WARN, 0, s->target,
                  "target \".\" means \"no service here\"");
        continue;
      }
      if (s->naddrs == 0) {
        add_check(d, x, "srv_target",
                  for_whatif ? KMSDIAG_DOCTOR_WARN : KMSDIAG_DOCTOR_FAIL,
                  HR_F074, s->target,
                  "%s has no A or AAAA address%s: the client cannot reach "
                  "it (a stale record?)",
                  s->target,
                  s->target_is_cname ? " (the name is a CNAME, which SRV "
                                       "targets must not be)"
                                     : "");
        add_target(x, s->target, s->target, s->port, false, true);
        continue;
      }
      if (s->port == 0) {
        add_check(d, x, "srv_target",
                  for_whatif ? KMSDIAG_DOCTOR_WARN : KMSDIAG_DOCTOR_FAIL,
                  HR_F074, s->target,
                  "%s: the record's port is 0, which no client can connect "
                  "to (KMS listens on 1688 unless slmgr /sprt moved it)",
                  s->target);
        add_target(x, s->target, s->target, s->port, false, true);
        continue;
      }
      char al[512];
      size_t used = 0;
      al[0] = '\0';
      for (size_t a = 0; a < s->naddrs; a++) {
        int w = snprintf(al + used, sizeof al - used, "%s%s", a ? ", " : "",
                         s->addrs[a].text);
        if (w > 0 && (size_t)w < sizeof al - used)
          used += (size_t)w;
        add_target(x, s->target, s->addrs[a].text, s->port, false, false);
      }
      add_check(d, x, "srv_target", KMSDIAG_DOCTOR_OK, 0, s->target,
                "%s port %u -> %s", s->target, s->port, al);
    }
  }
  kmsdiag_dns_free(dns);
}

/* nameserver lines of resolver configuration text, as "A:P,B:P" for the
 * prober (which resolves pinned host names). NULL when there is none. */
char *kd_doctor_nameservers_csv(const uint8_t *data, size_t len) {
  kd_reader_t r;
  kd_buf_t out;
  size_t n, lines = 0;
  kd_buf_init(&out);
  out.max = 4096;
  kd_rd_init(&r, data, len);
  while (kd_rd_remaining(&r) > 0 && lines++ < 10000) {
    size_t rem = kd_rd_remaining(&r), k = 0, i = 0;
    const uint8_t *p = kd_rd_peek(&r, rem);
    while (k < rem && p[k] != '\n')
      k++;
    kd_rd_skip(&r, k < rem ? k + 1 : k);
    while (i < k && (p[i] == ' ' || p[i] == '\t'))
      i++;
    if (k - i > 10 && memcmp(p + i, "nameserver", 10) == 0 &&
        (p[i + 10] == ' ' || p[i + 10] == '\t')) {
      size_t s = i + 10, e;
      while (s < k && (p[s] == ' ' || p[s] == '\t'))
        s++;
      e = s;
      while (e < k && p[e] != ' ' && p[e] != '\t' && p[e] != '\r' &&
             p[e] != '#' && p[e] != ';')
        e++;
      if (e > s && e - s < 64) {
        bool ok = true;
        for (size_t c = s; c < e; c++)
          if (!((p[c] >= '0' && p[c] <= '9') || (p[c] >= 'a' && p[c] <= 'f') ||
                (p[c] >= 'A' && p[c] <= 'F') || p[c] == '.' || p[c] == ':' ||
                p[c] == '[' || p[c] == ']'))
            ok = false;
        if (ok) {
          if (out.len)
            kd_buf_putc(&out, ',');
          kd_buf_put(&out, p + s, e - s);
        }
      }
    }
  }
  if (!kd_buf_ok(&out) || out.len == 0) {
    kd_buf_free(&out);
    return NULL;
  }
  return (char *)kd_buf_steal(&out, &n);
}

static char *resolv_servers_csv(const char *path) {
  FILE *f;
  uint8_t *data;
  size_t len;
  char *csv;
  if (!path)
    path = getenv("KMSDIAG_RESOLV_CONF");
  if (!path || !*path)
    return NULL; /* the system resolver: the prober's default */
  f = fopen(path, "rb");
  if (!f)
    return NULL;
  data = malloc(RESOLV_MAX_BYTES);
  if (!data) {
    fclose(f);
    return NULL;
  }
  len = fread(data, 1, RESOLV_MAX_BYTES, f);
  fclose(f);
  csv = kd_doctor_nameservers_csv(data, len);
  free(data);
  return csv;
}

/* ---- step: probes ---------------------------------------------------------- */

/* Host names equal as DNS names: case-insensitive, a trailing dot or
 * not. Addresses compare as text, which is what the user wrote. */
static bool same_host_name(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la && a[la - 1] == '.')
    la--;
  if (lb && b[lb - 1] == '.')
    lb--;
  if (la != lb)
    return false;
  for (size_t i = 0; i < la; i++) {
    unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];
    if (ca >= 'A' && ca <= 'Z')
      ca = (unsigned char)(ca + 32);
    if (cb >= 'A' && cb <= 'Z')
      cb = (unsigned char)(cb + 32);
    if (ca != cb)
      return false;
  }
  return true;
}

/* How many probed targets come from the SRV target named \p label. */
static size_t addresses_of(const ctx_t *x, const char *label) {
  size_t n = 0;
  for (size_t i = 0; i < x->ntargets; i++)
    if (!x->targets[i].pinned && !x->targets[i].no_address &&
        same_host_name(x->targets[i].label, label))
      n++;
  return n;
}

/* Two targets reach one host: the same address or name as given to the
 * prober (two SRV names for one address), or a pinned name that is also
 * an SRV target with a single address (the pin's probe then tried exactly
 * that address). Addresses of one SRV target are never merged: each may
 * answer differently. The client may try both; one probe tells what each
 * attempt meets. */
static bool same_target(const ctx_t *x, const target_t *a, const target_t *b) {
  if (same_host_name(a->host, b->host))
    return true;
  if (a->pinned && !b->pinned && same_host_name(a->host, b->label))
    return addresses_of(x, b->label) == 1;
  return false;
}

static void subject_of(const target_t *t, char *buf, size_t sz) {
  if (t->no_address || strcmp(t->label, t->host) == 0)
    snprintf(buf, sz, "%s port %u", t->label, t->port);
  else
    snprintf(buf, sz, "%s %s port %u", t->label, t->host, t->port);
}

static void step_probe(kmsdiag_doctor_t *d, ctx_t *x) {
  kmsdiag_probe_t *p;
  kmsdiag_status_t st;
  bool any = false;
  const kmsdiag_product_t *prod = x->product;

  for (size_t i = 0; i < x->ntargets; i++)
    any |= !x->targets[i].no_address;
  if (!any)
    return;
  if ((st = kmsdiag_probe_new(&p)) != KMSDIAG_OK) {
    x->err = st;
    return;
  }
  x->probe = p;
  (void)kmsdiag_probe_set_stage(p, (kmsdiag_probe_stage_t)d->stage);
  (void)kmsdiag_probe_set_timeout_ms(p, d->timeout_ms);
  x->probe_servers = d->servers ? strdup(d->servers)
                                : resolv_servers_csv(d->resolv);
  if (x->probe_servers)
    (void)kmsdiag_probe_set_dns_servers(p, x->probe_servers);
  if (d->stage == KMSDIAG_PROBE_STAGE_KMS) {
    if (!d->has_cmid) {
      add_check(d, x, "kms", KMSDIAG_DOCTOR_WARN, 0, NULL,
                "no CMID given: the kms stage is not run (rpc only)");
      (void)kmsdiag_probe_set_stage(p, KMSDIAG_PROBE_STAGE_RPC);
    } else if (prod && prod->has_sku_id) {
      (void)kmsdiag_probe_set_cmid(p, &d->cmid);
      (void)kmsdiag_probe_set_product_ids(
          p, prod->name, &prod->app->id, &prod->sku_id, &prod->kms_group->id,
          prod->kms_group->n_policy, prod->kms_group->protocol_major);
    } else {
      add_check(d, x, "kms", KMSDIAG_DOCTOR_WARN, 0, NULL,
                "the product has no known SKU ID: the kms stage is not run "
                "(rpc only)");
      (void)kmsdiag_probe_set_stage(p, KMSDIAG_PROBE_STAGE_RPC);
    }
  }
  for (size_t i = 0; i < x->ntargets; i++) {
    target_t *t = &x->targets[i];
    if (t->no_address)
      continue;
    /* the same host and port twice (a pin that DNS also gives, the cached
     * host among the SRV targets) is probed once */
    for (size_t j = 0; j < i && !t->same_as; j++)
      if (!x->targets[j].no_address && !x->targets[j].same_as &&
          x->targets[j].port == t->port &&
          same_target(x, &x->targets[j], t))
        t->same_as = j + 1;
    if (t->same_as)
      continue;
    st = kmsdiag_probe_add_target(p, t->host, t->port, &t->probe_index);
    if (st != KMSDIAG_OK) {
      t->no_address = true;
      add_check(d, x, "resolve", KMSDIAG_DOCTOR_FAIL, HR_F074, t->label,
                "cannot probe %s: %s", t->host, kmsdiag_strerror(st));
    }
  }
  st = kmsdiag_probe_run(p);
  if (st != KMSDIAG_OK) {
    add_check(d, x, "tcp", KMSDIAG_DOCTOR_FAIL, 0, NULL,
              "the probe could not run: %s", kmsdiag_strerror(st));
    if (st == KMSDIAG_ENOMEM || st == KMSDIAG_ESYS)
      x->err = st;
    return;
  }
  for (size_t i = 0; i < x->ntargets; i++) {
    target_t *t = &x->targets[i];
    const kmsdiag_probe_result_t *r;
    char subj[640];
    if (t->no_address)
      continue;
    if (t->same_as) {
      const target_t *o = &x->targets[t->same_as - 1];
      r = t->r = o->r;
      if (!r || t->cached)
        continue; /* cached_check says what the cached host does */
      subject_of(t, subj, sizeof subj);
      kmsdiag_probe_stage_t f = kmsdiag_probe_result_stage_failed(r);
      static const char *const sn[] = {"resolve", "tcp", "rpc", "kms"};
      const char *m = kmsdiag_probe_result_message(r);
      add_check(d, x,
                kmsdiag_probe_result_ok(r)
                    ? sn[kmsdiag_probe_result_stage_reached(r) & 3]
                    : sn[f & 3],
                kmsdiag_probe_result_ok(r) ? KMSDIAG_DOCTOR_OK
                                           : KMSDIAG_DOCTOR_FAIL,
                kmsdiag_probe_result_ok(r)
                    ? 0
                    : (kmsdiag_probe_result_detail_hresult(r)
                           ? kmsdiag_probe_result_detail_hresult(r)
                           : kmsdiag_probe_result_hresult(r)),
                subj, "same host and port as %s, probed once above: %s",
                o->label, m && *m ? m : "no result");
      continue;
    }
    r = t->r = kmsdiag_probe_result(p, t->probe_index);
    if (!r)
      continue;
    subject_of(t, subj, sizeof subj);
    /* the cached host is context: its failures are warnings */
    kmsdiag_doctor_status_t fst =
        t->cached ? KMSDIAG_DOCTOR_WARN : KMSDIAG_DOCTOR_FAIL;
    if (t->pinned && kmsdiag_probe_result_address(r)[0] &&
        strcmp(kmsdiag_probe_result_address(r), t->host) != 0) {
      snprintf(subj, sizeof subj, "%s %s port %u", t->label,
               kmsdiag_probe_result_address(r), t->port);
    }
    kmsdiag_probe_stage_t reached = kmsdiag_probe_result_stage_reached(r);
    kmsdiag_probe_stage_t failed = kmsdiag_probe_result_stage_failed(r);
    kmsdiag_status_t rs = kmsdiag_probe_result_status(r);
    uint32_t hr = kmsdiag_probe_result_hresult(r);
    uint32_t det = kmsdiag_probe_result_detail_hresult(r);
    const char *msg = kmsdiag_probe_result_message(r);
    if (!kmsdiag_probe_result_ok(r) && reached == KMSDIAG_PROBE_STAGE_NONE &&
        failed == KMSDIAG_PROBE_STAGE_NONE) {
      add_check(d, x, "resolve", fst,
                rs == KMSDIAG_EDNS ? HR_232B : hr, subj, "%s",
                msg && *msg ? msg : kmsdiag_strerror(rs));
      continue;
    }
    static const char *const names[] = {"", "tcp", "rpc", "kms"};
    for (int s = KMSDIAG_PROBE_STAGE_TCP;
         s <= (int)kmsdiag_probe_result_stage_requested(r); s++) {
      double ms = kmsdiag_probe_result_stage_ms(r, (kmsdiag_probe_stage_t)s);
      /* a host that answers the request but will not activate (count
       * below the threshold, skew found by the probe) fails the kms stage
       * even though the exchange itself completed */
      bool kms_refused = s == KMSDIAG_PROBE_STAGE_KMS &&
                         !kmsdiag_probe_result_ok(r) && hr != 0 &&
                         reached >= KMSDIAG_PROBE_STAGE_KMS;
      if (kms_refused) {
        add_check(d, x, "kms", fst, hr, subj,
                  "activation request answered (V%u), count %u, ePID %s, "
                  "but the client would not be activated: %s",
                  kmsdiag_probe_result_protocol(r),
                  (unsigned)kmsdiag_probe_result_count(r),
                  kmsdiag_probe_result_epid(r) ? kmsdiag_probe_result_epid(r)
                                               : "-",
                  msg && *msg ? msg : kmsdiag_strerror(rs));
      } else if (s <= (int)reached) {
        if (s == KMSDIAG_PROBE_STAGE_TCP)
          add_check(d, x, "tcp", KMSDIAG_DOCTOR_OK, 0, subj,
                    "connected in %.1f ms", ms);
        else if (s == KMSDIAG_PROBE_STAGE_RPC)
          add_check(d, x, "rpc", KMSDIAG_DOCTOR_OK, 0, subj,
                    "bind to the KMS interface accepted (%s%s%s) in %.1f ms",
                    kmsdiag_probe_result_ndr32(r) ? "NDR32" : "",
                    kmsdiag_probe_result_ndr32(r) &&
                            kmsdiag_probe_result_ndr64(r)
                        ? ", "
                        : "",
                    kmsdiag_probe_result_ndr64(r) ? "NDR64" : "", ms);
        else
          add_check(d, x, "kms", KMSDIAG_DOCTOR_OK, 0, subj,
                    "activation request answered (V%u), count %u, ePID %s, "
                    "response %s",
                    kmsdiag_probe_result_protocol(r),
                    (unsigned)kmsdiag_probe_result_count(r),
                    kmsdiag_probe_result_epid(r) ? kmsdiag_probe_result_epid(r)
                                                 : "-",
                    kmsdiag_probe_result_verified(r) ? "verified"
                                                     : "NOT verified");
      } else if (s == (int)failed) {
        add_check(d, x, names[s], fst,
                  s == KMSDIAG_PROBE_STAGE_KMS ? hr : (det ? det : hr), subj,
                  "%s%s", msg && *msg ? msg : kmsdiag_strerror(rs),
                  s < (int)kmsdiag_probe_result_stage_requested(r)
                      ? " (later stages not attempted)"
                      : "");
        break;
      } else {
        break;
      }
    }
    /* kms details: threshold, host key, clock */
    if (kmsdiag_probe_result_has_kms(r)) {
      uint32_t count = kmsdiag_probe_result_count(r);
      uint32_t need = kmsdiag_probe_result_threshold(r);
      int64_t skew = kmsdiag_probe_result_time_skew(r);
      const char *epid = kmsdiag_probe_result_epid(r);
      if (need)
        add_check(d, x, "threshold",
                  count >= need ? KMSDIAG_DOCTOR_OK : fst,
                  count >= need ? 0 : HR_F038, subj,
                  "host count %u, %s needs %u", (unsigned)count,
                  prod ? prod->name : "the product", (unsigned)need);
      if (skew > SKEW_LIMIT_S || skew < -SKEW_LIMIT_S)
        add_check(d, x, "clock", fst, HR_F06C, subj,
                  "host and client clocks differ by %lld s (limit 4 h)",
                  (long long)skew);
      if (epid && prod) {
        kmsdiag_epid_t e;
        kmsdiag_activation_verdict_t v;
        if (kmsdiag_epid_parse(epid, strlen(epid), &e) == KMSDIAG_OK &&
            kmsdiag_epid_can_activate(&e, prod, &v) == KMSDIAG_OK) {
          kmsdiag_doctor_status_t hs =
              v.answer == KMSDIAG_ACTIVATE_YES ? KMSDIAG_DOCTOR_OK
              : v.answer == KMSDIAG_ACTIVATE_NO ? fst
                                                : KMSDIAG_DOCTOR_WARN;
          if (v.answer == KMSDIAG_ACTIVATE_NO && kmsdiag_probe_result_ok(r)) {
            /* The host activated the request although its ePID names a
             * host key that should not cover the product. The answer is
             * what the client gets, so this is a doubt, not a failure: a
             * genuine host refuses with 0xC004F042 instead. */
            t->key_doubt = true;
            add_check(d, x, "host_key", KMSDIAG_DOCTOR_WARN, 0, subj,
                      "%s%s%s; yet the host activated the request: either "
                      "the host key table is behind, or the host is not a "
                      "genuine Microsoft KMS host (a genuine host refuses "
                      "with 0xC004F042)",
                      v.csvlk ? v.csvlk->name : "host key not identified",
                      v.reason[0] ? ": " : "", v.reason);
          } else {
            add_check(d, x, "host_key", hs, v.hresult, subj, "%s%s%s",
                      v.csvlk ? v.csvlk->name : "host key not identified",
                      v.reason[0] ? ": " : "", v.reason);
          }
        } else {
          add_check(d, x, "host_key", KMSDIAG_DOCTOR_WARN, 0, subj,
                    "the host's ePID is not well formed: cannot tell its "
                    "host key");
        }
      }
    } else if (failed == KMSDIAG_PROBE_STAGE_KMS && hr == HR_F06C) {
      add_check(d, x, "clock", fst, HR_F06C, subj,
                "the host refused the request's timestamp: client and host "
                "clocks differ by more than 4 hours");
    }
  }
}

static void cached_check(kmsdiag_doctor_t *d, ctx_t *x) {
  for (size_t i = 0; i < x->ntargets; i++) {
    const target_t *t = &x->targets[i];
    if (!t->cached)
      continue;
    if (t->r && kmsdiag_probe_result_ok(t->r))
      add_check(d, x, "cached_host", KMSDIAG_DOCTOR_OK, 0, t->label,
                "the cached host %s answers: the client returns to it at "
                "renewal", t->label);
    else
      add_check(d, x, "cached_host", KMSDIAG_DOCTOR_WARN,
                t->r ? kmsdiag_probe_result_detail_hresult(t->r) : 0, t->label,
                "the cached host %s fails (%s): at renewal the client tries "
                "it first, then asks DNS again",
                t->label,
                t->r && *kmsdiag_probe_result_message(t->r)
                    ? kmsdiag_probe_result_message(t->r)
                    : "not probed");
  }
}

/* ---- verdict ------------------------------------------------------------------ */

static void set_meaning(kmsdiag_doctor_t *d, uint32_t hr) {
  const kmsdiag_error_entry_t *e = hr ? kmsdiag_error_lookup(hr) : NULL;
  d->verdict.hresult = hr;
  d->verdict.name = e ? e->name : NULL;
  free(d->v_meaning);
  if (e)
    d->v_meaning = strdup(e->message);
  else if (hr)
    d->v_meaning = fmt("0x%08X is not in the error catalogue: kms-error "
                       "0x%08X decodes it", hr, hr);
  else if (d->verdict.healthy)
    d->v_meaning = strdup(d->stage == KMSDIAG_PROBE_STAGE_KMS
                              ? "no activation error: a KMS host the client "
                                "uses answers and would activate it"
                              : "no activation error expected: a KMS host "
                                "the client uses answers on the KMS RPC "
                                "interface");
  else
    d->v_meaning = NULL;
  d->verdict.meaning = d->v_meaning;
}

static void set_cause(kmsdiag_doctor_t *d, const char *f, ...)
    __attribute__((format(printf, 2, 3)));
static void set_cause(kmsdiag_doctor_t *d, const char *f, ...) {
  va_list ap;
  free(d->v_cause);
  va_start(ap, f);
  d->v_cause = vfmt(f, ap);
  va_end(ap);
  d->verdict.cause = d->v_cause;
}

static const target_t *first_ok(const ctx_t *x, bool pinned) {
  for (size_t i = 0; i < x->ntargets; i++)
    if (x->targets[i].pinned == pinned && !x->targets[i].cached &&
        x->targets[i].r &&
        kmsdiag_probe_result_ok(x->targets[i].r))
      return &x->targets[i];
  return NULL;
}

/* The first host (client order) whose KMS answer carries a refusal. */
static const target_t *first_kms_refusal(const ctx_t *x, bool pinned) {
  for (size_t i = 0; i < x->ntargets; i++) {
    const target_t *t = &x->targets[i];
    if (t->pinned == pinned && !t->cached && t->r &&
        !kmsdiag_probe_result_ok(t->r) &&
        (kmsdiag_probe_result_stage_failed(t->r) == KMSDIAG_PROBE_STAGE_KMS ||
         kmsdiag_probe_result_stage_reached(t->r) == KMSDIAG_PROBE_STAGE_KMS) &&
        kmsdiag_probe_result_hresult(t->r) != 0)
      return t;
  }
  return NULL;
}

/* Where the first failing host (client order) of one kind failed: the
 * check that decides a 0xC004F074 verdict. Also notes in x whether every
 * probed failure was at the rpc stage, which calls for other fixes. */
static const char *fail_check_name(ctx_t *x, bool pinned) {
  const char *first = NULL;
  size_t nfail = 0, nrpc = 0, nrec = 0;
  x->first_rpc_fail = NULL;
  for (size_t i = 0; i < x->ntargets; i++) {
    const target_t *t = &x->targets[i];
    const char *name;
    if (t->pinned != pinned || t->cached)
      continue;
    if (t->no_address) {
      name = "srv_target";
    } else if (!t->r || kmsdiag_probe_result_ok(t->r)) {
      continue;
    } else {
      switch (kmsdiag_probe_result_stage_failed(t->r)) {
      case KMSDIAG_PROBE_STAGE_TCP: name = "tcp"; break;
      case KMSDIAG_PROBE_STAGE_RPC: name = "rpc"; break;
      case KMSDIAG_PROBE_STAGE_KMS: name = "kms"; break;
      default: name = "resolve"; break;
      }
    }
    nfail++;
    if (strcmp(name, "srv_target") == 0)
      nrec++;
    if (strcmp(name, "rpc") == 0) {
      nrpc++;
      if (!x->first_rpc_fail)
        x->first_rpc_fail = t;
    }
    if (!first)
      first = name;
  }
  x->fail_rpc_only = nfail > 0 && nrpc == nfail;
  x->fail_records_only = !pinned && nrec == nfail;
  return first ? first : pinned ? "tcp" : "srv_target";
}

static void fixes_for(kmsdiag_doctor_t *d, const ctx_t *x, uint32_t hr,
                      const target_t *t) {
  const char *dom = x->first_failure && x->first_failure->domain
                        ? x->first_failure->domain
                    : x->first_with_records && x->first_with_records->domain
                        ? x->first_with_records->domain
                        : (d->domain ? d->domain : "<your-domain>");
  const char *prod = x->product ? x->product->name : "the product";
  switch (hr) {
  case HR_007B:
    add_fix(d, "Give the client a primary DNS suffix (System Properties > "
               "Computer Name > More..., or join the domain) or a search "
               "list (DHCP option 15 / ipconfig /all shows it)");
    add_fix(d, "Or name the domain to search: slmgr /skms-domain "
               "corp.example.com");
    add_fix(d, "Or pin a host: slmgr /skms kms.corp.example.com:1688");
    add_fix(d, "Then retry: slmgr /ato");
    break;
  case HR_232B:
    for (size_t i = 0; i < d->nchecks; i++)
      if (strcmp(d->checks[i].pub.name, "srv_record") == 0 &&
          strncmp(d->checks[i].pub.evidence, "near-miss-label", 15) == 0) {
        add_fix(d, "A record exists under a misspelled name (see the "
                   "srv_record warning): rename it to _vlmcs._tcp.%s", dom);
        break;
      }
    add_fix(d, "Publish the record where the client looks: _vlmcs._tcp.%s "
               "SRV 0 0 1688 <kms-host-fqdn>. (or let the KMS host register "
               "it: slmgr /sdns on the host, then restart sppsvc)", dom);
    add_fix(d, "Check from the client: nslookup -type=srv _vlmcs._tcp.%s",
            dom);
    add_fix(d, "Or pin a host: slmgr /skms kms.corp.example.com:1688");
    add_fix(d, "Then retry: slmgr /ato");
    break;
  case HR_251D:
    add_fix(d, "_vlmcs._tcp.%s exists but holds no SRV record: add one "
               "(SRV 0 0 1688 <kms-host-fqdn>.), not a TXT, A or CNAME", dom);
    add_fix(d, "Check: nslookup -type=srv _vlmcs._tcp.%s", dom);
    add_fix(d, "Then retry: slmgr /ato");
    break;
  case HR_232A:
    add_fix(d, "The DNS server did not answer: check the client's DNS "
               "servers (ipconfig /all), UDP and TCP port 53 on the path, "
               "and that the server serves or forwards %s", dom);
    add_fix(d, "Test: Resolve-DnsName -Type SRV _vlmcs._tcp.%s -Server "
               "<dns-server>", dom);
    add_fix(d, "Then retry: slmgr /ato");
    break;
  case HR_F038:
    add_fix(d, "The host has not counted enough machines for %s: it needs "
               "%u distinct clients (CMIDs) in 30 days; keep activating "
               "clients against it",
            prod, x->product ? (unsigned)x->product->kms_group->n_policy : 0);
    if (x->sp && x->sp->has_cmid) {
      char g[KMSDIAG_GUID_STRLEN];
      add_fix(d, "Look for cloned images that share one CMID (count "
                 "stuck): this client's is %s; compare 'Client Machine ID "
                 "(CMID)' in slmgr /dlv on others; generalize images with "
                 "sysprep /generalize",
              kmsdiag_guid_to_str(&x->sp->cmid, g));
    } else {
      add_fix(d, "Look for cloned images that share one CMID (count "
                 "stuck): compare 'Client Machine ID (CMID)' in slmgr /dlv; "
                 "generalize images with sysprep /generalize");
    }
    add_fix(d, "On the host, slmgr /dlv shows 'Current count'; do not spread "
               "few clients over many hosts");
    break;
  case HR_F042:
    add_fix(d, "The host key (CSVLK) on %s cannot activate %s: install a "
               "host key that covers it (slmgr /ipk <CSVLK> then slmgr /ato "
               "on the host) and the host update it needs",
            t ? t->label : "the host", prod);
    add_fix(d, "Or point the client at a host that can: slmgr /skms "
               "<kms-host>:1688, then slmgr /ato");
    break;
  case HR_F06C:
    add_fix(d, "Set the clocks right: client and host must be within 4 "
               "hours of each other in UTC (time zones do not matter): "
               "w32tm /resync on both, check the time source");
    add_fix(d, "Then retry: slmgr /ato");
    break;
  default:
    if (hr != HR_F074) {
      add_fix(d, "%s answers with 0x%08X: 'kms-error 0x%08X' explains it; "
                 "the KMS host's event log (event 12290) shows the request",
              t ? t->label : "The host", hr, hr);
      add_fix(d, "Then retry: slmgr /ato");
      break;
    }
    if (x->fail_records_only) {
      add_fix(d, "Correct the SRV records of _vlmcs._tcp.%s: each must name "
                 "a KMS host's FQDN that has an A or AAAA record, with its "
                 "port (1688 unless slmgr /sprt moved it): _vlmcs._tcp.%s "
                 "SRV 0 0 1688 <kms-host-fqdn>. (a target \".\" means \"no "
                 "KMS service here\"; port 0 cannot be connected to)",
              dom, dom);
      add_fix(d, "Check: nslookup -type=srv _vlmcs._tcp.%s", dom);
      add_fix(d, "Then retry: slmgr /ato");
      break;
    }
    if (x->fail_rpc_only && x->first_rpc_fail) {
      const target_t *f = x->first_rpc_fail;
      add_fix(d, "%s accepts TCP on port %u but does not serve the KMS RPC "
                 "interface: another service owns the port, or a proxy or "
                 "IPS in the path answers for it; on the host, see which "
                 "process listens: netstat -abno | findstr :%u (KMS is "
                 "sppsvc)",
              f->label, f->port, f->port);
      add_fix(d, "On the KMS host: sc query sppsvc; slmgr /dlv must show "
                 "'Key Management Service is enabled on this machine' and "
                 "'Listening on Port:' with the port clients use (slmgr "
                 "/sprt <port> changes it)");
      if (x->fix_pinned)
        add_fix(d, "Or pin the real KMS host: slmgr /skms <kms-host>:1688");
      else
        add_fix(d, "Or correct the SRV record to name the real KMS host "
                   "and port");
      add_fix(d, "Then retry: slmgr /ato");
      break;
    }
    if (x->fix_pinned)
      add_fix(d, "Make the pinned host answer on its port, or pin one that "
                 "does: slmgr /skms <kms-host>:1688 (slmgr /ckms returns to "
                 "DNS discovery)");
    else
      add_fix(d, "Make every SRV target answer on its port, or remove the "
                 "ones that are gone (decommissioned hosts)");
    add_fix(d, "On each host: the Software Protection service runs (sc query "
               "sppsvc) and the 'Key Management Service' firewall exception "
               "is enabled for TCP 1688");
    add_fix(d, "From the client: Test-NetConnection <kms-host> -Port 1688; "
               "event 12288 in the Application log names each host tried");
    add_fix(d, "Then retry: slmgr /ato");
    break;
  }
}

static void count_warnings(kmsdiag_doctor_t *d) {
  for (size_t i = 0; i < d->nchecks; i++)
    if (d->checks[i].pub.status == KMSDIAG_DOCTOR_WARN ||
        d->checks[i].pub.status == KMSDIAG_DOCTOR_FAIL)
      d->verdict.warnings = true;
}

/* A short list of the failing targets, for the cause text. */
static void failed_list(const ctx_t *x, bool pinned, char *buf, size_t sz) {
  size_t used = 0, n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < x->ntargets && n < 6; i++) {
    const target_t *t = &x->targets[i];
    const char *why;
    int w;
    if (t->pinned != pinned || t->cached ||
        (t->r && kmsdiag_probe_result_ok(t->r)))
      continue;
    why = t->no_address ? (t->port == 0 ? "the SRV record's port is 0"
                                        : "no address")
          : t->r        ? kmsdiag_probe_result_message(t->r)
                        : "not probed";
    w = snprintf(buf + used, sz - used, "%s%s port %u: %s", n ? "; " : "",
                 t->label, t->port, why && *why ? why : "failed");
    if (w < 0 || (size_t)w >= sz - used)
      break;
    used += (size_t)w;
    n++;
  }
}

#define KEY_DOUBT_TEXT                                                      \
  "; but its ePID names a host key that should not activate the product "  \
  "(see the host_key warning)"

static void key_doubt_fix(kmsdiag_doctor_t *d) {
  add_fix(d, "On the KMS host, slmgr /dlv shows the host key installed "
             "(Description: VOLUME_KMS_...); a host that activates products "
             "its key does not cover is not a Microsoft KMS host, or "
             "'kms-info can-activate --epid EPID --product NAME' is out of "
             "date: check the host before relying on it");
}

static void decide(kmsdiag_doctor_t *d, ctx_t *x) {
  const kmsdiag_doctor_verdict_t *v = &d->verdict;
  char list[1500];
  bool pinned = x->pinned_spec != NULL;
  const target_t *good, *ref;
  uint32_t hr;

  count_warnings(d);
  if (x->not_kms_client) {
    const kmsdiag_slmgr_product_t *p = x->sp;
    uint32_t code = 0;
    if (p->has_notification_reason)
      code = p->notification_reason;
    else
      (void)kmsdiag_slmgr_last_error(d->slmgr, &code);
    set_meaning(d, code);
    d->verdict.check = "license_channel";
    const char *cname = kmsdiag_slmgr_channel_name(p->channel);
    const char *ctext = p->channel_text ? p->channel_text : cname;
    bool same = strcmp(ctext, cname) == 0;
    set_cause(d, "the installed key is %s%s%s%s, not a KMS client setup "
                 "key: this installation never asks a KMS host, so DNS and "
                 "the KMS hosts are not its problem",
              ctext, same ? "" : " (", same ? "" : cname, same ? "" : ")");
    if (x->product && x->product_known && x->product->gvlk)
      add_fix(d, "If this machine should use KMS, install the KMS client "
                 "setup key of its edition (%s): slmgr /ipk %s",
              x->product->name, x->product->gvlk);
    else
      add_fix(d, "If this machine should use KMS, install the KMS client "
                 "setup key (GVLK) of its edition ('kms-info product "
                 "<edition>' prints it): slmgr /ipk <GVLK>");
    add_fix(d, "Then activate against KMS: slmgr /ato");
    if (p->channel == KMSDIAG_SLMGR_CHANNEL_MAK)
      add_fix(d, "Or keep the MAK and activate it with Microsoft: slmgr /ato "
                 "(needs Internet access) or by phone (slui 4)");
    else if (p->channel == KMSDIAG_SLMGR_CHANNEL_RETAIL ||
             p->channel == KMSDIAG_SLMGR_CHANNEL_OEM)
      add_fix(d, "Or keep the %s key and activate it online (slmgr /ato) or "
                 "by phone (slui 4); a retail or OEM key cannot use KMS",
              kmsdiag_slmgr_channel_name(p->channel));
    else if (p->channel == KMSDIAG_SLMGR_CHANNEL_KMSHOST)
      add_fix(d, "This is a KMS host key: on a host, check 'slmgr /dlv' "
                 "'Current count'; a client needs a GVLK instead");
    return;
  }

  if (pinned) {
    good = first_ok(x, true);
    if (good) {
      d->verdict.healthy = true;
      d->verdict.check = "kms";
      set_meaning(d, 0);
      set_cause(d, "the pinned host %s answers%s%s", good->label,
                d->stage == KMSDIAG_PROBE_STAGE_KMS
                    ? " and would activate"
                    : " (activation itself not tried: --stage kms)",
                good->key_doubt ? KEY_DOUBT_TEXT : "");
      if (good->key_doubt)
        key_doubt_fix(d);
      return;
    }
    ref = first_kms_refusal(x, true);
    hr = ref ? kmsdiag_probe_result_hresult(ref->r) : HR_F074;
    for (size_t i = 0; !ref && i < x->ntargets; i++)
      if (x->targets[i].pinned && x->targets[i].r &&
          kmsdiag_probe_result_status(x->targets[i].r) == KMSDIAG_EDNS &&
          kmsdiag_probe_result_stage_reached(x->targets[i].r) ==
              KMSDIAG_PROBE_STAGE_NONE)
        hr = HR_232B;
    set_meaning(d, hr);
    failed_list(x, true, list, sizeof list);
    x->fix_pinned = true;
    d->verdict.check =
        hr == HR_232B ? "resolve" : ref ? "kms" : fail_check_name(x, true);
    set_cause(d, "the client is pinned to %s (%s), which bypasses DNS "
                 "discovery, and that host fails: %s",
              x->pinned_spec,
              x->pinned_from_slmgr ? "slmgr /skms" : "--host", list);
    good = first_ok(x, false);
    if (x->pinned_from_slmgr && good)
      add_fix(d, "Clear the stale pin so the client finds hosts through DNS "
                 "again (DNS gives %s, which answers): slmgr /ckms",
              good->label);
    else if (x->pinned_from_slmgr)
      add_fix(d, "Pin a host that works, or clear the pin to use DNS "
                 "discovery: slmgr /skms <kms-host>:1688 or slmgr /ckms");
    if (hr == HR_232B) {
      add_fix(d, "The pinned name does not resolve: correct the pin "
                 "(slmgr /skms <kms-host-fqdn>:1688) or add the host's A "
                 "record; nslookup %s shows what the client gets",
              x->ntargets ? x->targets[0].host : "<name>");
      if (!x->pinned_from_slmgr || !good)
        add_fix(d, "Or clear the pin and use DNS discovery: slmgr /ckms");
      add_fix(d, "Then retry: slmgr /ato");
    } else if (ref || !x->pinned_from_slmgr) {
      fixes_for(d, x, hr, ref);
    } else {
      add_fix(d, "Then retry: slmgr /ato");
    }
    return;
  }

  if (x->no_domain) {
    set_meaning(d, HR_007B);
    d->verdict.check = "resolver_config";
    set_cause(d, "the client has no primary DNS suffix and no search list, "
                 "so it sends no SRV query at all");
    fixes_for(d, x, HR_007B, NULL);
    return;
  }
  if (!x->first_with_records) {
    hr = x->first_failure && x->first_failure->hresult
             ? x->first_failure->hresult
             : HR_232A;
    set_meaning(d, hr);
    d->verdict.check = "srv_lookup";
    set_cause(d, "DNS discovery found no KMS host: %s for %s",
              hr == HR_232B   ? "the SRV name does not exist (NXDOMAIN)"
              : hr == HR_251D ? "the name exists but holds no SRV record"
              : hr == HR_007B ? "no valid name to query"
                              : "the DNS server gave no usable answer",
              x->first_failure && x->first_failure->qname
                  ? x->first_failure->qname
                  : "the domain");
    fixes_for(d, x, hr, NULL);
    return;
  }
  good = first_ok(x, false);
  if (good) {
    d->verdict.healthy = true;
    d->verdict.check = d->stage == KMSDIAG_PROBE_STAGE_KMS ? "kms" : "rpc";
    set_meaning(d, 0);
    failed_list(x, false, list, sizeof list);
    if (list[0]) {
      set_cause(d, "%s answers%s%s; but some targets fail, and a client "
                   "that picks one first loses time or fails if the good "
                   "host goes: %s",
                good->label,
                d->stage == KMSDIAG_PROBE_STAGE_KMS ? " and would activate"
                                                    : "",
                good->key_doubt ? KEY_DOUBT_TEXT : "", list);
      add_fix(d, "Remove or repair the failing SRV targets listed above "
                 "(dnscmd / your DNS console, or the zone file)");
      add_fix(d, "Check: nslookup -type=srv %s",
              x->first_with_records->qname ? x->first_with_records->qname
                                           : "_vlmcs._tcp.<domain>");
    } else {
      set_cause(d, "%s answers%s%s", good->label,
                d->stage == KMSDIAG_PROBE_STAGE_KMS
                    ? " and would activate"
                    : " (activation itself not tried: --stage kms)",
                good->key_doubt ? KEY_DOUBT_TEXT : "");
    }
    if (good->key_doubt)
      key_doubt_fix(d);
    return;
  }
  ref = first_kms_refusal(x, false);
  hr = ref ? kmsdiag_probe_result_hresult(ref->r) : HR_F074;
  set_meaning(d, hr);
  failed_list(x, false, list, sizeof list);
  d->verdict.check = ref ? "kms" : fail_check_name(x, false);
  if (ref)
    set_cause(d, "%s refuses with 0x%08X: %s", ref->label, hr,
              kmsdiag_probe_result_message(ref->r));
  else if (list[0])
    set_cause(d, "every KMS host found through DNS fails: %s", list);
  else
    set_cause(d, "the SRV records name no usable host (every target is "
                 "\".\" or could not be probed)");
  fixes_for(d, x, hr, ref);
  (void)v;
}

kmsdiag_status_t kmsdiag_doctor_run(kmsdiag_doctor_t *d) {
  ctx_t *x;
  kmsdiag_status_t st;
  if (!d)
    return KMSDIAG_EINVAL;
  clear_results(d);
  x = calloc(1, sizeof *x);
  if (!x)
    return KMSDIAG_ENOMEM;
  step_slmgr(d, x);
  step_product(d, x);
  if (d->host) {
    x->pinned_spec = d->host;
    x->pinned_from_slmgr = false;
  }
  if (x->pinned_spec) {
    add_check(d, x, "pinned_host", KMSDIAG_DOCTOR_INFO, 0, x->pinned_spec,
              "%s pins the KMS host: the client skips DNS discovery%s",
              x->pinned_from_slmgr && !d->host ? "slmgr /skms" : "--host",
              x->pinned_from_slmgr && !d->host
                  ? " (DNS is still checked below, to see what slmgr /ckms "
                    "would give)"
                  : "");
    /* the prober parses HOST[:PORT] itself */
    char host[300];
    uint16_t port = 0;
    const char *spec = x->pinned_spec;
    const char *colon = strrchr(spec, ':');
    if (spec[0] == '[') {
      const char *e = strchr(spec, ']');
      size_t hl = e ? (size_t)(e - spec - 1) : 0;
      snprintf(host, sizeof host, "%.*s", (int)hl, spec + 1);
      if (e && e[1] == ':')
        port = (uint16_t)atoi(e + 2);
    } else if (colon && strchr(spec, ':') == colon) {
      snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
      port = (uint16_t)atoi(colon + 1);
    } else {
      snprintf(host, sizeof host, "%s", spec);
    }
    add_target(x, host, host, port ? port : 1688, true, false);
  } else if (d->slmgr && x->sp) {
    add_check(d, x, "pinned_host", KMSDIAG_DOCTOR_OK, 0, NULL,
              "no pinned host (slmgr /skms not set): the client uses DNS "
              "auto-discovery");
  }
  if (!d->host)
    step_dns(d, x);
  /* the cached host: with host caching on, the client goes back to it
   * first at renewal and asks DNS again only when it fails */
  if (!x->pinned_spec && x->sp && x->sp->dns_host && x->sp->host_caching != 0 &&
      x->err == KMSDIAG_OK &&
      add_target(x, x->sp->dns_host, x->sp->dns_host,
                 x->sp->dns_port ? x->sp->dns_port : 1688, false, false))
    x->targets[x->ntargets - 1].cached = true;
  if (x->err == KMSDIAG_OK)
    step_probe(d, x);
  if (x->err == KMSDIAG_OK)
    cached_check(d, x);
  if (x->err == KMSDIAG_OK)
    decide(d, x);
  d->verdict.fixes = (const char *const *)d->fixes;
  d->verdict.nfixes = d->nfixes;
  st = x->err;
  d->ran = st == KMSDIAG_OK;
  kmsdiag_dns_results_free(x->dns);
  kmsdiag_probe_free(x->probe);
  free(x->probe_servers);
  for (size_t i = 0; i < x->ntargets; i++) {
    free(x->targets[i].label);
    free(x->targets[i].host);
  }
  free(x);
  return st;
}

/* ---- results --------------------------------------------------------------------- */

size_t kmsdiag_doctor_check_count(const kmsdiag_doctor_t *d) {
  return d ? d->nchecks : 0;
}

const kmsdiag_doctor_check_t *kmsdiag_doctor_check_at(const kmsdiag_doctor_t *d,
                                                      size_t i) {
  return d && i < d->nchecks ? &d->checks[i].pub : NULL;
}

const kmsdiag_doctor_verdict_t *kmsdiag_doctor_verdict(const kmsdiag_doctor_t *d) {
  return d && d->ran ? &d->verdict : NULL;
}

const char *kmsdiag_doctor_status_name(kmsdiag_doctor_status_t s) {
  switch (s) {
  case KMSDIAG_DOCTOR_OK: return "OK";
  case KMSDIAG_DOCTOR_WARN: return "WARN";
  case KMSDIAG_DOCTOR_FAIL: return "FAIL";
  case KMSDIAG_DOCTOR_INFO: return "INFO";
  default: return "?";
  }
}

static void json_hr(kmsdiag_json_t *j, const char *key, uint32_t hr) {
  if (hr)
    kmsdiag_json_hex32(j, key, hr);
  else
    kmsdiag_json_null(j, key);
}

kmsdiag_status_t kmsdiag_doctor_check_write_json(const kmsdiag_doctor_check_t *c,
                                                 kmsdiag_json_t *j) {
  static const char *const st[] = {"ok", "warn", "fail", "info"};
  if (!c || !j)
    return KMSDIAG_EINVAL;
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", "check");
  kmsdiag_json_str(j, "name", c->name);
  kmsdiag_json_str(j, "status", (unsigned)c->status < 4 ? st[c->status] : "?");
  kmsdiag_json_str(j, "subject", c->subject);
  kmsdiag_json_str(j, "evidence", c->evidence);
  json_hr(j, "hresult", c->hresult);
  kmsdiag_json_object_end(j);
  return kmsdiag_json_status(j);
}

kmsdiag_status_t
kmsdiag_doctor_verdict_write_json(const kmsdiag_doctor_verdict_t *v,
                                  kmsdiag_json_t *j) {
  if (!v || !j)
    return KMSDIAG_EINVAL;
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", "verdict");
  kmsdiag_json_bool(j, "healthy", v->healthy);
  kmsdiag_json_bool(j, "warnings", v->warnings);
  json_hr(j, "hresult", v->hresult);
  kmsdiag_json_str(j, "name", v->name);
  kmsdiag_json_str(j, "meaning", v->meaning);
  kmsdiag_json_str(j, "cause", v->cause);
  kmsdiag_json_str(j, "check", v->check);
  kmsdiag_json_array_begin(j, "fixes");
  for (size_t i = 0; i < v->nfixes; i++)
    kmsdiag_json_str(j, NULL, v->fixes[i]);
  kmsdiag_json_array_end(j);
  kmsdiag_json_object_end(j);
  return kmsdiag_json_status(j);
}
