/* kms-doctor: walk a KMS client's activation path and say what is wrong.
 *
 *   kms-doctor [DOMAIN | --host HOST[:PORT]] [--server ADDR[:PORT]]
 *              [--product NAME] [--stage rpc|kms] [--json] [--slmgr FILE]
 *
 * Exit status: 0 healthy (warnings allowed), 1 a problem was found, 2 usage
 * or internal error (including unreadable or unparsable --slmgr input). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

#include "tool.h"

static void usage(FILE *f) {
  fprintf(f,
          "Usage: kms-doctor [OPTION]... [DOMAIN]\n"
          "       kms-doctor [OPTION]... --host HOST[:PORT]\n"
          "Walk a Windows KMS client's activation path and tell what is\n"
          "wrong: resolver configuration, _vlmcs._tcp SRV discovery, every\n"
          "target's addresses, the tcp, rpc and (with --stage kms) kms\n"
          "stages on every target, the product's threshold and host keys.\n"
          "Each check prints OK, WARN, FAIL or INFO with its evidence, then\n"
          "a verdict: the code the client shows, what it means, the cause\n"
          "and the ordered fix.\n"
          "\n"
          "DOMAIN is searched instead of the resolver's domain and search\n"
          "list. Without DOMAIN or --host the resolver configuration is used\n"
          "like a client without a pinned host.\n"
          "\n"
          "Options:\n"
          "  -H, --host HOST[:PORT]  probe this host, as 'slmgr /skms' pins\n"
          "                          it (DNS discovery is not run)\n"
          "  -s, --server ADDR[:PORT]  DNS server(s) to ask, comma-separated\n"
          "  -r, --resolv-conf FILE  resolver configuration to read instead\n"
          "                          of /etc/resolv.conf (domain, search,\n"
          "                          nameserver ADDR[:PORT])\n"
          "  -p, --product NAME      product the client activates (name, SKU\n"
          "                          ID or GVLK; see kms-info products)\n"
          "  -S, --stage rpc|kms     last probe stage (default rpc); kms\n"
          "                          sends one activation request\n"
          "  -c, --cmid GUID         CMID for the kms stage (default: the\n"
          "                          stable one kept in the state directory)\n"
          "  -l, --slmgr FILE        read 'slmgr /dlv' output of the client\n"
          "                          ('-' for standard input)\n"
          "  -t, --timeout MS        per DNS try and per probe stage (default\n"
          "                          2000)\n"
          "  -j, --json              print JSON Lines: one \"check\" object\n"
          "                          per check, then one \"verdict\"\n"
          "  -v, --verbose           library log messages on standard error\n"
          "  -h, --help              print this help and exit\n"
          "  -V, --version           print the version and exit\n"
          "\n"
          "Exit status: 0 healthy (warnings allowed), 1 a problem was found,\n"
          "2 usage or internal error, or --slmgr input that cannot be read.\n");
}

/* Read a whole file (or stdin) up to one byte past the parser's limit, so
 * an oversized input reaches the parser and is reported by it. */
static unsigned char *slurp(const char *path, size_t *len) {
  size_t cap = KMSDIAG_SLMGR_MAX_INPUT + 1, n = 0;
  unsigned char *buf = malloc(cap);
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!buf || !f) {
    free(buf);
    return NULL;
  }
  while (n < cap) {
    size_t k = fread(buf + n, 1, cap - n, f);
    if (k == 0)
      break;
    n += k;
  }
  if (ferror(f)) {
    if (f != stdin)
      fclose(f);
    free(buf);
    return NULL;
  }
  if (f != stdin)
    fclose(f);
  *len = n;
  return buf;
}

static void print_text(const kmsdiag_doctor_t *d) {
  const kmsdiag_doctor_verdict_t *v = kmsdiag_doctor_verdict(d);
  for (size_t i = 0; i < kmsdiag_doctor_check_count(d); i++) {
    const kmsdiag_doctor_check_t *c = kmsdiag_doctor_check_at(d, i);
    printf("%-4s  %s", kmsdiag_doctor_status_name(c->status), c->name);
    if (c->subject) {
      fputs("  ", stdout);
      tool_puts_escaped(stdout, c->subject);
    }
    if (c->hresult)
      printf("  [0x%08X]", (unsigned)c->hresult);
    fputs("\n      ", stdout);
    tool_puts_escaped(stdout, c->evidence);
    fputc('\n', stdout);
  }
  if (!v)
    return;
  fputc('\n', stdout);
  if (v->healthy) {
    printf("Verdict: healthy%s\n", v->warnings ? ", with warnings" : "");
  } else if (v->hresult) {
    printf("Verdict: 0x%08X%s%s\n", (unsigned)v->hresult, v->name ? " " : "",
           v->name ? v->name : "");
  } else {
    printf("Verdict: problem found (no KMS error code applies)\n");
  }
  if (v->meaning) {
    fputs("  Meaning: ", stdout);
    tool_puts_escaped(stdout, v->meaning);
    fputc('\n', stdout);
  }
  if (v->cause) {
    fputs(v->healthy ? "  Found:   " : "  Cause:   ", stdout);
    tool_puts_escaped(stdout, v->cause);
    fputc('\n', stdout);
  }
  if (v->check)
    printf("  Decided by check: %s\n", v->check);
  if (v->nfixes) {
    fputs(v->healthy ? "  To do:\n" : "  Fix, in order:\n", stdout);
    for (size_t i = 0; i < v->nfixes; i++) {
      printf("    %zu. ", i + 1);
      tool_puts_escaped(stdout, v->fixes[i]);
      fputc('\n', stdout);
    }
  }
}

static int print_json(const kmsdiag_doctor_t *d) {
  kmsdiag_json_t *j;
  const kmsdiag_doctor_verdict_t *v = kmsdiag_doctor_verdict(d);
  if (kmsdiag_json_new(&j) != KMSDIAG_OK) {
    tool_err("out of memory");
    return TOOL_EXIT_USAGE;
  }
  for (size_t i = 0; i < kmsdiag_doctor_check_count(d); i++) {
    (void)kmsdiag_doctor_check_write_json(kmsdiag_doctor_check_at(d, i), j);
    if (!tool_json_emit(j)) {
      kmsdiag_json_free(j);
      return TOOL_EXIT_USAGE;
    }
  }
  if (v) {
    (void)kmsdiag_doctor_verdict_write_json(v, j);
    if (!tool_json_emit(j)) {
      kmsdiag_json_free(j);
      return TOOL_EXIT_USAGE;
    }
  }
  kmsdiag_json_free(j);
  return TOOL_EXIT_OK;
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"host", required_argument, NULL, 'H'},
      {"server", required_argument, NULL, 's'},
      {"resolv-conf", required_argument, NULL, 'r'},
      {"product", required_argument, NULL, 'p'},
      {"stage", required_argument, NULL, 'S'},
      {"cmid", required_argument, NULL, 'c'},
      {"slmgr", required_argument, NULL, 'l'},
      {"timeout", required_argument, NULL, 't'},
      {"json", no_argument, NULL, 'j'},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  const char *host = NULL, *server = NULL, *resolv = NULL, *product = NULL;
  const char *slmgr_path = NULL, *cmid_text = NULL;
  int stage = KMSDIAG_PROBE_STAGE_RPC, verbose = 0, opt, rc;
  long timeout = 2000;
  bool json = false;
  kmsdiag_doctor_t *d = NULL;
  kmsdiag_slmgr_t *sl = NULL;
  kmsdiag_status_t st;

  tool_init("kms-doctor");
  while ((opt = getopt_long(argc, argv, "H:s:r:p:S:c:l:t:jvhV", longopts,
                            NULL)) != -1) {
    switch (opt) {
    case 'H': host = optarg; break;
    case 's': server = optarg; break;
    case 'r': resolv = optarg; break;
    case 'p': product = optarg; break;
    case 'c': cmid_text = optarg; break;
    case 'l': slmgr_path = optarg; break;
    case 'j': json = true; break;
    case 'v': verbose++; break;
    case 'S':
      if (strcmp(optarg, "rpc") == 0)
        stage = KMSDIAG_PROBE_STAGE_RPC;
      else if (strcmp(optarg, "kms") == 0)
        stage = KMSDIAG_PROBE_STAGE_KMS;
      else
        return tool_usage_error("--stage must be rpc or kms");
      break;
    case 't':
      if (!tool_parse_long(optarg, 1, 600000, &timeout))
        return tool_usage_error("--timeout must be 1..600000 (ms)");
      break;
    case 'h': usage(stdout); return TOOL_EXIT_OK;
    case 'V': tool_print_version(); return TOOL_EXIT_OK;
    default: return tool_usage_error("unknown option");
    }
  }
  if (argc - optind > 1)
    return tool_usage_error("at most one DOMAIN");
  if (argc - optind == 1 && host)
    return tool_usage_error("give DOMAIN or --host, not both");
  if (verbose)
    tool_log_to_stderr(verbose);

  if (kmsdiag_doctor_new(&d) != KMSDIAG_OK) {
    tool_err("out of memory");
    return TOOL_EXIT_USAGE;
  }
  rc = TOOL_EXIT_USAGE;
  if (argc - optind == 1 &&
      (st = kmsdiag_doctor_set_domain(d, argv[optind])) != KMSDIAG_OK) {
    rc = tool_usage_error("bad DOMAIN: %s", kmsdiag_strerror(st));
    goto out;
  }
  if (host && kmsdiag_doctor_set_host(d, host) != KMSDIAG_OK) {
    rc = tool_usage_error("--host: expected HOST, HOST:PORT or [V6]:PORT");
    goto out;
  }
  if (server && kmsdiag_doctor_set_dns_servers(d, server) != KMSDIAG_OK) {
    rc = tool_usage_error("--server: expected ADDR[:PORT][,ADDR[:PORT]...]");
    goto out;
  }
  if (resolv) {
    FILE *f = fopen(resolv, "rb");
    if (!f) {
      fprintf(stderr, "%s: --resolv-conf ", tool_name());
      tool_puts_escaped(stderr, resolv);
      fprintf(stderr, ": cannot be read\n");
      goto out;
    }
    fclose(f);
    if (kmsdiag_doctor_set_resolv_conf(d, resolv) != KMSDIAG_OK) {
      rc = tool_usage_error("--resolv-conf: path too long");
      goto out;
    }
  }
  if (product) {
    const kmsdiag_product_t *cand[8];
    size_t n = 0;
    st = kmsdiag_product_find(product, cand, 8, &n);
    if (st == KMSDIAG_EAMBIGUOUS) {
      tool_err("--product matches %zu products, for example:", n);
      for (size_t i = 0; i < n && i < 8; i++) {
        fputs("  ", stderr);
        tool_puts_escaped(stderr, cand[i]->name);
        fputc('\n', stderr);
      }
      rc = tool_usage_error("name one product");
      goto out;
    }
    if (st != KMSDIAG_OK) {
      rc = tool_usage_error("--product: no such product (see 'kms-info "
                            "products')");
      goto out;
    }
    (void)kmsdiag_doctor_set_product(d, product);
  }
  (void)kmsdiag_doctor_set_stage(d, stage);
  (void)kmsdiag_doctor_set_timeout_ms(d, (unsigned)timeout);
  if (stage == KMSDIAG_PROBE_STAGE_KMS) {
    kmsdiag_guid_t g;
    if (cmid_text) {
      if (kmsdiag_guid_parse(&g, cmid_text) != KMSDIAG_OK) {
        rc = tool_usage_error("--cmid: not a GUID");
        goto out;
      }
    } else if ((st = kmsdiag_probe_cmid_load(NULL, &g, NULL)) != KMSDIAG_OK) {
      tool_err("cannot read or create the stable CMID (%s); give one with "
               "--cmid", kmsdiag_strerror(st));
      goto out;
    }
    (void)kmsdiag_doctor_set_cmid(d, &g);
  }
  if (slmgr_path) {
    size_t len = 0;
    unsigned char *data = slurp(slmgr_path, &len);
    if (!data) {
      tool_err("%s: cannot read the slmgr text", slmgr_path);
      goto out;
    }
    if (kmsdiag_slmgr_new(&sl) != KMSDIAG_OK) {
      free(data);
      tool_err("out of memory");
      goto out;
    }
    st = kmsdiag_slmgr_parse(sl, data, len);
    free(data);
    if (st != KMSDIAG_OK) {
      fprintf(stderr, "%s: ", tool_name());
      tool_puts_escaped(stderr, slmgr_path);
      if (kmsdiag_slmgr_error_line(sl))
        fprintf(stderr, ": line %u", kmsdiag_slmgr_error_line(sl));
      fprintf(stderr, ": %s\n", kmsdiag_slmgr_error_text(sl));
      goto out;
    }
    (void)kmsdiag_doctor_set_slmgr(d, sl);
  }

  st = kmsdiag_doctor_run(d);
  if (st != KMSDIAG_OK) {
    tool_err("the check could not run: %s", kmsdiag_strerror(st));
    goto out;
  }
  if (json) {
    if (print_json(d) != TOOL_EXIT_OK)
      goto out;
  } else {
    print_text(d);
  }
  if (fflush(stdout) != 0) {
    tool_err("cannot write the output");
    goto out;
  }
  rc = kmsdiag_doctor_verdict(d) && kmsdiag_doctor_verdict(d)->healthy
           ? TOOL_EXIT_OK
           : TOOL_EXIT_PROBLEM;
out:
  kmsdiag_doctor_free(d);
  kmsdiag_slmgr_free(sl);
  return rc;
}
