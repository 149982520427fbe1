/* reader.c: the bounds-checked reader (see internal/reader.h). */
#include <string.h>

#include "internal/reader.h"

void kd_rd_init(kd_reader_t *r, const void *data, size_t len) {
  r->base = data;
  r->len = data ? len : 0;
  r->off = 0;
  r->err = false;
  r->err_off = 0;
  r->err_need = 0;
}

size_t kd_rd_remaining(const kd_reader_t *r) {
  return r->err ? 0 : r->len - r->off;
}

size_t kd_rd_offset(const kd_reader_t *r) { return r->off; }

static void set_err(kd_reader_t *r, size_t need) {
  if (!r->err) {
    r->err = true;
    r->err_off = r->off;
    r->err_need = need;
  }
}

void kd_rd_fail(kd_reader_t *r) { set_err(r, 0); }

/* The one place that decides whether n more bytes exist. Written so that
 * it cannot overflow: off <= len always holds. */
static const uint8_t *take(kd_reader_t *r, size_t n) {
  const uint8_t *p;
  if (r->err)
    return NULL;
  if (n > r->len - r->off) {
    set_err(r, n);
    return NULL;
  }
  p = r->base + r->off;
  r->off += n;
  return p;
}

uint8_t kd_rd_u8(kd_reader_t *r) {
  const uint8_t *p = take(r, 1);
  return p ? p[0] : 0;
}

uint16_t kd_rd_le16(kd_reader_t *r) {
  const uint8_t *p = take(r, 2);
  return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}

uint32_t kd_rd_le32(kd_reader_t *r) {
  const uint8_t *p = take(r, 4);
  return p ? ((uint32_t)p[0] | ((uint32_t)p[1] << 8) |
              ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24))
           : 0;
}

uint64_t kd_rd_le64(kd_reader_t *r) {
  const uint8_t *p = take(r, 8);
  uint64_t v = 0;
  if (p)
    for (int i = 7; i >= 0; i--)
      v = (v << 8) | p[i];
  return v;
}

uint16_t kd_rd_be16(kd_reader_t *r) {
  const uint8_t *p = take(r, 2);
  return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t kd_rd_be32(kd_reader_t *r) {
  const uint8_t *p = take(r, 4);
  return p ? (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
              ((uint32_t)p[2] << 8) | (uint32_t)p[3])
           : 0;
}

uint64_t kd_rd_be64(kd_reader_t *r) {
  const uint8_t *p = take(r, 8);
  uint64_t v = 0;
  if (p)
    for (int i = 0; i < 8; i++)
      v = (v << 8) | p[i];
  return v;
}

void kd_rd_copy(kd_reader_t *r, void *dst, size_t n) {
  const uint8_t *p = take(r, n);
  if (p)
    memcpy(dst, p, n);
  else if (n)
    memset(dst, 0, n);
}

const uint8_t *kd_rd_ptr(kd_reader_t *r, size_t n) { return take(r, n); }

const uint8_t *kd_rd_peek(const kd_reader_t *r, size_t n) {
  if (r->err || n > r->len - r->off)
    return NULL;
  return r->base + r->off;
}

void kd_rd_skip(kd_reader_t *r, size_t n) { (void)take(r, n); }

void kd_rd_align(kd_reader_t *r, size_t align) {
  size_t rem;
  if (align <= 1 || r->err)
    return;
  rem = r->off % align;
  if (rem)
    kd_rd_skip(r, align - rem);
}

void kd_rd_seek(kd_reader_t *r, size_t off) {
  if (r->err)
    return;
  if (off > r->len) {
    set_err(r, off - r->off);
    return;
  }
  r->off = off;
}

void kd_rd_sub(kd_reader_t *r, size_t n, kd_reader_t *sub) {
  const uint8_t *p = take(r, n);
  if (p) {
    kd_rd_init(sub, p, n);
  } else {
    kd_rd_init(sub, NULL, 0);
    sub->err = true;
  }
}
