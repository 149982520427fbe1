/* escape.c: UTF-8 validation and terminal-safe escaping of untrusted text. */
#include <stdlib.h>

#include <kmsdiag/kmsdiag_out.h>

#include "internal/utf8.h"

size_t kd_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp) {
  uint32_t c;
  size_t len, i;
  if (n == 0)
    return 0;
  if (p[0] < 0x80) {
    *cp = p[0];
    return 1;
  }
  if (p[0] >= 0xC2 && p[0] <= 0xDF) {
    len = 2;
    c = p[0] & 0x1Fu;
  } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
    len = 3;
    c = p[0] & 0x0Fu;
  } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
    len = 4;
    c = p[0] & 0x07u;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  for (i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    c = (c << 6) | (p[i] & 0x3Fu);
  }
  if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10FFFF ||
      (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return len;
}

/* Code points that must not reach a terminal raw: C1 controls and the
 * bidirectional formatting characters ("trojan source" reordering). */
static int unsafe_cp(uint32_t c) {
  return (c >= 0x80 && c <= 0x9F) || c == 0x200E || c == 0x200F ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x061C || c == 0xFEFF;
}

size_t kmsdiag_text_escape(char *dst, size_t dstsz, const void *src,
                           size_t len) {
  static const char hex[] = "0123456789abcdef";
  const uint8_t *s = src;
  size_t out = 0, i = 0;
#define EMIT(ch)                                                               \
  do {                                                                         \
    if (dstsz && out < dstsz - 1)                                              \
      dst[out] = (char)(ch);                                                   \
    out++;                                                                     \
  } while (0)
  if (!s)
    len = 0;
  while (i < len) {
    uint32_t cp;
    size_t n = kd_utf8_decode(s + i, len - i, &cp);
    if (n == 1 && cp >= 0x20 && cp < 0x7F) {
      if (cp == '\\')
        EMIT('\\');
      EMIT(cp);
      i++;
    } else if (n > 1 && !unsafe_cp(cp)) {
      for (size_t k = 0; k < n; k++)
        EMIT(s[i + k]);
      i += n;
    } else {
      /* control byte, invalid byte, or an unsafe sequence: every byte of
       * it is shown as \xNN */
      size_t m = n ? n : 1;
      for (size_t k = 0; k < m; k++) {
        EMIT('\\');
        EMIT('x');
        EMIT(hex[s[i + k] >> 4]);
        EMIT(hex[s[i + k] & 15]);
      }
      i += m;
    }
  }
  if (dstsz)
    dst[out < dstsz ? out : dstsz - 1] = '\0';
#undef EMIT
  return out;
}

char *kmsdiag_text_escape_dup(const void *src, size_t len) {
  size_t need = kmsdiag_text_escape(NULL, 0, src, len);
  char *d = malloc(need + 1);
  if (!d)
    return NULL;
  kmsdiag_text_escape(d, need + 1, src, len);
  return d;
}
