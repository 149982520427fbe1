/* epid.c: parse and check a KMS host ePID, and decide whether the host it
 * names can activate a product.
 *
 *   PPPPP-GGGGG-KKK-KKKKKK-CC-LCID-BUILD.0000-DDDYYYY
 *
 * The input is untrusted: it is scanned once with an index checked against
 * its length (at most KMSDIAG_EPID_MAX_LEN bytes after trimming), and no
 * input byte is ever copied into a problem message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <kmsdiag/kmsdiag_epid.h>

#include "tables.h"

#define HR_ID_MISMATCH 0xC004F042u /* SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH */
/* KMS shipped with Windows Vista / Server 2008. */
#define FIRST_KMS_YEAR 2006

const char *kmsdiag_epid_severity_name(kmsdiag_epid_severity_t s) {
  switch (s) {
  case KMSDIAG_EPID_INFO: return "info";
  case KMSDIAG_EPID_WARN: return "warning";
  case KMSDIAG_EPID_ERROR: return "error";
  }
  return "unknown";
}

const char *kmsdiag_activation_answer_name(kmsdiag_activation_answer_t a) {
  switch (a) {
  case KMSDIAG_ACTIVATE_UNKNOWN: return "unknown";
  case KMSDIAG_ACTIVATE_YES: return "yes";
  case KMSDIAG_ACTIVATE_NO: return "no";
  case KMSDIAG_ACTIVATE_PARTLY: return "partly";
  }
  return "unknown";
}

static void add_problem(kmsdiag_epid_t *e, kmsdiag_epid_severity_t sev,
                        const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_problem(kmsdiag_epid_t *e, kmsdiag_epid_severity_t sev,
                        const char *rule, const char *fmt, ...) {
  va_list ap;
  kmsdiag_epid_problem_t *p;
  if (e->n_problems >= KMSDIAG_EPID_MAX_PROBLEMS) {
    e->n_problems_dropped++;
    return;
  }
  p = &e->problems[e->n_problems++];
  p->severity = sev;
  p->rule = rule;
  va_start(ap, fmt);
  vsnprintf(p->message, sizeof p->message, fmt, ap);
  va_end(ap);
}

bool kmsdiag_epid_has_problem(const kmsdiag_epid_t *e,
                              kmsdiag_epid_severity_t at_least) {
  if (!e)
    return false;
  for (size_t i = 0; i < e->n_problems && i < KMSDIAG_EPID_MAX_PROBLEMS; i++)
    if (e->problems[i].severity >= at_least)
      return true;
  return false;
}

/* ---- dates ---------------------------------------------------------------- */

static bool is_leap(uint32_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Day of year (1-based, valid for the year) to month and day. */
static void yday_to_date(uint32_t year, uint32_t yday, uint32_t *month,
                         uint32_t *mday) {
  static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  uint32_t d = yday, m = 0;
  for (; m < 12; m++) {
    uint32_t n = dim[m] + (m == 1 && is_leap(year) ? 1u : 0u);
    if (d <= n)
      break;
    d -= n;
  }
  *month = m + 1;
  *mday = d;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 1). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

char *kmsdiag_epid_date_str(const kmsdiag_epid_t *e, char *buf,
                            size_t bufsz) {
  if (!buf || bufsz == 0)
    return buf;
  buf[0] = '\0';
  if (e && e->syntax_ok && e->date_ok)
    snprintf(buf, bufsz, "%04u-%02u-%02u", (unsigned)e->year,
             (unsigned)e->month, (unsigned)e->mday);
  return buf;
}

/* ---- syntax --------------------------------------------------------------- */

typedef struct cursor {
  const char *s;
  size_t len, pos;
  kmsdiag_epid_t *e;
  bool failed;
} cursor_t;

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* What is at offset `at`, for a message: never the raw byte unless it is
 * a harmless ASCII letter, digit or punctuation we expect. */
static void describe_at(const cursor_t *c, size_t at, char *buf, size_t n) {
  if (at >= c->len) {
    snprintf(buf, n, "the end of the text");
    return;
  }
  unsigned char b = (unsigned char)c->s[at];
  if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || is_digit(b) ||
      b == '-' || b == '.' || b == ' ')
    snprintf(buf, n, "'%c'", b);
  else
    snprintf(buf, n, "byte 0x%02X", b);
}

/* A field starting at `start` is wrong; `bad` is the offending offset. */
static void syntax_error(cursor_t *c, size_t start, size_t bad,
                         const char *what, const char *expect) {
  char found[32];
  if (c->failed)
    return;
  describe_at(c, bad, found, sizeof found);
  c->failed = true;
  c->e->err_offset = start;
  if (bad == start)
    add_problem(c->e, KMSDIAG_EPID_ERROR, "syntax",
                "%s at offset %zu: expected %s, found %s", what, start,
                expect, found);
  else
    add_problem(c->e, KMSDIAG_EPID_ERROR, "syntax",
                "%s at offset %zu: expected %s, found %s at offset %zu", what,
                start, expect, found, bad);
}

/* Between min and max decimal digits. */
static uint32_t digits(cursor_t *c, size_t min, size_t max, const char *what) {
  uint32_t v = 0;
  size_t n = 0, start = c->pos;
  char expect[48];
  if (c->failed)
    return 0;
  while (c->pos < c->len && is_digit((unsigned char)c->s[c->pos]) &&
         n < max) {
    v = v * 10 + (uint32_t)(c->s[c->pos] - '0');
    c->pos++;
    n++;
  }
  if (min == max)
    snprintf(expect, sizeof expect, "%zu digit%s", min, min == 1 ? "" : "s");
  else
    snprintf(expect, sizeof expect, "%zu to %zu digits", min, max);
  if (n < min || (c->pos < c->len && is_digit((unsigned char)c->s[c->pos]))) {
    syntax_error(c, start, c->pos, what, expect);
    return 0;
  }
  return v;
}

static void expect_char(cursor_t *c, char ch, const char *after) {
  char what[64], expect[8];
  if (c->failed)
    return;
  if (c->pos < c->len && c->s[c->pos] == ch) {
    c->pos++;
    return;
  }
  snprintf(what, sizeof what, "separator after the %s", after);
  snprintf(expect, sizeof expect, "'%c'", ch);
  syntax_error(c, c->pos, c->pos, what, expect);
}

/* ---- value checks --------------------------------------------------------- */

static bool csvlk_installs_on(const kmsdiag_csvlk_t *k, uint32_t build) {
  for (size_t i = 0; i < sizeof k->host_builds / sizeof k->host_builds[0] &&
                     k->host_builds[i];
       i++) {
    if (k->host_builds[i] == build)
      return true;
    /* in a client-OS key's list, 10240 stands for every Windows 10/11
     * build */
    if (k->client_os_host && k->host_builds[i] == 10240 && build >= 10240)
      return true;
  }
  return false;
}

static void builds_text(const kmsdiag_csvlk_t *k, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof k->host_builds / sizeof k->host_builds[0] &&
                     k->host_builds[i] && used < n;
       i++) {
    int w = snprintf(buf + used, n - used, "%s%u%s", i ? ", " : "",
                     (unsigned)k->host_builds[i],
                     k->client_os_host && k->host_builds[i] == 10240 ? "+"
                                                                     : "");
    if (w < 0)
      break;
    used += (size_t)w;
  }
}

static void check_values(kmsdiag_epid_t *e, int64_t now) {
  const kmsdiag_host_os_t *os;
  uint32_t want_pid;

  /* platform ID and build */
  e->platform_name = kmsdiag_platform_name(e->platform_id);
  os = e->host_os = kmsdiag_host_os_by_build(e->build);
  want_pid = kmsdiag_platform_id_for_build(e->build);
  if (!e->platform_name)
    add_problem(e, KMSDIAG_EPID_ERROR, "platform_unknown",
                "platform ID %05u is none of the host OS platform IDs KMS "
                "hosts send (55041, 05426, 06401, 03612)",
                (unsigned)e->platform_id);
  else if (want_pid && want_pid != e->platform_id)
    add_problem(e, KMSDIAG_EPID_WARN, "platform_build_mismatch",
                "platform ID %05u (%s) does not go with host build %u, "
                "which has platform ID %05u",
                (unsigned)e->platform_id, e->platform_name,
                (unsigned)e->build, (unsigned)want_pid);
  if (!os) {
    if (e->build < 6000)
      add_problem(e, KMSDIAG_EPID_WARN, "build_unknown",
                  "host build %u is older than Windows Vista / Server 2008 "
                  "(build 6000)",
                  (unsigned)e->build);
    else
      add_problem(e, KMSDIAG_EPID_INFO, "build_unknown",
                  "host build %u is not in the table of known KMS host "
                  "builds",
                  (unsigned)e->build);
  }

  /* license channel, LCID */
  if (e->channel != 3)
    add_problem(e, KMSDIAG_EPID_WARN, "channel",
                "license channel %02u; a KMS host key always has 03 (volume)",
                (unsigned)e->channel);
  for (size_t i = 0; i < kd_lcids_n; i++)
    if (kd_lcids[i].lcid == e->lcid)
      e->lcid_name = kd_lcids[i].tag;
  if (e->lcid == 0 || (e->lcid & 0x3ffu) == 0 || e->lcid > 0xfffffu)
    add_problem(e, KMSDIAG_EPID_WARN, "lcid_invalid",
                "LCID %u is not a valid Windows locale ID", (unsigned)e->lcid);

  /* host key */
  e->csvlk = kmsdiag_csvlk_identify(e->group_id, e->key_id);
  if (!kmsdiag_csvlk_by_group_id(e->group_id, 0)) {
    add_problem(e, KMSDIAG_EPID_WARN, "group_unknown",
                "CSVLK group ID %05u is not a known host key group",
                (unsigned)e->group_id);
  } else if (!e->csvlk) {
    if (kmsdiag_csvlk_group_has_unlisted(e->group_id))
      add_problem(e, KMSDIAG_EPID_INFO, "key_id_out_of_range",
                  "key ID %09u is outside the known key-ID ranges of group "
                  "%05u; it may be a host key whose range is not in our "
                  "tables (Office)",
                  (unsigned)e->key_id, (unsigned)e->group_id);
    else
      add_problem(e, KMSDIAG_EPID_WARN, "key_id_out_of_range",
                  "key ID %09u is outside the key-ID ranges of group %05u",
                  (unsigned)e->key_id, (unsigned)e->group_id);
  } else {
    if (e->csvlk->host_builds[0] && !csvlk_installs_on(e->csvlk, e->build)) {
      char b[96];
      builds_text(e->csvlk, b, sizeof b);
      add_problem(e, KMSDIAG_EPID_WARN, "csvlk_host_os",
                  "the %s host key installs only on builds %s; this host "
                  "reports build %u",
                  e->csvlk->name, b, (unsigned)e->build);
    }
    if (e->csvlk->client_os_host)
      add_problem(e, KMSDIAG_EPID_INFO, "client_os_host",
                  "a %s host key runs on a Windows client OS and activates "
                  "Windows client editions only",
                  e->csvlk->name);
  }

  /* activation date */
  {
    /* floor division; no negation, so INT64_MIN is fine */
    int64_t now_days = now / 86400 - (now % 86400 < 0 ? 1 : 0);
    int64_t ny;
    unsigned nm, nd;
    civil_from_days(now_days, &ny, &nm, &nd);
    if (e->day_of_year == 0)
      add_problem(e, KMSDIAG_EPID_ERROR, "day_zero",
                  "activation day of year is 000; days count from 001");
    else if (e->day_of_year > 366)
      add_problem(e, KMSDIAG_EPID_ERROR, "day_range",
                  "activation day of year %03u is above 366",
                  (unsigned)e->day_of_year);
    else if (e->day_of_year == 366 && !is_leap(e->year))
      add_problem(e, KMSDIAG_EPID_ERROR, "day_not_in_year",
                  "activation day 366 of %04u, which is not a leap year",
                  (unsigned)e->year);
    else {
      e->date_ok = true;
      yday_to_date(e->year, e->day_of_year, &e->month, &e->mday);
    }
    if (e->year < FIRST_KMS_YEAR)
      add_problem(e, KMSDIAG_EPID_ERROR, "year_range",
                  "activation year %04u is before KMS existed (Windows Vista, "
                  "2006)",
                  (unsigned)e->year);
    if (e->date_ok) {
      int64_t d = days_from_civil(e->year, e->month, e->mday);
      /* one day of slack: the host writes its local date */
      if (d > now_days + 1)
        add_problem(e, KMSDIAG_EPID_ERROR, "date_future",
                    "activation date %04u-%02u-%02u is in the future (now is "
                    "%04lld-%02u-%02u)",
                    (unsigned)e->year, (unsigned)e->month, (unsigned)e->mday,
                    (long long)ny, nm, nd);
    } else if ((int64_t)e->year > ny) {
      add_problem(e, KMSDIAG_EPID_ERROR, "date_future",
                  "activation year %04u is in the future (now is %04lld)",
                  (unsigned)e->year, (long long)ny);
    }
    if (os && e->year >= FIRST_KMS_YEAR && e->year < os->release_year)
      add_problem(e, KMSDIAG_EPID_WARN, "date_before_build",
                  "activated in %04u, before build %u (%s) was released "
                  "(about %u)",
                  (unsigned)e->year, (unsigned)e->build, os->name,
                  (unsigned)os->release_year);
  }
  if (e->build_suffix != 0)
    add_problem(e, KMSDIAG_EPID_WARN, "suffix",
                "the build is followed by .%04u; hosts write .0000",
                (unsigned)e->build_suffix);
}

static bool is_blank(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

kmsdiag_status_t kmsdiag_epid_parse_at(const char *text, size_t len,
                                       int64_t now, kmsdiag_epid_t *out) {
  cursor_t c;
  const void *nul;
  if (!out)
    return KMSDIAG_EINVAL;
  memset(out, 0, sizeof *out);
  if (!text && len)
    return KMSDIAG_EINVAL;
  if (!text)
    text = "";
  out->input_len = len;
  while (len && is_blank((unsigned char)text[0])) {
    text++;
    len--;
  }
  while (len && (is_blank((unsigned char)text[len - 1]) || text[len - 1] == 0))
    len--;
  out->text_len = len < KMSDIAG_EPID_MAX_LEN ? len : KMSDIAG_EPID_MAX_LEN;
  memcpy(out->text, text, out->text_len);
  out->text[out->text_len] = '\0';
  if (len > KMSDIAG_EPID_MAX_LEN) {
    add_problem(out, KMSDIAG_EPID_ERROR, "too_long",
                "the ePID is %zu bytes long; a KMS host sends at most %d "
                "characters",
                len, KMSDIAG_EPID_MAX_LEN);
    return KMSDIAG_ETOOBIG;
  }
  nul = memchr(text, 0, len);
  if (nul) {
    out->err_offset = (size_t)((const char *)nul - text);
    add_problem(out, KMSDIAG_EPID_ERROR, "embedded_nul",
                "a NUL byte at offset %zu inside the ePID", out->err_offset);
    return KMSDIAG_EPARSE;
  }
  if (len == 0) {
    add_problem(out, KMSDIAG_EPID_ERROR, "syntax", "the ePID is empty");
    return KMSDIAG_EPARSE;
  }

  c.s = text;
  c.len = len;
  c.pos = 0;
  c.e = out;
  c.failed = false;
  uint32_t k1, k2, date;
  out->platform_id = digits(&c, 5, 5, "platform ID");
  expect_char(&c, '-', "platform ID");
  out->group_id = digits(&c, 5, 5, "CSVLK group ID");
  expect_char(&c, '-', "CSVLK group ID");
  k1 = digits(&c, 3, 3, "key ID (first 3 digits)");
  expect_char(&c, '-', "key ID (first 3 digits)");
  k2 = digits(&c, 6, 6, "key ID (last 6 digits)");
  expect_char(&c, '-', "key ID");
  out->channel = digits(&c, 2, 2, "license channel");
  expect_char(&c, '-', "license channel");
  out->lcid = digits(&c, 1, 5, "LCID");
  expect_char(&c, '-', "LCID");
  out->build = digits(&c, 1, 5, "host build");
  expect_char(&c, '.', "host build");
  out->build_suffix = digits(&c, 4, 4, "build suffix");
  expect_char(&c, '-', "build suffix");
  date = digits(&c, 7, 7, "activation date (DDDYYYY)");
  if (!c.failed && c.pos != c.len) {
    char found[32];
    describe_at(&c, c.pos, found, sizeof found);
    c.failed = true;
    out->err_offset = c.pos;
    add_problem(out, KMSDIAG_EPID_ERROR, "syntax",
                "unexpected %s at offset %zu after the activation date", found,
                c.pos);
  }
  if (c.failed) {
    out->platform_id = out->group_id = out->channel = out->lcid = 0;
    out->build = out->build_suffix = 0;
    return KMSDIAG_EPARSE;
  }
  out->syntax_ok = true;
  out->key_id = k1 * 1000000u + k2;
  out->day_of_year = date / 10000u;
  out->year = date % 10000u;
  check_values(out, now);
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_epid_parse(const char *text, size_t len,
                                    kmsdiag_epid_t *out) {
  return kmsdiag_epid_parse_at(text, len, (int64_t)time(NULL), out);
}

/* ---- can activate --------------------------------------------------------- */

static void set_reason(kmsdiag_activation_verdict_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_reason(kmsdiag_activation_verdict_t *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->reason, sizeof v->reason, fmt, ap);
  va_end(ap);
}

/* "Windows 10 and Windows 11" */
static void lines_text(kmsdiag_line_mask_t m, char *buf, size_t n) {
  size_t used = 0;
  bool first = true;
  buf[0] = '\0';
  for (unsigned l = 0; l < KMSDIAG_LINE_COUNT_ && used < n; l++) {
    if (!(m & KMSDIAG_LINE_BIT(l)))
      continue;
    int w = snprintf(buf + used, n - used, "%s%s", first ? "" : " and ",
                     kd_line_names[l]);
    if (w < 0)
      break;
    used += (size_t)w;
    first = false;
  }
}

/* Up to `max_names` names of the host keys (table order) that activate
 * every line of `m`, only those of Microsoft's table when `ms_only`:
 * "Windows Server 2025, Windows Server 2022". */
static size_t keys_text(kmsdiag_line_mask_t m, bool ms_only, char *buf,
                        size_t n) {
  size_t used = 0, found = 0;
  const size_t max_names = 2;
  buf[0] = '\0';
  for (size_t i = 0; i < kd_csvlks_n; i++) {
    const kmsdiag_csvlk_t *k = &kd_csvlks[i];
    if ((k->activates & m) != m ||
        (ms_only && k->confidence != KMSDIAG_CONF_MS))
      continue;
    if (found < max_names && used < n) {
      int w = snprintf(buf + used, n - used, "%s%s", found ? ", " : "",
                       k->name);
      if (w > 0)
        used += (size_t)w;
    } else if (found == max_names && used < n) {
      int w = snprintf(buf + used, n - used, ", ...");
      if (w > 0)
        used += (size_t)w;
    }
    found++;
  }
  return found;
}

#define OFFICE_LINES                                                           \
  (KMSDIAG_LINE_BIT(KMSDIAG_LINE_OFFICE2010) |                                 \
   KMSDIAG_LINE_BIT(KMSDIAG_LINE_OFFICE2013) |                                 \
   KMSDIAG_LINE_BIT(KMSDIAG_LINE_OFFICE2016) |                                 \
   KMSDIAG_LINE_BIT(KMSDIAG_LINE_OFFICE2019) |                                 \
   KMSDIAG_LINE_BIT(KMSDIAG_LINE_OFFICE2021) |                                 \
   KMSDIAG_LINE_BIT(KMSDIAG_LINE_OFFICE2024))
#define ALL_LINES (KMSDIAG_LINE_BIT(KMSDIAG_LINE_COUNT_) - 1u)

/* The lines some row of Microsoft's host key table lists. */
static kmsdiag_line_mask_t ms_table_lines(void) {
  kmsdiag_line_mask_t m = 0;
  for (size_t i = 0; i < kd_csvlks_n; i++)
    if (kd_csvlks[i].confidence == KMSDIAG_CONF_MS)
      m |= kd_csvlks[i].activates;
  return m;
}

kmsdiag_status_t
kmsdiag_csvlk_can_activate(const kmsdiag_csvlk_t *k,
                           const kmsdiag_product_t *product,
                           kmsdiag_line_mask_t lines,
                           kmsdiag_activation_verdict_t *out) {
  char yes[128], no[128], unk[128], keys[160];
  const char *basis;
  kmsdiag_line_mask_t sel, rest, other_app, no_app, no_tab;
  bool office_key;
  if (!out)
    return KMSDIAG_EINVAL;
  if (!k || !product) {
    memset(out, 0, sizeof *out);
    return KMSDIAG_EINVAL;
  }
  /* worked out before `out` is cleared (see
   * kmsdiag_epid_can_activate_lines) */
  sel = lines & product->lines;
  if (!sel)
    sel = product->lines;
  memset(out, 0, sizeof *out);
  out->csvlk = k;
  /* A host key serves one application: a Windows host key never
   * activates Office and an Office host key never activates Windows
   * (S-F042: an application-specific host answers 0xC004F042). */
  office_key = (k->activates & OFFICE_LINES) != 0;
  other_app = office_key ? (ALL_LINES & ~OFFICE_LINES) : OFFICE_LINES;
  out->lines_yes = sel & k->activates;
  rest = sel & ~k->activates;
  no_app = rest & other_app;
  rest &= ~other_app;
  if (k->confidence == KMSDIAG_CONF_MS) {
    /* Microsoft's table says what each of its host keys activates; a line
     * in none of its rows (Windows 8, Vista) is not a "no" but unknown. */
    kmsdiag_line_mask_t listed = ms_table_lines();
    no_tab = rest & listed;
    out->lines_unknown = rest & ~listed;
  } else {
    no_tab = rest; /* the row is an assumed list: its "no" is unverified */
  }
  out->lines_no = no_app | no_tab;
  out->verified = k->confidence != KMSDIAG_CONF_UNVERIFIED &&
                  product->confidence != KMSDIAG_CONF_UNVERIFIED &&
                  !out->lines_unknown;
  basis = k->confidence == KMSDIAG_CONF_MS
              ? "Microsoft's host key table"
              : "an assumed list (not verified)";
  lines_text(out->lines_yes, yes, sizeof yes);
  lines_text(out->lines_no, no, sizeof no);
  lines_text(out->lines_unknown, unk, sizeof unk);

  if (out->lines_no) {
    out->hresult = HR_ID_MISMATCH;
    out->answer = out->lines_yes || out->lines_unknown
                      ? KMSDIAG_ACTIVATE_PARTLY
                      : KMSDIAG_ACTIVATE_NO;
  } else if (out->lines_unknown) {
    out->answer = KMSDIAG_ACTIVATE_UNKNOWN;
  } else {
    out->answer = KMSDIAG_ACTIVATE_YES;
  }

  switch (out->answer) {
  case KMSDIAG_ACTIVATE_YES:
    set_reason(out, "the %s host key (group %05u) activates %s, per %s",
               k->name, (unsigned)k->group_id, yes, basis);
    break;
  case KMSDIAG_ACTIVATE_NO:
    if (no_app) {
      set_reason(out,
                 "the %s host key (group %05u) is %s host key and does not "
                 "activate %s; a client gets 0xC004F042: install the %s host "
                 "key for it on the KMS host, or use a KMS host that has one",
                 k->name, (unsigned)k->group_id,
                 office_key ? "an Office" : "a Windows", no,
                 office_key ? "Windows" : "Office");
    } else if (keys_text(no_tab, true, keys, sizeof keys)) {
      set_reason(out,
                 "the %s host key (group %05u) does not activate %s, per "
                 "%s%s; a client gets 0xC004F042: use a KMS host whose host "
                 "key does (%s)",
                 k->name, (unsigned)k->group_id, no, basis,
                 k->client_os_host &&
                         product->family == KMSDIAG_FAMILY_WINDOWS_SERVER
                     ? " (a client-OS KMS host activates client editions "
                       "only)"
                     : "",
                 keys);
    } else {
      size_t n_assumed = keys_text(no_tab, false, keys, sizeof keys);
      set_reason(out,
                 "the %s host key (group %05u) does not activate %s, per "
                 "%s; a client gets 0xC004F042: use a KMS host whose host "
                 "key does%s%s%s",
                 k->name, (unsigned)k->group_id, no, basis,
                 n_assumed ? " (assumed, not verified: " : "",
                 n_assumed ? keys : "", n_assumed ? ")" : "");
    }
    break;
  case KMSDIAG_ACTIVATE_UNKNOWN: {
    size_t n_assumed = keys_text(out->lines_unknown, false, keys, sizeof keys);
    set_reason(out,
               "Microsoft's host key table does not list %s, so whether the "
               "%s host key (group %05u) activates it is not known%s%s",
               unk, k->name, (unsigned)k->group_id,
               n_assumed ? "; assumed lists (not verified) say these host "
                           "keys do: "
                         : "",
               n_assumed ? keys : "");
    break;
  }
  case KMSDIAG_ACTIVATE_PARTLY:
    if (out->lines_unknown)
      set_reason(out,
                 "the %s host key does not activate %s, per %s; for %s "
                 "Microsoft's table says nothing%s%s",
                 k->name, no, basis, unk, out->lines_yes ? "; it activates " : "",
                 out->lines_yes ? yes : "");
    else
      set_reason(out,
                 "the %s host key activates %s but not %s, per %s; both share "
                 "this SKU and KMS counted ID, so the host may still accept "
                 "the second",
                 k->name, yes, no, basis);
    break;
  }
  return KMSDIAG_OK;
}

size_t kmsdiag_product_host_keys(const kmsdiag_product_t *product,
                                 kmsdiag_line_mask_t lines,
                                 kmsdiag_activation_answer_t answer,
                                 const kmsdiag_csvlk_t **out, size_t max) {
  size_t n = 0;
  kmsdiag_activation_verdict_t v;
  if (!product || (max && !out))
    return 0;
  for (size_t i = 0; i < kd_csvlks_n; i++) {
    if (kmsdiag_csvlk_can_activate(&kd_csvlks[i], product, lines, &v) !=
            KMSDIAG_OK ||
        v.answer != answer)
      continue;
    if (n < max)
      out[n] = &kd_csvlks[i];
    n++;
  }
  return n;
}

kmsdiag_status_t kmsdiag_epid_can_activate(const kmsdiag_epid_t *e,
                                           const kmsdiag_product_t *product,
                                           kmsdiag_activation_verdict_t *out) {
  return kmsdiag_epid_can_activate_lines(e, product, 0, out);
}

kmsdiag_status_t kmsdiag_epid_can_activate_lines(
    const kmsdiag_epid_t *e, const kmsdiag_product_t *product,
    kmsdiag_line_mask_t lines, kmsdiag_activation_verdict_t *out) {
  if (!out)
    return KMSDIAG_EINVAL;
  if (!e || !product) {
    memset(out, 0, sizeof *out);
    return KMSDIAG_EINVAL;
  }
  if (e->syntax_ok && e->csvlk)
    return kmsdiag_csvlk_can_activate(e->csvlk, product, lines, out);
  memset(out, 0, sizeof *out);
  if (!e->syntax_ok)
    set_reason(out,
               "the ePID could not be parsed, so the host key is unknown");
  else if (!kmsdiag_csvlk_by_group_id(e->group_id, 0))
    set_reason(out,
               "ePID group %05u is not a known host key group, so what the "
               "host activates is unknown",
               (unsigned)e->group_id);
  else
    set_reason(out,
               "key ID %09u is outside every known key-ID range of group "
               "%05u, so the host key is not identified",
               (unsigned)e->key_id, (unsigned)e->group_id);
  return KMSDIAG_OK;
}

/* ---- JSON ----------------------------------------------------------------- */

static void csvlk_json(kmsdiag_json_t *j, const char *key,
                       const kmsdiag_csvlk_t *k) {
  if (!k) {
    kmsdiag_json_null(j, key);
    return;
  }
  kmsdiag_json_object_begin(j, key);
  kmsdiag_json_str(j, "name", k->name);
  kmsdiag_json_uint(j, "group_id", k->group_id);
  if (k->has_key_range) {
    kmsdiag_json_uint(j, "key_id_min", k->key_id_min);
    kmsdiag_json_uint(j, "key_id_max", k->key_id_max);
  } else {
    kmsdiag_json_null(j, "key_id_min");
    kmsdiag_json_null(j, "key_id_max");
  }
  kmsdiag_json_bool(j, "client_os_host", k->client_os_host);
  kd_json_lines(j, "activates", k->activates);
  kmsdiag_json_bool(j, "verified", k->confidence != KMSDIAG_CONF_UNVERIFIED);
  kmsdiag_json_str(j, "confidence", kmsdiag_confidence_name(k->confidence));
  kmsdiag_json_str(j, "note", k->note);
  kmsdiag_json_object_end(j);
}

void kmsdiag_epid_write_json(kmsdiag_json_t *j, const char *key,
                             const kmsdiag_epid_t *e) {
  char date[16];
  bool ok;
  if (!e) {
    kmsdiag_json_null(j, key);
    return;
  }
  ok = e->syntax_ok;
  kmsdiag_json_object_begin(j, key);
  kmsdiag_json_strn(j, "epid", e->text, e->text_len);
  kmsdiag_json_uint(j, "input_length", e->input_len);
  kmsdiag_json_bool(j, "valid", ok);
#define U(k, v)                                                                \
  do {                                                                         \
    if (ok)                                                                    \
      kmsdiag_json_uint(j, k, v);                                              \
    else                                                                       \
      kmsdiag_json_null(j, k);                                                 \
  } while (0)
  U("platform_id", e->platform_id);
  kmsdiag_json_str(j, "platform", ok ? e->platform_name : NULL);
  U("group_id", e->group_id);
  U("key_id", e->key_id);
  csvlk_json(j, "csvlk", ok ? e->csvlk : NULL);
  U("channel", e->channel);
  U("lcid", e->lcid);
  kmsdiag_json_str(j, "lcid_name", ok ? e->lcid_name : NULL);
  U("host_build", e->build);
  kmsdiag_json_str(j, "host_os",
                   ok && e->host_os ? e->host_os->name : NULL);
  U("activation_day", e->day_of_year);
  U("activation_year", e->year);
#undef U
  if (ok && e->date_ok)
    kmsdiag_json_str(j, "activation_date",
                     kmsdiag_epid_date_str(e, date, sizeof date));
  else
    kmsdiag_json_null(j, "activation_date");
  kmsdiag_json_array_begin(j, "problems");
  for (size_t i = 0; i < e->n_problems && i < KMSDIAG_EPID_MAX_PROBLEMS; i++) {
    kmsdiag_json_object_begin(j, NULL);
    kmsdiag_json_str(j, "severity",
                     kmsdiag_epid_severity_name(e->problems[i].severity));
    kmsdiag_json_str(j, "rule", e->problems[i].rule);
    kmsdiag_json_strn(j, "message", e->problems[i].message,
                      strnlen(e->problems[i].message,
                              sizeof e->problems[i].message));
    kmsdiag_json_object_end(j);
  }
  kmsdiag_json_array_end(j);
  kmsdiag_json_uint(j, "problems_dropped", e->n_problems_dropped);
  kmsdiag_json_object_end(j);
}

void kmsdiag_activation_verdict_write_json(
    kmsdiag_json_t *j, const char *key,
    const kmsdiag_activation_verdict_t *v) {
  if (!v) {
    kmsdiag_json_null(j, key);
    return;
  }
  kmsdiag_json_object_begin(j, key);
  kmsdiag_json_str(j, "answer", kmsdiag_activation_answer_name(v->answer));
  if (v->hresult)
    kmsdiag_json_hex32(j, "hresult", v->hresult);
  else
    kmsdiag_json_null(j, "hresult");
  kmsdiag_json_bool(j, "verified", v->verified);
  kmsdiag_json_str(j, "reason", v->reason);
  kmsdiag_json_str(j, "csvlk", v->csvlk ? v->csvlk->name : NULL);
  kd_json_lines(j, "lines_yes", v->lines_yes);
  kd_json_lines(j, "lines_no", v->lines_no);
  kd_json_lines(j, "lines_unknown", v->lines_unknown);
  kmsdiag_json_object_end(j);
}
