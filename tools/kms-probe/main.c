/* kms-probe: probe KMS hosts stage by stage (tcp, rpc, kms) and say what a
 * Windows client would see. With no HOST, the targets come from DNS SRV
 * discovery exactly as kms-find finds them, and every one is probed, in
 * client order. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

enum { NAGIOS_OK = 0, NAGIOS_WARNING = 1, NAGIOS_CRITICAL = 2,
       NAGIOS_UNKNOWN = 3 };

#define MAX_SERVERS_TEXT 2048
#define MAX_DOMAINS 64

static void usage(FILE *f) {
  fprintf(f,
"Usage: kms-probe [OPTION]... [HOST[:PORT]]...\n"
"Probe KMS hosts stage by stage and report what a Windows client would see.\n"
"  tcp  connect (refused, timed out/filtered, unreachable, closed-after-accept)\n"
"  rpc  bind to the KMS RPC interface (the default: proves a KMS service\n"
"       answers without adding to its count)\n"
"  kms  one activation request, decoded and verified (adds one client to\n"
"       the host's count: the CMID is kept stable so that repeated probes\n"
"       count as one machine)\n"
"With no HOST, KMS hosts are found through DNS (_vlmcs._tcp SRV records) as\n"
"kms-find finds them, and every one is probed, in client order.\n"
"Each failure carries the code a Windows client would show; hosts failing at\n"
"tcp or rpc are why a client reports 0xC004F074 once every host has failed.\n"
"\n"
"Options:\n"
"  -s, --stage STAGE        last stage to run: tcp, rpc (default) or kms\n"
"  -P, --product NAME|SKU   product for the kms stage (default: the library's\n"
"                           default Windows Server edition)\n"
"      --protocol 4|5|6     KMS protocol version (default: the product's own)\n"
"  -p, --port N             port for HOSTs given without one (default 1688)\n"
"  -t, --timeout MS         time allowed for each stage and for resolving a\n"
"                           name, 1..600000 ms (default 3000); a name's\n"
"                           addresses share the tcp stage's time\n"
"  -c, --concurrency N      targets probed at once (default 64)\n"
"      --cmid GUID          client machine ID to send (default: the stable one\n"
"                           kept in $XDG_STATE_HOME/kmsdiag/cmid)\n"
"      --workstation NAME   workstation name to send (default\n"
"                           kmsdiag-probe.<hostname>)\n"
"  -d, --domain D           discover hosts under D (repeatable; default: the\n"
"                           resolver configuration's domain and search list)\n"
"  -S, --server ADDR[:PORT] DNS server for discovery and host names\n"
"                           (repeatable; IPv6 as [ADDR]:PORT)\n"
"      --resolv-conf FILE   resolver configuration for discovery\n"
"      --seed N             fixed seed for the SRV weighted order\n"
"  -j, --json               JSON Lines: one \"probe\" object per target, then a\n"
"                           \"verdict\" object\n"
"  -n, --nagios             one monitoring-plugin status line with performance\n"
"                           data; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN\n"
"  -v, --verbose            library diagnostics on stderr\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"Exit status: 0 every target passed the requested stage, 1 any target failed\n"
"(or no host was found), 2 usage or internal error. With --nagios: 0 OK\n"
"(all pass), 1 WARNING (some host failed, or a count is below the\n"
"threshold), 2 CRITICAL (no host usable), 3 UNKNOWN (usage or internal\n"
"error).\n");
}

typedef struct opts {
  kmsdiag_probe_stage_t stage;
  const char *product;
  long protocol, port, timeout, concurrency, seed;
  bool have_seed;
  const char *cmid, *workstation, *resolv;
  const char *domains[MAX_DOMAINS];
  size_t ndomains;
  char servers[MAX_SERVERS_TEXT];
  bool json, nagios;
  int verbose;
} opts_t;

static bool g_nagios; /* --nagios: errors also print the UNKNOWN line */
static int report_failure(bool usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static uint64_t g_seed;
static uint32_t seeded_rand(void *ud) {
  (void)ud;
  g_seed ^= g_seed << 13;
  g_seed ^= g_seed >> 7;
  g_seed ^= g_seed << 17;
  return (uint32_t)(g_seed >> 16);
}

/* Discovery: the SRV lookups run inside the probe's own event loop; every
 * SRV target found becomes a target, in client order. The domains are the
 * --domain arguments or, without any, the resolver configuration's domain
 * and search list, as kms-find does. Returns false after a message. */
static bool setup_discovery(const opts_t *o, kmsdiag_probe_t *p,
                            kmsdiag_dns_t **dout) {
  kmsdiag_dns_t *d = NULL;
  kmsdiag_status_t st = kmsdiag_dns_new(&d);
  *dout = NULL;
  if (st != KMSDIAG_OK) {
    (void)report_failure(false, "cannot create the resolver: %s", kmsdiag_strerror(st));
    return false;
  }
  *dout = d;
  if (o->servers[0] && kmsdiag_dns_set_servers(d, o->servers) != KMSDIAG_OK) {
    (void)report_failure(false, "bad --server list '%s'", o->servers);
    return false;
  }
  if (o->resolv && kmsdiag_dns_set_resolv_conf(d, o->resolv) != KMSDIAG_OK) {
    (void)report_failure(false, "cannot use --resolv-conf %s", o->resolv);
    return false;
  }
  if (o->timeout > 0)
    (void)kmsdiag_dns_set_timeout_ms(d, (unsigned)o->timeout);
  if (o->have_seed) {
    g_seed = (uint64_t)o->seed * 2654435761u + 88172645463325252ull;
    kmsdiag_dns_set_random(d, seeded_rand, NULL);
  }
  if (o->ndomains) {
    for (size_t i = 0; i < o->ndomains; i++)
      if (kmsdiag_probe_add_domain(p, d, o->domains[i], "argument") !=
          KMSDIAG_OK) {
        (void)report_failure(false, "cannot add domain '%s'", o->domains[i]);
        return false;
      }
    return true;
  }
  char **doms = NULL;
  const char **srcs = NULL;
  st = kmsdiag_dns_config_domains(d, &doms, &srcs);
  if (st != KMSDIAG_OK && st != KMSDIAG_EIO) {
    (void)report_failure(false, "cannot read the resolver configuration: %s",
             kmsdiag_strerror(st));
    return false;
  }
  size_t n = 0;
  for (; doms && doms[n]; n++)
    if (kmsdiag_probe_add_domain(p, d, doms[n], srcs ? srcs[n] : NULL) !=
        KMSDIAG_OK)
      break;
  if (n == 0) /* no suffix at all: the client sends no query */
    (void)kmsdiag_probe_add_domain(p, d, NULL, NULL);
  kmsdiag_dns_strv_free(doms);
  free(srcs);
  return true;
}

static void print_discovery(const kmsdiag_probe_t *p) {
  for (size_t i = 0; i < kmsdiag_probe_domain_count(p); i++) {
    const kmsdiag_dns_result_t *r = kmsdiag_probe_domain_result(p, i);
    const kmsdiag_error_entry_t *e;
    if (!r)
      continue;
    e = kmsdiag_error_lookup(r->hresult);
    printf("discovery ");
    tool_puts_escaped(stdout, r->qname ? r->qname : "(no domain)");
    printf(": %zu record(s), %zu usable", r->nrecords, r->usable);
    if (r->hresult)
      printf("; a client reports 0x%08X %s", (unsigned)r->hresult,
             e && e->name ? e->name : kmsdiag_dns_hresult_message(r->hresult));
    if (r->error) {
      printf(" (");
      tool_puts_escaped(stdout, r->error);
      printf(")");
    }
    printf("\n");
  }
  printf("\n");
}

static const char *hr_name(uint32_t hr) {
  const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(hr);
  return e && e->name ? e->name : "";
}

static const char *attempt_text(kmsdiag_status_t st) {
  switch (st) {
  case KMSDIAG_OK: return "connected";
  case KMSDIAG_ETIMEOUT: return "timed out (no answer: filtered or down)";
  case KMSDIAG_ECONNREFUSED: return "refused";
  case KMSDIAG_EUNREACH: return "unreachable";
  default: return kmsdiag_status_name(st);
  }
}

static void print_ms(double ms) {
  if (ms < 0)
    printf("%10s", "-");
  else
    printf("%7.1f ms", ms);
}

static void print_target(const kmsdiag_probe_result_t *r) {
  kmsdiag_probe_stage_t req = kmsdiag_probe_result_stage_requested(r);
  kmsdiag_probe_stage_t reached = kmsdiag_probe_result_stage_reached(r);
  kmsdiag_probe_stage_t failed = kmsdiag_probe_result_stage_failed(r);
  bool ok = kmsdiag_probe_result_ok(r);
  const char *addr = kmsdiag_probe_result_address(r);
  const char *host = kmsdiag_probe_result_host(r);
  bool v6 = strchr(host, ':') != NULL;
  printf("%s", v6 ? "[" : "");
  tool_puts_escaped(stdout, host);
  printf("%s:%u", v6 ? "]" : "", kmsdiag_probe_result_port(r));
  if (addr && *addr && strcmp(addr, kmsdiag_probe_result_host(r)) != 0)
    printf(" (%s)", addr);
  printf("\n");
  if (kmsdiag_probe_result_stage_ms(r, KMSDIAG_PROBE_STAGE_NONE) >= 0) {
    printf("  %-8s", "resolve");
    print_ms(kmsdiag_probe_result_stage_ms(r, KMSDIAG_PROBE_STAGE_NONE));
    printf("  %s\n", !ok && failed == KMSDIAG_PROBE_STAGE_NONE &&
                             reached == KMSDIAG_PROBE_STAGE_NONE &&
                             !*addr ? "FAIL" : "ok");
  }
  for (int s = KMSDIAG_PROBE_STAGE_TCP; s <= (int)req; s++) {
    double ms = kmsdiag_probe_result_stage_ms(r, (kmsdiag_probe_stage_t)s);
    printf("  %-8s", kmsdiag_probe_stage_name((kmsdiag_probe_stage_t)s));
    print_ms(ms);
    /* The failing stage says so with its code, also when the stage got an
     * answer (a count below the threshold, a refusal): the same stage as
     * the JSON's stage_failed. */
    if (!ok && (int)failed == s && ms >= 0) {
      uint32_t hr = kmsdiag_probe_result_hresult(r);
      printf("  FAIL");
      if (hr)
        printf(" 0x%08X %s", (unsigned)hr, hr_name(hr));
      printf("%s\n", (int)reached >= s ? " (the host answered)" : "");
    } else if ((int)reached >= s) {
      printf("  ok\n");
    } else {
      printf("  not run\n");
    }
    if (s == KMSDIAG_PROBE_STAGE_TCP &&
        kmsdiag_probe_result_attempt_count(r) > 1) {
      /* Every address tried, in order. */
      for (size_t i = 0; i < kmsdiag_probe_result_attempt_count(r); i++) {
        const char *a = NULL;
        kmsdiag_status_t ast = KMSDIAG_OK;
        double ams = -1;
        (void)kmsdiag_probe_result_attempt(r, i, &a, &ast, &ams);
        printf("    %-6s", "via");
        print_ms(ams);
        printf("  %s %s\n", a ? a : "?", attempt_text(ast));
      }
    }
  }
  if (kmsdiag_probe_result_has_kms(r)) {
    uint8_t hw[8];
    char hws[20];
    const kmsdiag_epid_t *e = kmsdiag_probe_result_epid_info(r);
    kmsdiag_activation_verdict_t v;
    memset(&v, 0, sizeof v);
    printf("  epid      ");
    tool_puts_escaped(stdout, kmsdiag_probe_result_epid(r));
    printf("\n");
    if (!e || !e->syntax_ok) {
      printf("  host      unknown: the ePID is not well formed%s",
             e && e->n_problems ? " (" : "");
      if (e && e->n_problems) {
        tool_puts_escaped(stdout, e->problems[0].message);
        printf(")");
      }
      printf("; its host key cannot be told\n");
    } else {
      printf("  host      %s, group %u%s%s\n",
             e->host_os ? e->host_os->name
                        : (e->platform_name ? e->platform_name : "unknown OS"),
             (unsigned)e->group_id, e->csvlk ? ", key " : "",
             e->csvlk ? e->csvlk->name : "");
    }
    if (kmsdiag_probe_result_hwid(r, hw))
      printf("  hwid      %s\n", kmsdiag_kms_hwid_to_str(hw, hws));
    printf("  count     %u (threshold %u)\n", kmsdiag_probe_result_count(r),
           kmsdiag_probe_result_threshold(r));
    printf("  intervals activation %u min, renewal %u min\n",
           kmsdiag_probe_result_activation_interval(r),
           kmsdiag_probe_result_renewal_interval(r));
    printf("  verified  %s, time skew %lld s\n",
           kmsdiag_probe_result_verified(r) ? "yes" : "NO",
           (long long)kmsdiag_probe_result_time_skew(r));
    if (kmsdiag_probe_result_can_activate(r, &v) || v.answer) {
      printf("  host key  can activate the product: %s",
             kmsdiag_activation_answer_name(v.answer));
      if (v.answer != KMSDIAG_ACTIVATE_YES && v.reason[0]) {
        printf(" (");
        tool_puts_escaped(stdout, v.reason);
        printf(")");
      }
      printf("\n");
    }
  }
  if (ok) {
    printf("  result    OK: ");
  } else {
    uint32_t hr = kmsdiag_probe_result_hresult(r);
    uint32_t det = kmsdiag_probe_result_detail_hresult(r);
    printf("  result    FAIL (%s) 0x%08X %s",
           kmsdiag_status_name(kmsdiag_probe_result_status(r)), (unsigned)hr,
           hr_name(hr));
    if (det)
      printf(" [per host 0x%08X%s%s]", (unsigned)det, *hr_name(det) ? " " : "",
             hr_name(det));
    printf(": ");
  }
  /* The message may quote peer text: always escaped. */
  tool_puts_escaped(stdout, kmsdiag_probe_result_message(r));
  printf("\n");
}

/* A host a client could use: it answered the requested stage (for kms: a
 * verified answer, even with a low count). */
static bool usable(const kmsdiag_probe_result_t *r) {
  return kmsdiag_probe_result_ok(r) ||
         kmsdiag_probe_result_stage_reached(r) ==
             kmsdiag_probe_result_stage_requested(r);
}

typedef struct verdict {
  size_t n, passed, usable;
  long first_ok;        /* index of the first passing target, or -1 */
  uint32_t client_hr;   /* what a client shows: 0, or its code */
  bool low_count;
  /* a host that activated although its ePID's host key should not cover
   * the product, or whose ePID is not well formed: worth a warning */
  bool key_doubt;
} verdict_t;

/* An activation whose ePID does not add up (see verdict_t.key_doubt). */
static bool key_doubt(const kmsdiag_probe_result_t *r) {
  kmsdiag_activation_verdict_t av;
  const kmsdiag_epid_t *e;
  if (!kmsdiag_probe_result_ok(r) || !kmsdiag_probe_result_has_kms(r))
    return false;
  e = kmsdiag_probe_result_epid_info(r);
  if (!e || !e->syntax_ok)
    return true;
  memset(&av, 0, sizeof av);
  (void)kmsdiag_probe_result_can_activate(r, &av);
  return av.answer == KMSDIAG_ACTIVATE_NO;
}

static verdict_t judge(const kmsdiag_probe_t *p) {
  verdict_t v = {0, 0, 0, -1, 0, false, false};
  long first_answer = -1;
  v.n = kmsdiag_probe_target_count(p);
  for (size_t i = 0; i < v.n; i++) {
    const kmsdiag_probe_result_t *r = kmsdiag_probe_result(p, i);
    if (kmsdiag_probe_result_ok(r)) {
      v.passed++;
      if (v.first_ok < 0)
        v.first_ok = (long)i;
    }
    if (usable(r))
      v.usable++;
    if (kmsdiag_probe_result_hresult(r) == KMSDIAG_HR_NOT_ENOUGH_COUNT)
      v.low_count = true;
    if (key_doubt(r))
      v.key_doubt = true;
    /* A client stops at the first host that answers the activation. */
    /* ... or that answers it with a time the client rejects (a stale or
     * skewed response: the probe's own 0xC004F06C) */
    if (first_answer < 0 &&
        (kmsdiag_probe_result_ok(r) ||
         kmsdiag_probe_result_status(r) == KMSDIAG_EKMSREFUSED ||
         kmsdiag_probe_result_hresult(r) == KMSDIAG_HR_INVALID_TIMESTAMP))
      first_answer = (long)i;
  }
  if (first_answer >= 0)
    v.client_hr = kmsdiag_probe_result_hresult(
        kmsdiag_probe_result(p, (size_t)first_answer));
  else if (v.passed == 0)
    v.client_hr = KMSDIAG_HR_BINDING_SERVICE_UNAVAILABLE;
  return v;
}

static void verdict_text(const kmsdiag_probe_t *p, const verdict_t *v,
                         kmsdiag_probe_stage_t stage) {
  const char *sn = kmsdiag_probe_stage_name(stage);
  printf("verdict: %zu of %zu host%s pass%s the %s stage", v->passed, v->n,
         v->n == 1 ? "" : "s", v->passed == 1 && v->n == 1 ? "es" : "", sn);
  if (v->first_ok >= 0) {
    const kmsdiag_probe_result_t *r = kmsdiag_probe_result(p, (size_t)v->first_ok);
    printf("; a client would use ");
    tool_puts_escaped(stdout, kmsdiag_probe_result_host(r));
    printf(":%u", kmsdiag_probe_result_port(r));
  }
  if (v->client_hr)
    printf("; a Windows client reports 0x%08X %s", (unsigned)v->client_hr,
           hr_name(v->client_hr));
  printf("\n");
}

static void verdict_json(kmsdiag_json_t *j, const kmsdiag_probe_t *p,
                         const verdict_t *v, kmsdiag_probe_stage_t stage,
                         int exit_code) {
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", "verdict");
  kmsdiag_json_str(j, "stage", kmsdiag_probe_stage_name(stage));
  kmsdiag_json_uint(j, "targets", v->n);
  kmsdiag_json_uint(j, "passed", v->passed);
  kmsdiag_json_uint(j, "failed", v->n - v->passed);
  kmsdiag_json_uint(j, "usable", v->usable);
  if (v->first_ok >= 0) {
    const char *h = kmsdiag_probe_result_host(kmsdiag_probe_result(p, (size_t)v->first_ok));
    kmsdiag_json_strn(j, "client_would_use", h, strlen(h));
  } else {
    kmsdiag_json_null(j, "client_would_use");
  }
  kmsdiag_json_hex32(j, "hresult", v->client_hr);
  kmsdiag_json_str(j, "hresult_name", v->client_hr ? hr_name(v->client_hr) : NULL);
  kmsdiag_json_int(j, "exit", exit_code);
  kmsdiag_json_object_end(j);
}

/* Performance-data label: only safe characters. */
static void perf_label(char *out, size_t outsz, const kmsdiag_probe_result_t *r,
                       const char *what) {
  char raw[300];
  size_t k = 0;
  snprintf(raw, sizeof raw, "%s:%u_%s", kmsdiag_probe_result_host(r),
           kmsdiag_probe_result_port(r), what);
  for (size_t i = 0; raw[i] && k + 1 < outsz; i++) {
    unsigned char c = (unsigned char)raw[i];
    bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
               c == ':';
    out[k++] = okc ? (char)c : '_';
  }
  out[k] = '\0';
}

/* Plugin output must stay on one line and must not contain '|'. */
static void put_plugin_text(const char *s) {
  char *e = kmsdiag_text_escape_dup(s, strlen(s));
  if (!e)
    return;
  for (char *q = e; *q; q++)
    if (*q == '|')
      *q = '/';
  fputs(e, stdout);
  free(e);
}

/* A usage (or internal) error: the message on stderr and, with --nagios,
 * the one status line a monitoring plugin always prints on stdout,
 * "KMS UNKNOWN - <reason>". Returns the exit code to use. */
static int report_failure(bool usage, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (usage)
    tool_usage_error("%s", msg);
  else
    tool_err("%s", msg);
  if (!g_nagios)
    return TOOL_EXIT_USAGE;
  printf("KMS UNKNOWN - ");
  put_plugin_text(msg);
  printf("\n");
  fflush(stdout);
  return NAGIOS_UNKNOWN;
}

static int nagios_output(const kmsdiag_probe_t *p, const verdict_t *v,
                         kmsdiag_probe_stage_t stage) {
  int code;
  const char *label;
  if (v->n == 0) {
    printf("KMS CRITICAL - no KMS host found | hosts_ok=0;;;0;0\n");
    return NAGIOS_CRITICAL;
  }
  if (v->usable == 0)
    code = NAGIOS_CRITICAL;
  else if (v->passed < v->n || v->low_count || v->key_doubt)
    code = NAGIOS_WARNING;
  else
    code = NAGIOS_OK;
  label = code == NAGIOS_OK ? "OK" : code == NAGIOS_WARNING ? "WARNING"
                                                            : "CRITICAL";
  printf("KMS %s - %zu/%zu hosts pass the %s stage", label, v->passed, v->n,
         kmsdiag_probe_stage_name(stage));
  /* Name the first problem. */
  for (size_t i = 0; i < v->n; i++) {
    const kmsdiag_probe_result_t *r = kmsdiag_probe_result(p, i);
    if (kmsdiag_probe_result_ok(r) && key_doubt(r)) {
      printf("; ");
      put_plugin_text(kmsdiag_probe_result_host(r));
      printf(":%u activates, but its ePID's host key should not cover the "
             "product (or the ePID is not well formed)",
             kmsdiag_probe_result_port(r));
      break;
    }
    if (kmsdiag_probe_result_ok(r))
      continue;
    printf("; ");
    put_plugin_text(kmsdiag_probe_result_host(r));
    printf(":%u 0x%08X: ", kmsdiag_probe_result_port(r),
           (unsigned)kmsdiag_probe_result_hresult(r));
    put_plugin_text(kmsdiag_probe_result_message(r));
    break;
  }
  printf(" | hosts_ok=%zu;;;0;%zu", v->passed, v->n);
  for (size_t i = 0; i < v->n; i++) {
    const kmsdiag_probe_result_t *r = kmsdiag_probe_result(p, i);
    char lab[320];
    for (int s = KMSDIAG_PROBE_STAGE_TCP; s <= (int)stage; s++) {
      double ms = kmsdiag_probe_result_stage_ms(r, (kmsdiag_probe_stage_t)s);
      if (ms < 0)
        continue;
      perf_label(lab, sizeof lab, r, kmsdiag_probe_stage_name((kmsdiag_probe_stage_t)s));
      printf(" '%s'=%.3fms;;;0", lab, ms);
    }
    if (kmsdiag_probe_result_has_kms(r)) {
      perf_label(lab, sizeof lab, r, "count");
      printf(" '%s'=%u;%u:;;0", lab, kmsdiag_probe_result_count(r),
             kmsdiag_probe_result_threshold(r));
    }
  }
  printf("\n");
  return code;
}

static int fail_code(const opts_t *o) {
  return o->nagios ? NAGIOS_UNKNOWN : TOOL_EXIT_USAGE;
}

int main(int argc, char **argv) {
  enum { OPT_PROTOCOL = 256, OPT_CMID, OPT_WORKSTATION, OPT_RESOLV, OPT_SEED };
  static const struct option lo[] = {
      {"stage", required_argument, NULL, 's'},
      {"product", required_argument, NULL, 'P'},
      {"protocol", required_argument, NULL, OPT_PROTOCOL},
      {"port", required_argument, NULL, 'p'},
      {"timeout", required_argument, NULL, 't'},
      {"concurrency", required_argument, NULL, 'c'},
      {"cmid", required_argument, NULL, OPT_CMID},
      {"workstation", required_argument, NULL, OPT_WORKSTATION},
      {"domain", required_argument, NULL, 'd'},
      {"server", required_argument, NULL, 'S'},
      {"resolv-conf", required_argument, NULL, OPT_RESOLV},
      {"seed", required_argument, NULL, OPT_SEED},
      {"json", no_argument, NULL, 'j'},
      {"nagios", no_argument, NULL, 'n'},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  opts_t o;
  kmsdiag_probe_t *p = NULL;
  kmsdiag_dns_t *dns = NULL;
  kmsdiag_status_t st;
  int c, rc;

  tool_init("kms-probe");
  memset(&o, 0, sizeof o);
  o.stage = KMSDIAG_PROBE_STAGE_RPC;
  /* --nagios changes what a usage error exits with and prints: look for it
   * first (as getopt would see it: "--nagios" or a prefix of it down to
   * "--n", or -n alone or among other flags, up to "--"). */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      break;
    if (a[0] == '-' && a[1] == '-' && strlen(a) >= 3 &&
        strncmp("--nagios", a, strlen(a)) == 0)
      o.nagios = true;
    else if (a[0] == '-' && a[1] != '-' && a[1] &&
             strspn(a + 1, "jnvhV") == strlen(a + 1) && strchr(a + 1, 'n'))
      o.nagios = true;
  }
  g_nagios = o.nagios;
  while ((c = getopt_long(argc, argv, "s:P:p:t:c:d:S:jnvhV", lo, NULL)) != -1) {
    switch (c) {
    case 's':
      if (kmsdiag_probe_stage_parse(optarg, &o.stage) != KMSDIAG_OK) {
        return report_failure(true, "--stage must be tcp, rpc or kms, not '%s'", optarg);
      }
      break;
    case 'P': o.product = optarg; break;
    case OPT_PROTOCOL:
      if (!tool_parse_long(optarg, 4, 6, &o.protocol)) {
        return report_failure(true, "--protocol must be 4, 5 or 6");
      }
      break;
    case 'p':
      if (!tool_parse_long(optarg, 1, 65535, &o.port)) {
        return report_failure(true, "--port must be 1..65535");
      }
      break;
    case 't':
      if (!tool_parse_long(optarg, 1, 600000, &o.timeout)) {
        return report_failure(true, "--timeout must be 1..600000 ms");
      }
      break;
    case 'c':
      if (!tool_parse_long(optarg, 1, 4096, &o.concurrency)) {
        return report_failure(true, "--concurrency must be 1..4096");
      }
      break;
    case OPT_CMID: o.cmid = optarg; break;
    case OPT_WORKSTATION: o.workstation = optarg; break;
    case 'd':
      if (o.ndomains >= MAX_DOMAINS) {
        return report_failure(true, "too many --domain options (at most %d)", MAX_DOMAINS);
      }
      o.domains[o.ndomains++] = optarg;
      break;
    case 'S': {
      size_t cur = strlen(o.servers);
      if (cur + strlen(optarg) + 2 >= sizeof o.servers) {
        return report_failure(true, "too many --server options");
      }
      if (cur)
        strcat(o.servers, ",");
      strcat(o.servers, optarg);
      break;
    }
    case OPT_RESOLV: o.resolv = optarg; break;
    case OPT_SEED:
      if (!tool_parse_long(optarg, 0, 0x7FFFFFFF, &o.seed)) {
        return report_failure(true, "--seed must be a non-negative number");
      }
      o.have_seed = true;
      break;
    case 'j': o.json = true; break;
    case 'n': o.nagios = g_nagios = true; break;
    case 'v': o.verbose++; break;
    case 'h': usage(stdout); return 0;
    case 'V': tool_print_version(); return 0;
    default: /* getopt has said what is wrong */
      return report_failure(true, "bad option or missing argument near '%s'",
                            argv[optind > 1 && optind <= argc ? optind - 1
                                                               : 0]);
    }
  }
  if (o.json && o.nagios) {
    return report_failure(true, "--json and --nagios cannot be combined");
  }
  if (o.verbose)
    tool_log_to_stderr(o.verbose);

  st = kmsdiag_probe_new(&p);
  if (st != KMSDIAG_OK) {
    return report_failure(false, "%s", kmsdiag_strerror(st));
  }
  rc = fail_code(&o);
  (void)kmsdiag_probe_set_stage(p, o.stage);
  if (o.port)
    (void)kmsdiag_probe_set_default_port(p, (uint16_t)o.port);
  if (o.timeout)
    (void)kmsdiag_probe_set_timeout_ms(p, (unsigned)o.timeout);
  if (o.concurrency)
    (void)kmsdiag_probe_set_concurrency(p, (unsigned)o.concurrency);
  if (o.servers[0] && kmsdiag_probe_set_dns_servers(p, o.servers) != KMSDIAG_OK) {
    rc = report_failure(true, "bad --server list '%s'", o.servers);
    goto out;
  }
  if (o.stage == KMSDIAG_PROBE_STAGE_KMS || o.product || o.protocol) {
    const kmsdiag_product_t *prod = NULL, *cand[8];
    size_t n = 0;
    if (o.product) {
      st = kmsdiag_product_find(o.product, cand, 8, &n);
      if (st == KMSDIAG_EAMBIGUOUS) {
        tool_err("--product '%s' matches %zu products:", o.product, n);
        for (size_t i = 0; i < n && i < 8; i++)
          fprintf(stderr, "  %s\n", cand[i]->name);
        rc = report_failure(true, "--product '%s' matches %zu products: name "
                            "one of them", o.product, n);
        goto out;
      }
      if (st != KMSDIAG_OK) {
        rc = report_failure(true, "unknown product '%s' (try kms-info products)", o.product);
        goto out;
      }
      prod = cand[0];
    } else {
      prod = kmsdiag_product_default();
    }
    if (!prod || kmsdiag_probe_set_product(p, prod) != KMSDIAG_OK) {
      rc = report_failure(true, "product '%s' has no known SKU ID to request",
                       prod ? prod->name : "?");
      goto out;
    }
    if (o.protocol)
      (void)kmsdiag_probe_set_protocol(p, (unsigned)o.protocol);
  }
  if (o.stage == KMSDIAG_PROBE_STAGE_KMS) {
    kmsdiag_guid_t cmid;
    bool created = false;
    if (o.cmid) {
      if (kmsdiag_guid_parse(&cmid, o.cmid) != KMSDIAG_OK) {
        rc = report_failure(true, "--cmid is not a GUID: '%s'", o.cmid);
        goto out;
      }
    } else {
      st = kmsdiag_probe_cmid_load(NULL, &cmid, &created);
      if (st != KMSDIAG_OK) {
        char *path = kmsdiag_probe_cmid_path();
        rc = report_failure(false, "cannot read or create the CMID state "
                            "file %s: %s (use --cmid)",
                            path ? path : "(no $HOME)", kmsdiag_strerror(st));
        free(path);
        goto out;
      }
      if (created && !o.nagios) {
        char gs[KMSDIAG_GUID_STRLEN];
        char *path = kmsdiag_probe_cmid_path();
        tool_err("created the stable probe CMID %s in %s",
                 kmsdiag_guid_to_str(&cmid, gs), path ? path : "?");
        free(path);
      }
    }
    (void)kmsdiag_probe_set_cmid(p, &cmid);
    if (o.workstation &&
        kmsdiag_probe_set_workstation(p, o.workstation) != KMSDIAG_OK) {
      rc = report_failure(true, "--workstation must be valid UTF-8 of at most 63 "
                       "characters");
      goto out;
    }
  }

  for (int i = optind; i < argc; i++) {
    st = kmsdiag_probe_add_target_spec(p, argv[i], NULL);
    if (st != KMSDIAG_OK) {
      rc = report_failure(true, "bad target '%s': want HOST, HOST:PORT, V6ADDR or "
                       "[V6ADDR]:PORT", argv[i]);
      goto out;
    }
  }
  bool discovered = false;
  if (kmsdiag_probe_target_count(p) == 0) {
    if (!setup_discovery(&o, p, &dns))
      goto out;
    discovered = true;
  } else if (o.ndomains) {
    rc = report_failure(true, "--domain is for discovery: give HOSTs or --domain, "
                     "not both");
    goto out;
  }

  st = kmsdiag_probe_run(p);
  if (st != KMSDIAG_OK) {
    rc = report_failure(false, "probe failed: %s", kmsdiag_strerror(st));
    goto out;
  }

  verdict_t v = judge(p);
  int exit_code = v.n > 0 && v.passed == v.n ? TOOL_EXIT_OK : TOOL_EXIT_PROBLEM;
  if (o.nagios) {
    rc = nagios_output(p, &v, o.stage);
    goto out;
  }
  if (o.json) {
    kmsdiag_json_t *j = NULL;
    if (kmsdiag_json_new(&j) != KMSDIAG_OK) {
      tool_err("out of memory");
      goto out;
    }
    for (size_t i = 0; discovered && i < kmsdiag_probe_domain_count(p); i++) {
      const kmsdiag_dns_result_t *r = kmsdiag_probe_domain_result(p, i);
      if (!r)
        continue;
      kmsdiag_dns_result_write_json(j, r);
      tool_json_emit(j);
    }
    for (size_t i = 0; i < v.n; i++) {
      kmsdiag_probe_result_write_json(kmsdiag_probe_result(p, i), j, NULL);
      tool_json_emit(j);
    }
    verdict_json(j, p, &v, o.stage, exit_code);
    tool_json_emit(j);
    kmsdiag_json_free(j);
  } else {
    if (discovered)
      print_discovery(p);
    for (size_t i = 0; i < v.n; i++) {
      print_target(kmsdiag_probe_result(p, i));
      printf("\n");
    }
    if (v.n == 0)
      printf("verdict: no KMS host to probe\n");
    else
      verdict_text(p, &v, o.stage);
  }
  rc = exit_code;
out:
  fflush(stdout);
  kmsdiag_probe_free(p);
  kmsdiag_dns_free(dns);
  return rc;
}
