/* buf.h: a growable byte buffer for encoders and text builders. Errors
 * (out of memory, size cap) are sticky; check kd_buf_ok() once at the end.
 * The buffer is always NUL-terminated after its data (not counted). */
#ifndef KMSDIAG_INTERNAL_BUF_H
#define KMSDIAG_INTERNAL_BUF_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kd_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
  size_t max;  /* hard cap on len; 0 = 64 MiB default */
  bool err;
} kd_buf_t;

void kd_buf_init(kd_buf_t *b);
void kd_buf_free(kd_buf_t *b);
void kd_buf_reset(kd_buf_t *b); /* len = 0, err = false; memory kept */
static inline bool kd_buf_ok(const kd_buf_t *b) { return !b->err; }
bool kd_buf_reserve(kd_buf_t *b, size_t extra);
void kd_buf_put(kd_buf_t *b, const void *p, size_t n);
void kd_buf_putc(kd_buf_t *b, char c);
void kd_buf_puts(kd_buf_t *b, const char *s);
void kd_buf_printf(kd_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kd_buf_vprintf(kd_buf_t *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void kd_buf_u8(kd_buf_t *b, uint8_t v);
void kd_buf_le16(kd_buf_t *b, uint16_t v);
void kd_buf_le32(kd_buf_t *b, uint32_t v);
void kd_buf_le64(kd_buf_t *b, uint64_t v);
void kd_buf_be16(kd_buf_t *b, uint16_t v);
void kd_buf_be32(kd_buf_t *b, uint32_t v);
void kd_buf_zeros(kd_buf_t *b, size_t n);
/* Pad with zero bytes to a multiple of `align` (counted from the start). */
void kd_buf_pad(kd_buf_t *b, size_t align);
/* Overwrite bytes already written (for length fields filled in later). */
void kd_buf_set_le16(kd_buf_t *b, size_t off, uint16_t v);
void kd_buf_set_le32(kd_buf_t *b, size_t off, uint32_t v);
/* Hand the data to the caller (must be free()'d); the buffer is emptied.
 * NULL after an error. */
uint8_t *kd_buf_steal(kd_buf_t *b, size_t *len);

#endif
