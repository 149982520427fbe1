/* kms-zonecheck: check KMS SRV records (_vlmcs._tcp) in DNS zone files
 * before rollout, offline and optionally against a live server. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static void usage(FILE *f) {
  fprintf(f,
"Usage: kms-zonecheck [OPTION]... ZONEFILE...\n"
"Check the KMS SRV records (_vlmcs._tcp) in DNS zone files before rollout:\n"
"field counts and ranges, ports, missing trailing dots, targets that are\n"
"CNAMEs or have no address, targets outside the zone, near-miss labels\n"
"(_vmlcs, _v1mcs, no underscore), _udp instead of _tcp, TTLs, .local and\n"
"single-label names. A syntax error is reported with its line and the\n"
"check goes on.\n"
"\n"
"Options:\n"
"  -o, --origin NAME        origin for relative names before any $ORIGIN\n"
"                           line (the zone name)\n"
"  -l, --live ADDR[:PORT]   also query the records from this DNS server and\n"
"                           report differences from the file\n"
"  -t, --timeout MS         time per try for --live (default 2000)\n"
"  -j, --json               JSON Lines: one \"finding\" object per finding\n"
"  -q, --quiet              print errors only (text mode)\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"Output: FILE:LINE: SEVERITY: MESSAGE [RULE], line 0 for the whole file.\n"
"Exit status: 0 no error-level finding, 1 at least one, 2 a file cannot be\n"
"read or usage error.\n");
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"origin", required_argument, NULL, 'o'},
      {"live", required_argument, NULL, 'l'},
      {"timeout", required_argument, NULL, 't'},
      {"json", no_argument, NULL, 'j'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  const char *origin = NULL, *live = NULL;
  long timeout = -1;
  bool json = false, quiet = false, any_error = false, unreadable = false;
  int c, ret = TOOL_EXIT_USAGE;
  kmsdiag_zone_check_t *chk = NULL;
  kmsdiag_dns_t *dns = NULL;
  kmsdiag_json_t *j = NULL;
  kmsdiag_status_t st;

  tool_init("kms-zonecheck");
  while ((c = getopt_long(argc, argv, "o:l:t:jqhV", opts, NULL)) != -1) {
    switch (c) {
    case 'o': origin = optarg; break;
    case 'l': live = optarg; break;
    case 't':
      if (!tool_parse_long(optarg, 10, 600000, &timeout))
        return tool_usage_error("--timeout wants milliseconds 10..600000, "
                                "not '%s'", optarg);
      break;
    case 'j': json = true; break;
    case 'q': quiet = true; break;
    case 'h': usage(stdout); return TOOL_EXIT_OK;
    case 'V': tool_print_version(); return TOOL_EXIT_OK;
    default: return tool_usage_error("unknown option");
    }
  }
  if (optind >= argc)
    return tool_usage_error("no zone file given");
  if (kmsdiag_zone_check_new(&chk) != KMSDIAG_OK) {
    tool_err("out of memory");
    return TOOL_EXIT_USAGE;
  }
  if (origin && kmsdiag_zone_check_set_origin(chk, origin) != KMSDIAG_OK) {
    kmsdiag_zone_check_free(chk);
    return tool_usage_error("--origin '%s' is not a valid domain name",
                            origin);
  }
  if (live) {
    st = kmsdiag_dns_new(&dns);
    if (st != KMSDIAG_OK) {
      tool_err("cannot create the resolver: %s", kmsdiag_strerror(st));
      goto out;
    }
    if (kmsdiag_dns_set_servers(dns, live) != KMSDIAG_OK) {
      ret = tool_usage_error("bad --live server '%s' (want ADDR, ADDR:PORT "
                             "or [ADDR6]:PORT)",
                             live);
      goto out;
    }
    if (timeout > 0)
      (void)kmsdiag_dns_set_timeout_ms(dns, (unsigned)timeout);
    kmsdiag_zone_check_set_live(chk, dns);
  }
  if (json && kmsdiag_json_new(&j) != KMSDIAG_OK) {
    tool_err("out of memory");
    goto out;
  }
  for (int i = optind; i < argc; i++) {
    kmsdiag_zone_report_t *rep = NULL;
    st = kmsdiag_zone_check_file(chk, argv[i], &rep);
    if (st != KMSDIAG_OK) {
      if (st == KMSDIAG_EIO)
        tool_err("%s: cannot read: %s", argv[i], strerror(errno));
      else
        tool_err("%s: %s", argv[i], kmsdiag_strerror(st));
      unreadable = true;
      continue;
    }
    for (size_t k = 0; k < rep->count; k++) {
      const kmsdiag_zone_finding_t *f = &rep->findings[k];
      if (f->severity == KMSDIAG_DNS_ERROR)
        any_error = true;
      if (json) {
        kmsdiag_zone_finding_write_json(j, f);
        if (!tool_json_emit(j)) {
          unreadable = true;
          break;
        }
        continue;
      }
      if (quiet && f->severity != KMSDIAG_DNS_ERROR)
        continue;
      tool_puts_escaped(stdout, f->file);
      printf(":%lu: %s: ", f->line, kmsdiag_dns_severity_name(f->severity));
      tool_puts_escaped(stdout, f->message);
      printf(" [%s]\n", f->rule);
    }
    if (!json && !quiet) {
      tool_puts_escaped(stderr, argv[i]);
      fprintf(stderr, ": %zu records, %zu KMS SRV records checked, %zu "
                      "error%s, %zu warning%s",
              rep->records, rep->kms_records, rep->errors,
              rep->errors == 1 ? "" : "s", rep->warnings,
              rep->warnings == 1 ? "" : "s");
      if (live)
        fprintf(stderr, " (compared with the live server); %zu name%s "
                        "queried live",
                rep->live_queries, rep->live_queries == 1 ? "" : "s");
      fputc('\n', stderr);
    }
    kmsdiag_zone_report_free(rep);
  }
  fflush(stdout);
  ret = unreadable ? TOOL_EXIT_USAGE
                   : any_error ? TOOL_EXIT_PROBLEM : TOOL_EXIT_OK;
out:
  kmsdiag_json_free(j);
  kmsdiag_zone_check_free(chk);
  kmsdiag_dns_free(dns);
  return ret;
}
