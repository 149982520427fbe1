/* utf8.h: strict UTF-8 decoding shared by the JSON writer and the text
 * escaper. */
#ifndef KMSDIAG_INTERNAL_UTF8_H
#define KMSDIAG_INTERNAL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode one code point at p (n bytes available). Returns the sequence
 * length (1..4) and stores the code point, or 0 when the bytes at p are not
 * a valid, shortest-form UTF-8 sequence of a Unicode scalar value. */
size_t kd_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);

#endif
