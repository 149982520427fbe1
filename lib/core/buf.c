/* buf.c: growable byte buffer with a sticky error (see internal/buf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/buf.h"

#define KD_BUF_DEFAULT_MAX ((size_t)64 << 20)

void kd_buf_init(kd_buf_t *b) { memset(b, 0, sizeof *b); }

void kd_buf_free(kd_buf_t *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void kd_buf_reset(kd_buf_t *b) {
  b->len = 0;
  b->err = false;
  if (b->data)
    b->data[0] = 0;
}

bool kd_buf_reserve(kd_buf_t *b, size_t extra) {
  size_t max = b->max ? b->max : KD_BUF_DEFAULT_MAX;
  size_t need, ncap;
  uint8_t *nd;
  if (b->err)
    return false;
  if (extra > max || b->len > max - extra) {
    b->err = true;
    return false;
  }
  need = b->len + extra + 1; /* room for the trailing NUL */
  if (need <= b->cap)
    return true;
  ncap = b->cap ? b->cap : 64;
  while (ncap < need)
    ncap *= 2;
  nd = realloc(b->data, ncap);
  if (!nd) {
    b->err = true;
    return false;
  }
  b->data = nd;
  b->cap = ncap;
  return true;
}

void kd_buf_put(kd_buf_t *b, const void *p, size_t n) {
  if (!kd_buf_reserve(b, n))
    return;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
}

void kd_buf_putc(kd_buf_t *b, char c) { kd_buf_put(b, &c, 1); }

void kd_buf_puts(kd_buf_t *b, const char *s) { kd_buf_put(b, s, strlen(s)); }

void kd_buf_vprintf(kd_buf_t *b, const char *fmt, va_list ap) {
  va_list ap2;
  int n;
  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) {
    b->err = true;
    return;
  }
  if (!kd_buf_reserve(b, (size_t)n))
    return;
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void kd_buf_printf(kd_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kd_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void kd_buf_u8(kd_buf_t *b, uint8_t v) { kd_buf_put(b, &v, 1); }

void kd_buf_le16(kd_buf_t *b, uint16_t v) {
  uint8_t t[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  kd_buf_put(b, t, 2);
}

void kd_buf_le32(kd_buf_t *b, uint32_t v) {
  uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                  (uint8_t)(v >> 24)};
  kd_buf_put(b, t, 4);
}

void kd_buf_le64(kd_buf_t *b, uint64_t v) {
  kd_buf_le32(b, (uint32_t)v);
  kd_buf_le32(b, (uint32_t)(v >> 32));
}

void kd_buf_be16(kd_buf_t *b, uint16_t v) {
  uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  kd_buf_put(b, t, 2);
}

void kd_buf_be32(kd_buf_t *b, uint32_t v) {
  uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                  (uint8_t)v};
  kd_buf_put(b, t, 4);
}

void kd_buf_zeros(kd_buf_t *b, size_t n) {
  if (!kd_buf_reserve(b, n))
    return;
  memset(b->data + b->len, 0, n);
  b->len += n;
  b->data[b->len] = 0;
}

void kd_buf_pad(kd_buf_t *b, size_t align) {
  if (align > 1 && b->len % align)
    kd_buf_zeros(b, align - b->len % align);
}

void kd_buf_set_le16(kd_buf_t *b, size_t off, uint16_t v) {
  if (b->err || off > b->len || b->len - off < 2) {
    b->err = true;
    return;
  }
  b->data[off] = (uint8_t)v;
  b->data[off + 1] = (uint8_t)(v >> 8);
}

void kd_buf_set_le32(kd_buf_t *b, size_t off, uint32_t v) {
  if (b->err || off > b->len || b->len - off < 4) {
    b->err = true;
    return;
  }
  for (int i = 0; i < 4; i++)
    b->data[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

uint8_t *kd_buf_steal(kd_buf_t *b, size_t *len) {
  uint8_t *d;
  if (b->err) {
    kd_buf_free(b);
    return NULL;
  }
  if (!b->data && !kd_buf_reserve(b, 0))
    return NULL;
  d = b->data;
  if (len)
    *len = b->len;
  memset(b, 0, sizeof *b);
  return d;
}
