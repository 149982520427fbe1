/* test_epid.c: every ePID field, every problem rule, the interop ePIDs
 * (recorded from vlmcsd), and the can-activate verdicts. "Now" is fixed so
 * the date checks are deterministic. */
#include <stdlib.h>

#include <kmsdiag/kmsdiag.h>

#include "check.h"

/* 2026-11-22 02:50:25 UTC, the time of the interop recordings. */
#define NOW INT64_C(1795315825)

static kmsdiag_status_t P(const char *s, kmsdiag_epid_t *e) {
  return kmsdiag_epid_parse_at(s, strlen(s), NOW, e);
}

static const kmsdiag_epid_problem_t *find_rule(const kmsdiag_epid_t *e,
                                               const char *rule) {
  for (size_t i = 0; i < e->n_problems; i++)
    if (strcmp(e->problems[i].rule, rule) == 0)
      return &e->problems[i];
  return NULL;
}

/* `s` parses and has exactly one problem, `rule`, of severity `sev`. */
static void only_rule(const char *s, const char *rule,
                      kmsdiag_epid_severity_t sev) {
  kmsdiag_epid_t e;
  kmsdiag_status_t st = P(s, &e);
  const kmsdiag_epid_problem_t *p = find_rule(&e, rule);
  if (!p || e.n_problems != 1) {
    fprintf(stderr, "for %s expected only rule %s, got %zu problem(s):\n", s,
            rule, e.n_problems);
    for (size_t i = 0; i < e.n_problems; i++)
      fprintf(stderr, "  %s: %s\n", e.problems[i].rule, e.problems[i].message);
  }
  CHECK(p != NULL);
  CHECK_EQ(e.n_problems, 1);
  if (p)
    CHECK_EQ(p->severity, sev);
  if (strcmp(rule, "syntax") == 0 || strcmp(rule, "too_long") == 0 ||
      strcmp(rule, "embedded_nul") == 0)
    CHECK(st != KMSDIAG_OK && !e.syntax_ok);
  else
    CHECK(st == KMSDIAG_OK && e.syntax_ok);
}

static void test_fields(void) {
  kmsdiag_epid_t e;
  char d[16];
  /* the facts file's example: day 280 of 2018 is 7 October 2018 */
  CHECK_EQ(P("06401-00206-566-174993-03-1033-9600.0000-2802018", &e),
           KMSDIAG_OK);
  CHECK(e.syntax_ok);
  CHECK_EQ(e.platform_id, 6401);
  CHECK_EQ(e.group_id, 206);
  CHECK_EQ(e.key_id, 566174993);
  CHECK_EQ(e.channel, 3);
  CHECK_EQ(e.lcid, 1033);
  CHECK_STR(e.lcid_name, "en-US");
  CHECK_EQ(e.build, 9600);
  CHECK_EQ(e.build_suffix, 0);
  CHECK_EQ(e.day_of_year, 280);
  CHECK_EQ(e.year, 2018);
  CHECK(e.date_ok);
  CHECK_EQ(e.month, 10);
  CHECK_EQ(e.mday, 7);
  CHECK_STR(kmsdiag_epid_date_str(&e, d, sizeof d), "2018-10-07");
  CHECK(e.host_os && strstr(e.host_os->name, "Server 2012 R2"));
  CHECK(e.platform_name && strstr(e.platform_name, "8.1"));
  CHECK(e.csvlk && strcmp(e.csvlk->name, "Windows Server 2019") == 0);
  CHECK_EQ(e.n_problems, 0);
  CHECK(!kmsdiag_epid_has_problem(&e, KMSDIAG_EPID_INFO));
  CHECK_EQ(e.input_len, 48);
  CHECK_STR(e.text, "06401-00206-566-174993-03-1033-9600.0000-2802018");

  /* leap years: day 60 is 29 February in 2024, 1 March in 2023 */
  CHECK_EQ(P("03612-00206-560-000000-03-1033-17763.0000-0602024", &e),
           KMSDIAG_OK);
  CHECK_STR(kmsdiag_epid_date_str(&e, d, sizeof d), "2024-02-29");
  CHECK_EQ(P("03612-00206-560-000000-03-1033-17763.0000-0602023", &e),
           KMSDIAG_OK);
  CHECK_STR(kmsdiag_epid_date_str(&e, d, sizeof d), "2023-03-01");
  CHECK_EQ(P("03612-00206-560-000000-03-1033-17763.0000-3662024", &e),
           KMSDIAG_OK);
  CHECK_STR(kmsdiag_epid_date_str(&e, d, sizeof d), "2024-12-31");
  CHECK_EQ(e.n_problems, 0);
  CHECK_EQ(P("03612-00206-560-000000-03-1033-17763.0000-0012019", &e),
           KMSDIAG_OK);
  CHECK_STR(kmsdiag_epid_date_str(&e, d, sizeof d), "2019-01-01");
  /* small buffer, invalid epid: empty string, no overflow */
  CHECK_STR(kmsdiag_epid_date_str(&e, d, 5), "2019");
  CHECK(kmsdiag_epid_date_str(NULL, d, sizeof d) == d && d[0] == '\0');

  /* blanks and trailing NULs (from the wire) are trimmed */
  static const char padded[] = "  06401-00206-566-174993-03-1033-9600.0000-"
                               "2802018\r\n\0\0";
  CHECK_EQ(kmsdiag_epid_parse_at(padded, sizeof padded - 1, NOW, &e),
           KMSDIAG_OK);
  CHECK_EQ(e.text_len, 48);
  CHECK_EQ(e.input_len, sizeof padded - 1);
}

/* The ePIDs recorded in the interop captures and logs, with their ground
 * truth decoded by hand from the facts tables. */
static void test_interop(void) {
  static const struct {
    const char *epid;
    const char *os_has;
    const char *csvlk; /* NULL: not identified */
    const char *date;
    uint32_t lcid;
    const char *rule; /* the one expected problem, or NULL */
  } v[] = {
      {"06401-00206-558-040878-03-1051-9600.0000-1912021", "2012 R2",
       "Windows Server 2019", "2021-07-10", 1051, NULL},
      {"06401-00206-555-524955-03-1069-9600.0000-0182022", "2012 R2",
       "Windows Server 2019", "2022-01-18", 1069, NULL},
      {"03612-00206-562-856904-03-12289-17763.0000-0902026", "Server 2019",
       "Windows Server 2019", "2026-03-31", 12289, NULL},
      {"06401-00206-562-755972-03-8251-9600.0000-0042021", "2012 R2",
       "Windows Server 2019", "2021-01-04", 8251, NULL},
      {"03612-00206-568-724861-03-1025-14393.0000-3172023", "Server 2016",
       "Windows Server 2019", "2023-11-13", 1025, NULL},
      /* vlmcsd picks the build at random: a WS2019 key on 2008 R2 */
      {"55041-00206-564-543301-03-1094-7601.0000-0312019", "2008 R2",
       "Windows Server 2019", "2019-01-31", 1094, "csvlk_host_os"},
      {"06401-00096-204-917321-03-1063-9600.0000-0252023", "2012 R2",
       "Office 2010", "2023-01-25", 1063, NULL},
      {"06401-03858-975-674745-03-1063-9600.0000-3282017", "2012 R2",
       "Windows 10 China Government", "2017-11-24", 1063, NULL},
      /* Office 2013/2016/2019 host keys share group 206; their key-ID
       * ranges are not in our facts */
      {"06401-00206-242-670460-03-1063-9600.0000-2132016", "2012 R2", NULL,
       "2016-07-31", 1063, "key_id_out_of_range"},
      {"03612-00096-213-838530-03-1025-14393.0000-2182021", "Server 2016",
       "Office 2010", "2021-08-06", 1025, NULL},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    kmsdiag_epid_t e;
    char d[16];
    CHECK_EQ(P(v[i].epid, &e), KMSDIAG_OK);
    CHECK(e.host_os && strstr(e.host_os->name, v[i].os_has));
    if (v[i].csvlk)
      CHECK(e.csvlk && strcmp(e.csvlk->name, v[i].csvlk) == 0);
    else
      CHECK(e.csvlk == NULL);
    CHECK_STR(kmsdiag_epid_date_str(&e, d, sizeof d), v[i].date);
    CHECK_EQ(e.lcid, v[i].lcid);
    CHECK(!kmsdiag_epid_has_problem(&e, KMSDIAG_EPID_ERROR));
    if (v[i].rule) {
      CHECK_EQ(e.n_problems, 1);
      CHECK(find_rule(&e, v[i].rule) != NULL);
    } else {
      if (e.n_problems)
        fprintf(stderr, "%s: unexpected %s\n", v[i].epid,
                e.problems[0].rule);
      CHECK_EQ(e.n_problems, 0);
    }
  }
}

/* The clean base: a WS2019 host key on a WS2019 host, activated 2021. */
#define BASE "03612-00206-560-000000-03-1033-17763.0000-1002021"

static void test_rules(void) {
  kmsdiag_epid_t e;
  only_rule(BASE "x", "syntax", KMSDIAG_EPID_ERROR);
  P(BASE "x", &e);
  CHECK_EQ(e.err_offset, strlen(BASE));
  only_rule("12345-00206-560-000000-03-1033-17763.0000-1002021",
            "platform_unknown", KMSDIAG_EPID_ERROR);
  only_rule("06401-00206-560-000000-03-1033-17763.0000-1002021",
            "platform_build_mismatch", KMSDIAG_EPID_WARN);
  only_rule("03612-00096-204-917321-03-1033-19045.0000-1002021",
            "build_unknown", KMSDIAG_EPID_INFO);
  only_rule("55041-00096-204-917321-03-1033-3790.0000-1002021",
            "build_unknown", KMSDIAG_EPID_WARN);
  only_rule("03612-00999-560-000000-03-1033-17763.0000-1002021",
            "group_unknown", KMSDIAG_EPID_WARN);
  only_rule("03612-04918-020-030000-03-1033-26100.0000-1002025",
            "key_id_out_of_range", KMSDIAG_EPID_WARN);
  only_rule("03612-00206-100-000000-03-1033-17763.0000-1002021",
            "key_id_out_of_range", KMSDIAG_EPID_INFO);
  only_rule("06401-04918-000-030000-03-1033-9600.0000-1002025",
            "csvlk_host_os", KMSDIAG_EPID_WARN);
  only_rule("03612-00206-395-000000-03-1033-17763.0000-1002021",
            "client_os_host", KMSDIAG_EPID_INFO);
  only_rule("03612-00206-560-000000-02-1033-17763.0000-1002021", "channel",
            KMSDIAG_EPID_WARN);
  only_rule("03612-00206-560-000000-03-1024-17763.0000-1002021",
            "lcid_invalid", KMSDIAG_EPID_WARN);
  only_rule("03612-00206-560-000000-03-0-17763.0000-1002021", "lcid_invalid",
            KMSDIAG_EPID_WARN);
  only_rule("03612-00206-560-000000-03-1033-17763.0000-0002021", "day_zero",
            KMSDIAG_EPID_ERROR);
  only_rule("03612-00206-560-000000-03-1033-17763.0000-4002021", "day_range",
            KMSDIAG_EPID_ERROR);
  only_rule("03612-00206-560-000000-03-1033-17763.0000-3672024", "day_range",
            KMSDIAG_EPID_ERROR);
  only_rule("03612-00206-560-000000-03-1033-17763.0000-3662023",
            "day_not_in_year", KMSDIAG_EPID_ERROR);
  only_rule("03612-00206-560-000000-03-1033-17763.0000-1002005", "year_range",
            KMSDIAG_EPID_ERROR);
  only_rule("03612-00206-560-000000-03-1033-17763.0000-1002030",
            "date_future", KMSDIAG_EPID_ERROR);
  only_rule("03612-00206-560-000000-03-1033-17763.0000-1002017",
            "date_before_build", KMSDIAG_EPID_WARN);
  only_rule("03612-00206-560-000000-03-1033-17763.0001-1002021", "suffix",
            KMSDIAG_EPID_WARN);

  /* the base itself is clean */
  CHECK_EQ(P(BASE, &e), KMSDIAG_OK);
  CHECK_EQ(e.n_problems, 0);

  /* day 0 of a future year: both rules */
  CHECK_EQ(P("03612-00206-560-000000-03-1033-17763.0000-0002099", &e),
           KMSDIAG_OK);
  CHECK(find_rule(&e, "day_zero") && find_rule(&e, "date_future"));
  CHECK(!e.date_ok);

  /* "now" decides the future: 2026-11-22 is day 326; one day of slack */
  CHECK_EQ(P("03612-00206-560-000000-03-1033-17763.0000-3262026", &e),
           KMSDIAG_OK);
  CHECK(find_rule(&e, "date_future") == NULL);
  CHECK_EQ(P("03612-00206-560-000000-03-1033-17763.0000-3272026", &e),
           KMSDIAG_OK);
  CHECK(find_rule(&e, "date_future") == NULL);
  CHECK_EQ(P("03612-00206-560-000000-03-1033-17763.0000-3282026", &e),
           KMSDIAG_OK);
  CHECK(find_rule(&e, "date_future") != NULL);
  {
    const char *s = "03612-00206-560-000000-03-1033-17763.0000-1002030";
    /* the same ePID is fine once "now" is 2031 */
    CHECK_EQ(kmsdiag_epid_parse_at(s, strlen(s), INT64_C(1924992000), &e),
             KMSDIAG_OK); /* 2031-01-01 */
    CHECK_EQ(e.n_problems, 0);
    /* extreme clocks do not break the arithmetic */
    CHECK_EQ(kmsdiag_epid_parse_at(s, strlen(s), INT64_MIN, &e), KMSDIAG_OK);
    CHECK(find_rule(&e, "date_future") != NULL);
    CHECK_EQ(kmsdiag_epid_parse_at(s, strlen(s), INT64_MAX, &e), KMSDIAG_OK);
    CHECK(find_rule(&e, "date_future") == NULL);
    /* the real clock: 2030 is still in the future for this test suite's
     * lifetime only if the clock is before 2030; just check it runs */
    CHECK_EQ(kmsdiag_epid_parse(s, strlen(s), &e), KMSDIAG_OK);
  }
}

static void syntax_at(const char *s, size_t off, const char *has) {
  kmsdiag_epid_t e;
  CHECK_EQ(P(s, &e), KMSDIAG_EPARSE);
  CHECK(!e.syntax_ok);
  CHECK_EQ(e.err_offset, off);
  CHECK_EQ(e.n_problems, 1);
  CHECK_STR(e.problems[0].rule, "syntax");
  if (!strstr(e.problems[0].message, has))
    fprintf(stderr, "message '%s' lacks '%s'\n", e.problems[0].message, has);
  CHECK(strstr(e.problems[0].message, has) != NULL);
  /* values are not reported for an invalid ePID */
  CHECK_EQ(e.platform_id, 0);
  CHECK(e.csvlk == NULL && e.host_os == NULL);
}

static void test_syntax(void) {
  kmsdiag_epid_t e;
  syntax_at("0640-00206-558-040878-03-1051-9600.0000-1912021", 0,
            "platform ID");
  syntax_at("064011-00206-558-040878-03-1051-9600.0000-1912021", 0,
            "platform ID");
  syntax_at("06401_00206-558-040878-03-1051-9600.0000-1912021", 5,
            "after the platform ID");
  syntax_at("06401-0020x-558-040878-03-1051-9600.0000-1912021", 6,
            "CSVLK group ID");
  syntax_at("06401-00206-55-040878-03-1051-9600.0000-1912021", 12, "key ID");
  syntax_at("06401-00206-558-04087-03-1051-9600.0000-1912021", 16, "key ID");
  syntax_at("06401-00206-558-040878-3-1051-9600.0000-1912021", 23,
            "license channel");
  syntax_at("06401-00206-558-040878-03--9600.0000-1912021", 26, "LCID");
  syntax_at("06401-00206-558-040878-03-123456-9600.0000-1912021", 26, "LCID");
  syntax_at("06401-00206-558-040878-03-1051-9600-1912021", 35,
            "after the host build");
  syntax_at("06401-00206-558-040878-03-1051-9600.000-1912021", 36,
            "build suffix");
  syntax_at("06401-00206-558-040878-03-1051-9600.0000-191202", 41,
            "activation date");
  syntax_at("06401-00206-558-040878-03-1051-9600.0000-19120210", 41,
            "activation date");
  syntax_at("06401-00206-558-040878-03-1051-9600.0000", 40, "build suffix");
  syntax_at("hello", 0, "platform ID");
  /* control bytes are named by value, never copied into the message */
  syntax_at("06401\x1b[31m", 5, "byte 0x1B");
  syntax_at("06401-\xff", 6, "byte 0xFF");

  /* empty, NULL, blanks only */
  CHECK_EQ(P("", &e), KMSDIAG_EPARSE);
  CHECK_STR(e.problems[0].rule, "syntax");
  CHECK_EQ(kmsdiag_epid_parse_at(NULL, 0, NOW, &e), KMSDIAG_EPARSE);
  CHECK_EQ(kmsdiag_epid_parse_at(NULL, 3, NOW, &e), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_epid_parse_at("x", 1, NOW, NULL), KMSDIAG_EINVAL);
  CHECK_EQ(P(" \t\r\n", &e), KMSDIAG_EPARSE);

  /* embedded NUL */
  static const char nul[] = "06401-00206\0-558-040878-03-1051-9600.0000-1912021";
  CHECK_EQ(kmsdiag_epid_parse_at(nul, sizeof nul - 1, NOW, &e), KMSDIAG_EPARSE);
  CHECK_STR(e.problems[0].rule, "embedded_nul");
  CHECK_EQ(e.err_offset, 11);

  /* too long: 64 characters, and a megabyte */
  CHECK_EQ(P("06401-00206-558-040878-03-1051-9600.0000-1912021-0000000000000000",
             &e),
           KMSDIAG_ETOOBIG);
  CHECK_STR(e.problems[0].rule, "too_long");
  CHECK_EQ(e.text_len, KMSDIAG_EPID_MAX_LEN);
  size_t big = 1u << 20;
  char *b = malloc(big);
  CHECK(b != NULL);
  if (b) {
    memset(b, '7', big);
    CHECK_EQ(kmsdiag_epid_parse_at(b, big, NOW, &e), KMSDIAG_ETOOBIG);
    CHECK_EQ(e.input_len, big);
    CHECK_EQ(e.text_len, KMSDIAG_EPID_MAX_LEN);
    CHECK_EQ(strlen(e.text), KMSDIAG_EPID_MAX_LEN);
    CHECK_EQ(e.n_problems, 1);
    free(b);
  }
  /* exactly 63 characters is not too long (it is a syntax error here) */
  CHECK_EQ(P("06401-00206-558-040878-03-1051-9600.0000-1912021-00000000000000",
             &e),
           KMSDIAG_EPARSE);
  /* widest valid form: 5-digit LCID and build, 51 characters */
  CHECK_EQ(P("03612-00206-562-856904-03-12289-26100.0000-0902026", &e),
           KMSDIAG_OK);
}

/* Problem messages are printable ASCII whatever the input was. */
static void test_messages_safe(void) {
  static const char *const inputs[] = {
      "\x1b]0;pwned\x07", "06401-\x9b" "31m", "\xe2\x80\xae" "1234",
      "12345-99999-999-999999-99-99999-99999.9999-9999999",
      "00000-00000-000-000000-00-0-0.0000-0000000",
  };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    kmsdiag_epid_t e;
    P(inputs[i], &e);
    CHECK(e.n_problems >= 1);
    for (size_t k = 0; k < e.n_problems; k++)
      for (const char *c = e.problems[k].message; *c; c++)
        CHECK(*c >= 0x20 && *c < 0x7f);
  }
  /* everything wrong at once: the list is capped, the rest counted */
  kmsdiag_epid_t e;
  CHECK_EQ(P("00000-00000-000-000000-00-0-0.0001-0000000", &e), KMSDIAG_OK);
  CHECK(e.n_problems >= 7);
  CHECK(e.n_problems <= KMSDIAG_EPID_MAX_PROBLEMS);
  CHECK(find_rule(&e, "platform_unknown") && find_rule(&e, "group_unknown") &&
        find_rule(&e, "channel") && find_rule(&e, "lcid_invalid") &&
        find_rule(&e, "day_zero") && find_rule(&e, "year_range") &&
        find_rule(&e, "suffix"));
  CHECK(kmsdiag_epid_has_problem(&e, KMSDIAG_EPID_ERROR));
  CHECK(!kmsdiag_epid_has_problem(NULL, KMSDIAG_EPID_INFO));
}

static const kmsdiag_product_t *prod(const char *name) {
  const kmsdiag_product_t *p[1];
  size_t n;
  if (kmsdiag_product_find(name, p, 1, &n) != KMSDIAG_OK) {
    fprintf(stderr, "no single product for %s\n", name);
    return NULL;
  }
  return p[0];
}

static void verdict(const char *epid, const char *product, const char *query,
                    kmsdiag_activation_answer_t want, bool verified) {
  kmsdiag_epid_t e;
  kmsdiag_activation_verdict_t v;
  const kmsdiag_product_t *p = prod(product);
  CHECK(p != NULL);
  if (!p)
    return;
  P(epid, &e);
  kmsdiag_line_mask_t lines =
      query ? kmsdiag_product_query_lines(p, query) : 0;
  CHECK_EQ(kmsdiag_epid_can_activate_lines(&e, p, lines, &v), KMSDIAG_OK);
  if (v.answer != want)
    fprintf(stderr, "%s / %s: got %s (%s)\n", epid, product,
            kmsdiag_activation_answer_name(v.answer), v.reason);
  CHECK_EQ(v.answer, want);
  CHECK(v.reason[0] != '\0');
  if (want == KMSDIAG_ACTIVATE_NO || want == KMSDIAG_ACTIVATE_PARTLY) {
    CHECK_EQ_U64(v.hresult, 0xC004F042u);
    CHECK(strstr(v.reason, "0xC004F042") || want == KMSDIAG_ACTIVATE_PARTLY);
  } else {
    CHECK_EQ(v.hresult, 0);
  }
  if (want != KMSDIAG_ACTIVATE_UNKNOWN)
    CHECK_EQ(v.verified, verified);
  if (want == KMSDIAG_ACTIVATE_YES)
    CHECK(v.lines_yes != 0 && v.lines_no == 0);
  if (want == KMSDIAG_ACTIVATE_NO)
    CHECK(v.lines_yes == 0 && v.lines_no != 0);
}

#define WS2019_ON_2012R2 "06401-00206-558-040878-03-1051-9600.0000-1912021"
#define WS2012R2_KEY "06401-00206-290-000000-03-1033-9600.0000-1002015"
#define WS2012R2_W10_KEY "06401-00206-410-000000-03-1033-9600.0000-1002016"
#define WIN10_KEY "03612-00206-395-000000-03-1033-17763.0000-1002021"
#define WS2022_KEY "03612-04573-010-000000-03-1033-20348.0000-1002022"
#define WS2025_KEY "03612-04918-010-000000-03-1033-26100.0000-1002025"
#define OFFICE2010_KEY "06401-00096-204-917321-03-1063-9600.0000-0252023"

static void test_can_activate(void) {
  kmsdiag_activation_verdict_t v;
  kmsdiag_epid_t e;
  /* a 2012 R2 host without the Windows 10 key cannot activate Windows 11 */
  verdict(WS2012R2_KEY, "Windows 10/11 Enterprise", "windows 11 enterprise",
          KMSDIAG_ACTIVATE_NO, false);
  verdict(WS2012R2_KEY, "Windows 10/11 Enterprise", "windows 10 enterprise",
          KMSDIAG_ACTIVATE_NO, false);
  verdict(WS2012R2_KEY, "Windows Server 2012 R2 Standard", NULL,
          KMSDIAG_ACTIVATE_YES, false);
  /* ... with the "for Windows 10" key it activates Windows 10 only */
  verdict(WS2012R2_W10_KEY, "Windows 10/11 Enterprise",
          "windows 10 enterprise", KMSDIAG_ACTIVATE_YES, false);
  verdict(WS2012R2_W10_KEY, "Windows 10/11 Enterprise",
          "windows 11 enterprise", KMSDIAG_ACTIVATE_NO, false);
  /* WS2019 host key: no Windows 11 per Microsoft's table */
  verdict(WS2019_ON_2012R2, "Windows 10/11 Pro", "windows 11 pro",
          KMSDIAG_ACTIVATE_NO, true);
  verdict(WS2019_ON_2012R2, "Windows 10/11 Pro", "windows 10 pro",
          KMSDIAG_ACTIVATE_YES, true);
  verdict(WS2019_ON_2012R2, "Windows 10/11 Pro", NULL,
          KMSDIAG_ACTIVATE_PARTLY, true);
  verdict(WS2019_ON_2012R2, "Windows Server 2016 Datacenter", NULL,
          KMSDIAG_ACTIVATE_YES, true);
  verdict(WS2019_ON_2012R2, "Windows Server 2022 Standard", NULL,
          KMSDIAG_ACTIVATE_NO, false); /* WS2022 row is unverified */
  /* Windows 8 and Vista are in no row of Microsoft's table: for its host
   * keys the answer is unknown, not NO (and no remedy is offered); an
   * assumed list that names them says YES, unverified */
  verdict(WS2019_ON_2012R2, "Windows 8 Pro", NULL, KMSDIAG_ACTIVATE_UNKNOWN,
          false);
  verdict(WS2012R2_KEY, "Windows 8 Pro", NULL, KMSDIAG_ACTIVATE_YES, false);
  /* a Windows host key never activates Office */
  verdict(WS2019_ON_2012R2, "Office 2019", NULL, KMSDIAG_ACTIVATE_NO, true);
  /* a client-OS host cannot activate a server product */
  verdict(WIN10_KEY, "Windows Server 2019 Standard", NULL,
          KMSDIAG_ACTIVATE_NO, true);
  verdict(WIN10_KEY, "Windows 10/11 Education", "windows 10 education",
          KMSDIAG_ACTIVATE_YES, true);
  verdict(WIN10_KEY, "Windows 7 Professional", NULL, KMSDIAG_ACTIVATE_YES,
          true);
  /* WS2022 / WS2025 keys */
  verdict(WS2022_KEY, "Windows 10/11 Enterprise", NULL, KMSDIAG_ACTIVATE_YES,
          true);
  verdict(WS2022_KEY, "Windows Server 2025 Standard", NULL,
          KMSDIAG_ACTIVATE_NO, false);
  verdict(WS2022_KEY, "windows 11 enterprise ltsc",
          "windows 11 enterprise ltsc", KMSDIAG_ACTIVATE_NO, true);
  verdict(WS2022_KEY, "windows 10 enterprise ltsc 2021",
          "windows 10 enterprise ltsc 2021", KMSDIAG_ACTIVATE_YES, true);
  verdict(WS2025_KEY, "windows 11 enterprise ltsc",
          "windows 11 enterprise ltsc", KMSDIAG_ACTIVATE_YES, true);
  verdict(WS2025_KEY, "Windows Server 2008 R2 Web", NULL,
          KMSDIAG_ACTIVATE_YES, true);
  /* an Office-only host refuses Windows */
  verdict(OFFICE2010_KEY, "Windows 10/11 Enterprise", NULL,
          KMSDIAG_ACTIVATE_NO, false);
  verdict(OFFICE2010_KEY, "Office 2010", NULL, KMSDIAG_ACTIVATE_YES, false);
  /* unknown: host key not identified, or not an ePID */
  verdict("03612-00999-560-000000-03-1033-17763.0000-1002021",
          "Windows Server 2019 Standard", NULL, KMSDIAG_ACTIVATE_UNKNOWN,
          false);
  verdict("06401-00206-242-670460-03-1063-9600.0000-2132016",
          "Office 2013", NULL, KMSDIAG_ACTIVATE_UNKNOWN, false);
  verdict("garbage", "Windows Server 2019 Standard", NULL,
          KMSDIAG_ACTIVATE_UNKNOWN, false);

  P(WS2019_ON_2012R2, &e);
  CHECK_EQ(kmsdiag_epid_can_activate(&e, NULL, &v), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_epid_can_activate(NULL, prod("Windows 8 Pro"), &v),
           KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_epid_can_activate(&e, prod("Windows 8 Pro"), NULL),
           KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_epid_can_activate(&e, prod("Windows Server 2022 Standard"),
                                     &v),
           KMSDIAG_OK);
  CHECK_EQ(v.answer, KMSDIAG_ACTIVATE_NO);
  CHECK(v.csvlk == e.csvlk);
  CHECK_EQ(kmsdiag_csvlk_can_activate(NULL, prod("Windows 8 Pro"), 0, &v),
           KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_csvlk_can_activate(e.csvlk, NULL, 0, &v), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_csvlk_can_activate(e.csvlk, prod("Windows 8 Pro"), 0,
                                      NULL),
           KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_product_host_keys(NULL, 0, KMSDIAG_ACTIVATE_YES, NULL, 0),
           0);
  CHECK_STR(kmsdiag_activation_answer_name(KMSDIAG_ACTIVATE_PARTLY), "partly");
  CHECK_STR(kmsdiag_activation_answer_name((kmsdiag_activation_answer_t)9),
            "unknown");
  CHECK_STR(kmsdiag_epid_severity_name(KMSDIAG_EPID_WARN), "warning");
}

/* Lines missing from Microsoft's host key table (facts 2.1 lists neither
 * Windows 8 nor Vista in any row): the answer of its host keys is
 * UNKNOWN, unverified, with no 0xC004F042 and no remedy that cannot work
 * (a newer host key does not help: even the newest one's row omits them). */
static void test_unlisted_lines(void) {
  static const char *const keys[] = {WS2025_KEY, WS2022_KEY, WS2019_ON_2012R2,
                                     WIN10_KEY};
  static const char *const products[] = {
      "Windows 8 Pro", "Windows 8 Enterprise N", "Windows Vista Business",
      "Windows Vista Enterprise"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    for (size_t k = 0; k < sizeof products / sizeof products[0]; k++) {
      kmsdiag_epid_t e;
      kmsdiag_activation_verdict_t v;
      const kmsdiag_product_t *p = prod(products[k]);
      CHECK(p != NULL);
      if (!p)
        continue;
      CHECK_EQ(P(keys[i], &e), KMSDIAG_OK);
      CHECK(e.csvlk && e.csvlk->confidence == KMSDIAG_CONF_MS);
      CHECK_EQ(kmsdiag_epid_can_activate(&e, p, &v), KMSDIAG_OK);
      if (v.answer != KMSDIAG_ACTIVATE_UNKNOWN)
        fprintf(stderr, "%s / %s: %s: %s\n", keys[i], products[k],
                kmsdiag_activation_answer_name(v.answer), v.reason);
      CHECK_EQ(v.answer, KMSDIAG_ACTIVATE_UNKNOWN);
      CHECK_EQ(v.hresult, 0);
      CHECK(!v.verified);
      CHECK(v.lines_unknown == p->lines && v.lines_no == 0 &&
            v.lines_yes == 0);
      CHECK(strstr(v.reason, "does not list") != NULL);
      CHECK(strstr(v.reason, "not known") != NULL);
      CHECK(strstr(v.reason, "install") == NULL);
      CHECK(strstr(v.reason, "newer") == NULL);
      CHECK(strstr(v.reason, "0xC004F042") == NULL);
    }
  /* a line Microsoft's table lists for other keys stays a verified NO */
  verdict(WS2019_ON_2012R2, "Windows Server 2025 Standard", NULL,
          KMSDIAG_ACTIVATE_NO, false);
  {
    kmsdiag_epid_t e;
    kmsdiag_activation_verdict_t v;
    CHECK_EQ(P(WS2019_ON_2012R2, &e), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_epid_can_activate_lines(
                 &e, prod("Windows 10/11 Pro"),
                 KMSDIAG_LINE_BIT(KMSDIAG_LINE_WIN11), &v),
             KMSDIAG_OK);
    CHECK_EQ(v.answer, KMSDIAG_ACTIVATE_NO);
    CHECK(v.verified);
    /* the remedy names host keys that do activate Windows 11 */
    CHECK(strstr(v.reason, "Windows Server 2025") != NULL);
    CHECK(v.lines_unknown == 0);
  }
}

/* The product's host key list (kmsdiag_product_host_keys(), which
 * "kms-info product" prints) against can-activate: for every product,
 * every line subset a query can name (all lines, each single line) and
 * every host key, the key is listed as YES exactly when an ePID of that
 * key gets YES from kmsdiag_epid_can_activate_lines(), likewise PARTLY and
 * UNKNOWN. Keys an ePID cannot identify (no key-ID range in a shared
 * group: Office 2013-2021) are compared through
 * kmsdiag_csvlk_can_activate(), the same decision without the ePID. */
static void test_host_keys_agree(void) {
  size_t identified = 0, compared = 0;
  static const kmsdiag_activation_answer_t answers[] = {
      KMSDIAG_ACTIVATE_YES, KMSDIAG_ACTIVATE_PARTLY, KMSDIAG_ACTIVATE_UNKNOWN,
      KMSDIAG_ACTIVATE_NO};
  for (size_t c = 0; c < kmsdiag_csvlk_count(); c++) {
    const kmsdiag_csvlk_t *k = kmsdiag_csvlk_at(c);
    uint32_t key = k->has_key_range ? k->key_id_min : 0;
    if (kmsdiag_csvlk_identify(k->group_id, key) == k)
      identified++;
  }
  CHECK(identified >= 14);
  for (size_t i = 0; i < kmsdiag_product_count(); i++) {
    const kmsdiag_product_t *p = kmsdiag_product_at(i);
    for (unsigned l = 0; l <= KMSDIAG_LINE_COUNT_; l++) {
      kmsdiag_line_mask_t lines =
          l == KMSDIAG_LINE_COUNT_ ? 0 : KMSDIAG_LINE_BIT(l);
      const kmsdiag_csvlk_t *listed[4][64];
      size_t nlisted[4];
      if (lines && !(p->lines & lines))
        continue;
      for (size_t a = 0; a < 4; a++) {
        nlisted[a] = kmsdiag_product_host_keys(p, lines, answers[a],
                                               listed[a], 64);
        CHECK(nlisted[a] <= 64);
      }
      CHECK_EQ(nlisted[0] + nlisted[1] + nlisted[2] + nlisted[3],
               kmsdiag_csvlk_count());
      for (size_t c = 0; c < kmsdiag_csvlk_count(); c++) {
        const kmsdiag_csvlk_t *k = kmsdiag_csvlk_at(c);
        kmsdiag_activation_verdict_t v;
        uint32_t key = k->has_key_range ? k->key_id_min : 0;
        if (kmsdiag_csvlk_identify(k->group_id, key) == k) {
          char epid[80];
          kmsdiag_epid_t e;
          uint32_t build = k->host_builds[0] ? k->host_builds[0] : 17763;
          snprintf(epid, sizeof epid,
                   "%05u-%05u-%03u-%06u-03-1033-%u.0000-1002024",
                   (unsigned)kmsdiag_platform_id_for_build(build),
                   (unsigned)k->group_id, (unsigned)(key / 1000000u),
                   (unsigned)(key % 1000000u), (unsigned)build);
          CHECK_EQ(P(epid, &e), KMSDIAG_OK);
          CHECK(e.csvlk == k);
          CHECK_EQ(kmsdiag_epid_can_activate_lines(&e, p, lines, &v),
                   KMSDIAG_OK);
        } else {
          CHECK_EQ(kmsdiag_csvlk_can_activate(k, p, lines, &v), KMSDIAG_OK);
        }
        compared++;
        /* every reason fits its buffer, and the 300 characters other
         * modules quote of it */
        if (strlen(v.reason) >= 300)
          fprintf(stderr, "%s / %s: reason of %zu bytes\n", p->name, k->name,
                  strlen(v.reason));
        CHECK(strlen(v.reason) < 300);
        for (size_t a = 0; a < 4; a++) {
          bool in = false;
          for (size_t x = 0; x < nlisted[a] && x < 64; x++)
            in |= listed[a][x] == k;
          if (in != (v.answer == answers[a]))
            fprintf(stderr, "%s / %s (lines %#x): listed %s=%d, verdict %s\n",
                    p->name, k->name, (unsigned)lines,
                    kmsdiag_activation_answer_name(answers[a]), in,
                    kmsdiag_activation_answer_name(v.answer));
          CHECK_EQ(in, v.answer == answers[a]);
        }
      }
    }
  }
  CHECK(compared > 1000);
  /* the case of the audit: Windows 10 Pro is activated by the WS2019 key
   * (and the WS2016 and Windows 10 keys), not only by the 2025 and 2022
   * keys that also cover Windows 11 */
  {
    const kmsdiag_product_t *p = prod("Windows 10/11 Pro");
    const kmsdiag_csvlk_t *k[64];
    size_t n;
    bool ws2019 = false;
    CHECK(p != NULL);
    if (!p)
      return;
    n = kmsdiag_product_host_keys(
        p, kmsdiag_product_query_lines(p, "windows 10 pro"),
        KMSDIAG_ACTIVATE_YES, k, 64);
    for (size_t i = 0; i < n; i++)
      ws2019 |= strcmp(k[i]->name, "Windows Server 2019") == 0;
    CHECK(ws2019 && n >= 5);
    n = kmsdiag_product_host_keys(p, 0, KMSDIAG_ACTIVATE_PARTLY, k, 64);
    ws2019 = false;
    for (size_t i = 0; i < n; i++)
      ws2019 |= strcmp(k[i]->name, "Windows Server 2019") == 0;
    CHECK(ws2019);
  }
}

static void test_json(void) {
  kmsdiag_json_t *j;
  kmsdiag_epid_t e;
  kmsdiag_activation_verdict_t v;
  const char *t;
  CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
  P(WS2019_ON_2012R2, &e);
  kmsdiag_epid_can_activate(&e, prod("Windows Server 2022 Standard"), &v);
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_epid_write_json(j, "epid", &e);
  kmsdiag_activation_verdict_write_json(j, "verdict", &v);
  kmsdiag_json_object_end(j);
  kmsdiag_json_endline(j);
  P("06401\x1b\"x", &e);
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_epid_write_json(j, "epid", &e);
  kmsdiag_epid_write_json(j, "none", NULL);
  kmsdiag_json_object_end(j);
  kmsdiag_json_endline(j);
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_OK);
  t = kmsdiag_json_text(j, NULL);
  CHECK(strstr(t, "\"host_build\":9600") != NULL);
  CHECK(strstr(t, "\"activation_date\":\"2021-07-10\"") != NULL);
  CHECK(strstr(t, "\"name\":\"Windows Server 2019\"") != NULL);
  CHECK(strstr(t, "\"answer\":\"no\"") != NULL);
  CHECK(strstr(t, "\"hresult\":\"0xC004F042\"") != NULL);
  CHECK(strstr(t, "\"epid\":\"06401\\u001b\\\"x\"") != NULL);
  CHECK(strstr(t, "\"valid\":false,\"platform_id\":null") != NULL);
  CHECK(strstr(t, "\"rule\":\"syntax\"") != NULL);
  CHECK(strstr(t, "\"none\":null") != NULL);
  CHECK(strchr(t, '\x1b') == NULL);
  kmsdiag_json_free(j);
}

int main(void) {
  test_fields();
  test_interop();
  test_rules();
  test_syntax();
  test_messages_safe();
  test_can_activate();
  test_unlisted_lines();
  test_host_keys_agree();
  test_json();
  return check_finish();
}
