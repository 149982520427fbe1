/* errors.c: lookup, search, decoding, parsing and JSON for the error
 * catalogue (the table itself is in catalogue.c). Nothing here allocates
 * or prints. */
#include <stdio.h>
#include <string.h>

#include <kmsdiag/kmsdiag_errors.h>

#include "errors/catalogue.h"

/* ---- table access ------------------------------------------------------ */

const kmsdiag_error_entry_t *kmsdiag_error_lookup(uint32_t code) {
  size_t n;
  const kmsdiag_error_entry_t *t = kd_err_table(&n);
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t[mid].code == code)
      return &t[mid];
    if (t[mid].code < code)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

size_t kmsdiag_error_count(void) {
  size_t n;
  (void)kd_err_table(&n);
  return n;
}

const kmsdiag_error_entry_t *kmsdiag_error_at(size_t i) {
  size_t n;
  const kmsdiag_error_entry_t *t = kd_err_table(&n);
  return i < n ? &t[i] : NULL;
}

static const char *const layer_names[KMSDIAG_ERRLAYER_COUNT] = {
    "dns", "tcp", "rpc", "kms-response", "host-side", "client-only",
    "online-activation"};

const char *kmsdiag_error_layer_name(unsigned layer) {
  for (unsigned i = 0; i < KMSDIAG_ERRLAYER_COUNT; i++)
    if (layer == (1u << i))
      return layer_names[i];
  return NULL;
}

/* ---- search ------------------------------------------------------------ */

static unsigned char ascii_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Case-insensitive (ASCII) substring test; hay is NUL-terminated. */
static bool ci_contains(const char *hay, const char *needle, size_t nlen) {
  if (!hay)
    return false;
  size_t hlen = strlen(hay);
  if (nlen > hlen)
    return false;
  for (size_t i = 0; i + nlen <= hlen; i++) {
    size_t k = 0;
    while (k < nlen && ascii_lower((unsigned char)hay[i + k]) ==
                           ascii_lower((unsigned char)needle[k]))
      k++;
    if (k == nlen)
      return true;
  }
  return false;
}

static bool list_contains(const char *const *list, const char *w, size_t n) {
  for (size_t i = 0; list && list[i]; i++)
    if (ci_contains(list[i], w, n))
      return true;
  return false;
}

static bool entry_has_word(const kmsdiag_error_entry_t *e, const char *w,
                           size_t n) {
  char num[24];
  snprintf(num, sizeof num, "0x%08X", (unsigned)e->code);
  if (ci_contains(num, w, n) || ci_contains(e->name, w, n) ||
      ci_contains(e->message, w, n) || list_contains(e->causes, w, n) ||
      list_contains(e->remedies, w, n))
    return true;
  for (unsigned i = 0; i < KMSDIAG_ERRLAYER_COUNT; i++)
    if ((e->layers & (1u << i)) && ci_contains(layer_names[i], w, n))
      return true;
  if ((e->code & 0xFFFF0000u) == 0x80070000u) {
    snprintf(num, sizeof num, "%u", (unsigned)(e->code & 0xFFFFu));
    if (ci_contains(num, w, n))
      return true;
  }
  return false;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

kmsdiag_status_t kmsdiag_error_search(const char *query,
                                      const kmsdiag_error_entry_t **out,
                                      size_t max, size_t *found) {
  struct {
    const char *p;
    size_t n;
  } words[KMSDIAG_ERROR_SEARCH_MAX_WORDS];
  size_t nwords = 0;
  if (found)
    *found = 0;
  if (!query || !found || (max > 0 && !out))
    return KMSDIAG_EINVAL;
  size_t qlen = strnlen(query, KMSDIAG_ERROR_SEARCH_MAX_LEN + 1);
  if (qlen > KMSDIAG_ERROR_SEARCH_MAX_LEN)
    return KMSDIAG_ETOOBIG;
  for (size_t i = 0; i < qlen;) {
    while (i < qlen && is_space(query[i]))
      i++;
    if (i >= qlen)
      break;
    size_t start = i;
    while (i < qlen && !is_space(query[i]))
      i++;
    if (nwords == KMSDIAG_ERROR_SEARCH_MAX_WORDS)
      return KMSDIAG_ETOOBIG;
    words[nwords].p = query + start;
    words[nwords].n = i - start;
    nwords++;
  }
  if (nwords == 0)
    return KMSDIAG_EINVAL;

  size_t n, hits = 0;
  const kmsdiag_error_entry_t *t = kd_err_table(&n);
  for (size_t i = 0; i < n; i++) {
    bool all = true;
    for (size_t w = 0; w < nwords && all; w++)
      all = entry_has_word(&t[i], words[w].p, words[w].n);
    if (!all)
      continue;
    if (hits < max)
      out[hits] = &t[i];
    hits++;
  }
  *found = hits;
  return KMSDIAG_OK;
}

/* ---- decoding ------------------------------------------------------------ */

struct facility_name {
  uint16_t num;
  const char *name;
};

/* HRESULT facilities (winerror.h FACILITY_*), the ones people meet. */
static const struct facility_name hresult_facilities[] = {
    {0, "NULL"},         {1, "RPC"},          {2, "DISPATCH"},
    {3, "STORAGE"},      {4, "ITF"},          {7, "WIN32"},
    {8, "WINDOWS"},      {9, "SECURITY"},     {10, "CONTROL"},
    {11, "CERT"},        {12, "INTERNET"},    {13, "MEDIASERVER"},
    {14, "MSMQ"},        {15, "SETUPAPI"},    {16, "SCARD"},
    {17, "COMPLUS"},     {19, "URT"},         {23, "SXS"},
    {25, "HTTP"},        {32, "BACKGROUNDCOPY"}, {33, "CONFIGURATION"},
    {36, "WINDOWSUPDATE"}, {37, "DIRECTORYSERVICE"}, {38, "GRAPHICS"},
    {39, "SHELL"},       {40, "TPM_SERVICES"}, {41, "TPM_SOFTWARE"},
    {49, "FVE"},         {50, "FWP"},         {51, "WINRM"},
};

/* NTSTATUS facilities (ntstatus.h), the few relevant here. */
static const struct facility_name nt_facilities[] = {
    {1, "DEBUGGER"}, {2, "RPC_RUNTIME"}, {3, "RPC_STUBS"}, {7, "NTWIN32"},
};

static const char *facility_lookup(const struct facility_name *t, size_t n,
                                   uint16_t num) {
  for (size_t i = 0; i < n; i++)
    if (t[i].num == num)
      return t[i].name;
  return NULL;
}

static const char *const format_names[] = {"hresult", "ntstatus",
                                           "hresult_from_nt", "nca", "win32"};

void kmsdiag_error_decode(uint32_t code, kmsdiag_error_info_t *out) {
  memset(out, 0, sizeof *out);
  out->code = code;
  out->failure = (code >> 31) & 1u;
  out->reserved_bit = (code >> 30) & 1u;
  out->customer = (code >> 29) & 1u;
  out->nt_bit = (code >> 28) & 1u;
  out->code_field = (uint16_t)(code & 0xFFFFu);
  out->severity = out->failure        ? "error"
                  : out->reserved_bit ? "informational"
                                      : "success";
  out->is_sl = (code >> 16) == 0xC004u || (code >> 16) == 0x4004u;

  if (code <= 0xFFFFu) {
    out->format = KMSDIAG_ERRFMT_WIN32;
    out->is_win32 = true;
    out->win32_code = code;
  } else if ((code >> 16) == 0x1C00u || (code >> 16) == 0x1C01u) {
    out->format = KMSDIAG_ERRFMT_NCA;
    out->facility_name = "NCA";
  } else if (out->nt_bit) {
    out->format = KMSDIAG_ERRFMT_HRESULT_FROM_NT;
    out->ntstatus = code & ~0x10000000u;
    out->facility = (uint16_t)((out->ntstatus >> 16) & 0xFFFu);
    out->facility_name = facility_lookup(
        nt_facilities, sizeof nt_facilities / sizeof nt_facilities[0],
        out->facility);
  } else if (out->reserved_bit && !out->is_sl) {
    out->format = KMSDIAG_ERRFMT_NTSTATUS;
    out->facility = (uint16_t)((code >> 16) & 0xFFFu);
    out->facility_name = facility_lookup(
        nt_facilities, sizeof nt_facilities / sizeof nt_facilities[0],
        out->facility);
  } else {
    out->format = KMSDIAG_ERRFMT_HRESULT;
    out->facility = (uint16_t)((code >> 16) & 0x7FFu);
    out->facility_name = facility_lookup(
        hresult_facilities,
        sizeof hresult_facilities / sizeof hresult_facilities[0],
        out->facility);
    if ((code >> 16) == 0x8007u) {
      out->is_win32 = true;
      out->win32_code = code & 0xFFFFu;
    }
  }
  out->format_name = format_names[out->format];
}

uint32_t kmsdiag_error_hresult_from_win32(uint32_t win32) {
  if (win32 == 0 || win32 > 0xFFFFu)
    return win32;
  return 0x80070000u | win32;
}

/* ---- parsing --------------------------------------------------------- */

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static kmsdiag_status_t parse_fail(const char **why, const char *reason) {
  if (why)
    *why = reason;
  return KMSDIAG_EPARSE;
}

kmsdiag_status_t kmsdiag_error_parse_code_ex(const char *text, uint32_t *out,
                                             kmsdiag_error_input_form_t *form,
                                             const char **why) {
  if (why)
    *why = NULL;
  if (!text || !out) {
    if (why)
      *why = "no input";
    return KMSDIAG_EINVAL;
  }
  size_t n = strnlen(text, KMSDIAG_ERROR_CODE_TEXT_MAX + 1);
  if (n == 0)
    return parse_fail(why, "empty");
  if (n > KMSDIAG_ERROR_CODE_TEXT_MAX)
    return parse_fail(why, "too long");

  uint64_t v = 0;
  kmsdiag_error_input_form_t f;
  size_t i = 0;
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    f = KMSDIAG_ERRIN_HEX_PREFIXED;
    i = 2;
    if (i == n)
      return parse_fail(why, "no hex digits after 0x");
    for (; i < n; i++) {
      int d = hex_value(text[i]);
      if (d < 0)
        return parse_fail(why, "not a hex digit after 0x");
      v = v * 16 + (unsigned)d;
      if (v > 0xFFFFFFFFu)
        return parse_fail(why, "larger than 32 bits");
    }
  } else if (text[0] == '-') {
    f = KMSDIAG_ERRIN_NEGATIVE;
    i = 1;
    if (i == n)
      return parse_fail(why, "no digits after '-'");
    for (; i < n; i++) {
      if (text[i] < '0' || text[i] > '9')
        return parse_fail(why, "not a decimal digit after '-'");
      v = v * 10 + (unsigned)(text[i] - '0');
      if (v > 0x80000000u)
        return parse_fail(why, "below -2147483648 (not a 32-bit value)");
    }
    v = (uint32_t)(0u - (uint32_t)v);
  } else {
    bool all_dec = true, all_hex = true;
    for (i = 0; i < n; i++) {
      if (text[i] < '0' || text[i] > '9')
        all_dec = false;
      if (hex_value(text[i]) < 0)
        all_hex = false;
    }
    if (n == 8 && all_hex) {
      f = KMSDIAG_ERRIN_HEX_BARE;
      for (i = 0; i < n; i++)
        v = v * 16 + (unsigned)hex_value(text[i]);
    } else if (all_dec) {
      f = KMSDIAG_ERRIN_DECIMAL;
      for (i = 0; i < n; i++) {
        v = v * 10 + (unsigned)(text[i] - '0');
        if (v > 0xFFFFFFFFu)
          return parse_fail(why, "larger than 4294967295 (32 bits)");
      }
    } else if (all_hex) {
      return parse_fail(why,
                        "hex without 0x must have exactly 8 digits");
    } else {
      return parse_fail(why, "not a number");
    }
  }
  if (v >= 1 && v <= 0xFFFFu) {
    v = kmsdiag_error_hresult_from_win32((uint32_t)v);
    f = KMSDIAG_ERRIN_WIN32;
  }
  *out = (uint32_t)v;
  if (form)
    *form = f;
  return KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_error_parse_code(const char *text, uint32_t *out) {
  return kmsdiag_error_parse_code_ex(text, out, NULL, NULL);
}

/* ---- generic remedies for any code ------------------------------------ */

size_t kmsdiag_error_generic_remedy(uint32_t code, size_t i, char *buf,
                                    size_t bufsz) {
  kmsdiag_error_info_t info;
  int r;
  kmsdiag_error_decode(code, &info);
  if (i == 0)
    r = snprintf(buf, bufsz,
                 "On the Windows machine run `slui.exe 0x2a 0x%08X` to show "
                 "the local description",
                 (unsigned)code);
  else if (i == 1 && info.is_win32 && info.win32_code != 0)
    r = snprintf(buf, bufsz,
                 "Run `net helpmsg %u` to show the Win32 message of error %u",
                 (unsigned)info.win32_code, (unsigned)info.win32_code);
  else {
    if (buf && bufsz)
      buf[0] = '\0';
    return 0;
  }
  return r < 0 ? 0 : (size_t)r;
}

/* ---- JSON ------------------------------------------------------------- */

static void json_list(kmsdiag_json_t *j, const char *key,
                      const char *const *list) {
  kmsdiag_json_array_begin(j, key);
  for (size_t i = 0; list && list[i]; i++)
    kmsdiag_json_str(j, NULL, list[i]);
  kmsdiag_json_array_end(j);
}

void kmsdiag_error_json_members(kmsdiag_json_t *j, uint32_t code) {
  const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(code);
  kmsdiag_error_info_t info;
  kmsdiag_error_decode(code, &info);

  kmsdiag_json_str(j, "type", "error_code");
  kmsdiag_json_hex32(j, "code", code);
  kmsdiag_json_bool(j, "known", e != NULL);
  kmsdiag_json_str(j, "name", e ? e->name : NULL);
  kmsdiag_json_str(j, "message", e ? e->message : NULL);
  kmsdiag_json_bool(j, "verified",
                    e != NULL && !(e->flags & KMSDIAG_ERRF_UNVERIFIED));
  const char *first = NULL;
  kmsdiag_json_array_begin(j, "layers");
  for (unsigned i = 0; e && i < KMSDIAG_ERRLAYER_COUNT; i++) {
    if (e->layers & (1u << i)) {
      if (!first)
        first = layer_names[i];
      kmsdiag_json_str(j, NULL, layer_names[i]);
    }
  }
  kmsdiag_json_array_end(j);
  kmsdiag_json_str(j, "layer", first);
  json_list(j, "causes", e ? e->causes : NULL);
  if (e) {
    json_list(j, "remedies", e->remedies);
  } else {
    char buf[256];
    kmsdiag_json_array_begin(j, "remedies");
    for (size_t i = 0; kmsdiag_error_generic_remedy(code, i, buf, sizeof buf);
         i++)
      kmsdiag_json_str(j, NULL, buf);
    kmsdiag_json_array_end(j);
  }
  kmsdiag_json_str(j, "source", e ? e->source : NULL);
  kmsdiag_json_str(j, "severity", info.severity);
  kmsdiag_json_str(j, "format", info.format_name);
  kmsdiag_json_uint(j, "facility", info.facility);
  kmsdiag_json_str(j, "facility_name", info.facility_name);
  kmsdiag_json_uint(j, "code_field", info.code_field);
  if (info.is_win32)
    kmsdiag_json_uint(j, "win32", info.win32_code);
  else
    kmsdiag_json_null(j, "win32");
  kmsdiag_json_bool(j, "software_licensing", info.is_sl);
}

kmsdiag_status_t kmsdiag_error_write_json(kmsdiag_json_t *j, const char *key,
                                          uint32_t code) {
  if (!j)
    return KMSDIAG_EINVAL;
  kmsdiag_json_object_begin(j, key);
  kmsdiag_error_json_members(j, code);
  kmsdiag_json_object_end(j);
  return kmsdiag_json_status(j);
}
