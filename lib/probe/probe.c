/* probe.c: the prober's options, targets, results and their JSON form. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kmsdiag/kmsdiag_errors.h>

#include "probe_internal.h"

const char *kmsdiag_probe_stage_name(kmsdiag_probe_stage_t s) {
  switch (s) {
  case KMSDIAG_PROBE_STAGE_NONE: return "none";
  case KMSDIAG_PROBE_STAGE_TCP: return "tcp";
  case KMSDIAG_PROBE_STAGE_RPC: return "rpc";
  case KMSDIAG_PROBE_STAGE_KMS: return "kms";
  }
  return "none";
}

kmsdiag_status_t kmsdiag_probe_stage_parse(const char *text,
                                           kmsdiag_probe_stage_t *out) {
  if (!text || !out)
    return KMSDIAG_EINVAL;
  if (strcmp(text, "tcp") == 0)
    *out = KMSDIAG_PROBE_STAGE_TCP;
  else if (strcmp(text, "rpc") == 0)
    *out = KMSDIAG_PROBE_STAGE_RPC;
  else if (strcmp(text, "kms") == 0)
    *out = KMSDIAG_PROBE_STAGE_KMS;
  else
    return KMSDIAG_EPARSE;
  return KMSDIAG_OK;
}

void kd_probe_escape(char *dst, size_t dstsz, const void *src, size_t n) {
  size_t need = kmsdiag_text_escape(dst, dstsz, src, n);
  /* Truncated output may end inside an escape; that is still printable. */
  (void)need;
}

void kd_probe_set_msg(kmsdiag_probe_result_t *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
}

static void default_workstation(char *out, size_t outsz) {
  char hn[256];
  if (gethostname(hn, sizeof hn) != 0)
    strcpy(hn, "localhost");
  hn[sizeof hn - 1] = '\0';
  /* Keep it short and plain: the request holds 63 UTF-16 units. */
  char clean[64];
  size_t k = 0;
  for (size_t i = 0; hn[i] && k < sizeof clean - 1; i++) {
    unsigned char c = (unsigned char)hn[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.')
      clean[k++] = (char)c;
  }
  clean[k] = '\0';
  snprintf(out, outsz, "kmsdiag-probe.%.*s",
           KMSDIAG_PROBE_WORKSTATION_MAX - 14, k ? clean : "localhost");
}

kmsdiag_status_t kmsdiag_probe_new(kmsdiag_probe_t **out) {
  kmsdiag_probe_t *p;
  if (!out)
    return KMSDIAG_EINVAL;
  *out = NULL;
  p = calloc(1, sizeof *p);
  if (!p)
    return KMSDIAG_ENOMEM;
  p->stage = KMSDIAG_PROBE_STAGE_RPC;
  p->timeout_ms = KMSDIAG_PROBE_DEFAULT_TIMEOUT_MS;
  p->concurrency = KMSDIAG_PROBE_DEFAULT_CONCURRENCY;
  p->close_watch_ms = 200;
  p->default_port = KMSDIAG_PROBE_DEFAULT_PORT;
  default_workstation(p->workstation, sizeof p->workstation);
  *out = p;
  return KMSDIAG_OK;
}

static void result_free(kmsdiag_probe_result_t *r) {
  if (!r)
    return;
  free(r->host);
  free(r->epid);
  free(r->epid_info);
  free(r->pre);
  free(r->prelen);
  free(r->attempts);
  free(r);
}

void kmsdiag_probe_free(kmsdiag_probe_t *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->n; i++)
    result_free(p->res[i]);
  free(p->res);
  for (size_t i = 0; i < p->ndom; i++) {
    free(p->dom[i].name);
    kmsdiag_dns_result_free(p->dom[i].result);
  }
  free(p->dom);
  free(p->dns_servers);
  free(p->product_name);
  free(p);
}

#define CHECK_IDLE(p)                                                          \
  do {                                                                         \
    if (!(p))                                                                  \
      return KMSDIAG_EINVAL;                                                   \
    if ((p)->running)                                                          \
      return KMSDIAG_ESTATE;                                                   \
  } while (0)

kmsdiag_status_t kmsdiag_probe_set_stage(kmsdiag_probe_t *p,
                                         kmsdiag_probe_stage_t s) {
  CHECK_IDLE(p);
  if (s < KMSDIAG_PROBE_STAGE_TCP || s > KMSDIAG_PROBE_STAGE_KMS)
    return KMSDIAG_EINVAL;
  p->stage = s;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_set_timeout_ms(kmsdiag_probe_t *p,
                                              unsigned ms) {
  CHECK_IDLE(p);
  if (ms < 1 || ms > 600000)
    return KMSDIAG_EINVAL;
  p->timeout_ms = ms;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_set_concurrency(kmsdiag_probe_t *p,
                                               unsigned n) {
  CHECK_IDLE(p);
  if (n < 1 || n > 4096)
    return KMSDIAG_EINVAL;
  p->concurrency = n;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_set_default_port(kmsdiag_probe_t *p,
                                                uint16_t port) {
  CHECK_IDLE(p);
  if (port == 0)
    return KMSDIAG_EINVAL;
  p->default_port = port;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_set_dns_servers(kmsdiag_probe_t *p,
                                               const char *csv) {
  char *copy = NULL;
  CHECK_IDLE(p);
  if (csv) {
    if (strlen(csv) > 1024)
      return KMSDIAG_ETOOBIG;
    copy = strdup(csv);
    if (!copy)
      return KMSDIAG_ENOMEM;
  }
  free(p->dns_servers);
  p->dns_servers = copy;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_set_close_watch_ms(kmsdiag_probe_t *p,
                                                  unsigned ms) {
  CHECK_IDLE(p);
  if (ms > 600000)
    return KMSDIAG_EINVAL;
  p->close_watch_ms = ms;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_set_cmid(kmsdiag_probe_t *p,
                                        const kmsdiag_guid_t *cmid) {
  CHECK_IDLE(p);
  if (!cmid)
    return KMSDIAG_EINVAL;
  p->cmid = *cmid;
  p->cmid_set = true;
  return KMSDIAG_OK;
}

/* Count UTF-8 code points (each may need up to two UTF-16 units). */
static size_t utf16_units(const char *s, bool *bad) {
  size_t units = 0;
  const unsigned char *u = (const unsigned char *)s;
  *bad = false;
  while (*u) {
    unsigned char c = *u;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4 : 0;
    if (n == 0) {
      *bad = true;
      return 0;
    }
    for (size_t i = 1; i < n; i++)
      if ((u[i] & 0xC0) != 0x80) {
        *bad = true;
        return 0;
      }
    units += n == 4 ? 2 : 1;
    u += n;
  }
  return units;
}

kmsdiag_status_t kmsdiag_probe_set_workstation(kmsdiag_probe_t *p,
                                               const char *name) {
  bool bad;
  CHECK_IDLE(p);
  if (!name || !*name)
    return KMSDIAG_EINVAL;
  if (strlen(name) >= sizeof p->workstation)
    return KMSDIAG_ETOOBIG;
  size_t units = utf16_units(name, &bad);
  if (bad)
    return KMSDIAG_EINVAL;
  if (units > KMSDIAG_PROBE_WORKSTATION_MAX)
    return KMSDIAG_ETOOBIG;
  strcpy(p->workstation, name);
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_set_product_ids(
    kmsdiag_probe_t *p, const char *name, const kmsdiag_guid_t *app_id,
    const kmsdiag_guid_t *sku_id, const kmsdiag_guid_t *kms_id,
    uint32_t n_policy, unsigned protocol) {
  char *copy = NULL;
  CHECK_IDLE(p);
  if (!app_id || !sku_id || !kms_id || protocol < 4 || protocol > 6 ||
      n_policy == 0 || n_policy > 1000)
    return KMSDIAG_EINVAL;
  if (name && !(copy = strdup(name)))
    return KMSDIAG_ENOMEM;
  free(p->product_name);
  p->product_name = copy;
  p->app_id = *app_id;
  p->sku_id = *sku_id;
  p->kms_id = *kms_id;
  p->n_policy = n_policy;
  p->product_protocol = protocol;
  p->product_set = true;
  p->product = NULL;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_set_product(kmsdiag_probe_t *p,
                                           const kmsdiag_product_t *prod) {
  kmsdiag_status_t st;
  CHECK_IDLE(p);
  if (!prod || !prod->kms_group || !prod->app || !prod->has_sku_id)
    return KMSDIAG_EINVAL;
  st = kmsdiag_probe_set_product_ids(
      p, prod->name, &prod->app->id, &prod->sku_id, &prod->kms_group->id,
      prod->kms_group->n_policy, prod->kms_group->protocol_major);
  if (st == KMSDIAG_OK)
    p->product = prod;
  return st;
}

kmsdiag_status_t kmsdiag_probe_set_protocol(kmsdiag_probe_t *p,
                                            unsigned major) {
  CHECK_IDLE(p);
  if (major != 0 && (major < 4 || major > 6))
    return KMSDIAG_EINVAL;
  p->protocol = major;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_set_client_time(kmsdiag_probe_t *p,
                                               int64_t unix_sec) {
  CHECK_IDLE(p);
  if (unix_sec < 0)
    return KMSDIAG_EINVAL;
  p->client_time = unix_sec;
  return KMSDIAG_OK;
}

static kmsdiag_status_t add_plain(kmsdiag_probe_t *p, const char *host,
                                  uint16_t port, size_t *index) {
  kmsdiag_probe_result_t *r;
  size_t hl;
  if (!host || !*host)
    return KMSDIAG_EINVAL;
  hl = strlen(host);
  if (hl > 253 + 1) /* a DNS name, with an optional final dot */
    return KMSDIAG_ETOOBIG;
  for (size_t i = 0; i < hl; i++)
    if ((unsigned char)host[i] <= 0x20 || host[i] == 0x7f)
      return KMSDIAG_EINVAL;
  if (p->n >= KMSDIAG_PROBE_MAX_TARGETS)
    return KMSDIAG_ELIMIT;
  if (p->n == p->cap) {
    size_t nc = p->cap ? p->cap * 2 : 16;
    kmsdiag_probe_result_t **nr = realloc(p->res, nc * sizeof *nr);
    if (!nr)
      return KMSDIAG_ENOMEM;
    p->res = nr;
    p->cap = nc;
  }
  r = calloc(1, sizeof *r);
  if (!r)
    return KMSDIAG_ENOMEM;
  r->host = strdup(host);
  if (!r->host) {
    free(r);
    return KMSDIAG_ENOMEM;
  }
  r->port = port ? port : p->default_port;
  for (int i = 0; i < 4; i++)
    r->ms[i] = -1;
  r->requested = p->stage;
  kd_probe_set_msg(r, "not probed yet");
  if (index)
    *index = p->n;
  p->res[p->n++] = r;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_probe_add_target(kmsdiag_probe_t *p,
                                          const char *host, uint16_t port,
                                          size_t *index) {
  CHECK_IDLE(p);
  return add_plain(p, host, port, index);
}

kmsdiag_status_t kmsdiag_probe_add_target_resolved(
    kmsdiag_probe_t *p, const char *label, uint16_t port,
    const char *const *addresses, size_t n, size_t *index) {
  CHECK_IDLE(p);
  return kd_probe_add(p, label, port, addresses, n, index);
}

kmsdiag_status_t kd_probe_add(kmsdiag_probe_t *p, const char *label,
                              uint16_t port, const char *const *addresses,
                              size_t n, size_t *index) {
  size_t idx;
  kmsdiag_status_t st;
  if (n && !addresses)
    return KMSDIAG_EINVAL;
  if (n > KD_PROBE_MAX_ADDRS)
    n = KD_PROBE_MAX_ADDRS;
  for (size_t i = 0; i < n; i++) {
    struct in6_addr a;
    if (!addresses[i] || (inet_pton(AF_INET, addresses[i], &a) != 1 &&
                          inet_pton(AF_INET6, addresses[i], &a) != 1))
      return KMSDIAG_EPARSE;
  }
  st = add_plain(p, label, port, &idx);
  if (st != KMSDIAG_OK || n == 0) {
    if (st == KMSDIAG_OK && index)
      *index = idx;
    return st;
  }
  kmsdiag_probe_result_t *r = p->res[idx];
  r->pre = calloc(n, sizeof *r->pre);
  r->prelen = calloc(n, sizeof *r->prelen);
  if (!r->pre || !r->prelen) {
    /* Leave the target as a plain name to resolve. */
    free(r->pre);
    free(r->prelen);
    r->pre = NULL;
    r->prelen = NULL;
    return KMSDIAG_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&r->pre[i];
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&r->pre[i];
    if (inet_pton(AF_INET, addresses[i], &s4->sin_addr) == 1) {
      s4->sin_family = AF_INET;
      r->prelen[i] = sizeof *s4;
    } else {
      (void)inet_pton(AF_INET6, addresses[i], &s6->sin6_addr);
      s6->sin6_family = AF_INET6;
      r->prelen[i] = sizeof *s6;
    }
  }
  r->npre = n;
  if (index)
    *index = idx;
  return KMSDIAG_OK;
}

static bool parse_port(const char *s, uint16_t *out) {
  unsigned long v = 0;
  if (!*s)
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    v = v * 10 + (unsigned long)(*s - '0');
    if (v > 65535)
      return false;
  }
  if (v == 0)
    return false;
  *out = (uint16_t)v;
  return true;
}

kmsdiag_status_t kmsdiag_probe_add_target_spec(kmsdiag_probe_t *p,
                                               const char *spec,
                                               size_t *index) {
  char host[256];
  uint16_t port = 0;
  const char *colon;
  size_t len;
  CHECK_IDLE(p);
  if (!spec)
    return KMSDIAG_EINVAL;
  len = strlen(spec);
  if (len == 0 || len >= sizeof host + 8)
    return KMSDIAG_EPARSE;
  if (spec[0] == '[') {
    const char *end = strchr(spec, ']');
    if (!end || end == spec + 1 || (size_t)(end - spec - 1) >= sizeof host)
      return KMSDIAG_EPARSE;
    memcpy(host, spec + 1, (size_t)(end - spec - 1));
    host[end - spec - 1] = '\0';
    if (end[1] == ':') {
      if (!parse_port(end + 2, &port))
        return KMSDIAG_EPARSE;
    } else if (end[1] != '\0') {
      return KMSDIAG_EPARSE;
    }
    struct in6_addr a6;
    if (inet_pton(AF_INET6, host, &a6) != 1)
      return KMSDIAG_EPARSE;
  } else {
    colon = strchr(spec, ':');
    if (colon && strchr(colon + 1, ':')) {
      /* Several colons: a bare IPv6 literal without a port. */
      struct in6_addr a6;
      if (len >= sizeof host || inet_pton(AF_INET6, spec, &a6) != 1)
        return KMSDIAG_EPARSE;
      memcpy(host, spec, len + 1);
    } else if (colon) {
      if (colon == spec || (size_t)(colon - spec) >= sizeof host ||
          !parse_port(colon + 1, &port))
        return KMSDIAG_EPARSE;
      memcpy(host, spec, (size_t)(colon - spec));
      host[colon - spec] = '\0';
    } else {
      if (len >= sizeof host)
        return KMSDIAG_EPARSE;
      memcpy(host, spec, len + 1);
    }
  }
  kmsdiag_status_t st = kmsdiag_probe_add_target(p, host, port, index);
  return st == KMSDIAG_EINVAL || st == KMSDIAG_ETOOBIG ? KMSDIAG_EPARSE : st;
}

kmsdiag_status_t kmsdiag_probe_add_domain(kmsdiag_probe_t *p,
                                          kmsdiag_dns_t *dns,
                                          const char *domain,
                                          const char *source) {
  char *copy = NULL;
  CHECK_IDLE(p);
  if (!dns || (p->dns && p->dns != dns))
    return KMSDIAG_EINVAL;
  if (p->ndom >= 256)
    return KMSDIAG_ELIMIT;
  if (domain && strlen(domain) > 1024)
    return KMSDIAG_ETOOBIG;
  if (p->ndom == p->dom_cap) {
    size_t nc = p->dom_cap ? p->dom_cap * 2 : 4;
    kd_probe_domain_t *nd = realloc(p->dom, nc * sizeof *nd);
    if (!nd)
      return KMSDIAG_ENOMEM;
    p->dom = nd;
    p->dom_cap = nc;
  }
  if (domain && !(copy = strdup(domain)))
    return KMSDIAG_ENOMEM;
  memset(&p->dom[p->ndom], 0, sizeof p->dom[0]);
  p->dom[p->ndom].name = copy;
  p->dom[p->ndom].source = source ? source : "argument";
  p->ndom++;
  p->dns = dns;
  return KMSDIAG_OK;
}

size_t kmsdiag_probe_domain_count(const kmsdiag_probe_t *p) {
  return p ? p->ndom : 0;
}

const kmsdiag_dns_result_t *kmsdiag_probe_domain_result(const kmsdiag_probe_t *p,
                                                        size_t index) {
  if (!p || index >= p->ndom)
    return NULL;
  return p->dom[index].result;
}

size_t kmsdiag_probe_target_count(const kmsdiag_probe_t *p) {
  return p ? p->n : 0;
}

void kmsdiag_probe_set_result_callback(kmsdiag_probe_t *p,
                                       kmsdiag_probe_result_fn fn,
                                       void *userdata) {
  if (!p)
    return;
  p->cb = fn;
  p->cb_ud = userdata;
}

const kmsdiag_probe_result_t *kmsdiag_probe_result(const kmsdiag_probe_t *p,
                                                   size_t index) {
  if (!p || index >= p->n)
    return NULL;
  return p->res[index];
}

/* ---- result accessors ---- */

#define GET(name, type, expr, dflt)                                            \
  type kmsdiag_probe_result_##name(const kmsdiag_probe_result_t *r) {          \
    return r ? (expr) : (dflt);                                                \
  }

GET(host, const char *, r->host, NULL)
GET(address, const char *, r->address, NULL)
GET(port, uint16_t, r->port, 0)
GET(done, bool, r->done, false)
GET(stage_requested, kmsdiag_probe_stage_t, r->requested, KMSDIAG_PROBE_STAGE_NONE)
GET(stage_reached, kmsdiag_probe_stage_t, r->reached, KMSDIAG_PROBE_STAGE_NONE)
GET(stage_failed, kmsdiag_probe_stage_t, r->failed, KMSDIAG_PROBE_STAGE_NONE)
GET(ok, bool, r->ok, false)
GET(status, kmsdiag_status_t, r->status, KMSDIAG_EINVAL)
GET(hresult, uint32_t, r->hresult, 0)
GET(detail_hresult, uint32_t, r->detail, 0)
GET(message, const char *, r->message, NULL)
GET(ndr32, bool, r->ndr32, false)
GET(ndr64, bool, r->ndr64, false)
GET(rpc_status, uint32_t, r->rpc_status, 0)
GET(has_kms, bool, r->has_kms, false)
GET(protocol, unsigned, r->protocol, 0)
GET(epid, const char *, r->epid, NULL)
GET(count, uint32_t, r->count, 0)
GET(threshold, uint32_t, r->threshold, 0)
GET(activation_interval, uint32_t, r->act_interval, 0)
GET(renewal_interval, uint32_t, r->renew_interval, 0)
GET(verified, bool, r->verified, false)
GET(time_skew, int64_t, r->skew, 0)

const kmsdiag_epid_t *
kmsdiag_probe_result_epid_info(const kmsdiag_probe_result_t *r) {
  return r ? r->epid_info : NULL;
}

bool kmsdiag_probe_result_can_activate(const kmsdiag_probe_result_t *r,
                                       kmsdiag_activation_verdict_t *out) {
  if (!r || !r->has_verdict)
    return false;
  if (out)
    *out = r->verdict;
  return r->verdict.answer == KMSDIAG_ACTIVATE_YES;
}

size_t kmsdiag_probe_result_attempt_count(const kmsdiag_probe_result_t *r) {
  return r ? r->nattempts : 0;
}

bool kmsdiag_probe_result_attempt(const kmsdiag_probe_result_t *r, size_t i,
                                  const char **address,
                                  kmsdiag_status_t *status, double *ms) {
  if (!r || i >= r->nattempts)
    return false;
  if (address)
    *address = r->attempts[i].address;
  if (status)
    *status = r->attempts[i].status;
  if (ms)
    *ms = r->attempts[i].ms;
  return true;
}

double kmsdiag_probe_result_stage_ms(const kmsdiag_probe_result_t *r,
                                     kmsdiag_probe_stage_t stage) {
  if (!r || stage < KMSDIAG_PROBE_STAGE_NONE || stage > KMSDIAG_PROBE_STAGE_KMS)
    return -1;
  return r->ms[stage];
}

bool kmsdiag_probe_result_btfn(const kmsdiag_probe_result_t *r,
                               uint16_t *features) {
  if (!r)
    return false;
  if (features)
    *features = r->btfn_features;
  return r->btfn;
}

bool kmsdiag_probe_result_hwid(const kmsdiag_probe_result_t *r,
                               uint8_t out[8]) {
  if (!r || !r->has_hwid)
    return false;
  if (out)
    memcpy(out, r->hwid, 8);
  return true;
}

static void json_ms(kmsdiag_json_t *j, const char *key, double ms) {
  if (ms < 0)
    kmsdiag_json_null(j, key);
  else
    kmsdiag_json_double(j, key, (double)(int64_t)(ms * 1000.0 + 0.5) / 1000.0);
}

void kmsdiag_probe_result_write_json(const kmsdiag_probe_result_t *r,
                                     kmsdiag_json_t *j, const char *key) {
  if (!r || !j)
    return;
  kmsdiag_json_object_begin(j, key);
  kmsdiag_json_str(j, "type", "probe");
  kmsdiag_json_strn(j, "host", r->host, strlen(r->host));
  kmsdiag_json_str(j, "address", r->address[0] ? r->address : NULL);
  kmsdiag_json_uint(j, "port", r->port);
  kmsdiag_json_str(j, "stage", kmsdiag_probe_stage_name(r->requested));
  kmsdiag_json_str(j, "stage_reached", kmsdiag_probe_stage_name(r->reached));
  if (r->ok || !r->done)
    kmsdiag_json_null(j, "stage_failed");
  else
    kmsdiag_json_str(j, "stage_failed",
                     r->failed == KMSDIAG_PROBE_STAGE_NONE
                         ? "resolve"
                         : kmsdiag_probe_stage_name(r->failed));
  kmsdiag_json_bool(j, "ok", r->ok);
  kmsdiag_json_str(j, "status", kmsdiag_status_name(r->status));
  kmsdiag_json_hex32(j, "hresult", r->hresult);
  {
    const kmsdiag_error_entry_t *e =
        r->hresult ? kmsdiag_error_lookup(r->hresult) : NULL;
    kmsdiag_json_str(j, "hresult_name", e ? e->name : NULL);
    kmsdiag_json_str(j, "hresult_message", e ? e->message : NULL);
  }
  if (r->detail) {
    const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(r->detail);
    kmsdiag_json_hex32(j, "detail_hresult", r->detail);
    kmsdiag_json_str(j, "detail_name", e ? e->name : NULL);
  } else {
    kmsdiag_json_null(j, "detail_hresult");
    kmsdiag_json_null(j, "detail_name");
  }
  kmsdiag_json_str(j, "message", r->message);
  json_ms(j, "resolve_ms", r->ms[0]);
  json_ms(j, "tcp_ms", r->ms[1]);
  json_ms(j, "rpc_ms", r->ms[2]);
  json_ms(j, "kms_ms", r->ms[3]);
  kmsdiag_json_array_begin(j, "addresses_tried");
  for (size_t i = 0; i < r->nattempts; i++) {
    kmsdiag_json_object_begin(j, NULL);
    kmsdiag_json_str(j, "address", r->attempts[i].address);
    kmsdiag_json_str(j, "status", kmsdiag_status_name(r->attempts[i].status));
    json_ms(j, "ms", r->attempts[i].ms);
    kmsdiag_json_object_end(j);
  }
  kmsdiag_json_array_end(j);
  if (r->bind_answered) {
    kmsdiag_json_bool(j, "ndr32", r->ndr32);
    kmsdiag_json_bool(j, "ndr64", r->ndr64);
    kmsdiag_json_bool(j, "btfn", r->btfn);
    kmsdiag_json_uint(j, "btfn_features", r->btfn_features);
  }
  if (r->rpc_status)
    kmsdiag_json_hex32(j, "rpc_status", r->rpc_status);
  if (r->requested == KMSDIAG_PROBE_STAGE_KMS) {
    if (r->protocol)
      kmsdiag_json_uint(j, "protocol", r->protocol);
    else
      kmsdiag_json_null(j, "protocol");
    if (r->has_kms) {
      if (r->epid)
        kmsdiag_json_strn(j, "epid", r->epid, strlen(r->epid));
      else
        kmsdiag_json_null(j, "epid");
      if (r->has_hwid)
        kmsdiag_json_hexbytes(j, "hwid", r->hwid, 8);
      else
        kmsdiag_json_null(j, "hwid");
      kmsdiag_json_uint(j, "count", r->count);
      kmsdiag_json_uint(j, "threshold", r->threshold);
      kmsdiag_json_uint(j, "activation_interval", r->act_interval);
      kmsdiag_json_uint(j, "renewal_interval", r->renew_interval);
      kmsdiag_json_bool(j, "verified", r->verified);
      if (r->has_verification) {
        const kmsdiag_kms_verification_t *v = &r->verification;
        kmsdiag_json_object_begin(j, "verification");
        kmsdiag_json_str(j, "decrypt", kmsdiag_kms_check_name(v->decrypt));
        kmsdiag_json_str(j, "mac", kmsdiag_kms_check_name(v->mac));
        kmsdiag_json_str(j, "hash", kmsdiag_kms_check_name(v->hash));
        kmsdiag_json_str(j, "hmac", kmsdiag_kms_check_name(v->hmac));
        kmsdiag_json_str(j, "ivs", kmsdiag_kms_check_name(v->ivs));
        kmsdiag_json_str(j, "version", kmsdiag_kms_check_name(v->version));
        kmsdiag_json_str(j, "cmid_echo", kmsdiag_kms_check_name(v->cmid_echo));
        kmsdiag_json_str(j, "time_echo", kmsdiag_kms_check_name(v->time_echo));
        kmsdiag_json_str(j, "pid_length", kmsdiag_kms_check_name(v->pid_length));
        kmsdiag_json_bool(j, "iv_suspicious", v->iv_suspicious);
        kmsdiag_json_object_end(j);
      }
      kmsdiag_json_int(j, "time_skew_s", r->skew);
      if (r->epid_info)
        kmsdiag_epid_write_json(j, "epid_info", r->epid_info);
      else
        kmsdiag_json_null(j, "epid_info");
      if (r->has_verdict)
        kmsdiag_activation_verdict_write_json(j, "can_activate", &r->verdict);
      else
        kmsdiag_json_null(j, "can_activate");
    } else {
      kmsdiag_json_null(j, "epid");
      kmsdiag_json_null(j, "hwid");
      kmsdiag_json_null(j, "count");
      kmsdiag_json_uint(j, "threshold", r->threshold);
      kmsdiag_json_null(j, "activation_interval");
      kmsdiag_json_null(j, "renewal_interval");
      kmsdiag_json_bool(j, "verified", false);
    }
  }
  kmsdiag_json_object_end(j);
}
