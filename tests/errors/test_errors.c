/* test_errors.c: the error catalogue (every entry complete, sorted, no
 * duplicates, lookups), decoding, code parsing in every pasted form and
 * garbage, search, and the JSON members. */
#include <stdlib.h>

#include <kmsdiag/kmsdiag.h>

#include "check.h"

static bool nonempty(const char *s) { return s && s[0] != '\0'; }

static size_t list_len(const char *const *l) {
  size_t n = 0;
  while (l && l[n])
    n++;
  return n;
}

static void test_table(void) {
  size_t n = kmsdiag_error_count();
  CHECK(n >= 50);
  CHECK(kmsdiag_error_at(n) == NULL);
  CHECK(kmsdiag_error_at((size_t)-1) == NULL);
  for (size_t i = 0; i < n; i++) {
    const kmsdiag_error_entry_t *e = kmsdiag_error_at(i);
    CHECK(e != NULL);
    if (!e)
      continue;
    /* Ascending, hence no duplicate codes (lookup is a binary search). */
    if (i > 0 && !(kmsdiag_error_at(i - 1)->code < e->code)) {
      fprintf(stderr, "entry %zu (0x%08X) out of order or duplicate\n", i,
              (unsigned)e->code);
      CHECK(0);
    }
    CHECK(kmsdiag_error_lookup(e->code) == e);
    CHECK(nonempty(e->message));
    CHECK(nonempty(e->source));
    CHECK(e->name == NULL || nonempty(e->name));
    CHECK(e->layers != 0);
    CHECK((e->layers >> KMSDIAG_ERRLAYER_COUNT) == 0);
    CHECK((e->flags & ~KMSDIAG_ERRF_UNVERIFIED) == 0);
    CHECK(e->causes != NULL && e->remedies != NULL);
    /* Every entry has a remedy; only entries the references leave open
     * (flagged unverified) may lack causes. */
    CHECK(list_len(e->remedies) >= 1);
    if (list_len(e->causes) == 0 && !(e->flags & KMSDIAG_ERRF_UNVERIFIED)) {
      fprintf(stderr, "0x%08X: no causes but not flagged unverified\n",
              (unsigned)e->code);
      CHECK(0);
    }
    for (size_t k = 0; e->causes && e->causes[k]; k++)
      CHECK(nonempty(e->causes[k]));
    for (size_t k = 0; e->remedies && e->remedies[k]; k++)
      CHECK(nonempty(e->remedies[k]));
    /* A name, when given, is an identifier (no spaces). */
    if (e->name)
      CHECK(strchr(e->name, ' ') == NULL);
    /* Win32 names for HRESULT_FROM_WIN32 codes are never SL_ names. */
    if ((e->code >> 16) == 0x8007u && e->name)
      CHECK(strncmp(e->name, "SL_", 3) != 0);
    if ((e->code >> 16) == 0xC004u && e->name)
      CHECK(strncmp(e->name, "SL_", 3) == 0);
  }
  /* Codes the issue names explicitly. */
  static const uint32_t required[] = {
      0xC004F074, 0xC004F038, 0xC004F039, 0xC004F041, 0xC004F042, 0xC004F06C,
      0xC004F06B, 0xC004F035, 0xC004C008, 0xC004C003, 0xC004D104, 0x8007232A,
      0x8007232B, 0x8007251D, 0x8007007B, 0x80092328, 0x800706BA, 0x80070005,
      0x8007000D, 0x1C010003, 0x1C01000B, 0x8007274C, 0x8007274D, 0x80072751,
      0x80072EE7, 0x80072F8F, 0x80072338, 0xC0020017, 0x8007139F, 0x8004FE21,
      0x80070490, 0x8007071C};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    if (!kmsdiag_error_lookup(required[i])) {
      fprintf(stderr, "missing 0x%08X\n", (unsigned)required[i]);
      CHECK(0);
    }
  }
  CHECK(kmsdiag_error_lookup(0x12345678u) == NULL);
  CHECK(kmsdiag_error_lookup(0) == NULL);
  CHECK(kmsdiag_error_lookup(0xFFFFFFFFu) == NULL);
  /* Spot checks of content against the facts file. */
  const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(0xC004F074u);
  CHECK(e && e->name && strcmp(e->name, "SL_E_VL_BINDING_SERVICE_UNAVAILABLE") == 0);
  CHECK(e && (e->layers & KMSDIAG_ERRLAYER_DNS) &&
        (e->layers & KMSDIAG_ERRLAYER_TCP) &&
        (e->layers & KMSDIAG_ERRLAYER_KMS_RESPONSE));
  CHECK(e && !(e->flags & KMSDIAG_ERRF_UNVERIFIED));
  e = kmsdiag_error_lookup(0x8007232Bu);
  CHECK(e && e->name && strcmp(e->name, "DNS_ERROR_RCODE_NAME_ERROR") == 0);
  CHECK(e && e->layers == KMSDIAG_ERRLAYER_DNS);
  e = kmsdiag_error_lookup(0xC004F06Cu);
  CHECK(e && e->layers == KMSDIAG_ERRLAYER_KMS_RESPONSE);
  bool has_w32tm = false;
  for (size_t k = 0; e && e->remedies[k]; k++)
    has_w32tm |= strstr(e->remedies[k], "w32tm /resync") != NULL;
  CHECK(has_w32tm);
  e = kmsdiag_error_lookup(0x1C010003u);
  CHECK(e && e->name && strcmp(e->name, "nca_unk_if") == 0);
  CHECK(e && e->layers == KMSDIAG_ERRLAYER_RPC);
  /* Flagged [?] in the facts file -> unverified. */
  static const uint32_t unverified[] = {0xC004F069, 0xC004E016, 0xC004F059,
                                        0xC004F05F, 0xC004F012, 0xC004D302,
                                        0x80072EE7, 0x80072F8F};
  for (size_t i = 0; i < sizeof unverified / sizeof unverified[0]; i++) {
    e = kmsdiag_error_lookup(unverified[i]);
    CHECK(e && (e->flags & KMSDIAG_ERRF_UNVERIFIED));
  }
}

/* Every code of the facts file's section 3 is in the catalogue, with the
 * symbolic name the facts give, and unverified where the facts flag it.
 * The codes are bundled (tests/errors/facts-codes.tsv, see its header), so
 * this holds without the facts file; kms_error_cli.py compares the list
 * with the facts file when that is present. */
static void test_facts_codes(void) {
  FILE *f = fopen("tests/errors/facts-codes.tsv", "r");
  char line[256];
  size_t rows = 0, flagged = 0;
  CHECK(f != NULL);
  if (!f)
    return;
  while (fgets(line, sizeof line, f)) {
    char code[16], name[96], flag[8];
    const kmsdiag_error_entry_t *e;
    char *end;
    unsigned long v;
    if (line[0] == '#' || line[0] == '\n')
      continue;
    if (sscanf(line, "%15[^\t]\t%95[^\t]\t%7s", code, name, flag) != 3) {
      fprintf(stderr, "facts-codes.tsv: bad line %s", line);
      CHECK(0);
      continue;
    }
    rows++;
    v = strtoul(code, &end, 16);
    CHECK(*end == '\0' && strlen(code) == 10 && v <= 0xFFFFFFFFul);
    e = kmsdiag_error_lookup((uint32_t)v);
    if (!e) {
      fprintf(stderr, "facts section 3 code %s is not in the catalogue\n",
              code);
      CHECK(0);
      continue;
    }
    if (strcmp(name, "-") != 0 && (!e->name || strcmp(e->name, name) != 0)) {
      fprintf(stderr, "%s: catalogue name %s, facts %s\n", code,
              e->name ? e->name : "(none)", name);
      CHECK(0);
    }
    if (strcmp(flag, "yes") == 0) {
      flagged++;
      if (!(e->flags & KMSDIAG_ERRF_UNVERIFIED))
        fprintf(stderr, "%s: flagged in the facts, not unverified\n", code);
      CHECK(e->flags & KMSDIAG_ERRF_UNVERIFIED);
    } else {
      CHECK_STR(flag, "no");
    }
  }
  fclose(f);
  CHECK_EQ(rows, 49);
  CHECK_EQ(flagged, 9);
}

static void test_layers(void) {
  CHECK_STR(kmsdiag_error_layer_name(KMSDIAG_ERRLAYER_DNS), "dns");
  CHECK_STR(kmsdiag_error_layer_name(KMSDIAG_ERRLAYER_TCP), "tcp");
  CHECK_STR(kmsdiag_error_layer_name(KMSDIAG_ERRLAYER_RPC), "rpc");
  CHECK_STR(kmsdiag_error_layer_name(KMSDIAG_ERRLAYER_KMS_RESPONSE),
            "kms-response");
  CHECK_STR(kmsdiag_error_layer_name(KMSDIAG_ERRLAYER_HOST_SIDE), "host-side");
  CHECK_STR(kmsdiag_error_layer_name(KMSDIAG_ERRLAYER_CLIENT_ONLY),
            "client-only");
  CHECK_STR(kmsdiag_error_layer_name(KMSDIAG_ERRLAYER_ONLINE_ACTIVATION),
            "online-activation");
  CHECK(kmsdiag_error_layer_name(0) == NULL);
  CHECK(kmsdiag_error_layer_name(3) == NULL);
  CHECK(kmsdiag_error_layer_name(1u << KMSDIAG_ERRLAYER_COUNT) == NULL);
}

static void test_decode(void) {
  kmsdiag_error_info_t d;
  kmsdiag_error_decode(0xC004F074u, &d);
  CHECK_STR(d.severity, "error");
  CHECK_EQ(d.format, KMSDIAG_ERRFMT_HRESULT);
  CHECK_STR(d.format_name, "hresult");
  CHECK(d.failure && d.reserved_bit && !d.customer && !d.nt_bit);
  CHECK_EQ(d.facility, 4);
  CHECK_STR(d.facility_name, "ITF");
  CHECK_EQ(d.code_field, 0xF074);
  CHECK(d.is_sl);
  CHECK(!d.is_win32);

  kmsdiag_error_decode(0x800706BAu, &d);
  CHECK_EQ(d.facility, 7);
  CHECK_STR(d.facility_name, "WIN32");
  CHECK(d.is_win32);
  CHECK_EQ(d.win32_code, 1722);
  CHECK(!d.is_sl);
  CHECK(!d.reserved_bit);

  kmsdiag_error_decode(0x8007232Bu, &d);
  CHECK_EQ(d.win32_code, 9003);

  kmsdiag_error_decode(0x80092328u, &d);
  CHECK_EQ(d.facility, 9);
  CHECK_STR(d.facility_name, "SECURITY");
  CHECK(!d.is_win32);

  kmsdiag_error_decode(0x80072EE7u, &d);
  CHECK_EQ(d.win32_code, 12007);

  kmsdiag_error_decode(0x4004F065u, &d);
  CHECK_STR(d.severity, "informational");
  CHECK(d.is_sl);
  CHECK(!d.failure);
  CHECK_EQ(d.format, KMSDIAG_ERRFMT_HRESULT);

  kmsdiag_error_decode(0xC0020017u, &d);
  CHECK_EQ(d.format, KMSDIAG_ERRFMT_NTSTATUS);
  CHECK_EQ(d.facility, 2);
  CHECK_STR(d.facility_name, "RPC_RUNTIME");
  CHECK(!d.is_sl);

  kmsdiag_error_decode(0xD0000022u, &d);
  CHECK_EQ(d.format, KMSDIAG_ERRFMT_HRESULT_FROM_NT);
  CHECK_EQ_U64(d.ntstatus, 0xC0000022u);
  CHECK(d.nt_bit);

  kmsdiag_error_decode(0x1C010003u, &d);
  CHECK_EQ(d.format, KMSDIAG_ERRFMT_NCA);
  CHECK_STR(d.facility_name, "NCA");
  CHECK_EQ(d.code_field, 3);

  kmsdiag_error_decode(0x000006BAu, &d);
  CHECK_EQ(d.format, KMSDIAG_ERRFMT_WIN32);
  CHECK(d.is_win32);
  CHECK_EQ(d.win32_code, 1722);

  kmsdiag_error_decode(0, &d);
  CHECK_STR(d.severity, "success");
  CHECK_EQ(d.win32_code, 0);

  kmsdiag_error_decode(0xA0001234u, &d); /* customer bit */
  CHECK(d.customer);
  CHECK_EQ(d.facility, 0);
  CHECK_STR(d.facility_name, "NULL");

  kmsdiag_error_decode(0x87FF0001u, &d); /* facility not in the name list */
  CHECK_EQ(d.facility, 0x7FF);
  CHECK(d.facility_name == NULL);

  CHECK_EQ_U64(kmsdiag_error_hresult_from_win32(1722), 0x800706BAu);
  CHECK_EQ_U64(kmsdiag_error_hresult_from_win32(0), 0);
  CHECK_EQ_U64(kmsdiag_error_hresult_from_win32(0xC004F074u), 0xC004F074u);
}

static void parse_ok(const char *text, uint32_t want,
                     kmsdiag_error_input_form_t want_form) {
  uint32_t v = 0xDEADBEEF;
  kmsdiag_error_input_form_t f = (kmsdiag_error_input_form_t)-1;
  const char *why = "unset";
  kmsdiag_status_t st = kmsdiag_error_parse_code_ex(text, &v, &f, &why);
  if (st != KMSDIAG_OK || v != want || f != want_form) {
    fprintf(stderr, "parse \"%s\": st=%d v=0x%08X form=%d why=%s\n", text,
            (int)st, (unsigned)v, (int)f, why ? why : "-");
    CHECK(0);
  } else {
    CHECK(why == NULL);
  }
  uint32_t v2 = 0;
  CHECK_EQ(kmsdiag_error_parse_code(text, &v2), KMSDIAG_OK);
  CHECK_EQ_U64(v2, want);
}

static void parse_bad(const char *text) {
  uint32_t v = 0x5A5A5A5A;
  const char *why = NULL;
  kmsdiag_status_t st = kmsdiag_error_parse_code_ex(text, &v, NULL, &why);
  if (st != KMSDIAG_EPARSE || v != 0x5A5A5A5A || !why) {
    fprintf(stderr, "parse \"%s\" should fail: st=%d v=0x%08X\n", text,
            (int)st, (unsigned)v);
    CHECK(0);
  } else {
    CHECK(why[0] != '\0');
  }
}

static void test_parse(void) {
  parse_ok("0xC004F074", 0xC004F074u, KMSDIAG_ERRIN_HEX_PREFIXED);
  parse_ok("0XC004F074", 0xC004F074u, KMSDIAG_ERRIN_HEX_PREFIXED);
  parse_ok("0xc004f074", 0xC004F074u, KMSDIAG_ERRIN_HEX_PREFIXED);
  parse_ok("0x00000000C004F074", 0xC004F074u, KMSDIAG_ERRIN_HEX_PREFIXED);
  parse_ok("C004F074", 0xC004F074u, KMSDIAG_ERRIN_HEX_BARE);
  parse_ok("c004f074", 0xC004F074u, KMSDIAG_ERRIN_HEX_BARE);
  parse_ok("80070005", 0x80070005u, KMSDIAG_ERRIN_HEX_BARE);
  parse_ok("3221549172", 0xC004F074u, KMSDIAG_ERRIN_DECIMAL);
  parse_ok("4294967295", 0xFFFFFFFFu, KMSDIAG_ERRIN_DECIMAL);
  parse_ok("-1073418124", 0xC004F074u, KMSDIAG_ERRIN_NEGATIVE);
  parse_ok("-1073418174", 0xC004F042u, KMSDIAG_ERRIN_NEGATIVE);
  parse_ok("-2147483648", 0x80000000u, KMSDIAG_ERRIN_NEGATIVE);
  parse_ok("-1", 0xFFFFFFFFu, KMSDIAG_ERRIN_NEGATIVE);
  parse_ok("-0", 0, KMSDIAG_ERRIN_NEGATIVE);
  parse_ok("9003", 0x8007232Bu, KMSDIAG_ERRIN_WIN32);
  parse_ok("1722", 0x800706BAu, KMSDIAG_ERRIN_WIN32);
  parse_ok("65535", 0x8007FFFFu, KMSDIAG_ERRIN_WIN32);
  parse_ok("65536", 0x00010000u, KMSDIAG_ERRIN_DECIMAL);
  parse_ok("0x6BA", 0x800706BAu, KMSDIAG_ERRIN_WIN32);
  parse_ok("0x000006C0", 0x800706C0u, KMSDIAG_ERRIN_WIN32);
  parse_ok("0", 0, KMSDIAG_ERRIN_DECIMAL);
  parse_ok("0x0", 0, KMSDIAG_ERRIN_HEX_PREFIXED);
  parse_ok("1C010003", 0x1C010003u, KMSDIAG_ERRIN_HEX_BARE);

  parse_bad("");
  parse_bad("0x");
  parse_bad("0X");
  parse_bad("0xG");
  parse_bad("0x1G");
  parse_bad("0x100000000");
  parse_bad("99999999999");
  parse_bad("4294967296");
  parse_bad("-2147483649");
  parse_bad("-99999999999999999999");
  parse_bad("-");
  parse_bad("--1");
  parse_bad("-0x1");
  parse_bad("+1722");
  parse_bad("12abc");
  parse_bad("C004F07");   /* 7 hex digits without prefix */
  parse_bad("C004F0744"); /* 9 */
  parse_bad(" 0x1");
  parse_bad("0x1 ");
  parse_bad("1722 ");
  parse_bad("0xC004F074h");
  parse_bad("1e3");
  parse_bad("1.5");
  parse_bad("\xff\xfe");
  parse_bad("0x\xc3\xa9");
  /* 65 characters: too long even if they are all zeros. */
  char big[KMSDIAG_ERROR_CODE_TEXT_MAX + 2];
  memset(big, '0', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  parse_bad(big);
  big[1] = 'x';
  parse_bad(big);
  /* 64 characters is still accepted. */
  big[KMSDIAG_ERROR_CODE_TEXT_MAX] = '\0';
  parse_ok(big, 0, KMSDIAG_ERRIN_HEX_PREFIXED);

  uint32_t v;
  CHECK_EQ(kmsdiag_error_parse_code(NULL, &v), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_error_parse_code("1", NULL), KMSDIAG_EINVAL);
}

static bool has_code(const kmsdiag_error_entry_t **hits, size_t n,
                     uint32_t code) {
  for (size_t i = 0; i < n; i++)
    if (hits[i]->code == code)
      return true;
  return false;
}

static void test_search(void) {
  size_t n = kmsdiag_error_count(), found = 99;
  const kmsdiag_error_entry_t **hits = calloc(n, sizeof *hits);
  CHECK(hits != NULL);
  if (!hits)
    return;

  CHECK_EQ(kmsdiag_error_search("timestamp", hits, n, &found), KMSDIAG_OK);
  CHECK(found >= 1 && has_code(hits, found, 0xC004F06Cu));

  /* All words must match, case-insensitively, across fields. */
  CHECK_EQ(kmsdiag_error_search("DNS  NAME\tdoes", hits, n, &found), KMSDIAG_OK);
  CHECK(has_code(hits, found, 0x8007232Bu));
  CHECK(!has_code(hits, found, 0xC004F06Cu));

  /* By code text, with and without 0x, and by Win32 decimal. */
  CHECK_EQ(kmsdiag_error_search("c004f074", hits, n, &found), KMSDIAG_OK);
  CHECK(found >= 1 && found <= 3 && has_code(hits, found, 0xC004F074u));
  CHECK_EQ(kmsdiag_error_search("0x800706BA", hits, n, &found), KMSDIAG_OK);
  CHECK(found >= 1 && found <= 3 && has_code(hits, found, 0x800706BAu));
  CHECK_EQ(kmsdiag_error_search("1722", hits, n, &found), KMSDIAG_OK);
  CHECK(has_code(hits, found, 0x800706BAu));

  /* By layer name and by a command in the remedies. */
  CHECK_EQ(kmsdiag_error_search("online-activation", hits, n, &found), KMSDIAG_OK);
  CHECK(found >= 5 && has_code(hits, found, 0xC004C008u));
  for (size_t i = 0; i < found; i++)
    CHECK(hits[i]->layers & KMSDIAG_ERRLAYER_ONLINE_ACTIVATION);
  CHECK_EQ(kmsdiag_error_search("w32tm", hits, n, &found), KMSDIAG_OK);
  CHECK(has_code(hits, found, 0xC004F06Cu));

  /* Nothing matches. */
  CHECK_EQ(kmsdiag_error_search("dns zzzqqq", hits, n, &found), KMSDIAG_OK);
  CHECK_EQ(found, 0);

  /* found counts past max; out may be NULL when max is 0. */
  size_t all_dns;
  CHECK_EQ(kmsdiag_error_search("dns", hits, n, &all_dns), KMSDIAG_OK);
  CHECK(all_dns >= 5);
  CHECK_EQ(kmsdiag_error_search("dns", NULL, 0, &found), KMSDIAG_OK);
  CHECK_EQ(found, all_dns);
  CHECK_EQ(kmsdiag_error_search("dns", hits, 2, &found), KMSDIAG_OK);
  CHECK_EQ(found, all_dns);

  /* Bad queries. */
  CHECK_EQ(kmsdiag_error_search("", hits, n, &found), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_error_search(" \t\n", hits, n, &found), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_error_search(NULL, hits, n, &found), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_error_search("dns", hits, n, NULL), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_error_search("dns", NULL, 3, &found), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_error_search("a b c d e f g h i j k l m n o p q", hits, n,
                                &found),
           KMSDIAG_ETOOBIG);
  CHECK_EQ(kmsdiag_error_search("a b c d e f g h i j k l m n o p", hits, n,
                                &found),
           KMSDIAG_OK);
  char *long_q = malloc(KMSDIAG_ERROR_SEARCH_MAX_LEN + 2);
  if (long_q) {
    memset(long_q, 'a', KMSDIAG_ERROR_SEARCH_MAX_LEN + 1);
    long_q[KMSDIAG_ERROR_SEARCH_MAX_LEN + 1] = '\0';
    CHECK_EQ(kmsdiag_error_search(long_q, hits, n, &found), KMSDIAG_ETOOBIG);
    long_q[KMSDIAG_ERROR_SEARCH_MAX_LEN] = '\0';
    CHECK_EQ(kmsdiag_error_search(long_q, hits, n, &found), KMSDIAG_OK);
    CHECK_EQ(found, 0);
    free(long_q);
  }
  free(hits);
}

static void test_generic_remedy(void) {
  char buf[256];
  CHECK(kmsdiag_error_generic_remedy(0x80071234u, 0, buf, sizeof buf) > 0);
  CHECK(strstr(buf, "slui.exe 0x2a 0x80071234") != NULL);
  CHECK(kmsdiag_error_generic_remedy(0x80071234u, 1, buf, sizeof buf) > 0);
  CHECK(strstr(buf, "net helpmsg 4660") != NULL);
  CHECK_EQ(kmsdiag_error_generic_remedy(0x80071234u, 2, buf, sizeof buf), 0);
  CHECK_STR(buf, "");
  CHECK_EQ(kmsdiag_error_generic_remedy(0xC004FFFFu, 1, buf, sizeof buf), 0);
  /* Truncation behaves like snprintf. */
  size_t need = kmsdiag_error_generic_remedy(0xC004FFFFu, 0, NULL, 0);
  CHECK(need > 10);
  CHECK_EQ(kmsdiag_error_generic_remedy(0xC004FFFFu, 0, buf, 5), need);
  CHECK_EQ(strlen(buf), 4);
}

static void test_json(void) {
  kmsdiag_json_t *j = NULL;
  CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
  if (!j)
    return;
  CHECK_EQ(kmsdiag_error_write_json(j, NULL, 0xC004F074u), KMSDIAG_OK);
  const char *t = kmsdiag_json_text(j, NULL);
  CHECK(strncmp(t, "{\"type\":\"error_code\",\"code\":\"0xC004F074\",\"known\":true,"
                   "\"name\":\"SL_E_VL_BINDING_SERVICE_UNAVAILABLE\"",
                60) == 0);
  CHECK(strstr(t, "\"layer\":\"dns\"") != NULL);
  CHECK(strstr(t, "\"layers\":[\"dns\",\"tcp\",\"kms-response\"]") != NULL);
  CHECK(strstr(t, "\"software_licensing\":true") != NULL);
  CHECK(strstr(t, "\"win32\":null") != NULL);
  kmsdiag_json_reset(j);

  CHECK_EQ(kmsdiag_error_write_json(j, NULL, 0x80071234u), KMSDIAG_OK);
  t = kmsdiag_json_text(j, NULL);
  CHECK(strstr(t, "\"known\":false") != NULL);
  CHECK(strstr(t, "\"name\":null") != NULL);
  CHECK(strstr(t, "\"message\":null") != NULL);
  CHECK(strstr(t, "\"layer\":null") != NULL);
  CHECK(strstr(t, "\"causes\":[]") != NULL);
  CHECK(strstr(t, "net helpmsg 4660") != NULL);
  CHECK(strstr(t, "\"win32\":4660") != NULL);
  CHECK(strstr(t, "\"facility_name\":\"WIN32\"") != NULL);
  kmsdiag_json_reset(j);

  /* Inside another record, under a key. */
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", "probe");
  CHECK_EQ(kmsdiag_error_write_json(j, "hresult", 0xC004F042u), KMSDIAG_OK);
  kmsdiag_json_object_end(j);
  kmsdiag_json_endline(j);
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_OK);
  t = kmsdiag_json_text(j, NULL);
  CHECK(strstr(t, "\"hresult\":{\"type\":\"error_code\",\"code\":\"0xC004F042\"") != NULL);
  kmsdiag_json_reset(j);

  /* Misuse is reported, not crashed on: a keyless value inside an object. */
  kmsdiag_json_object_begin(j, NULL);
  CHECK(kmsdiag_error_write_json(j, NULL, 1) != KMSDIAG_OK);
  CHECK_EQ(kmsdiag_error_write_json(NULL, NULL, 1), KMSDIAG_EINVAL);
  kmsdiag_json_free(j);
}

int main(void) {
  test_table();
  test_facts_codes();
  test_layers();
  test_decode();
  test_parse();
  test_search();
  test_generic_remedy();
  test_json();
  return check_finish();
}
