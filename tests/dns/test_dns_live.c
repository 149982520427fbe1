/* test_dns_live.c: the discovery API against a real NSD serving
 * tests/lab/zones/ (run through tests/lab/nsd_lab.py, which sets
 * KMSDIAG_LAB_PORT and friends). Every expectation below follows from the
 * zone files; nothing is a canned answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <kmsdiag/kmsdiag.h>

static char g_server[64], g_server6[64], g_hole[64], g_closed[64];
static char g_tmpdir[256];
static bool g_ipv6;

static bool has_rule(const kmsdiag_dns_result_t *r, const char *rule) {
  for (size_t i = 0; i < r->nproblems; i++)
    if (strcmp(r->problems[i].rule, rule) == 0)
      return true;
  return false;
}

static const kmsdiag_dns_srv_t *find_target(const kmsdiag_dns_result_t *r,
                                            const char *t) {
  for (size_t i = 0; i < r->nrecords; i++)
    if (strcmp(r->records[i].target, t) == 0)
      return &r->records[i];
  return NULL;
}

static kmsdiag_dns_t *ctx(const char *server) {
  kmsdiag_dns_t *d = NULL;
  CHECK_EQ(kmsdiag_dns_new(&d), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_set_servers(d, server), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_set_timeout_ms(d, 1000), KMSDIAG_OK);
  return d;
}

static uint32_t zero_rand(void *ud) {
  (void)ud;
  return 0;
}

static void test_main_cases(void) {
  const char *doms[] = {"corp.example", "nokms.example", "nodata.example",
                        "big.example",  "cname.example", "absent.example",
                        "port.example", "stale.example", "typo.example",
                        "not-served.example", "nearmiss.example"};
  kmsdiag_dns_t *d = ctx(g_server);
  kmsdiag_dns_results_t *rs = NULL;
  kmsdiag_dns_result_t *r;
  kmsdiag_dns_set_random(d, zero_rand, NULL);
  CHECK_EQ(kmsdiag_dns_lookup(d, doms, sizeof doms / sizeof doms[0], &rs),
           KMSDIAG_OK);
  if (!rs) {
    kmsdiag_dns_free(d);
    return;
  }
  CHECK_EQ(rs->count, sizeof doms / sizeof doms[0]);

  r = rs->items[0]; /* corp.example: two priorities, weights, IPv6 */
  CHECK_EQ(r->status, KMSDIAG_OK);
  CHECK_STR(r->domain, "corp.example");
  CHECK_STR(r->qname, "_vlmcs._tcp.corp.example.");
  CHECK_STR(r->server, g_server);
  CHECK(r->aa && !r->tc && !r->via_tcp);
  CHECK_EQ(r->nrecords, 4);
  CHECK_EQ(r->usable, 4);
  CHECK_EQ_U64(r->hresult, 0);
  /* the three priority-0 hosts first (in a drawn order), then the backup */
  CHECK_STR(r->records[3].target, "kms-backup.corp.example.");
  CHECK_EQ(r->records[3].priority, 10);
  for (size_t i = 0; i < 3 && r->nrecords == 4; i++)
    CHECK_EQ(r->records[i].priority, 0);
  {
    const kmsdiag_dns_srv_t *k1 = find_target(r, "kms1.corp.example.");
    const kmsdiag_dns_srv_t *k2 = find_target(r, "kms2.corp.example.");
    const kmsdiag_dns_srv_t *k3 = find_target(r, "kms3.corp.example.");
    CHECK(k1 && k2 && k3);
    if (k1 && k2 && k3) {
      CHECK_EQ(k1->weight, 60);
      CHECK_EQ(k1->naddrs, 2);
      CHECK(k1->addrs_from_additional);
      CHECK(!k1->addrs_queried); /* both families came: nothing to ask */
      CHECK_EQ(k1->ttl, 3600);
      /* NSD sends kms2's A in the additional section; AAAA is asked for
       * (there is none) */
      CHECK(k2->addrs_from_additional && k2->addrs_queried);
      CHECK_EQ(k2->naddrs, 1);
      CHECK_EQ(k3->naddrs, 1);
      if (k3->naddrs)
        CHECK_EQ(k3->addrs[0].family, AF_INET6);
    }
  }
  CHECK(has_rule(r, "priority-weight"));

  r = rs->items[1]; /* NXDOMAIN */
  CHECK_EQ(r->rcode, 3);
  CHECK_EQ_U64(r->hresult, 0x8007232Bu);
  CHECK(r->has_soa && r->soa_minimum == 300);
  CHECK(has_rule(r, "nxdomain"));

  r = rs->items[2]; /* name without SRV */
  CHECK_EQ(r->rcode, 0);
  CHECK_EQ(r->nrecords, 0);
  CHECK_EQ_U64(r->hresult, 0x8007251Du);
  CHECK(has_rule(r, "no-srv-data"));

  r = rs->items[3]; /* truncated over UDP, complete over TCP */
  CHECK(r->truncated_udp);
  CHECK(r->via_tcp);
  CHECK(!r->tc);
  CHECK_EQ(r->nrecords, 40);
  CHECK_EQ(r->usable, 40);
  CHECK(has_rule(r, "truncated-udp"));
  CHECK_STR(r->server, g_server);
  for (size_t i = 1; i < r->nrecords; i++)
    CHECK(r->records[i - 1].priority <= r->records[i].priority);

  r = rs->items[4]; /* CNAME target: addresses found through the alias */
  CHECK(has_rule(r, "target-cname"));
  CHECK_EQ(r->nrecords, 1);
  if (r->nrecords) {
    CHECK(r->records[0].target_is_cname);
    CHECK_STR(r->records[0].cname, "kms.cname.example.");
    CHECK_EQ(r->records[0].naddrs, 1);
  }

  r = rs->items[5]; /* target ".": records, but nothing to contact */
  CHECK(has_rule(r, "target-root"));
  CHECK_EQ(r->usable, 0);
  CHECK_EQ_U64(r->hresult, KMSDIAG_HR_DNS_NO_USABLE_HOST);

  r = rs->items[6]; /* port 1689 */
  CHECK(has_rule(r, "port-not-1688"));
  CHECK_EQ(r->usable, 1);

  r = rs->items[7]; /* stale: one target without any address */
  CHECK(has_rule(r, "target-no-address"));
  CHECK_EQ(r->nrecords, 2);
  CHECK_EQ(r->usable, 1);
  {
    const kmsdiag_dns_srv_t *g = find_target(r, "gone.stale.example.");
    CHECK(g && g->addrs_queried && g->naddrs == 0);
  }

  r = rs->items[8]; /* missing trailing dot in the zone file */
  CHECK(has_rule(r, "target-doubled-origin"));
  CHECK(has_rule(r, "target-no-address"));
  CHECK_EQ(r->usable, 0);
  CHECK(has_rule(r, "no-usable-host"));
  CHECK_EQ_U64(r->hresult, 0xC004F074u);

  r = rs->items[9]; /* a zone NSD does not serve: REFUSED */
  CHECK_EQ(r->rcode, 5);
  CHECK_EQ_U64(r->hresult, 0x8007232Du);
  CHECK(has_rule(r, "refused"));

  r = rs->items[10]; /* only near-miss labels exist */
  CHECK_EQ_U64(r->hresult, 0x8007232Bu);
  CHECK(has_rule(r, "near-miss-label"));
  CHECK(has_rule(r, "udp-not-tcp"));

  kmsdiag_dns_results_free(rs);
  kmsdiag_dns_free(d);
}

static void test_no_follow_up(void) {
  const char *doms[] = {"stale.example", "nearmiss.example"};
  kmsdiag_dns_t *d = ctx(g_server);
  kmsdiag_dns_results_t *rs = NULL;
  kmsdiag_dns_set_follow_up(d, false);
  CHECK_EQ(kmsdiag_dns_lookup(d, doms, 2, &rs), KMSDIAG_OK);
  if (rs) {
    /* no A/AAAA queries: the target without address is not judged */
    CHECK(!has_rule(rs->items[0], "target-no-address"));
    CHECK_EQ(rs->items[0]->usable, 2);
    CHECK(!has_rule(rs->items[1], "near-miss-label"));
  }
  kmsdiag_dns_results_free(rs);
  kmsdiag_dns_free(d);
}

static void test_ipv6_server(void) {
  const char *doms[] = {"corp.example"};
  kmsdiag_dns_t *d;
  kmsdiag_dns_results_t *rs = NULL;
  if (!g_ipv6) {
    printf("ipv6 server test skipped: ::1 not available\n");
    return;
  }
  d = ctx(g_server6);
  CHECK_EQ(kmsdiag_dns_lookup(d, doms, 1, &rs), KMSDIAG_OK);
  if (rs) {
    CHECK_STR(rs->items[0]->server, g_server6);
    CHECK_EQ(rs->items[0]->nrecords, 4);
  }
  kmsdiag_dns_results_free(rs);
  kmsdiag_dns_free(d);
}

static void test_transport_failures(void) {
  const char *doms[] = {"corp.example"};
  kmsdiag_dns_t *d = ctx(g_hole);
  kmsdiag_dns_results_t *rs = NULL;
  CHECK_EQ(kmsdiag_dns_set_timeout_ms(d, 150), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_set_tries(d, 1), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_lookup(d, doms, 1, &rs), KMSDIAG_OK);
  if (rs) {
    CHECK_EQ(rs->items[0]->status, KMSDIAG_ETIMEOUT);
    CHECK_EQ_U64(rs->items[0]->hresult, 0x8007232Au);
    CHECK(has_rule(rs->items[0], "timeout"));
    CHECK(!rs->items[0]->answered);
    CHECK(rs->items[0]->error && strstr(rs->items[0]->error, g_hole));
  }
  kmsdiag_dns_results_free(rs);
  kmsdiag_dns_free(d);

  d = ctx(g_closed);
  CHECK_EQ(kmsdiag_dns_set_tries(d, 1), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_lookup(d, doms, 1, &rs), KMSDIAG_OK);
  if (rs) {
    CHECK_EQ(rs->items[0]->status, KMSDIAG_ECONNREFUSED);
    CHECK_EQ_U64(rs->items[0]->hresult, 0x8007232Au);
    CHECK(has_rule(rs->items[0], "connection-refused"));
  }
  kmsdiag_dns_results_free(rs);
  kmsdiag_dns_free(d);

  /* first server silent, second answers: the answer names the second */
  {
    char two[160];
    snprintf(two, sizeof two, "%s,%s", g_hole, g_server);
    d = ctx(two);
    CHECK_EQ(kmsdiag_dns_set_timeout_ms(d, 200), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_dns_lookup(d, doms, 1, &rs), KMSDIAG_OK);
    if (rs) {
      CHECK_EQ(rs->items[0]->status, KMSDIAG_OK);
      CHECK_STR(rs->items[0]->server, g_server);
    }
    kmsdiag_dns_results_free(rs);
    kmsdiag_dns_free(d);
  }
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static void test_search_list(void) {
  char path[300];
  kmsdiag_dns_t *d = ctx(g_server);
  kmsdiag_dns_results_t *rs = NULL;
  snprintf(path, sizeof path, "%s/resolv-search.conf", g_tmpdir);
  write_file(path, "nameserver 127.0.0.1\n"
                   "domain branch.example\n"
                   "search branch.example lab.example corp.example\n");
  CHECK_EQ(kmsdiag_dns_set_resolv_conf(d, path), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_lookup(d, NULL, 0, &rs), KMSDIAG_OK);
  if (rs) {
    CHECK_EQ(rs->count, 3);
    if (rs->count == 3) {
      CHECK_STR(rs->items[0]->domain, "branch.example");
      CHECK_STR(rs->items[0]->source, "primary-suffix");
      CHECK_EQ_U64(rs->items[0]->hresult, 0x8007232Bu);
      CHECK_STR(rs->items[1]->domain, "lab.example");
      CHECK_STR(rs->items[1]->source, "search-list");
      CHECK_EQ(rs->items[1]->usable, 1);
      CHECK_STR(rs->items[2]->domain, "corp.example");
      CHECK_EQ(rs->items[2]->nrecords, 4);
    }
  }
  kmsdiag_dns_results_free(rs);

  /* no domain at all: no query, 0x8007007B */
  snprintf(path, sizeof path, "%s/resolv-nodomain.conf", g_tmpdir);
  write_file(path, "nameserver 127.0.0.1\noptions edns0\n");
  CHECK_EQ(kmsdiag_dns_set_resolv_conf(d, path), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_lookup(d, NULL, 0, &rs), KMSDIAG_OK);
  if (rs) {
    CHECK_EQ(rs->count, 1);
    CHECK(rs->items[0]->domain == NULL && rs->items[0]->qname == NULL);
    CHECK_EQ_U64(rs->items[0]->hresult, 0x8007007Bu);
    CHECK(has_rule(rs->items[0], "no-domain"));
  }
  kmsdiag_dns_results_free(rs);
  kmsdiag_dns_free(d);

  /* no server configured and none given */
  d = NULL;
  CHECK_EQ(kmsdiag_dns_new(&d), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_set_resolv_conf(d, path), KMSDIAG_OK);
  write_file(path, "domain corp.example\n");
  CHECK_EQ(kmsdiag_dns_lookup(d, NULL, 0, &rs), KMSDIAG_OK);
  if (rs) {
    CHECK_EQ(rs->items[0]->status, KMSDIAG_EDNS);
    CHECK_EQ_U64(rs->items[0]->hresult, 0x8007232Au);
    CHECK(rs->items[0]->error &&
          strstr(rs->items[0]->error, "no DNS server configured"));
  }
  kmsdiag_dns_results_free(rs);
  kmsdiag_dns_free(d);

  /* invalid names */
  {
    const char *bad[] = {"a..b", ".", "x\\"};
    d = ctx(g_server);
    CHECK_EQ(kmsdiag_dns_lookup(d, bad, 3, &rs), KMSDIAG_OK);
    for (size_t i = 0; rs && i < rs->count; i++) {
      CHECK_EQ(rs->items[i]->status, KMSDIAG_EINVAL);
      CHECK_EQ_U64(rs->items[i]->hresult, 0x8007007Bu);
      CHECK(has_rule(rs->items[i], "invalid-name"));
    }
    kmsdiag_dns_results_free(rs);
    kmsdiag_dns_free(d);
  }
}

/* The event-loop interface, driven here by hand, with a small in-flight
 * bound and more lookups than that. */
typedef struct tally {
  unsigned done, ok, nx;
} tally_t;

static void on_done(kmsdiag_dns_result_t *r, void *ud) {
  tally_t *t = ud;
  t->done++;
  if (r->usable > 0)
    t->ok++;
  if (r->rcode == 3)
    t->nx++;
  kmsdiag_dns_result_free(r);
}

static void test_event_loop(void) {
  kmsdiag_dns_t *d = ctx(g_server);
  tally_t t = {0, 0, 0};
  unsigned rounds = 0;
  CHECK_EQ(kmsdiag_dns_set_max_inflight(d, 4), KMSDIAG_OK);
  for (int i = 0; i < 30; i++)
    CHECK_EQ(kmsdiag_dns_start(d, i % 2 ? "corp.example" : "nokms.example",
                               NULL, 0, on_done, &t),
             KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_start(d, "_vlmcs._tcp.lab.example", NULL,
                             KMSDIAG_DNS_EXACT_NAME, on_done, &t),
           KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_pending(d), 31);
  while (kmsdiag_dns_pending(d) > 0 && rounds < 100000) {
    kmsdiag_dns_fd_t f[16];
    size_t n = kmsdiag_dns_fds(d, f, 16);
    int tmo = kmsdiag_dns_next_timeout_ms(d);
    rounds++;
    CHECK(n <= 16);
    if (n == 0 && tmo < 0)
      break;
    /* no poll here: process every descriptor, then the timers */
    for (size_t i = 0; i < n && i < 16; i++)
      kmsdiag_dns_process(d, f[i].fd, f[i].want_read, f[i].want_write);
    kmsdiag_dns_process(d, -1, false, false);
    if (n)
      usleep(200);
  }
  CHECK_EQ(t.done, 31);
  CHECK_EQ(t.ok, 16);
  CHECK_EQ(t.nx, 15);
  kmsdiag_dns_free(d);

  /* freeing with lookups pending cancels them without callbacks */
  d = ctx(g_server);
  t.done = 0;
  CHECK_EQ(kmsdiag_dns_start(d, "corp.example", NULL, 0, on_done, &t),
           KMSDIAG_OK);
  (void)kmsdiag_dns_fds(d, NULL, 0); /* starts it */
  kmsdiag_dns_free(d);
  CHECK_EQ(t.done, 0);
}

int main(void) {
  const char *port = getenv("KMSDIAG_LAB_PORT");
  const char *hole = getenv("KMSDIAG_LAB_BLACKHOLE_PORT");
  const char *closed = getenv("KMSDIAG_LAB_CLOSED_PORT");
  const char *dir = getenv("KMSDIAG_LAB_DIR");
  if (!port || !hole || !closed || !dir) {
    printf("SKIP: run through tests/lab/nsd_lab.py (no KMSDIAG_LAB_PORT)\n");
    return 77;
  }
  g_ipv6 = getenv("KMSDIAG_LAB_IPV6") &&
           strcmp(getenv("KMSDIAG_LAB_IPV6"), "1") == 0;
  snprintf(g_server, sizeof g_server, "127.0.0.1:%s", port);
  snprintf(g_server6, sizeof g_server6, "[::1]:%s", port);
  snprintf(g_hole, sizeof g_hole, "127.0.0.1:%s", hole);
  snprintf(g_closed, sizeof g_closed, "127.0.0.1:%s", closed);
  snprintf(g_tmpdir, sizeof g_tmpdir, "%s", dir);
  test_main_cases();
  test_no_follow_up();
  test_ipv6_server();
  test_transport_failures();
  test_search_list();
  test_event_loop();
  return check_finish();
}
