/* test_dns.c: the DNS module without a network: HRESULT mapping, RFC 2782
 * order with injected random sources, the answer parser on messages built
 * with ldns (and every truncation of them), resolv.conf and server
 * strings. Answers from a real server are tested in test_dns_live.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "check.h"
#include "dns/dns_internal.h"
#include <kmsdiag/kmsdiag.h>

/* ---- HRESULTs ------------------------------------------------------------ */

static void test_hresult(void) {
  CHECK_EQ_U64(kmsdiag_dns_hresult(KMSDIAG_OK, 0, 2), 0x00000000u);
  CHECK_EQ_U64(kmsdiag_dns_hresult(KMSDIAG_OK, 0, 0), 0x8007251Du);
  CHECK_EQ_U64(kmsdiag_dns_hresult(KMSDIAG_OK, 3, 0), 0x8007232Bu);
  CHECK_EQ_U64(kmsdiag_dns_hresult(KMSDIAG_OK, 2, 0), 0x8007232Au);
  CHECK_EQ_U64(kmsdiag_dns_hresult(KMSDIAG_OK, 5, 0), 0x8007232Du);
  CHECK_EQ_U64(kmsdiag_dns_hresult(KMSDIAG_ETIMEOUT, -1, 0), 0x8007232Au);
  CHECK_EQ_U64(kmsdiag_dns_hresult(KMSDIAG_ECONNREFUSED, -1, 0), 0x8007232Au);
  CHECK_EQ_U64(kmsdiag_dns_hresult(KMSDIAG_EMALFORMED, -1, 0), 0x8007232Au);
  CHECK_EQ_U64(kmsdiag_dns_hresult(KMSDIAG_EINVAL, -1, 0), 0x8007007Bu);
  CHECK_STR(kmsdiag_dns_rcode_name(3), "NXDOMAIN");
  CHECK_STR(kmsdiag_dns_rcode_name(-1), "none");
  CHECK_STR(kmsdiag_dns_rcode_name(12), "RCODE12");
  CHECK(strstr(kmsdiag_dns_hresult_message(0x8007232Bu), "does not exist"));
  CHECK_STR(kmsdiag_dns_severity_name(KMSDIAG_DNS_WARNING), "warning");
}

/* ---- RFC 2782 order ----------------------------------------------------------- */

static kmsdiag_dns_srv_t mk(const char *t, uint16_t prio, uint16_t w) {
  kmsdiag_dns_srv_t s;
  memset(&s, 0, sizeof s);
  s.target = strdup(t);
  s.priority = prio;
  s.weight = w;
  s.port = 1688;
  return s;
}

static void free_set(kmsdiag_dns_srv_t *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(s[i].target);
}

static uint32_t always_zero(void *ud) {
  (void)ud;
  return 0;
}
static uint32_t lcg(void *ud) {
  uint64_t *s = ud;
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(*s >> 33);
}

static void test_order(void) {
  kmsdiag_dns_srv_t s[5];
  /* priorities ascending whatever the input order */
  s[0] = mk("c.", 10, 0);
  s[1] = mk("a.", 0, 60);
  s[2] = mk("b.", 0, 30);
  s[3] = mk("d.", 5, 1);
  s[4] = mk("e.", 0, 10);
  kmsdiag_dns_order_srv(s, 5, always_zero, NULL);
  CHECK_EQ(s[0].priority, 0);
  CHECK_EQ(s[1].priority, 0);
  CHECK_EQ(s[2].priority, 0);
  CHECK_EQ(s[3].priority, 5);
  CHECK_EQ(s[4].priority, 10);
  CHECK_STR(s[3].target, "d.");
  CHECK_STR(s[4].target, "c.");
  free_set(s, 5);

  /* the result depends on the set and the draws only, not on the order
   * of the answer */
  {
    static const char *const names[4] = {"a.", "b.", "c.", "d."};
    static const uint16_t weights[4] = {0, 10, 0, 20};
    char ref[4] = {0, 0, 0, 0};
    for (int rot = 0; rot < 4; rot++) {
      uint64_t seed = 99;
      char got[4];
      for (int i = 0; i < 4; i++)
        s[i] = mk(names[(i + rot) % 4], 0, weights[(i + rot) % 4]);
      kmsdiag_dns_order_srv(s, 4, lcg, &seed);
      for (int i = 0; i < 4; i++)
        got[i] = s[i].target[0];
      if (rot == 0)
        memcpy(ref, got, 4);
      CHECK_MEM(got, ref, 4);
      free_set(s, 4);
    }
  }

  /* the weights shape the first choice: 60/30/10 */
  {
    unsigned first[3] = {0, 0, 0};
    uint64_t seed = 42;
    const unsigned trials = 20000;
    for (unsigned t = 0; t < trials; t++) {
      s[0] = mk("a.", 0, 60);
      s[1] = mk("b.", 0, 30);
      s[2] = mk("c.", 0, 10);
      kmsdiag_dns_order_srv(s, 3, lcg, &seed);
      first[s[0].target[0] - 'a']++;
      free_set(s, 3);
    }
    CHECK(first[0] > trials * 55 / 100 && first[0] < trials * 65 / 100);
    CHECK(first[1] > trials * 25 / 100 && first[1] < trials * 35 / 100);
    CHECK(first[2] > trials * 6 / 100 && first[2] < trials * 14 / 100);
  }
  /* a weight-0 record next to a weight-10 one comes first only when the
   * draw is exactly 0 (1 in 11) */
  {
    unsigned zero_first = 0;
    uint64_t seed = 7;
    for (unsigned t = 0; t < 11000; t++) {
      s[0] = mk("z.", 0, 0);
      s[1] = mk("w.", 0, 10);
      kmsdiag_dns_order_srv(s, 2, lcg, &seed);
      if (s[0].target[0] == 'z')
        zero_first++;
      free_set(s, 2);
    }
    CHECK(zero_first > 700 && zero_first < 1300);
  }
  /* NULL random source: fixed seed, same result twice */
  {
    char o1[8], o2[8];
    for (int rep = 0; rep < 2; rep++) {
      s[0] = mk("a.", 0, 5);
      s[1] = mk("b.", 0, 5);
      s[2] = mk("c.", 0, 5);
      s[3] = mk("d.", 0, 5);
      kmsdiag_dns_order_srv(s, 4, NULL, NULL);
      for (int i = 0; i < 4; i++)
        (rep ? o2 : o1)[i] = s[i].target[0];
      free_set(s, 4);
    }
    CHECK_MEM(o1, o2, 4);
  }
  kmsdiag_dns_order_srv(NULL, 0, NULL, NULL); /* no crash */

  /* facts 1.1 step 5: hosts are tried in random order. With all weights 0
   * (Microsoft's guidance) every record must come first about equally
   * often, not always the alphabetically first one; the same for records
   * of equal non-zero weight. */
  for (int w = 0; w <= 5; w += 5) {
    unsigned first[4] = {0, 0, 0, 0};
    uint64_t seed = 12345;
    const unsigned trials = 8000;
    for (unsigned t = 0; t < trials; t++) {
      s[0] = mk("a.", 0, (uint16_t)w);
      s[1] = mk("b.", 0, (uint16_t)w);
      s[2] = mk("c.", 0, (uint16_t)w);
      s[3] = mk("d.", 0, (uint16_t)w);
      kmsdiag_dns_order_srv(s, 4, lcg, &seed);
      first[s[0].target[0] - 'a']++;
      free_set(s, 4);
    }
    for (int i = 0; i < 4; i++)
      CHECK(first[i] > trials * 20 / 100 && first[i] < trials * 30 / 100);
  }
  /* weight-0 records next to weighted ones: each weight-0 record can be
   * the one that comes first on a zero draw */
  {
    unsigned first[3] = {0, 0, 0};
    uint64_t seed = 5;
    for (unsigned t = 0; t < 4000; t++) {
      s[0] = mk("a.", 0, 0);
      s[1] = mk("b.", 0, 0);
      s[2] = mk("c.", 0, 50);
      kmsdiag_dns_order_srv(s, 3, lcg, &seed);
      first[s[0].target[0] - 'a']++;
      free_set(s, 3);
    }
    CHECK(first[0] > 0 && first[1] > 0 && first[2] > 3000);
  }
}

/* ---- wire parser ------------------------------------------------------------------ */

static uint8_t *build(const char *qname, int rcode, bool qr, const char **an,
                      const char **ns, const char **ar, size_t *len) {
  ldns_pkt *p = ldns_pkt_new();
  ldns_rr *q = NULL;
  uint8_t *wire = NULL;
  char qtext[300];
  snprintf(qtext, sizeof qtext, "%s IN SRV", qname);
  CHECK(ldns_rr_new_question_frm_str(&q, qtext, NULL, NULL) ==
        LDNS_STATUS_OK);
  if (q)
    ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
  ldns_pkt_set_id(p, 0x1234);
  ldns_pkt_set_qr(p, qr);
  ldns_pkt_set_aa(p, true);
  ldns_pkt_set_rcode(p, (uint8_t)rcode);
  for (int s = 0; s < 3; s++) {
    const char **list = s == 0 ? an : s == 1 ? ns : ar;
    for (; list && *list; list++) {
      ldns_rr *rr = NULL;
      CHECK(ldns_rr_new_frm_str(&rr, *list, 3600, NULL, NULL) ==
            LDNS_STATUS_OK);
      if (rr)
        ldns_pkt_push_rr(p,
                         s == 0   ? LDNS_SECTION_ANSWER
                         : s == 1 ? LDNS_SECTION_AUTHORITY
                                  : LDNS_SECTION_ADDITIONAL,
                         rr);
    }
  }
  CHECK(ldns_pkt2wire(&wire, p, len) == LDNS_STATUS_OK);
  ldns_pkt_free(p);
  return wire;
}

static const char *QN = "_vlmcs._tcp.corp.example.";
static const char *SOA =
    "corp.example. 3600 IN SOA ns1.corp.example. h.corp.example. 1 2 3 4 "
    "300";

static bool has_rule(const kmsdiag_dns_result_t *r, const char *rule) {
  for (size_t i = 0; i < r->nproblems; i++)
    if (strcmp(r->problems[i].rule, rule) == 0)
      return true;
  return false;
}

static void test_parse_good(void) {
  const char *an[] = {
      "_vlmcs._tcp.corp.example. 600 IN SRV 10 0 1688 kms-b.corp.example.",
      "_vlmcs._tcp.corp.example. 600 IN SRV 0 100 1689 kms-a.corp.example.",
      "_vlmcs._tcp.corp.example. 600 IN SRV 0 0 1688 alias.corp.example.",
      NULL};
  const char *ar[] = {"kms-a.corp.example. 30 IN A 127.0.0.11",
                      "kms-a.corp.example. 30 IN AAAA ::1",
                      "kms-b.corp.example. 30 IN A 127.0.0.12", NULL};
  size_t len;
  uint8_t *w = build(QN, 0, true, an, NULL, ar, &len);
  kmsdiag_dns_result_t *r = NULL;
  CHECK_EQ(kmsdiag_dns_parse_srv_answer(w, len, always_zero, NULL, &r),
           KMSDIAG_OK);
  if (r) {
    CHECK(r->is_response);
    CHECK(r->aa);
    CHECK_EQ(r->id, 0x1234);
    CHECK_EQ(r->rcode, 0);
    CHECK_STR(r->qname, QN);
    CHECK_EQ(r->qtype, 33);
    CHECK_EQ(r->nrecords, 3);
    CHECK_EQ_U64(r->hresult, 0);
    /* priority 0 first: weight-0 alias first with a 0 draw, then kms-a */
    CHECK_STR(r->records[0].target, "alias.corp.example.");
    CHECK_STR(r->records[1].target, "kms-a.corp.example.");
    CHECK_EQ(r->records[1].port, 1689);
    CHECK_EQ(r->records[1].naddrs, 2);
    CHECK(r->records[1].addrs_from_additional);
    CHECK_STR(r->records[1].addrs[0].text, "127.0.0.11");
    CHECK_EQ(r->records[1].addrs[0].ttl, 30);
    CHECK_EQ(r->records[1].addrs[1].family, AF_INET6);
    CHECK_STR(r->records[1].addrs[1].text, "::1");
    CHECK_STR(r->records[2].target, "kms-b.corp.example.");
    CHECK_EQ(r->records[2].priority, 10);
    CHECK_EQ(r->records[2].ttl, 600);
    CHECK(has_rule(r, "port-not-1688"));
    CHECK(has_rule(r, "priority-weight"));
    CHECK(!has_rule(r, "target-no-address")); /* not resolved here */
    CHECK_EQ(r->usable, 3);
    /* problems: errors first */
    for (size_t i = 1; i < r->nproblems; i++)
      CHECK(r->problems[i - 1].severity >= r->problems[i].severity);
  }
  /* JSON: the writer produces one valid object */
  {
    kmsdiag_json_t *j = NULL;
    size_t tl;
    const char *t;
    CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
    kmsdiag_dns_result_write_json(j, r);
    kmsdiag_json_endline(j);
    CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_OK);
    t = kmsdiag_json_text(j, &tl);
    CHECK(t && strstr(t, "\"type\":\"srv_lookup\""));
    CHECK(t && strstr(t, "\"hresult\":\"0x00000000\""));
    CHECK(t && strstr(t, "\"target\":\"kms-a.corp.example.\""));
    kmsdiag_json_free(j);
  }
  kmsdiag_dns_result_free(r);

  /* every prefix: an error that says where, never a crash */
  for (size_t k = 0; k < len; k++) {
    kmsdiag_status_t st = kmsdiag_dns_parse_srv_answer(w, k, NULL, NULL, &r);
    CHECK(st == KMSDIAG_ETRUNC || st == KMSDIAG_EMALFORMED);
    CHECK(r && r->error && r->hresult == 0x8007232Au);
    if (k < 12 && r && r->error)
      CHECK(strstr(r->error, "12-byte header") != NULL);
    kmsdiag_dns_result_free(r);
  }
  free(w);
}

static void test_parse_outcomes(void) {
  const char *soa[] = {SOA, NULL};
  size_t len;
  uint8_t *w;
  kmsdiag_dns_result_t *r = NULL;

  w = build(QN, 3, true, NULL, soa, NULL, &len);
  CHECK_EQ(kmsdiag_dns_parse_srv_answer(w, len, NULL, NULL, &r), KMSDIAG_OK);
  CHECK_EQ_U64(r->hresult, 0x8007232Bu);
  CHECK(has_rule(r, "nxdomain"));
  CHECK(r->has_soa);
  CHECK_EQ(r->soa_minimum, 300);
  CHECK_STR(r->soa_zone, "corp.example.");
  kmsdiag_dns_result_free(r);
  free(w);

  w = build(QN, 0, true, NULL, soa, NULL, &len);
  CHECK_EQ(kmsdiag_dns_parse_srv_answer(w, len, NULL, NULL, &r), KMSDIAG_OK);
  CHECK_EQ_U64(r->hresult, 0x8007251Du);
  CHECK(has_rule(r, "no-srv-data"));
  kmsdiag_dns_result_free(r);
  free(w);

  w = build(QN, 2, true, NULL, NULL, NULL, &len);
  CHECK_EQ(kmsdiag_dns_parse_srv_answer(w, len, NULL, NULL, &r), KMSDIAG_OK);
  CHECK_EQ_U64(r->hresult, 0x8007232Au);
  CHECK(has_rule(r, "servfail"));
  kmsdiag_dns_result_free(r);
  free(w);

  w = build(QN, 5, true, NULL, NULL, NULL, &len);
  CHECK_EQ(kmsdiag_dns_parse_srv_answer(w, len, NULL, NULL, &r), KMSDIAG_OK);
  CHECK_EQ_U64(r->hresult, 0x8007232Du);
  CHECK(has_rule(r, "refused"));
  kmsdiag_dns_result_free(r);
  free(w);

  /* a query (QR=0): no outcome, no problems */
  w = build(QN, 0, false, NULL, NULL, NULL, &len);
  CHECK_EQ(kmsdiag_dns_parse_srv_answer(w, len, NULL, NULL, &r), KMSDIAG_OK);
  CHECK(!r->is_response);
  CHECK_EQ(r->nproblems, 0);
  kmsdiag_dns_result_free(r);
  free(w);

  /* the SRV name is an alias; "." target next to a real one; duplicates */
  {
    const char *an[] = {
        "_vlmcs._tcp.corp.example. 60 IN CNAME kms._tcp.other.example.",
        "kms._tcp.other.example. 60 IN SRV 0 0 1688 kms.other.example.",
        "kms._tcp.other.example. 60 IN SRV 0 0 1688 .",
        "kms._tcp.other.example. 60 IN SRV 5 0 1688 KMS.other.example.",
        "kms._tcp.other.example. 0 IN SRV 0 0 1688 kms.local.",
        "kms._tcp.other.example. 60 IN SRV 0 0 1688 single.",
        NULL};
    w = build(QN, 0, true, an, NULL, NULL, &len);
    CHECK_EQ(kmsdiag_dns_parse_srv_answer(w, len, NULL, NULL, &r), KMSDIAG_OK);
    CHECK_EQ(r->nrecords, 5);
    CHECK(has_rule(r, "srv-name-cname"));
    CHECK(has_rule(r, "target-root"));
    CHECK(has_rule(r, "duplicate-target"));
    CHECK(has_rule(r, "target-local"));
    CHECK(has_rule(r, "target-single-label"));
    CHECK(has_rule(r, "ttl-zero"));
    CHECK_EQ(r->usable, 4);
    kmsdiag_dns_result_free(r);
    free(w);
  }
  /* only "." */
  {
    const char *an[] = {"_vlmcs._tcp.corp.example. 60 IN SRV 0 0 0 .", NULL};
    w = build(QN, 0, true, an, NULL, NULL, &len);
    CHECK_EQ(kmsdiag_dns_parse_srv_answer(w, len, NULL, NULL, &r), KMSDIAG_OK);
    CHECK(has_rule(r, "target-root"));
    CHECK_EQ(r->problems[0].severity, KMSDIAG_DNS_ERROR);
    CHECK_EQ(r->usable, 0);
    kmsdiag_dns_result_free(r);
    free(w);
  }
  CHECK_EQ(kmsdiag_dns_parse_srv_answer(NULL, 0, NULL, NULL, NULL),
           KMSDIAG_EINVAL);
}

/* ---- resolv.conf and server strings -------------------------------------------- */

static void test_resolv(void) {
  kd_resolv_t rc;
  const char *txt = "# comment\n"
                    "; another\n"
                    "nameserver 127.0.0.1\n"
                    "nameserver ::1\n"
                    "nameserver not-an-address\n"
                    "domain corp.example\n"
                    "search a.example b.example\tc.example\n"
                    "options ndots:2 timeout:1\n"
                    "search  branch.example lab.example corp.example\r\n"
                    "domain\n";
  CHECK_EQ(kd_resolv_parse((const uint8_t *)txt, strlen(txt), &rc),
           KMSDIAG_OK);
  CHECK_EQ(rc.nservers, 2);
  CHECK_STR(rc.servers[0], "127.0.0.1");
  CHECK_STR(rc.servers[1], "::1");
  CHECK(rc.domain == NULL); /* the last "domain" line had no value */
  CHECK_EQ(rc.nsearch, 3);
  CHECK_STR(rc.search[0], "branch.example");
  CHECK_STR(rc.search[2], "corp.example");
  CHECK(rc.bad_lines >= 2);
  kd_resolv_free(&rc);

  /* hostile: NULs, a huge line, too many entries, no final newline */
  {
    size_t n = 200000;
    char *big = malloc(n);
    size_t off = 0;
    off += (size_t)snprintf(big + off, n - off, "domain ok.example\n");
    for (int i = 0; i < 100; i++)
      off += (size_t)snprintf(big + off, n - off, "nameserver 127.0.0.%d\n", i);
    memset(big + off, 'x', 5000);
    off += 5000;
    big[off++] = '\n';
    big[off++] = 's';
    big[off++] = '\0';
    off += (size_t)snprintf(big + off, n - off, "earch\x01 zz\nsearch");
    for (int i = 0; i < 40; i++) /* 40 > the cap, line < 1024 bytes */
      off += (size_t)snprintf(big + off, n - off, " d%d.example", i);
    CHECK_EQ(kd_resolv_parse((const uint8_t *)big, off, &rc), KMSDIAG_OK);
    CHECK_EQ(rc.nservers, KD_RESOLV_MAX_SERVERS);
    CHECK_STR(rc.domain, "ok.example");
    CHECK_EQ(rc.nsearch, KD_RESOLV_MAX_SEARCH);
    kd_resolv_free(&rc);
    free(big);
  }
  CHECK_EQ(kd_resolv_parse((const uint8_t *)"", 0, &rc), KMSDIAG_OK);
  CHECK_EQ(rc.nservers, 0);
  kd_resolv_free(&rc);
}

static void test_servers(void) {
  kd_server_t s;
  char t[64];
  CHECK(kd_server_parse("127.0.0.1", 9, &s) && s.port == 53 &&
        s.family == AF_INET);
  CHECK(kd_server_parse("127.0.0.1:5353", 14, &s) && s.port == 5353);
  CHECK(kd_server_parse("[::1]:5353", 10, &s) && s.port == 5353 &&
        s.family == AF_INET6);
  CHECK(kd_server_parse("::1", 3, &s) && s.port == 53);
  CHECK(kd_server_parse("[::1]", 5, &s) && s.port == 53);
  CHECK(!kd_server_parse("127.0.0.1:0", 11, &s));
  CHECK(!kd_server_parse("127.0.0.1:65536", 15, &s));
  CHECK(!kd_server_parse("[::1", 4, &s));
  CHECK(!kd_server_parse("[::1]x", 6, &s));
  CHECK(!kd_server_parse("dns.example", 11, &s));
  CHECK(!kd_server_parse(":53", 3, &s));
  CHECK(!kd_server_parse("", 0, &s));
  CHECK(!kd_server_parse("1.2.3.4:53x", 11, &s));
  kd_server_text(AF_INET6, s.addr, 53, t, sizeof t);
  CHECK(kd_server_parse("[::1]:53", 8, &s));
  kd_server_text(AF_INET6, s.addr, s.port, t, sizeof t);
  CHECK_STR(t, "[::1]:53");
}

static void test_context_setters(void) {
  kmsdiag_dns_t *d = NULL;
  char **doms = NULL;
  CHECK_EQ(kmsdiag_dns_new(&d), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_set_servers(d, "127.0.0.1:5353, [::1]:5353"),
           KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_set_servers(d, "127.0.0.1:5353,bogus"),
           KMSDIAG_EPARSE);
  CHECK_EQ(kmsdiag_dns_set_timeout_ms(d, 5), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_dns_set_tries(d, 0), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_dns_set_max_inflight(d, 0), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_dns_set_resolv_conf(d, "/nonexistent/resolv.conf"),
           KMSDIAG_OK);
  CHECK_EQ(kmsdiag_dns_config_domains(d, &doms, NULL), KMSDIAG_EIO);
  CHECK(doms && doms[0] == NULL);
  kmsdiag_dns_strv_free(doms);
  CHECK_EQ(kmsdiag_dns_pending(d), 0);
  CHECK_EQ(kmsdiag_dns_next_timeout_ms(d), -1);
  kmsdiag_dns_free(d);
  kmsdiag_dns_free(NULL);
  kmsdiag_dns_result_free(NULL);
  kmsdiag_dns_results_free(NULL);
  CHECK_EQ(kmsdiag_dns_new(NULL), KMSDIAG_EINVAL);
}

int main(void) {
  test_hresult();
  test_order();
  test_parse_good();
  test_parse_outcomes();
  test_resolv();
  test_servers();
  test_context_setters();
  return check_finish();
}
