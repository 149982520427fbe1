/* kms-find: find KMS hosts through DNS the way a Windows KMS client does
 * (query _vlmcs._tcp.<domain> SRV), and say what the client would see.
 *
 * Lookups run in flight through the library's event-loop interface; this
 * tool drives it with its own poll() loop, feeding domains a window at a
 * time and printing results in input order, so memory stays bounded
 * however many domains are given. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tool.h"

#define MAX_SERVERS_TEXT 2048
#define MAX_LINE 1024
#define MAX_POLL 256

static void usage(FILE *f) {
  fprintf(f,
"Usage: kms-find [OPTION]... [DOMAIN]...\n"
"Find KMS hosts through DNS as a Windows KMS client does: query\n"
"_vlmcs._tcp.DOMAIN for SRV records and report the outcome with the code\n"
"the client would show, the hosts in client order, and problems.\n"
"With no DOMAIN, the domain and search list of the resolver configuration\n"
"are used, like the client's primary DNS suffix and suffix search list.\n"
"\n"
"Options:\n"
"  -s, --server ADDR[:PORT]  query this DNS server instead of the configured\n"
"                            ones (repeatable; IPv6 as [ADDR]:PORT)\n"
"  -j, --json                JSON Lines: one \"srv_lookup\" object per domain\n"
"  -t, --timeout MS          time per try in milliseconds (default 2000)\n"
"      --tries N             tries per server (default 2)\n"
"  -n, --no-resolve          one SRV query per domain and nothing else: no\n"
"                            A/AAAA lookups of targets, no near-miss checks\n"
"  -f, --file FILE           read domains from FILE, one per line (- = stdin)\n"
"      --resolv-conf FILE    resolver configuration to use instead of\n"
"                            $KMSDIAG_RESOLV_CONF or /etc/resolv.conf\n"
"      --parallel N          lookups in flight at once (default 128)\n"
"      --seed N              fixed seed for the weighted order (repeatable\n"
"                            output)\n"
"  -v, --verbose             library diagnostics on stderr (twice: debug)\n"
"  -h, --help                show this help and exit\n"
"  -V, --version             show the version and exit\n"
"\n"
"Exit status: 0 at least one usable KMS host was found, 1 none was found\n"
"(activation through DNS discovery would fail), 2 usage or internal error.\n");
}

typedef struct slot {
  struct state *st;
  kmsdiag_dns_result_t *r;
  bool busy;
} slot_t;

typedef struct state {
  kmsdiag_dns_t *dns;
  kmsdiag_json_t *json;
  bool use_json;
  bool failed;     /* internal error while writing */
  slot_t *ring;
  size_t window;
  size_t next_seq, next_emit;
  size_t usable_total, domains;
} state_t;

/* ---- text output ---------------------------------------------------------- */

static void print_text(const kmsdiag_dns_result_t *r) {
  if (r->domain) {
    fputs("Domain ", stdout);
    tool_puts_escaped(stdout, r->domain);
    printf(" (%s)\n", r->source);
  } else if (r->qname) {
    fputs("Name ", stdout);
    tool_puts_escaped(stdout, r->qname);
    printf(" (%s)\n", r->source);
  } else {
    puts("No domain to search");
  }
  if (r->qname) {
    fputs("  query:   ", stdout);
    tool_puts_escaped(stdout, r->qname);
    puts(" SRV");
  } else {
    puts("  query:   none sent");
  }
  if (r->answered) {
    printf("  answer:  %s from %s over %s", kmsdiag_dns_rcode_name(r->rcode),
           r->server[0] ? r->server : "unknown server",
           r->via_tcp ? "tcp" : "udp");
    printf(", flags%s%s%s%s%s", r->aa ? " aa" : "", r->tc ? " tc" : "",
           r->ad ? " ad" : "", r->ra ? " ra" : "",
           !(r->aa || r->tc || r->ad || r->ra) ? " none" : "");
    printf(" (%u answer, %u authority, %u additional; %u ms)\n",
           r->answer_count, r->authority_count, r->additional_count,
           r->elapsed_ms);
    if (r->has_soa) {
      fputs("  soa:     ", stdout);
      tool_puts_escaped(stdout, r->soa_zone);
      printf(" (negative answers cached for %u s)\n",
             r->soa_ttl < r->soa_minimum ? r->soa_ttl : r->soa_minimum);
    }
  } else if (r->qname) {
    fputs("  answer:  none: ", stdout);
    tool_puts_escaped(stdout, r->error ? r->error : "no answer");
    putchar('\n');
  }
  printf("  outcome: 0x%08X %s\n", (unsigned)r->hresult,
         kmsdiag_dns_hresult_message(r->hresult));
  if (r->nrecords) {
    printf("  hosts:   %zu record%s, %zu usable; one possible client order "
           "(priority ascending, weighted random within a priority):\n",
           r->nrecords, r->nrecords == 1 ? "" : "s", r->usable);
    for (size_t i = 0; i < r->nrecords; i++) {
      const kmsdiag_dns_srv_t *s = &r->records[i];
      printf("    %zu. ", i + 1);
      tool_puts_escaped(stdout, s->target);
      printf(" port %u priority %u weight %u ttl %u", s->port, s->priority,
             s->weight, (unsigned)s->ttl);
      if (s->naddrs) {
        fputs(" addresses", stdout);
        for (size_t k = 0; k < s->naddrs; k++)
          printf("%s %s (ttl %u)", k ? "," : "", s->addrs[k].text,
                 (unsigned)s->addrs[k].ttl);
      } else if (strcmp(s->target, ".") != 0) {
        fputs(s->addrs_queried ? " addresses none" : " addresses not looked up",
              stdout);
      }
      if (s->cname) {
        fputs(" (CNAME to ", stdout);
        tool_puts_escaped(stdout, s->cname);
        putchar(')');
      }
      putchar('\n');
    }
  }
  for (size_t i = 0; i < r->nproblems; i++) {
    const kmsdiag_dns_problem_t *p = &r->problems[i];
    printf("  %s: ", kmsdiag_dns_severity_name(p->severity));
    tool_puts_escaped(stdout, p->message);
    printf(" [%s]\n", p->rule);
  }
  putchar('\n');
}

/* ---- ordered emission -------------------------------------------------------- */

static void emit(state_t *st, kmsdiag_dns_result_t *r) {
  st->domains++;
  /* Many small short-lived allocations per answer (ldns) interleave with
   * results waiting for their turn; glibc keeps the freed pieces resident.
   * Hand them back now and then so memory follows what is live, not the
   * number of domains seen. */
  if (st->domains % 4096 == 0)
    (void)malloc_trim(0);
  st->usable_total += r->usable;
  if (st->use_json) {
    kmsdiag_dns_result_write_json(st->json, r);
    if (!tool_json_emit(st->json))
      st->failed = true;
  } else {
    print_text(r);
  }
  kmsdiag_dns_result_free(r);
}

static void flush_ready(state_t *st) {
  while (st->next_emit < st->next_seq) {
    slot_t *s = &st->ring[st->next_emit % st->window];
    if (!s->r)
      break;
    emit(st, s->r);
    s->r = NULL;
    s->busy = false;
    st->next_emit++;
  }
  fflush(stdout);
}

static void on_done(kmsdiag_dns_result_t *r, void *ud) {
  slot_t *s = ud;
  s->r = r;
}

static bool submit(state_t *st, const char *name, const char *source) {
  slot_t *s = &st->ring[st->next_seq % st->window];
  kmsdiag_status_t rc;
  s->st = st;
  s->busy = true;
  s->r = NULL;
  rc = kmsdiag_dns_start(st->dns, name, source, 0, on_done, s);
  if (rc != KMSDIAG_OK) {
    tool_err("cannot start a lookup: %s", kmsdiag_strerror(rc));
    s->busy = false;
    return false;
  }
  st->next_seq++;
  return true;
}

/* One round of the event loop. */
static bool step(state_t *st) {
  struct pollfd pfd[MAX_POLL];
  kmsdiag_dns_fd_t f[MAX_POLL];
  size_t n = kmsdiag_dns_fds(st->dns, f, MAX_POLL);
  int tmo, rc;
  if (n > MAX_POLL)
    n = MAX_POLL;
  tmo = kmsdiag_dns_next_timeout_ms(st->dns);
  if (tmo < 0)
    tmo = 0;
  for (size_t i = 0; i < n; i++) {
    pfd[i].fd = f[i].fd;
    pfd[i].events = (short)((f[i].want_read ? POLLIN : 0) |
                            (f[i].want_write ? POLLOUT : 0));
    pfd[i].revents = 0;
  }
  rc = poll(pfd, (nfds_t)n, tmo);
  if (rc < 0 && errno != EINTR) {
    tool_err("poll: %s", strerror(errno));
    return false;
  }
  if (rc <= 0) {
    kmsdiag_dns_process(st->dns, -1, false, false);
  } else {
    for (size_t i = 0; i < n; i++)
      if (pfd[i].revents)
        kmsdiag_dns_process(
            st->dns, pfd[i].fd,
            (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0,
            (pfd[i].revents & (POLLOUT | POLLERR)) != 0);
  }
  flush_ready(st);
  return true;
}

/* Make room in the window, running the loop as needed. */
static bool wait_room(state_t *st) {
  while (st->next_seq - st->next_emit >= st->window)
    if (!step(st))
      return false;
  return true;
}

static bool drain(state_t *st) {
  while (kmsdiag_dns_pending(st->dns) > 0 || st->next_emit < st->next_seq)
    if (!step(st))
      return false;
  return true;
}

/* Trim blanks and a trailing comment; returns NULL for empty lines. */
static char *trim_line(char *line) {
  char *e;
  while (*line == ' ' || *line == '\t')
    line++;
  e = line + strcspn(line, "#\r\n");
  while (e > line && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  *e = '\0';
  return *line ? line : NULL;
}

static uint64_t g_seed;
static uint32_t seeded_rand(void *ud) {
  uint64_t z;
  (void)ud;
  z = (g_seed += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

int main(int argc, char **argv) {
  enum { OPT_TRIES = 256, OPT_RESOLV, OPT_PARALLEL, OPT_SEED };
  static const struct option opts[] = {
      {"server", required_argument, NULL, 's'},
      {"json", no_argument, NULL, 'j'},
      {"timeout", required_argument, NULL, 't'},
      {"tries", required_argument, NULL, OPT_TRIES},
      {"no-resolve", no_argument, NULL, 'n'},
      {"file", required_argument, NULL, 'f'},
      {"resolv-conf", required_argument, NULL, OPT_RESOLV},
      {"parallel", required_argument, NULL, OPT_PARALLEL},
      {"seed", required_argument, NULL, OPT_SEED},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  char servers[MAX_SERVERS_TEXT] = "";
  const char *file = NULL, *resolv = NULL;
  long timeout = -1, tries = -1, parallel = 128, seed = -1;
  bool json = false, no_resolve = false;
  int verbose = 0, c, ret = TOOL_EXIT_USAGE;
  state_t st;
  kmsdiag_status_t rc;

  tool_init("kms-find");
  while ((c = getopt_long(argc, argv, "s:jt:nf:vhV", opts, NULL)) != -1) {
    switch (c) {
    case 's': {
      size_t have = strlen(servers), add = strlen(optarg);
      if (have + add + 2 > sizeof servers)
        return tool_usage_error("too many --server options");
      if (have)
        strcat(servers, ",");
      strcat(servers, optarg);
      break;
    }
    case 'j': json = true; break;
    case 't':
      if (!tool_parse_long(optarg, 10, 600000, &timeout))
        return tool_usage_error("--timeout wants milliseconds 10..600000, "
                                "not '%s'", optarg);
      break;
    case OPT_TRIES:
      if (!tool_parse_long(optarg, 1, 10, &tries))
        return tool_usage_error("--tries wants 1..10, not '%s'", optarg);
      break;
    case 'n': no_resolve = true; break;
    case 'f': file = optarg; break;
    case OPT_RESOLV: resolv = optarg; break;
    case OPT_PARALLEL:
      if (!tool_parse_long(optarg, 1, 4096, &parallel))
        return tool_usage_error("--parallel wants 1..4096, not '%s'", optarg);
      break;
    case OPT_SEED:
      if (!tool_parse_long(optarg, 0, 0x7fffffffL, &seed))
        return tool_usage_error("--seed wants a number 0..2147483647");
      break;
    case 'v': verbose++; break;
    case 'h': usage(stdout); return TOOL_EXIT_OK;
    case 'V': tool_print_version(); return TOOL_EXIT_OK;
    default: return tool_usage_error("unknown option");
    }
  }
  if (file && optind < argc)
    return tool_usage_error("give domains either as arguments or with --file");
  if (resolv) {
    /* a file the user named must be readable: silently searching no
     * domain (0x8007007B) would blame the client for a typo */
    FILE *rf = fopen(resolv, "r");
    char b;
    int e = 0;
    if (!rf) {
      e = errno;
    } else {
      if (fread(&b, 1, 1, rf) != 1 && ferror(rf))
        e = errno ? errno : EIO;
      fclose(rf);
    }
    if (e) {
      tool_err("cannot read --resolv-conf %s: %s", resolv, strerror(e));
      return TOOL_EXIT_USAGE;
    }
  }
  tool_log_to_stderr(verbose);

  memset(&st, 0, sizeof st);
  st.use_json = json;
  rc = kmsdiag_dns_new(&st.dns);
  if (rc != KMSDIAG_OK) {
    tool_err("cannot create the resolver: %s", kmsdiag_strerror(rc));
    return TOOL_EXIT_USAGE;
  }
  if (servers[0]) {
    rc = kmsdiag_dns_set_servers(st.dns, servers);
    if (rc != KMSDIAG_OK) {
      kmsdiag_dns_free(st.dns);
      return tool_usage_error("bad --server list '%s': %s (want ADDR, "
                              "ADDR:PORT or [ADDR6]:PORT)",
                              servers, kmsdiag_strerror(rc));
    }
  }
  if ((resolv && kmsdiag_dns_set_resolv_conf(st.dns, resolv) != KMSDIAG_OK) ||
      (timeout > 0 && kmsdiag_dns_set_timeout_ms(st.dns, (unsigned)timeout) !=
                          KMSDIAG_OK) ||
      (tries > 0 && kmsdiag_dns_set_tries(st.dns, (unsigned)tries) !=
                        KMSDIAG_OK) ||
      kmsdiag_dns_set_max_inflight(st.dns, (unsigned)parallel) != KMSDIAG_OK) {
    tool_err("cannot configure the resolver");
    kmsdiag_dns_free(st.dns);
    return TOOL_EXIT_USAGE;
  }
  kmsdiag_dns_set_follow_up(st.dns, !no_resolve);
  if (seed >= 0) {
    g_seed = (uint64_t)seed;
    kmsdiag_dns_set_random(st.dns, seeded_rand, NULL);
  }
  if (json && kmsdiag_json_new(&st.json) != KMSDIAG_OK) {
    tool_err("out of memory");
    kmsdiag_dns_free(st.dns);
    return TOOL_EXIT_USAGE;
  }
  st.window = (size_t)parallel * 2;
  st.ring = calloc(st.window, sizeof *st.ring);
  if (!st.ring) {
    tool_err("out of memory");
    goto out;
  }

  if (file) {
    FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    char line[MAX_LINE + 2];
    unsigned long lineno = 0;
    if (!in) {
      tool_err("cannot open %s: %s", file, strerror(errno));
      goto out;
    }
    while (fgets(line, sizeof line, in)) {
      char *d;
      lineno++;
      if (!strchr(line, '\n') && !feof(in)) {
        int ch;
        tool_err("%s:%lu: line longer than %d bytes skipped", "domain list",
                 lineno, MAX_LINE);
        while ((ch = fgetc(in)) != EOF && ch != '\n')
          ;
        continue;
      }
      d = trim_line(line);
      if (!d)
        continue;
      if (!wait_room(&st) || !submit(&st, d, "argument"))
        break;
    }
    if (in != stdin)
      fclose(in);
  } else if (optind < argc) {
    for (int i = optind; i < argc; i++)
      if (!wait_room(&st) || !submit(&st, argv[i], "argument"))
        break;
  } else {
    char **doms = NULL;
    const char **src = NULL;
    rc = kmsdiag_dns_config_domains(st.dns, &doms, &src);
    if (rc == KMSDIAG_ENOMEM) {
      tool_err("out of memory");
      goto out;
    }
    if (rc == KMSDIAG_EIO)
      tool_err("cannot read the resolver configuration (%s): searching no "
               "domain",
               resolv ? resolv : "KMSDIAG_RESOLV_CONF or /etc/resolv.conf");
    if (!doms || !doms[0]) {
      submit(&st, NULL, "primary-suffix");
    } else {
      for (size_t i = 0; doms[i]; i++)
        if (!wait_room(&st) || !submit(&st, doms[i], src[i]))
          break;
    }
    kmsdiag_dns_strv_free(doms);
    free(src);
  }
  if (!drain(&st) || st.failed)
    goto out;
  if (st.domains == 0) {
    tool_err("no domain given");
    goto out;
  }
  ret = st.usable_total > 0 ? TOOL_EXIT_OK : TOOL_EXIT_PROBLEM;
out:
  kmsdiag_dns_free(st.dns); /* frees lookups still queued */
  if (st.ring)
    for (size_t i = 0; i < st.window; i++)
      kmsdiag_dns_result_free(st.ring[i].r);
  free(st.ring);
  kmsdiag_json_free(st.json);
  return ret;
}
