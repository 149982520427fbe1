/* test_reader.c: every read past the end of a kd_reader_t is caught. */
#include <stdlib.h>

#include "check.h"
#include "internal/buf.h"
#include "internal/reader.h"

static void test_basic(void) {
  const uint8_t d[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
  kd_reader_t r;
  kd_rd_init(&r, d, sizeof d);
  CHECK_EQ(kd_rd_u8(&r), 0x01);
  CHECK_EQ(kd_rd_le16(&r), 0x0302);
  CHECK_EQ(kd_rd_be16(&r), 0x0405);
  CHECK_EQ_U64(kd_rd_le32(&r), 0x09080706u);
  CHECK(kd_rd_ok(&r));
  CHECK_EQ(kd_rd_remaining(&r), 0);
  CHECK_EQ(kd_rd_u8(&r), 0);
  CHECK(!kd_rd_ok(&r));
  CHECK_EQ(r.err_off, 9);
  CHECK_EQ(r.err_need, 1);
  /* sticky: even a zero-length read now fails and returns NULL */
  CHECK(kd_rd_ptr(&r, 0) == NULL);

  kd_rd_init(&r, d, sizeof d);
  CHECK_EQ_U64(kd_rd_be64(&r), 0x0102030405060708ull);
  kd_rd_init(&r, d, sizeof d);
  CHECK_EQ_U64(kd_rd_le64(&r), 0x0807060504030201ull);
  kd_rd_init(&r, d, sizeof d);
  CHECK_EQ_U64(kd_rd_be32(&r), 0x01020304u);
}

/* For every buffer length 0..16 and every read width, a read that does
 * not fit fails without reading, and the error offset is where it began. */
static void test_every_width(void) {
  uint8_t *d;
  for (size_t len = 0; len <= 16; len++) {
    d = malloc(len ? len : 1); /* exact size: ASan catches any overread */
    for (size_t i = 0; i < len; i++)
      d[i] = (uint8_t)i;
    static const size_t widths[] = {1, 2, 4, 8, 3, 16, 17};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
      kd_reader_t r;
      size_t n = widths[w], reads = 0;
      kd_rd_init(&r, d, len);
      for (;;) {
        size_t before = kd_rd_offset(&r);
        switch (n) {
        case 1: (void)kd_rd_u8(&r); break;
        case 2: (void)kd_rd_le16(&r); break;
        case 4: (void)kd_rd_be32(&r); break;
        case 8: (void)kd_rd_le64(&r); break;
        default: {
          uint8_t tmp[32];
          kd_rd_copy(&r, tmp, n);
        }
        }
        if (!kd_rd_ok(&r)) {
          CHECK_EQ(r.err_off, before);
          CHECK(before + n > len);
          break;
        }
        reads++;
        if (reads > 100)
          break;
      }
      CHECK_EQ(reads, len / n);
    }
    free(d);
  }
}

static void test_huge_lengths(void) {
  const uint8_t d[4] = {0};
  kd_reader_t r, sub;
  kd_rd_init(&r, d, sizeof d);
  kd_rd_skip(&r, 2);
  /* SIZE_MAX must not wrap around the bounds check */
  CHECK(kd_rd_ptr(&r, SIZE_MAX) == NULL);
  CHECK(!kd_rd_ok(&r));
  kd_rd_init(&r, d, sizeof d);
  kd_rd_skip(&r, 3);
  kd_rd_skip(&r, SIZE_MAX - 1);
  CHECK(!kd_rd_ok(&r));
  kd_rd_init(&r, d, sizeof d);
  kd_rd_seek(&r, 5);
  CHECK(!kd_rd_ok(&r));
  kd_rd_init(&r, d, sizeof d);
  kd_rd_sub(&r, 3, &sub);
  CHECK(kd_rd_ok(&r) && kd_rd_ok(&sub));
  CHECK_EQ(kd_rd_remaining(&sub), 3);
  kd_rd_skip(&sub, 4);
  CHECK(!kd_rd_ok(&sub));
  CHECK(kd_rd_ok(&r)); /* a sub-reader's failure is its own */
  kd_rd_sub(&r, 2, &sub);
  CHECK(!kd_rd_ok(&r) && !kd_rd_ok(&sub));
  /* alignment past the end fails */
  kd_rd_init(&r, d, 3);
  kd_rd_skip(&r, 1);
  kd_rd_align(&r, 4);
  CHECK(!kd_rd_ok(&r));
  kd_rd_init(&r, d, 4);
  kd_rd_skip(&r, 1);
  kd_rd_align(&r, 4);
  CHECK(kd_rd_ok(&r));
  CHECK_EQ(kd_rd_offset(&r), 4);
  /* NULL data is an empty reader */
  kd_rd_init(&r, NULL, 10);
  CHECK_EQ(kd_rd_remaining(&r), 0);
  (void)kd_rd_u8(&r);
  CHECK(!kd_rd_ok(&r));
  /* peek does not advance nor fail */
  kd_rd_init(&r, d, 2);
  CHECK(kd_rd_peek(&r, 2) != NULL);
  CHECK(kd_rd_peek(&r, 3) == NULL);
  CHECK(kd_rd_ok(&r));
}

static void test_buf(void) {
  kd_buf_t b;
  kd_buf_init(&b);
  kd_buf_le16(&b, 0x0102);
  kd_buf_le32(&b, 0x03040506);
  kd_buf_be16(&b, 0x0708);
  kd_buf_pad(&b, 4);
  CHECK(kd_buf_ok(&b));
  CHECK_EQ(b.len, 8);
  const uint8_t want[] = {0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x07, 0x08};
  CHECK_MEM(b.data, want, 8);
  kd_buf_set_le16(&b, 0, 0xAABB);
  CHECK_EQ(b.data[0], 0xBB);
  kd_buf_set_le32(&b, 6, 1); /* would run past the end */
  CHECK(!kd_buf_ok(&b));
  kd_buf_free(&b);
  kd_buf_init(&b);
  b.max = 16;
  kd_buf_zeros(&b, 16);
  CHECK(kd_buf_ok(&b));
  kd_buf_u8(&b, 1);
  CHECK(!kd_buf_ok(&b));
  CHECK(kd_buf_steal(&b, NULL) == NULL);
  kd_buf_init(&b);
  kd_buf_printf(&b, "%s-%d", "x", 42);
  size_t n;
  uint8_t *s = kd_buf_steal(&b, &n);
  CHECK(s && n == 4 && strcmp((char *)s, "x-42") == 0);
  free(s);
}

int main(void) {
  test_basic();
  test_every_width();
  test_huge_lengths();
  test_buf();
  return check_finish();
}
