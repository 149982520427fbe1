/* test_core.c: status names, GUID and FILETIME helpers, text escaping,
 * JSON writer misuse handling, the log hook. */
#include <stdlib.h>

#include <kmsdiag/kmsdiag.h>

#include "check.h"

static void test_status(void) {
  CHECK_STR(kmsdiag_strerror(KMSDIAG_OK), "success");
  for (int s = 0; s < KMSDIAG_STATUS_COUNT_; s++) {
    CHECK(strcmp(kmsdiag_strerror((kmsdiag_status_t)s), "unknown status") != 0);
    CHECK(strncmp(kmsdiag_status_name((kmsdiag_status_t)s), "KMSDIAG_", 8) == 0);
    CHECK(strcmp(kmsdiag_status_name((kmsdiag_status_t)s), "KMSDIAG_UNKNOWN") != 0);
  }
  CHECK_STR(kmsdiag_strerror((kmsdiag_status_t)9999), "unknown status");
  CHECK_STR(kmsdiag_strerror((kmsdiag_status_t)-1), "unknown status");
  CHECK_STR(kmsdiag_status_name(KMSDIAG_ETRUNC), "KMSDIAG_ETRUNC");
  CHECK_EQ(KMSDIAG_EKMSREFUSED, 28); /* numbers are never changed */
}

static void test_guid(void) {
  /* The KMS RPC interface UUID, as it appears on the wire. */
  const uint8_t wire[16] = {0x75, 0x21, 0xc8, 0x51, 0x4e, 0x84, 0x50, 0x47,
                            0xb0, 0xd8, 0xec, 0x25, 0x55, 0x55, 0xbc, 0x06};
  kmsdiag_guid_t g, p;
  char s[KMSDIAG_GUID_STRLEN];
  uint8_t back[16];
  kmsdiag_guid_from_wire(&g, wire);
  CHECK_STR(kmsdiag_guid_to_str(&g, s), "51c82175-844e-4750-b0d8-ec255555bc06");
  CHECK_EQ(kmsdiag_guid_parse(&p, "{51C82175-844E-4750-B0D8-EC255555BC06}"),
           KMSDIAG_OK);
  CHECK(kmsdiag_guid_equal(&g, &p));
  kmsdiag_guid_to_wire(&p, back);
  CHECK_MEM(back, wire, 16);
  CHECK_EQ(kmsdiag_guid_parse(&p, "51c82175-844e-4750-b0d8-ec255555bc0"),
           KMSDIAG_EPARSE);
  CHECK_EQ(kmsdiag_guid_parse(&p, "51c82175x844e-4750-b0d8-ec255555bc06"),
           KMSDIAG_EPARSE);
  CHECK_EQ(kmsdiag_guid_parse(&p, "51c82175-844e-4750-b0d8-ec255555bcg6"),
           KMSDIAG_EPARSE);
  CHECK(!kmsdiag_guid_is_null(&g));
  memset(&g, 0, sizeof g);
  CHECK(kmsdiag_guid_is_null(&g));
}

static void test_filetime(void) {
  char b[32];
  uint32_t ns;
  CHECK_EQ(kmsdiag_filetime_to_unix(KMSDIAG_FILETIME_UNIX_EPOCH, &ns), 0);
  CHECK_EQ(ns, 0);
  /* 2026-11-22 02:50:25 UTC = 1795315825 */
  uint64_t ft = kmsdiag_filetime_from_unix(1795315825, 0);
  CHECK_STR(kmsdiag_filetime_to_str(ft, b, sizeof b), "2026-11-22T02:50:25Z");
  CHECK_EQ(kmsdiag_filetime_to_unix(ft + 5, &ns), 1795315825);
  CHECK_EQ(ns, 500);
  CHECK_STR(kmsdiag_filetime_to_str(0, b, sizeof b), "1601-01-01T00:00:00Z");
  CHECK_EQ(kmsdiag_filetime_to_unix(0, NULL), -11644473600LL);
  CHECK_STR(kmsdiag_filetime_to_str(0x7FFFFFFFFFFFFFFFull, b, sizeof b),
            "30828-09-14T02:48:05Z");
  CHECK_EQ_U64(kmsdiag_filetime_from_unix(-11644473601LL, 0), 0);
}

static void esc(const char *in, size_t len, const char *want) {
  char out[256];
  size_t need = kmsdiag_text_escape(out, sizeof out, in, len);
  CHECK_STR(out, want);
  CHECK_EQ(need, strlen(want));
}

static void test_escape(void) {
  esc("ws01.corp", 9, "ws01.corp");
  esc("a\\b", 3, "a\\\\b");
  esc("\x1b[31mred", 8, "\\x1b[31mred");
  esc("nul\0x", 5, "nul\\x00x");
  esc("tab\there\n", 9, "tab\\x09here\\x0a");
  esc("\x7f", 1, "\\x7f");
  esc("caf\xc3\xa9", 5, "caf\xc3\xa9");              /* valid UTF-8 kept */
  esc("\xc2\x9b" "2J", 4, "\\xc2\\x9b2J");            /* C1 CSI */
  esc("\xe2\x80\xae" "txt", 6, "\\xe2\\x80\\xaetxt"); /* RLO bidi */
  esc("\xff\xfe", 2, "\\xff\\xfe");                   /* invalid */
  esc("\xc0\xaf", 2, "\\xc0\\xaf");                   /* overlong */
  esc("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");          /* surrogate */
  esc("\xe2\x82", 2, "\\xe2\\x82");                   /* truncated */
  /* truncation like snprintf */
  char small[5];
  CHECK_EQ(kmsdiag_text_escape(small, sizeof small, "\x1b\x1b", 2), 8);
  CHECK_STR(small, "\\x1b");
  char *d = kmsdiag_text_escape_dup("\x01", 1);
  CHECK_STR(d, "\\x01");
  free(d);
  d = kmsdiag_text_escape_dup(NULL, 5);
  CHECK_STR(d, "");
  free(d);
}

static void test_json_misuse(void) {
  kmsdiag_json_t *j;
  CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, NULL, "value without key");
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_ESTATE);
  kmsdiag_json_reset(j);
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_array_begin(j, "a");
  kmsdiag_json_object_end(j); /* wrong closer */
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_ESTATE);
  kmsdiag_json_reset(j);
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_endline(j); /* unfinished */
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_ESTATE);
  kmsdiag_json_reset(j);
  for (int i = 0; i < 100; i++)
    kmsdiag_json_array_begin(j, NULL);
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_ELIMIT);
  kmsdiag_json_reset(j);
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", "x");
  kmsdiag_json_hex32(j, "code", 0xC004F074u);
  kmsdiag_json_double(j, "nan", 0.0 / 0.0);
  kmsdiag_json_double(j, "ms", 1.543);
  kmsdiag_json_double(j, "third", 1.0 / 3.0);
  kmsdiag_json_object_end(j);
  kmsdiag_json_endline(j);
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_OK);
  CHECK_STR(kmsdiag_json_text(j, NULL),
            "{\"type\":\"x\",\"code\":\"0xC004F074\",\"nan\":null,"
            "\"ms\":1.543,\"third\":0.3333333333333333}\n");
  kmsdiag_json_free(j);
  kmsdiag_json_free(NULL);
}

static int log_calls;
static void log_cb(kmsdiag_log_level_t l, const char *m, void *ud) {
  (void)l;
  (void)m;
  (void)ud;
  log_calls++;
}

static void test_version_log(void) {
  CHECK_STR(kmsdiag_version(), KMSDIAG_VERSION_STR);
  CHECK_EQ(kmsdiag_version_number(), KMSDIAG_VERSION);
  kmsdiag_set_log(log_cb, NULL, KMSDIAG_LOG_DEBUG);
  kmsdiag_set_log(NULL, NULL, KMSDIAG_LOG_DEBUG);
  CHECK_EQ(log_calls, 0);
  CHECK_STR(kmsdiag_log_level_name(KMSDIAG_LOG_INFO), "info");
}

int main(void) {
  test_status();
  test_guid();
  test_filetime();
  test_escape();
  test_json_misuse();
  test_version_log();
  return check_finish();
}
