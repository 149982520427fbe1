/* reader.h: the bounds-checked reader for every untrusted byte.
 *
 * All parsers in libkmsdiag read network and file data only through a
 * kd_reader_t. Reads past the end never touch memory: they set a sticky
 * error, return zero (or NULL), and remember where the failing read
 * started, so a parser can do a run of reads and check once:
 *
 *   kd_reader_t r;
 *   kd_rd_init(&r, pkt, len);
 *   uint16_t sport = kd_rd_be16(&r), dport = kd_rd_be16(&r);
 *   if (!kd_rd_ok(&r)) return KMSDIAG_ETRUNC;   (r.err_off says where)
 *
 * Never cast a struct onto packet memory; never trust a length field
 * before checking it against kd_rd_remaining(). */
#ifndef KMSDIAG_INTERNAL_READER_H
#define KMSDIAG_INTERNAL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kd_reader {
  const uint8_t *base; /* first byte (never dereferenced past len) */
  size_t len;          /* bytes available */
  size_t off;          /* next byte to read */
  bool err;            /* sticky: a read went past the end */
  size_t err_off;      /* offset where the first failed read started */
  size_t err_need;     /* bytes that failed read asked for */
} kd_reader_t;

void kd_rd_init(kd_reader_t *r, const void *data, size_t len);
/* True while no read has failed. */
static inline bool kd_rd_ok(const kd_reader_t *r) { return !r->err; }
/* Bytes left to read (0 after an error). */
size_t kd_rd_remaining(const kd_reader_t *r);
size_t kd_rd_offset(const kd_reader_t *r);
/* Mark the reader failed at the current offset (for semantic checks that
 * should stop later reads). */
void kd_rd_fail(kd_reader_t *r);

uint8_t kd_rd_u8(kd_reader_t *r);
uint16_t kd_rd_le16(kd_reader_t *r);
uint32_t kd_rd_le32(kd_reader_t *r);
uint64_t kd_rd_le64(kd_reader_t *r);
uint16_t kd_rd_be16(kd_reader_t *r);
uint32_t kd_rd_be32(kd_reader_t *r);
uint64_t kd_rd_be64(kd_reader_t *r);
/* Copy n bytes into dst; on failure dst is zero-filled. */
void kd_rd_copy(kd_reader_t *r, void *dst, size_t n);
/* Borrow a pointer to the next n bytes and advance, or NULL on failure. */
const uint8_t *kd_rd_ptr(kd_reader_t *r, size_t n);
/* Look at the next n bytes without advancing, or NULL. */
const uint8_t *kd_rd_peek(const kd_reader_t *r, size_t n);
void kd_rd_skip(kd_reader_t *r, size_t n);
/* Advance to the next multiple of `align` counted from base (1,2,4,8...). */
void kd_rd_align(kd_reader_t *r, size_t align);
/* Move to absolute offset `off` (<= len), else fail. */
void kd_rd_seek(kd_reader_t *r, size_t off);
/* Carve the next n bytes out as an independent reader `sub` and advance
 * past them. On failure `sub` is an empty failed reader. */
void kd_rd_sub(kd_reader_t *r, size_t n, kd_reader_t *sub);

#endif
