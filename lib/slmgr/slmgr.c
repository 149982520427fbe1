/* slmgr.c: the reader of pasted `slmgr /dlv` text (see kmsdiag_slmgr.h).
 *
 * Three passes, each capped:
 *   1. decode the raw bytes (UTF-8 / UTF-16LE / UTF-16BE, BOM or guessed)
 *      into UTF-8 through kd_reader_t;
 *   2. split into physical lines (CRLF, LF, CR) and join hard-wrapped
 *      continuations to the labelled line they belong to;
 *   3. match each logical line against the English slmgr.vbs labels and
 *      store the values in product blocks. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_slmgr.h>

#include "internal/buf.h"
#include "internal/reader.h"

#define V KMSDIAG_SLMGR_VALUE_MAX + 1u
#define LINE_MAX_BYTES 4096u  /* a logical line is cut here */
#define WRAP_MIN_LEN 40u      /* only lines at least this long can wrap */
#define WRAP_SLACK 8u         /* ... and only when they are within this many
                                 bytes of the longest line: a console wraps
                                 every long line at the same width */
#define WARN_TEXT_MAX 160u

typedef struct prod {
  kmsdiag_slmgr_product_t pub;
  char name[V], description[V], channel_text[V], key_channel[V];
  char extended_pid[V], partial_key[V], license_text[V], skms_domain[V];
  char pinned_host[V], dns_host[V], kms_ip[V], kms_epid[V];
} prod_t;

typedef struct warn {
  unsigned line;
  char text[WARN_TEXT_MAX];
} warn_t;

struct kmsdiag_slmgr {
  prod_t *prods[KMSDIAG_SLMGR_MAX_PRODUCTS];
  size_t nprod;
  char svc_version[V];
  bool has_svc;
  bool has_last_error;
  uint32_t last_error;
  warn_t warns[KMSDIAG_SLMGR_MAX_WARNINGS];
  size_t nwarn;
  const char *err_text;
  unsigned err_line;
  const char *encoding;
  unsigned nlines;
  unsigned recognised;
  bool products_capped;
};

/* ---- small helpers ------------------------------------------------------ */

static void warnf(kmsdiag_slmgr_t *s, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warnf(kmsdiag_slmgr_t *s, unsigned line, const char *fmt, ...) {
  va_list ap;
  if (s->nwarn >= KMSDIAG_SLMGR_MAX_WARNINGS)
    return;
  s->warns[s->nwarn].line = line;
  va_start(ap, fmt);
  vsnprintf(s->warns[s->nwarn].text, WARN_TEXT_MAX, fmt, ap);
  va_end(ap);
  s->nwarn++;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

/* Case-insensitive ASCII prefix test on a counted string. */
static bool has_prefix_ci(const char *s, size_t n, const char *pre) {
  size_t k = strlen(pre);
  if (k > n)
    return false;
  for (size_t i = 0; i < k; i++)
    if (lower((unsigned char)s[i]) != lower((unsigned char)pre[i]))
      return false;
  return true;
}

static bool eq_ci(const char *s, size_t n, const char *t) {
  return strlen(t) == n && has_prefix_ci(s, n, t);
}

/* Find t (ASCII, case-insensitive) in s[0..n), or -1. */
static long find_ci(const char *s, size_t n, const char *t) {
  size_t k = strlen(t);
  if (k == 0 || k > n)
    return -1;
  for (size_t i = 0; i + k <= n; i++)
    if (has_prefix_ci(s + i, n - i, t))
      return (long)i;
  return -1;
}

/* Copy a value into a fixed field, cutting at a UTF-8 boundary. */
static const char *store(kmsdiag_slmgr_t *s, unsigned line, char *dst,
                         const char *src, size_t n, const char *field) {
  if (n > KMSDIAG_SLMGR_VALUE_MAX) {
    n = KMSDIAG_SLMGR_VALUE_MAX;
    while (n > 0 && ((unsigned char)src[n] & 0xC0u) == 0x80u)
      n--;
    warnf(s, line, "%s: value longer than %u bytes, cut", field,
          KMSDIAG_SLMGR_VALUE_MAX);
  }
  memcpy(dst, src, n);
  dst[n] = '\0';
  return dst;
}

/* Decimal number at the start of s (after blanks). A ',' between digit
 * groups of exactly three ("10,080 minutes") is skipped. */
static bool parse_u32(const char *s, size_t n, uint32_t *out) {
  size_t i = 0, digits = 0;
  uint64_t v = 0;
  while (i < n && is_blank((uint8_t)s[i]))
    i++;
  for (; i < n; i++) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      v = v * 10u + (uint64_t)(c - '0');
      if (v > UINT32_MAX)
        return false;
      digits++;
      continue;
    }
    if (c == ',' && digits > 0) {
      size_t k = 1;
      while (i + k < n && k <= 4 && s[i + k] >= '0' && s[i + k] <= '9')
        k++;
      if (k == 4)
        continue; /* exactly three digits follow */
    }
    break;
  }
  if (!digits)
    return false;
  *out = (uint32_t)v;
  return true;
}

/* An HRESULT written as 0x + 1..8 hex digits anywhere in the value, or as
 * exactly 8 hex digits at its start. */
static bool parse_hresult(const char *s, size_t n, uint32_t *out) {
  long at = find_ci(s, n, "0x");
  size_t i, digits = 0;
  uint32_t v = 0;
  if (at >= 0) {
    i = (size_t)at + 2;
  } else {
    i = 0;
    while (i < n && is_blank((uint8_t)s[i]))
      i++;
  }
  for (; i < n && isxdigit((unsigned char)s[i]); i++) {
    if (++digits > 8)
      return false;
    int c = lower((unsigned char)s[i]);
    v = (v << 4) | (uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  if (digits == 0 || (at < 0 && digits != 8))
    return false;
  *out = v;
  return true;
}

/* "host:port", "[v6]:port", "host", a bare IPv6 address. Returns an error
 * phrase or NULL. */
static const char *parse_hostport(const char *s, size_t n, char *host,
                                  uint16_t *port) {
  size_t hlen = n;
  const char *h = s;
  const char *p = NULL;
  size_t plen = 0, colons = 0;
  *port = 1688;
  for (size_t i = 0; i < n; i++)
    if (s[i] == ':')
      colons++;
  if (n && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (!close)
      return "'[' without ']'";
    h = s + 1;
    hlen = (size_t)(close - s) - 1;
    if ((size_t)(close - s) + 1 < n) {
      if (close[1] != ':')
        return "junk after ']'";
      p = close + 2;
      plen = n - (size_t)(close - s) - 2;
    }
  } else if (colons == 1) {
    const char *c = memchr(s, ':', n);
    hlen = (size_t)(c - s);
    p = c + 1;
    plen = n - hlen - 1;
  }
  if (hlen == 0)
    return "empty host name";
  if (hlen > 253)
    return "host name longer than 253 characters";
  for (size_t i = 0; i < hlen; i++) {
    unsigned char c = (unsigned char)h[i];
    if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' ||
          c == '%'))
      return "host name holds a character no DNS name or address has";
  }
  if (p) {
    uint32_t v = 0;
    if (plen == 0 || plen > 5)
      return "port is not a number from 1 to 65535";
    for (size_t i = 0; i < plen; i++) {
      if (p[i] < '0' || p[i] > '9')
        return "port is not a number from 1 to 65535";
      v = v * 10u + (uint32_t)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
      return "port is not a number from 1 to 65535";
    *port = (uint16_t)v;
  }
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  return NULL;
}

/* ---- pass 1: decoding ------------------------------------------------- */

static void put_utf8(kd_buf_t *b, uint32_t cp) {
  if (cp == 0)
    return; /* NULs carry nothing in text */
  if (cp < 0x80) {
    kd_buf_u8(b, (uint8_t)cp);
  } else if (cp < 0x800) {
    kd_buf_u8(b, (uint8_t)(0xC0 | (cp >> 6)));
    kd_buf_u8(b, (uint8_t)(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    kd_buf_u8(b, (uint8_t)(0xE0 | (cp >> 12)));
    kd_buf_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
    kd_buf_u8(b, (uint8_t)(0x80 | (cp & 0x3F)));
  } else {
    kd_buf_u8(b, (uint8_t)(0xF0 | (cp >> 18)));
    kd_buf_u8(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3F)));
    kd_buf_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
    kd_buf_u8(b, (uint8_t)(0x80 | (cp & 0x3F)));
  }
}

static void decode_utf16(kd_reader_t *r, bool be, kd_buf_t *out) {
  while (kd_rd_remaining(r) >= 2) {
    uint32_t u = be ? kd_rd_be16(r) : kd_rd_le16(r);
    if (u >= 0xD800 && u <= 0xDBFF) {
      const uint8_t *nx = kd_rd_peek(r, 2);
      uint32_t lo = nx ? (be ? (uint32_t)(nx[0] << 8 | nx[1])
                             : (uint32_t)(nx[1] << 8 | nx[0]))
                       : 0;
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        kd_rd_skip(r, 2);
        put_utf8(out, 0x10000u + ((u - 0xD800u) << 10) + (lo - 0xDC00u));
      } else {
        put_utf8(out, 0xFFFD);
      }
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      put_utf8(out, 0xFFFD);
    } else {
      put_utf8(out, u);
    }
  }
}

/* Guess UTF-16 without a BOM: text of ASCII letters has every other byte
 * zero. Look at the first 512 bytes. */
static int guess_utf16(const uint8_t *d, size_t n) {
  size_t lim = n < 512 ? n : 512, zeros_odd = 0, zeros_even = 0, pairs;
  lim &= ~(size_t)1;
  pairs = lim / 2;
  if (pairs < 4)
    return 0;
  for (size_t i = 0; i < lim; i += 2) {
    zeros_even += d[i] == 0;
    zeros_odd += d[i + 1] == 0;
  }
  if (zeros_odd * 10 >= pairs * 9 && zeros_even * 10 <= pairs)
    return 1; /* little-endian */
  if (zeros_even * 10 >= pairs * 9 && zeros_odd * 10 <= pairs)
    return 2; /* big-endian */
  return 0;
}

static void decode_input(kmsdiag_slmgr_t *s, const uint8_t *data, size_t len,
                         kd_buf_t *out) {
  kd_reader_t r;
  const uint8_t *bom;
  int g;
  kd_rd_init(&r, data, len);
  s->encoding = "utf-8";
  if ((bom = kd_rd_peek(&r, 3)) && bom[0] == 0xEF && bom[1] == 0xBB &&
      bom[2] == 0xBF) {
    kd_rd_skip(&r, 3);
    s->encoding = "utf-8-bom";
  } else if ((bom = kd_rd_peek(&r, 2)) && bom[0] == 0xFF && bom[1] == 0xFE) {
    kd_rd_skip(&r, 2);
    s->encoding = "utf-16le";
  } else if (bom && bom[0] == 0xFE && bom[1] == 0xFF) {
    kd_rd_skip(&r, 2);
    s->encoding = "utf-16be";
  } else if ((g = guess_utf16(data, len)) != 0) {
    s->encoding = g == 1 ? "utf-16le" : "utf-16be";
  }
  if (s->encoding[4] == '1') {
    decode_utf16(&r, strcmp(s->encoding, "utf-16be") == 0, out);
    if (kd_rd_remaining(&r) == 1)
      warnf(s, 0, "UTF-16 input has an odd number of bytes; last byte "
                  "ignored");
    return;
  }
  while (kd_rd_remaining(&r) > 0) {
    uint8_t c = kd_rd_u8(&r);
    if (c != 0)
      kd_buf_u8(out, c);
  }
}

/* ---- pass 3: labels --------------------------------------------------- */

enum field {
  F_IGNORE, F_SVC_VERSION, F_NAME, F_DESC, F_ACTID, F_APPID, F_EPID,
  F_KEYCHAN, F_PARTIAL, F_LICENSE, F_EXPIRATION, F_NOTIF, F_CMID,
  F_SKMS_DOMAIN, F_PINNED, F_DNSHOST, F_DNSAUTO, F_KMSIP, F_KMSEPID,
  F_ACTINT, F_RENINT, F_COUNT, F_LPORT, F_ERROR, F_CACHING
};

struct label {
  const char *text;
  enum field field;
};

/* "Label: value" lines, longest first where one label prefixes another. */
static const struct label k_labels[] = {
    {"Software licensing service version", F_SVC_VERSION},
    {"Name", F_NAME},
    {"Description", F_DESC},
    {"Activation ID", F_ACTID},
    {"Application ID", F_APPID},
    {"Extended PID", F_EPID},
    {"Product Key Channel", F_KEYCHAN},
    {"Installation ID", F_IGNORE},
    {"Processor Certificate URL", F_IGNORE},
    {"Machine Certificate URL", F_IGNORE},
    {"Use License URL", F_IGNORE},
    {"Product Key Certificate URL", F_IGNORE},
    {"Validation URL", F_IGNORE},
    {"Partial Product Key", F_PARTIAL},
    {"License Status", F_LICENSE},
    {"Volume activation expiration", F_EXPIRATION},
    {"Time remaining", F_IGNORE},
    {"Timebased activation expiration", F_IGNORE},
    {"Notification Reason", F_NOTIF},
    {"Remaining Windows rearm count", F_IGNORE},
    {"Remaining SKU rearm count", F_IGNORE},
    {"Trusted time", F_IGNORE},
    {"Configured Activation Type", F_IGNORE},
    {"Client Machine ID (CMID)", F_CMID},
    {"Registered KMS SRV record lookup domain", F_SKMS_DOMAIN},
    {"Registered KMS machine name", F_PINNED},
    {"KMS machine registry override defined", F_PINNED},
    {"KMS machine name from registry", F_PINNED},
    {"KMS machine name from DNS", F_DNSHOST},
    {"DNS auto-discovery", F_DNSAUTO},
    {"KMS machine IP address", F_KMSIP},
    {"KMS machine extended PID", F_KMSEPID},
    {"Activation interval", F_ACTINT},
    {"Renewal interval", F_RENINT},
    {"Current count", F_COUNT},
    {"Listening on Port", F_LPORT},
    {"KMS priority", F_IGNORE},
    {"Total requests received", F_IGNORE},
    {"Failed requests received", F_IGNORE},
    {"Requests with License Status", F_IGNORE},
    {"Error", F_ERROR},
    /* Office's ospp.vbs /dstatus prints the same facts with its own labels */
    {"LICENSE NAME", F_NAME},
    {"LICENSE DESCRIPTION", F_DESC},
    {"SKU ID", F_ACTID},
    {"Last 5 characters of installed product key", F_PARTIAL},
    {"ERROR CODE", F_ERROR},
    {"KMS host caching", F_CACHING},
    {"Activation Type Configuration", F_IGNORE},
    {"REMAINING GRACE", F_IGNORE},
    {"PRODUCT ID", F_IGNORE},
    {"ERROR DESCRIPTION", F_IGNORE},
};

enum message {
  M_NONE, M_OTHER, M_CACHE_ON, M_CACHE_OFF, M_HOST_ENABLED
};

struct msgdef {
  const char *text;
  enum message msg;
};

/* Whole lines slmgr (or cscript) prints without a "label: value" form. */
static const struct msgdef k_messages[] = {
    {"KMS host caching is enabled", M_CACHE_ON},
    {"KMS host caching is disabled", M_CACHE_OFF},
    {"Key Management Service is enabled on this machine", M_HOST_ENABLED},
    {"Key Management Service client information", M_OTHER},
    {"Key Management Service cumulative requests", M_OTHER},
    {"Most recent activation information", M_OTHER},
    {"DNS publishing enabled", M_OTHER},
    {"DNS publishing disabled", M_OTHER},
    {"Microsoft (R) Windows Script Host", M_OTHER},
    {"Copyright (C) Microsoft Corporation", M_OTHER},
    {"Product activated successfully", M_OTHER},
    {"On a computer running Microsoft Windows", M_OTHER},
    {"Key Management Service machine name set to", M_OTHER},
    {"Warning: /skms setting overrides", M_OTHER},
    {"Activating ", M_OTHER},
    {"This license will expire", M_OTHER},
};

/* Label match: the label, optional blanks, ':'. *vstart receives the
 * offset of the value (blanks skipped). */
static bool match_label(const char *s, size_t n, const char *label,
                        size_t *vstart) {
  size_t k = strlen(label), i;
  if (!has_prefix_ci(s, n, label))
    return false;
  i = k;
  while (i < n && is_blank((uint8_t)s[i]))
    i++;
  if (i >= n || s[i] != ':')
    return false;
  i++;
  while (i < n && is_blank((uint8_t)s[i]))
    i++;
  *vstart = i;
  return true;
}

static const struct label *find_label(const char *s, size_t n,
                                      size_t *vstart) {
  for (size_t i = 0; i < sizeof k_labels / sizeof k_labels[0]; i++)
    if (match_label(s, n, k_labels[i].text, vstart))
      return &k_labels[i];
  return NULL;
}

static enum message find_message(const char *s, size_t n) {
  for (size_t i = 0; i < sizeof k_messages / sizeof k_messages[0]; i++)
    if (has_prefix_ci(s, n, k_messages[i].text))
      return k_messages[i].msg;
  return M_NONE;
}

/* Something that reads like "Some label: value" (or a "Header:" line) but
 * is not one of ours: starts with a letter, short run of label characters,
 * then ':' followed by a blank or the end of the line. */
static bool looks_like_label(const char *s, size_t n) {
  size_t i;
  if (n == 0 || !isalpha((unsigned char)s[0]))
    return false;
  for (i = 1; i < n && i < 64; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == ':')
      return i + 1 == n || is_blank((uint8_t)s[i + 1]);
    if (!(isalnum(c) || c == ' ' || c == '(' || c == ')' || c == '/' ||
          c == '-' || c == '_' || c == '\'' || c == ','))
      return false;
  }
  return false;
}

static prod_t *new_block(kmsdiag_slmgr_t *s, unsigned line) {
  prod_t *p;
  if (s->nprod >= KMSDIAG_SLMGR_MAX_PRODUCTS) {
    if (!s->products_capped)
      warnf(s, line, "more than %u product blocks; the rest is ignored",
            KMSDIAG_SLMGR_MAX_PRODUCTS);
    s->products_capped = true;
    return NULL;
  }
  p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->pub.first_line = line;
  p->pub.license = KMSDIAG_SLMGR_LICENSE_UNKNOWN;
  p->pub.host_caching = -1;
  s->prods[s->nprod++] = p;
  return p;
}

static kmsdiag_slmgr_channel_t classify_channel(const char *t, size_t n) {
  if (has_prefix_ci(t, n, "VOLUME_KMSCLIENT") || eq_ci(t, n, "Volume:GVLK"))
    return KMSDIAG_SLMGR_CHANNEL_KMSCLIENT;
  if (has_prefix_ci(t, n, "VOLUME_MAK") || eq_ci(t, n, "Volume:MAK"))
    return KMSDIAG_SLMGR_CHANNEL_MAK;
  if (has_prefix_ci(t, n, "VOLUME_KMS") || eq_ci(t, n, "Volume:CSVLK"))
    return KMSDIAG_SLMGR_CHANNEL_KMSHOST;
  if (has_prefix_ci(t, n, "RETAIL"))
    return KMSDIAG_SLMGR_CHANNEL_RETAIL;
  if (has_prefix_ci(t, n, "OEM"))
    return KMSDIAG_SLMGR_CHANNEL_OEM;
  return KMSDIAG_SLMGR_CHANNEL_OTHER;
}

/* The word before " channel" in a Description value. */
static void channel_from_description(kmsdiag_slmgr_t *s, prod_t *p,
                                     unsigned line) {
  const char *d = p->description;
  size_t n = strlen(d);
  long at = find_ci(d, n, " channel");
  size_t end, start;
  if (at <= 0)
    return;
  end = (size_t)at;
  start = end;
  while (start > 0 && d[start - 1] != ' ' && d[start - 1] != ',')
    start--;
  if (start == end)
    return;
  p->pub.channel_text =
      store(s, line, p->channel_text, d + start, end - start, "Description");
  p->pub.channel = classify_channel(d + start, end - start);
}

static void set_guid(kmsdiag_slmgr_t *s, unsigned line, const char *v,
                     size_t n, kmsdiag_guid_t *g, bool *has,
                     const char *field) {
  char tmp[64];
  /* a GUID is 36 characters (38 with braces); allow trailing blanks */
  if (n == 0 || n >= sizeof tmp) {
    warnf(s, line, "%s: not a GUID", field);
    return;
  }
  memcpy(tmp, v, n);
  tmp[n] = '\0';
  if (kmsdiag_guid_parse(g, tmp) != KMSDIAG_OK) {
    warnf(s, line, "%s: not a GUID", field);
    return;
  }
  *has = true;
}

static const struct {
  const char *text;
  kmsdiag_slmgr_license_t v;
} k_license[] = {
    /* ospp.vbs: ---LICENSED---, ---OOB_GRACE---, ... (dashes dropped) */
    {"OOB_GRACE", KMSDIAG_SLMGR_LICENSE_OOB_GRACE},
    {"OOT_GRACE", KMSDIAG_SLMGR_LICENSE_OOT_GRACE},
    {"NOTIFICATIONS", KMSDIAG_SLMGR_LICENSE_NOTIFICATION},
    {"Unlicensed", KMSDIAG_SLMGR_LICENSE_UNLICENSED},
    {"Licensed", KMSDIAG_SLMGR_LICENSE_LICENSED},
    {"Initial grace period", KMSDIAG_SLMGR_LICENSE_OOB_GRACE},
    {"Additional grace period", KMSDIAG_SLMGR_LICENSE_OOT_GRACE},
    {"Non-genuine grace period", KMSDIAG_SLMGR_LICENSE_NONGENUINE},
    {"Notification", KMSDIAG_SLMGR_LICENSE_NOTIFICATION},
    {"Extended grace period", KMSDIAG_SLMGR_LICENSE_EXTENDED},
};

static void apply_field(kmsdiag_slmgr_t *s, prod_t **cur, unsigned line,
                        enum field f, const char *v, size_t n) {
  prod_t *p = *cur;
  uint32_t u;
  const char *why;
  char host[V];
  uint16_t port;

  switch (f) {
  case F_IGNORE:
    return;
  case F_SVC_VERSION:
    store(s, line, s->svc_version, v, n, "Software licensing service version");
    s->has_svc = true;
    return;
  case F_ERROR:
    if (parse_hresult(v, n, &u)) {
      s->has_last_error = true;
      s->last_error = u;
    }
    return;
  case F_NAME:
    /* fields seen before the first name (ospp.vbs prints the SKU ID
     * first) opened an unnamed block: it is this product's */
    if (!p || p->pub.name)
      p = *cur = new_block(s, line);
    if (!p)
      return;
    p->pub.name = store(s, line, p->name, v, n, "Name");
    return;
  default:
    break;
  }
  if (!p) {
    /* a product field before any "Name:" line (text pasted from the
     * middle of the output): open an unnamed block */
    if (s->nprod == 0)
      p = *cur = new_block(s, line);
    if (!p)
      return;
  }
  switch (f) {
  case F_DESC:
    p->pub.description = store(s, line, p->description, v, n, "Description");
    channel_from_description(s, p, line);
    break;
  case F_ACTID:
    set_guid(s, line, v, n, &p->pub.activation_id, &p->pub.has_activation_id,
             "Activation ID");
    break;
  case F_APPID:
    set_guid(s, line, v, n, &p->pub.application_id,
             &p->pub.has_application_id, "Application ID");
    break;
  case F_CMID:
    set_guid(s, line, v, n, &p->pub.cmid, &p->pub.has_cmid,
             "Client Machine ID (CMID)");
    break;
  case F_EPID:
    p->pub.extended_pid = store(s, line, p->extended_pid, v, n, "Extended PID");
    break;
  case F_KEYCHAN:
    p->pub.key_channel =
        store(s, line, p->key_channel, v, n, "Product Key Channel");
    if (p->pub.channel == KMSDIAG_SLMGR_CHANNEL_UNKNOWN) {
      p->pub.channel = classify_channel(v, n);
      p->pub.channel_text = p->pub.key_channel;
    } else if (classify_channel(v, n) != p->pub.channel) {
      warnf(s, line, "Product Key Channel disagrees with the channel in "
                     "Description; Description is used");
    }
    break;
  case F_PARTIAL:
    p->pub.partial_key =
        store(s, line, p->partial_key, v, n, "Partial Product Key");
    break;
  case F_LICENSE:
    p->pub.license_text = store(s, line, p->license_text, v, n, "License Status");
    p->pub.license = KMSDIAG_SLMGR_LICENSE_UNKNOWN;
    while (n > 0 && *v == '-') {
      v++;
      n--;
    }
    for (size_t i = 0; i < sizeof k_license / sizeof k_license[0]; i++)
      if (has_prefix_ci(v, n, k_license[i].text)) {
        p->pub.license = k_license[i].v;
        break;
      }
    if (p->pub.license == KMSDIAG_SLMGR_LICENSE_UNKNOWN)
      warnf(s, line, "License Status: value not recognised");
    break;
  case F_EXPIRATION:
    if (parse_u32(v, n, &u)) {
      p->pub.has_expiration = true;
      p->pub.expiration_minutes = u;
    } else {
      warnf(s, line, "Volume activation expiration: no number of minutes");
    }
    break;
  case F_NOTIF:
    if (parse_hresult(v, n, &u)) {
      p->pub.has_notification_reason = true;
      p->pub.notification_reason = u;
    } else {
      warnf(s, line, "Notification Reason: no 0x code");
    }
    break;
  case F_SKMS_DOMAIN:
    p->pub.skms_domain =
        store(s, line, p->skms_domain, v, n, "Registered KMS SRV record "
                                             "lookup domain");
    break;
  case F_PINNED:
  case F_DNSHOST:
    if (n > KMSDIAG_SLMGR_VALUE_MAX) {
      warnf(s, line, "%s: value too long for a host name",
            f == F_PINNED ? "Registered KMS machine name"
                          : "KMS machine name from DNS");
      break;
    }
    why = parse_hostport(v, n, host, &port);
    if (why) {
      warnf(s, line, "%s: %s",
            f == F_PINNED ? "Registered KMS machine name"
                          : "KMS machine name from DNS",
            why);
      break;
    }
    if (f == F_PINNED) {
      p->pub.pinned_host =
          store(s, line, p->pinned_host, host, strlen(host), "host");
      p->pub.pinned_port = port;
    } else {
      p->pub.dns_host = store(s, line, p->dns_host, host, strlen(host), "host");
      p->pub.dns_port = port;
    }
    break;
  case F_CACHING:
    if (has_prefix_ci(v, n, "Enabled"))
      p->pub.host_caching = 1;
    else if (has_prefix_ci(v, n, "Disabled"))
      p->pub.host_caching = 0;
    else
      warnf(s, line, "KMS host caching: neither Enabled nor Disabled");
    break;
  case F_DNSAUTO:
    if (find_ci(v, n, "not available") >= 0)
      p->pub.dns_not_available = true;
    break;
  case F_KMSIP:
    if (find_ci(v, n, "not available") < 0 && n > 0)
      p->pub.kms_ip = store(s, line, p->kms_ip, v, n, "KMS machine IP address");
    break;
  case F_KMSEPID:
    p->pub.kms_epid =
        store(s, line, p->kms_epid, v, n, "KMS machine extended PID");
    break;
  case F_ACTINT:
  case F_RENINT:
    if (!parse_u32(v, n, &u)) {
      warnf(s, line, "%s: no number of minutes",
            f == F_ACTINT ? "Activation interval" : "Renewal interval");
    } else if (f == F_ACTINT) {
      p->pub.has_activation_interval = true;
      p->pub.activation_interval = u;
    } else {
      p->pub.has_renewal_interval = true;
      p->pub.renewal_interval = u;
    }
    break;
  case F_COUNT:
    if (parse_u32(v, n, &u)) {
      p->pub.has_current_count = true;
      p->pub.current_count = u;
    } else {
      warnf(s, line, "Current count: not a number");
    }
    break;
  case F_LPORT:
    if (parse_u32(v, n, &u) && u >= 1 && u <= 65535) {
      p->pub.has_listening_port = true;
      p->pub.listening_port = (uint16_t)u;
    } else {
      warnf(s, line, "Listening on Port: not a port number");
    }
    break;
  default:
    break;
  }
}

static void apply_message(kmsdiag_slmgr_t *s, prod_t **cur, unsigned line,
                          enum message m) {
  prod_t *p = *cur;
  if (m == M_OTHER || m == M_NONE)
    return;
  if (!p && s->nprod == 0)
    p = *cur = new_block(s, line);
  if (!p)
    return;
  if (m == M_CACHE_ON)
    p->pub.host_caching = 1;
  else if (m == M_CACHE_OFF)
    p->pub.host_caching = 0;
  else if (m == M_HOST_ENABLED)
    p->pub.is_kms_host = true;
}

/* ---- pass 2: lines, wrapping, dispatch -------------------------------- */

typedef struct pending {
  char text[LINE_MAX_BYTES + 1];
  size_t len;
  unsigned line;
  const struct label *label;  /* NULL: nothing pending */
  size_t vstart;
  size_t last_phys_len;       /* length of its last physical line */
  bool cut;
  size_t wrap_at;             /* longest physical line minus WRAP_SLACK */
} pending_t;

static void flush(kmsdiag_slmgr_t *s, prod_t **cur, pending_t *pd) {
  if (!pd->label)
    return;
  size_t n = pd->len - pd->vstart;
  const char *v = pd->text + pd->vstart;
  while (n > 0 && is_blank((uint8_t)v[n - 1]))
    n--;
  if (pd->cut)
    warnf(s, pd->line, "line longer than %u bytes, cut", LINE_MAX_BYTES);
  apply_field(s, cur, pd->line, pd->label->field, v, n);
  pd->label = NULL;
  pd->len = 0;
  pd->cut = false;
}

static void pend_append(pending_t *pd, const char *t, size_t n) {
  size_t room = LINE_MAX_BYTES - pd->len;
  if (n > room) {
    n = room;
    pd->cut = true;
  }
  memcpy(pd->text + pd->len, t, n);
  pd->len += n;
  pd->text[pd->len] = '\0';
}

static void handle_line(kmsdiag_slmgr_t *s, prod_t **cur, pending_t *pd,
                        const char *raw, size_t rawlen, unsigned line) {
  const char *t = raw;
  size_t n = rawlen, vstart = 0;
  const struct label *lab;
  enum message m;
  bool lead_blank;
  /* drop trailing blanks and a stray form feed; keep leading ones aside */
  while (n > 0 && (is_blank((uint8_t)t[n - 1]) || t[n - 1] == '\f'))
    n--;
  lead_blank = n > 0 && is_blank((uint8_t)t[0]);
  while (n > 0 && is_blank((uint8_t)*t)) {
    t++;
    n--;
  }
  if (n == 0) {
    flush(s, cur, pd);
    return;
  }
  lab = find_label(t, n, &vstart);
  m = lab ? M_NONE : find_message(t, n);
  if (!lab && m == M_NONE && pd->label && !looks_like_label(t, n) &&
      pd->last_phys_len >= WRAP_MIN_LEN && pd->last_phys_len >= pd->wrap_at) {
    /* continuation of a hard-wrapped value */
    bool prev_blank = pd->len > 0 && pd->text[pd->len - 1] == ' ';
    if (lead_blank && !prev_blank)
      pend_append(pd, " ", 1);
    pend_append(pd, t, n);
    pd->last_phys_len = rawlen;
    return;
  }
  flush(s, cur, pd);
  if (lab) {
    s->recognised++;
    pd->label = lab;
    pd->line = line;
    pd->len = 0;
    pd->cut = false;
    pend_append(pd, t, n);
    /* keep a trailing blank of the raw line: it marks a wrap at a word */
    if (rawlen > (size_t)(t - raw) + n && is_blank((uint8_t)t[n]))
      pend_append(pd, " ", 1);
    pd->vstart = vstart;
    pd->last_phys_len = rawlen;
    return;
  }
  if (m != M_NONE) {
    s->recognised++;
    apply_message(s, cur, line, m);
  }
  /* anything else is junk around the output: ignored */
}

static void reset(kmsdiag_slmgr_t *s) {
  for (size_t i = 0; i < s->nprod; i++)
    free(s->prods[i]);
  memset(s, 0, sizeof *s);
  s->encoding = "utf-8";
  s->err_text = "";
}

kmsdiag_status_t kmsdiag_slmgr_new(kmsdiag_slmgr_t **out) {
  kmsdiag_slmgr_t *s;
  if (!out)
    return KMSDIAG_EINVAL;
  *out = NULL;
  s = calloc(1, sizeof *s);
  if (!s)
    return KMSDIAG_ENOMEM;
  reset(s);
  *out = s;
  return KMSDIAG_OK;
}

void kmsdiag_slmgr_free(kmsdiag_slmgr_t *s) {
  if (!s)
    return;
  reset(s);
  free(s);
}

static kmsdiag_status_t fail(kmsdiag_slmgr_t *s, kmsdiag_status_t st,
                             unsigned line, const char *what) {
  s->err_text = what;
  s->err_line = line;
  return st;
}

kmsdiag_status_t kmsdiag_slmgr_parse(kmsdiag_slmgr_t *s, const void *data,
                                     size_t len) {
  kd_buf_t text;
  kd_reader_t r;
  pending_t *pd;
  prod_t *cur = NULL;
  kmsdiag_status_t st = KMSDIAG_OK;
  unsigned line = 0;

  if (!s)
    return KMSDIAG_EINVAL;
  reset(s);
  if (!data && len)
    return fail(s, KMSDIAG_EINVAL, 0, "no input buffer");
  if (len > KMSDIAG_SLMGR_MAX_INPUT)
    return fail(s, KMSDIAG_ETOOBIG, 0,
                "input larger than 1 MiB: not slmgr output");
  kd_buf_init(&text);
  text.max = 4u * KMSDIAG_SLMGR_MAX_INPUT; /* UTF-16 to UTF-8 can grow */
  decode_input(s, data, len, &text);
  if (!kd_buf_ok(&text)) {
    kd_buf_free(&text);
    return fail(s, KMSDIAG_ENOMEM, 0, "out of memory decoding the input");
  }
  pd = calloc(1, sizeof *pd);
  if (!pd) {
    kd_buf_free(&text);
    return fail(s, KMSDIAG_ENOMEM, 0, "out of memory");
  }
  /* first pass: the longest line, the width a console would wrap at */
  {
    size_t cur_len = 0, longest = 0;
    kd_reader_t lr;
    kd_rd_init(&lr, text.data, text.len);
    while (kd_rd_remaining(&lr) > 0) {
      uint8_t c = kd_rd_u8(&lr);
      if (c == '\n' || c == '\r') {
        cur_len = 0;
      } else if (++cur_len > longest) {
        longest = cur_len;
      }
    }
    pd->wrap_at = longest > WRAP_SLACK ? longest - WRAP_SLACK : 0;
  }
  kd_rd_init(&r, text.data, text.len);
  while (kd_rd_remaining(&r) > 0) {
    size_t start = kd_rd_offset(&r), n = 0, rem = kd_rd_remaining(&r);
    const uint8_t *p = kd_rd_peek(&r, rem);
    while (n < rem && p[n] != '\n' && p[n] != '\r')
      n++;
    if (++line > KMSDIAG_SLMGR_MAX_LINES) {
      st = fail(s, KMSDIAG_ETOOBIG, line,
                "more than 20000 lines: not slmgr output");
      break;
    }
    handle_line(s, &cur, pd, (const char *)p, n, line);
    kd_rd_skip(&r, n);
    if (kd_rd_remaining(&r) > 0) {
      uint8_t c = kd_rd_u8(&r);
      const uint8_t *nx = kd_rd_peek(&r, 1);
      if (c == '\r' && nx && nx[0] == '\n')
        kd_rd_skip(&r, 1);
    }
    (void)start;
  }
  if (st == KMSDIAG_OK)
    flush(s, &cur, pd);
  s->nlines = line > KMSDIAG_SLMGR_MAX_LINES ? KMSDIAG_SLMGR_MAX_LINES : line;
  free(pd);
  kd_buf_free(&text);
  if (st != KMSDIAG_OK)
    return st;
  if (s->recognised == 0)
    return fail(s, KMSDIAG_EPARSE, 0,
                len == 0 ? "empty input"
                         : "no slmgr /dlv label found (expected English "
                           "lines such as 'Name:', 'Description:', "
                           "'License Status:')");
  return KMSDIAG_OK;
}

/* ---- accessors --------------------------------------------------------- */

const char *kmsdiag_slmgr_error_text(const kmsdiag_slmgr_t *s) {
  return s && s->err_text ? s->err_text : "";
}
unsigned kmsdiag_slmgr_error_line(const kmsdiag_slmgr_t *s) {
  return s ? s->err_line : 0;
}
const char *kmsdiag_slmgr_encoding(const kmsdiag_slmgr_t *s) {
  return s ? s->encoding : "utf-8";
}
unsigned kmsdiag_slmgr_line_count(const kmsdiag_slmgr_t *s) {
  return s ? s->nlines : 0;
}
size_t kmsdiag_slmgr_product_count(const kmsdiag_slmgr_t *s) {
  return s ? s->nprod : 0;
}
const kmsdiag_slmgr_product_t *kmsdiag_slmgr_product_at(const kmsdiag_slmgr_t *s,
                                                        size_t i) {
  return s && i < s->nprod ? &s->prods[i]->pub : NULL;
}

const kmsdiag_slmgr_product_t *kmsdiag_slmgr_primary(const kmsdiag_slmgr_t *s) {
  const kmsdiag_slmgr_product_t *first_key = NULL;
  if (!s || s->nprod == 0)
    return NULL;
  for (size_t i = 0; i < s->nprod; i++) {
    const kmsdiag_slmgr_product_t *p = &s->prods[i]->pub;
    if (!p->partial_key)
      continue;
    if (p->name && has_prefix_ci(p->name, strlen(p->name), "Windows"))
      return p;
    if (!first_key)
      first_key = p;
  }
  return first_key ? first_key : &s->prods[0]->pub;
}

bool kmsdiag_slmgr_last_error(const kmsdiag_slmgr_t *s, uint32_t *code) {
  if (!s || !s->has_last_error)
    return false;
  if (code)
    *code = s->last_error;
  return true;
}

const char *kmsdiag_slmgr_service_version(const kmsdiag_slmgr_t *s) {
  return s && s->has_svc ? s->svc_version : NULL;
}

size_t kmsdiag_slmgr_warning_count(const kmsdiag_slmgr_t *s) {
  return s ? s->nwarn : 0;
}

const char *kmsdiag_slmgr_warning_at(const kmsdiag_slmgr_t *s, size_t i,
                                     unsigned *line) {
  if (!s || i >= s->nwarn)
    return NULL;
  if (line)
    *line = s->warns[i].line;
  return s->warns[i].text;
}

const char *kmsdiag_slmgr_channel_name(kmsdiag_slmgr_channel_t c) {
  switch (c) {
  case KMSDIAG_SLMGR_CHANNEL_KMSCLIENT: return "VOLUME_KMSCLIENT";
  case KMSDIAG_SLMGR_CHANNEL_KMSHOST: return "KMS_HOST";
  case KMSDIAG_SLMGR_CHANNEL_MAK: return "MAK";
  case KMSDIAG_SLMGR_CHANNEL_RETAIL: return "RETAIL";
  case KMSDIAG_SLMGR_CHANNEL_OEM: return "OEM";
  case KMSDIAG_SLMGR_CHANNEL_OTHER: return "OTHER";
  default: return "UNKNOWN";
  }
}

const char *kmsdiag_slmgr_license_name(kmsdiag_slmgr_license_t l) {
  switch (l) {
  case KMSDIAG_SLMGR_LICENSE_UNLICENSED: return "unlicensed";
  case KMSDIAG_SLMGR_LICENSE_LICENSED: return "licensed";
  case KMSDIAG_SLMGR_LICENSE_OOB_GRACE: return "initial_grace";
  case KMSDIAG_SLMGR_LICENSE_OOT_GRACE: return "additional_grace";
  case KMSDIAG_SLMGR_LICENSE_NONGENUINE: return "non_genuine_grace";
  case KMSDIAG_SLMGR_LICENSE_NOTIFICATION: return "notification";
  case KMSDIAG_SLMGR_LICENSE_EXTENDED: return "extended_grace";
  default: return "unknown";
  }
}

/* ---- JSON ------------------------------------------------------------- */

static void json_s(kmsdiag_json_t *j, const char *key, const char *v) {
  if (v)
    kmsdiag_json_strn(j, key, v, strlen(v));
  else
    kmsdiag_json_null(j, key);
}

static void json_guid(kmsdiag_json_t *j, const char *key, bool has,
                      const kmsdiag_guid_t *g) {
  char buf[KMSDIAG_GUID_STRLEN];
  if (has)
    kmsdiag_json_str(j, key, kmsdiag_guid_to_str(g, buf));
  else
    kmsdiag_json_null(j, key);
}

static void json_u(kmsdiag_json_t *j, const char *key, bool has, uint64_t v) {
  if (has)
    kmsdiag_json_uint(j, key, v);
  else
    kmsdiag_json_null(j, key);
}

kmsdiag_status_t kmsdiag_slmgr_write_json(const kmsdiag_slmgr_t *s,
                                          kmsdiag_json_t *j) {
  if (!s || !j)
    return KMSDIAG_EINVAL;
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", "slmgr");
  kmsdiag_json_str(j, "encoding", s->encoding);
  kmsdiag_json_uint(j, "lines", s->nlines);
  if (s->has_last_error)
    kmsdiag_json_hex32(j, "last_error", s->last_error);
  else
    kmsdiag_json_null(j, "last_error");
  json_s(j, "service_version", s->has_svc ? s->svc_version : NULL);
  kmsdiag_json_array_begin(j, "products");
  for (size_t i = 0; i < s->nprod; i++) {
    const kmsdiag_slmgr_product_t *p = &s->prods[i]->pub;
    kmsdiag_json_object_begin(j, NULL);
    kmsdiag_json_uint(j, "line", p->first_line);
    json_s(j, "name", p->name);
    json_s(j, "description", p->description);
    kmsdiag_json_str(j, "channel", kmsdiag_slmgr_channel_name(p->channel));
    json_s(j, "channel_text", p->channel_text);
    json_guid(j, "activation_id", p->has_activation_id, &p->activation_id);
    json_guid(j, "application_id", p->has_application_id, &p->application_id);
    json_s(j, "extended_pid", p->extended_pid);
    json_s(j, "partial_key", p->partial_key);
    kmsdiag_json_str(j, "license_status", kmsdiag_slmgr_license_name(p->license));
    if (p->has_notification_reason)
      kmsdiag_json_hex32(j, "notification_reason", p->notification_reason);
    else
      kmsdiag_json_null(j, "notification_reason");
    json_u(j, "expiration_minutes", p->has_expiration, p->expiration_minutes);
    json_guid(j, "cmid", p->has_cmid, &p->cmid);
    json_s(j, "skms_domain", p->skms_domain);
    json_s(j, "pinned_host", p->pinned_host);
    json_u(j, "pinned_port", p->pinned_host != NULL, p->pinned_port);
    json_s(j, "dns_host", p->dns_host);
    json_u(j, "dns_port", p->dns_host != NULL, p->dns_port);
    kmsdiag_json_bool(j, "dns_not_available", p->dns_not_available);
    json_s(j, "kms_ip", p->kms_ip);
    json_s(j, "kms_epid", p->kms_epid);
    json_u(j, "activation_interval", p->has_activation_interval,
           p->activation_interval);
    json_u(j, "renewal_interval", p->has_renewal_interval, p->renewal_interval);
    if (p->host_caching < 0)
      kmsdiag_json_null(j, "host_caching");
    else
      kmsdiag_json_bool(j, "host_caching", p->host_caching == 1);
    kmsdiag_json_bool(j, "kms_host", p->is_kms_host);
    json_u(j, "current_count", p->has_current_count, p->current_count);
    json_u(j, "listening_port", p->has_listening_port, p->listening_port);
    kmsdiag_json_object_end(j);
  }
  kmsdiag_json_array_end(j);
  kmsdiag_json_array_begin(j, "warnings");
  for (size_t i = 0; i < s->nwarn; i++) {
    kmsdiag_json_object_begin(j, NULL);
    kmsdiag_json_uint(j, "line", s->warns[i].line);
    kmsdiag_json_str(j, "text", s->warns[i].text);
    kmsdiag_json_object_end(j);
  }
  kmsdiag_json_array_end(j);
  kmsdiag_json_object_end(j);
  return kmsdiag_json_status(j);
}
