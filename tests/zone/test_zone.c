/* test_zone.c: the zone checker on zone text in memory: line numbers,
 * going on after errors, origins, limits and hostile bytes. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include <kmsdiag/kmsdiag.h>

static kmsdiag_zone_report_t *run(kmsdiag_zone_check_t *c, const char *text) {
  kmsdiag_zone_report_t *r = NULL;
  CHECK_EQ(kmsdiag_zone_check_buffer(c, "t.zone", text, strlen(text), &r),
           KMSDIAG_OK);
  return r;
}

static const kmsdiag_zone_finding_t *find(const kmsdiag_zone_report_t *r,
                                          const char *rule) {
  for (size_t i = 0; r && i < r->count; i++)
    if (strcmp(r->findings[i].rule, rule) == 0)
      return &r->findings[i];
  return NULL;
}

static void test_basic(void) {
  kmsdiag_zone_check_t *c = NULL;
  kmsdiag_zone_report_t *r;
  const kmsdiag_zone_finding_t *f;
  CHECK_EQ(kmsdiag_zone_check_new(&c), KMSDIAG_OK);
  r = run(c, "$ORIGIN corp.example.\n"
             "$TTL 300\n"
             "@ IN SOA ns1 h 1 2 3 4 5\n"
             "\n"
             "; comment\n"
             "_vlmcs._tcp IN SRV 0 0 1688 kms.corp.example.\n"
             "_vlmcs._tcp IN SRV 0 0 kms.corp.example.\n"
             "_vlmcs._tcp IN SRV (\n"
             "   0 0 1689\n"
             "   kms.corp.example. )\n"
             "kms IN A 127.0.0.1\n");
  CHECK(r != NULL);
  if (r) {
    CHECK_STR(r->origin, "corp.example.");
    CHECK_EQ(r->records, 4); /* SOA, 2 SRV, A: the broken one is skipped */
    CHECK_EQ(r->kms_records, 2);
    f = find(r, "srv-field-count");
    CHECK(f && f->line == 7 && f->severity == KMSDIAG_DNS_ERROR);
    f = find(r, "port-not-1688");
    CHECK(f && f->line == 8); /* a multi-line record: its first line */
    CHECK(f && f->name && strcmp(f->name, "_vlmcs._tcp.corp.example.") == 0);
    CHECK(f && strcmp(f->file, "t.zone") == 0);
    CHECK_EQ(r->errors, 1);
    CHECK(find(r, "target-no-address") == NULL);
    /* sorted by line */
    for (size_t i = 1; i < r->count; i++)
      CHECK(r->findings[i - 1].line <= r->findings[i].line ||
            r->findings[i].line == 0);
    {
      kmsdiag_json_t *j = NULL;
      const char *t;
      CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
      kmsdiag_zone_finding_write_json(j, find(r, "srv-field-count"));
      kmsdiag_json_endline(j);
      t = kmsdiag_json_text(j, NULL);
      CHECK(t && strstr(t, "\"type\":\"finding\",\"file\":\"t.zone\","
                           "\"line\":7,\"severity\":\"error\","
                           "\"rule\":\"srv-field-count\""));
      kmsdiag_json_free(j);
    }
  }
  kmsdiag_zone_report_free(r);

  /* origin given from outside, like named-checkzone's zone argument */
  CHECK_EQ(kmsdiag_zone_check_set_origin(c, "branch.example"), KMSDIAG_OK);
  r = run(c, "_vlmcs._tcp 60 IN SRV 0 0 1688 kms\nkms A 127.0.0.9\n");
  CHECK(r && find(r, "target-relative") && !find(r, "target-no-address"));
  CHECK(r && r->origin && strcmp(r->origin, "branch.example.") == 0);
  kmsdiag_zone_report_free(r);
  CHECK_EQ(kmsdiag_zone_check_set_origin(c, "bad..name"), KMSDIAG_EPARSE);
  CHECK_EQ(kmsdiag_zone_check_set_origin(c, NULL), KMSDIAG_OK);
  r = run(c, "_vlmcs._tcp 60 IN SRV 0 0 1688 kms.x.\n");
  CHECK(r && find(r, "relative-without-origin"));
  kmsdiag_zone_report_free(r);
  kmsdiag_zone_check_free(c);
}

/* ldns reads SRV numbers with strtol and keeps 16 bits: "-1" would be
 * 65535 and 70000 would be 4464 without a word. Every out-of-range or
 * negative priority, weight or port is an srv-field-range error on its
 * line; numbers in range are not. */
static void test_field_range(void) {
  static const char *const bad[] = {
      "-1 0 1688", "0 -1 1688", "0 0 -1",     "0 0 -1688", "65536 0 1688",
      "0 70000 1688", "0 0 99999999999999", "-0 0 1688", "0 0 +70000"};
  static const char *const good[] = {"0 0 1688", "65535 65535 65535",
                                     "+1 0 1688"};
  kmsdiag_zone_check_t *c = NULL;
  CHECK_EQ(kmsdiag_zone_check_new(&c), KMSDIAG_OK);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0] + 3; i++) {
    bool is_bad = i < sizeof bad / sizeof bad[0];
    const char *fields = is_bad ? bad[i] : good[i - sizeof bad / sizeof bad[0]];
    char text[400];
    kmsdiag_zone_report_t *r;
    const kmsdiag_zone_finding_t *f;
    snprintf(text, sizeof text,
             "$ORIGIN corp.example.\n"
             "@ 300 IN SOA ns1 h 1 2 3 4 5\n"
             "kms 300 IN A 127.0.0.1\n"
             "_vlmcs._tcp 300 IN SRV %s kms.corp.example.\n",
             fields);
    r = run(c, text);
    f = find(r, "srv-field-range");
    if (is_bad) {
      CHECK(f && f->line == 4 && f->severity == KMSDIAG_DNS_ERROR);
      if (!f)
        printf("no srv-field-range for \"%s\"\n", fields);
    } else {
      CHECK(f == NULL);
      CHECK(r && r->errors == 0);
    }
    kmsdiag_zone_report_free(r);
  }
  kmsdiag_zone_check_free(c);
}

static void test_hostile(void) {
  kmsdiag_zone_check_t *c = NULL;
  kmsdiag_zone_report_t *r = NULL;
  size_t n = 300000;
  char *big;
  CHECK_EQ(kmsdiag_zone_check_new(&c), KMSDIAG_OK);
  /* empty, NULs, a very long line, unbalanced parentheses, quotes */
  CHECK_EQ(kmsdiag_zone_check_buffer(c, "e", "", 0, &r), KMSDIAG_OK);
  CHECK(r && find(r, "no-kms-record"));
  kmsdiag_zone_report_free(r);
  CHECK_EQ(kmsdiag_zone_check_buffer(c, "n", "a\0b IN A 1.2.3.4\n", 17, &r),
           KMSDIAG_OK);
  CHECK(r && find(r, "binary-content"));
  kmsdiag_zone_report_free(r);
  big = malloc(n + 1);
  memset(big, 'a', n);
  big[n] = '\0';
  r = run(c, big);
  kmsdiag_zone_report_free(r);
  memset(big, '(', n);
  r = run(c, big);
  kmsdiag_zone_report_free(r);
  memset(big, '"', n);
  r = run(c, big);
  kmsdiag_zone_report_free(r);
  /* many broken lines: each is a finding, the run ends */
  {
    size_t off = 0;
    for (int i = 0; i < 2000 && off + 40 < n; i++)
      off += (size_t)snprintf(big + off, n - off, "_vlmcs._tcp. SRV 1 2\n");
    big[off] = '\0';
    r = run(c, big);
    CHECK(r && r->errors == 2000);
    kmsdiag_zone_report_free(r);
  }
  free(big);
  CHECK_EQ(kmsdiag_zone_check_buffer(NULL, "x", "", 0, &r), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_zone_check_file(c, "/nonexistent/zone", &r), KMSDIAG_EIO);
  CHECK(r == NULL);
  kmsdiag_zone_check_free(c);
  kmsdiag_zone_check_free(NULL);
  kmsdiag_zone_report_free(NULL);
}

int main(void) {
  test_basic();
  test_field_range();
  test_hostile();
  return check_finish();
}
