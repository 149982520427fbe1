/* test_capture.c: the link/IP/TCP layers and the TCP reassembler of the
 * capture module, on frames built here byte by byte. */
#include <stdlib.h>
#include <string.h>

#include "capture/cap_int.h"
#include "check.h"
#include "internal/buf.h"

/* ---- frame builders -------------------------------------------------------- */

static void ipv4_tcp(kd_buf_t *b, const uint8_t src[4], const uint8_t dst[4],
                     uint16_t sp, uint16_t dp, uint32_t seq, uint8_t flags,
                     const void *pl, size_t n, uint16_t frag) {
  size_t tot = 20 + 20 + n;
  kd_buf_u8(b, 0x45);
  kd_buf_u8(b, 0);
  kd_buf_be16(b, (uint16_t)tot);
  kd_buf_be16(b, 1);
  kd_buf_be16(b, frag);
  kd_buf_u8(b, 64);
  kd_buf_u8(b, 6);
  kd_buf_be16(b, 0);
  kd_buf_put(b, src, 4);
  kd_buf_put(b, dst, 4);
  kd_buf_be16(b, sp);
  kd_buf_be16(b, dp);
  kd_buf_be32(b, seq);
  kd_buf_be32(b, 0);
  kd_buf_u8(b, 0x50);
  kd_buf_u8(b, flags);
  kd_buf_be16(b, 65535);
  kd_buf_be32(b, 0);
  kd_buf_put(b, pl, n);
}

static void ipv6_udp(kd_buf_t *b, uint16_t sp, uint16_t dp, const void *pl,
                     size_t n, bool ext, bool frag) {
  size_t extlen = (ext ? 16 : 0) + (frag ? 8 : 0);
  kd_buf_be32(b, 0x60000000u);
  kd_buf_be16(b, (uint16_t)(extlen + 8 + n));
  kd_buf_u8(b, ext ? 0 : frag ? 44 : 17); /* hop-by-hop first */
  kd_buf_u8(b, 64);
  for (int i = 0; i < 32; i++)
    kd_buf_u8(b, (uint8_t)(i < 16 ? 0x20 : 0x30));
  if (ext) {
    kd_buf_u8(b, 60); /* hop-by-hop -> destination options */
    kd_buf_u8(b, 0);
    kd_buf_zeros(b, 6);
    kd_buf_u8(b, frag ? 44 : 17);
    kd_buf_u8(b, 0);
    kd_buf_zeros(b, 6);
  }
  if (frag) {
    kd_buf_u8(b, 17);
    kd_buf_u8(b, 0);
    kd_buf_be16(b, 0x0001); /* offset 0, M set: first fragment */
    kd_buf_be32(b, 77);
  }
  kd_buf_be16(b, sp);
  kd_buf_be16(b, dp);
  kd_buf_be16(b, (uint16_t)(8 + n));
  kd_buf_be16(b, 0);
  kd_buf_put(b, pl, n);
}

static const uint8_t A[4] = {10, 0, 0, 1}, B[4] = {10, 0, 0, 2};

static void test_ethernet_vlan(void) {
  for (int tags = 0; tags <= 5; tags++) {
    kd_buf_t b;
    kd_pkt_t p;
    kd_buf_init(&b);
    kd_buf_zeros(&b, 12);
    for (int i = 0; i < tags; i++) {
      kd_buf_be16(&b, i == 0 && tags > 1 ? 0x88A8 : 0x8100);
      kd_buf_be16(&b, (uint16_t)(100 + i));
    }
    kd_buf_be16(&b, 0x0800);
    ipv4_tcp(&b, A, B, 50000, 1688, 1000, KD_TCP_ACK | KD_TCP_PSH, "hello", 5,
             0);
    kd_buf_zeros(&b, 6); /* Ethernet padding must not become payload */
    int st = kd_cap_decode(1, b.data, b.len, &p);
    if (tags <= 4) {
      CHECK_EQ(st, KMSDIAG_OK);
      CHECK_EQ(p.family, 4);
      CHECK_EQ(p.proto, KD_PKT_TCP);
      CHECK_EQ(p.sport, 50000);
      CHECK_EQ(p.dport, 1688);
      CHECK_EQ(p.seq, 1000);
      CHECK_EQ(p.paylen, 5);
      CHECK(p.payload && memcmp(p.payload, "hello", 5) == 0);
      CHECK(!p.truncated);
    } else {
      CHECK_EQ(st, KMSDIAG_ELIMIT); /* more than 4 tags: a clear error */
      CHECK(p.err != NULL);
    }
    kd_buf_free(&b);
  }
}

static void test_other_links(void) {
  kd_buf_t ip;
  kd_pkt_t p;
  kd_buf_init(&ip);
  ipv4_tcp(&ip, A, B, 1688, 40000, 7, KD_TCP_SYN | KD_TCP_ACK, "", 0, 0);
  /* SLL: 16 bytes, protocol at 14 */
  {
    kd_buf_t b;
    kd_buf_init(&b);
    kd_buf_zeros(&b, 14);
    kd_buf_be16(&b, 0x0800);
    kd_buf_put(&b, ip.data, ip.len);
    CHECK_EQ(kd_cap_decode(113, b.data, b.len, &p), KMSDIAG_OK);
    CHECK_EQ(p.sport, 1688);
    CHECK_EQ(p.tcp_flags, KD_TCP_SYN | KD_TCP_ACK);
    kd_buf_free(&b);
  }
  /* SLL2: 20 bytes, protocol first */
  {
    kd_buf_t b;
    kd_buf_init(&b);
    kd_buf_be16(&b, 0x0800);
    kd_buf_zeros(&b, 18);
    kd_buf_put(&b, ip.data, ip.len);
    CHECK_EQ(kd_cap_decode(276, b.data, b.len, &p), KMSDIAG_OK);
    CHECK_EQ(p.dport, 40000);
    kd_buf_free(&b);
  }
  /* BSD null, host order little-endian and big-endian; OpenBSD loop */
  for (int v = 0; v < 3; v++) {
    kd_buf_t b;
    kd_buf_init(&b);
    if (v == 0)
      kd_buf_le32(&b, 2);
    else
      kd_buf_be32(&b, 2);
    kd_buf_put(&b, ip.data, ip.len);
    CHECK_EQ(kd_cap_decode(v == 2 ? 108 : 0, b.data, b.len, &p), KMSDIAG_OK);
    CHECK_EQ(p.family, 4);
    CHECK_EQ(p.proto, KD_PKT_TCP);
    kd_buf_free(&b);
  }
  /* raw IP under its three DLT numbers */
  static const int raw[] = {12, 14, 101, 228};
  for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
    CHECK_EQ(kd_cap_decode(raw[i], ip.data, ip.len, &p), KMSDIAG_OK);
    CHECK_EQ(p.proto, KD_PKT_TCP);
  }
  /* unknown link type: an error, not a guess */
  CHECK_EQ(kd_cap_decode(9999, ip.data, ip.len, &p), KMSDIAG_EUNSUPPORTED);
  kd_buf_free(&ip);
}

static void test_ipv6(void) {
  for (int v = 0; v < 3; v++) {
    kd_buf_t b;
    kd_pkt_t p;
    kd_buf_init(&b);
    ipv6_udp(&b, 5353, 53, "abc", 3, v >= 1, v == 2);
    CHECK_EQ(kd_cap_decode(229, b.data, b.len, &p), KMSDIAG_OK);
    CHECK_EQ(p.family, 6);
    if (v < 2) {
      CHECK_EQ(p.proto, KD_PKT_UDP);
      CHECK_EQ(p.dport, 53);
      CHECK_EQ(p.paylen, 3);
      CHECK(!p.fragment);
    } else {
      CHECK(p.fragment); /* reported, not decoded as UDP */
      CHECK_EQ(p.proto, KD_PKT_OTHER);
    }
    CHECK_EQ(p.src[0], 0x20);
    CHECK_EQ(p.dst[15], 0x30);
    kd_buf_free(&b);
  }
}

static void test_ipv4_fragment_and_damage(void) {
  kd_buf_t b;
  kd_pkt_t p;
  kd_buf_init(&b);
  ipv4_tcp(&b, A, B, 1, 2, 3, KD_TCP_ACK, "xyz", 3, 0x2000); /* MF */
  CHECK_EQ(kd_cap_decode(12, b.data, b.len, &p), KMSDIAG_OK);
  CHECK(p.fragment);
  CHECK_EQ(p.proto, KD_PKT_OTHER);
  /* IHL below 5 */
  b.data[0] = 0x44;
  CHECK_EQ(kd_cap_decode(12, b.data, b.len, &p), KMSDIAG_EMALFORMED);
  CHECK(p.err != NULL);
  CHECK_EQ(p.err_off, 0);
  /* total length below the header */
  b.data[0] = 0x45;
  b.data[2] = 0;
  b.data[3] = 10;
  CHECK_EQ(kd_cap_decode(12, b.data, b.len, &p), KMSDIAG_EMALFORMED);
  CHECK_EQ(p.err_off, 2);
  kd_buf_free(&b);

  /* TCP data offset pointing past the IP payload */
  kd_buf_init(&b);
  ipv4_tcp(&b, A, B, 1, 2, 3, KD_TCP_ACK, "", 0, 0);
  b.data[32] = 0xF0;
  CHECK_EQ(kd_cap_decode(12, b.data, b.len, &p), KMSDIAG_EMALFORMED);
  CHECK_EQ(p.err_off, 32);
  kd_buf_free(&b);
}

/* Every truncation of a valid frame either decodes (with the truncated
 * flag when payload is missing) or fails with an error: never reads past
 * the end (ASan checks that: each prefix is its own exact-size block). */
static void test_every_truncation(void) {
  kd_buf_t b;
  kd_buf_init(&b);
  kd_buf_zeros(&b, 12);
  kd_buf_be16(&b, 0x8100);
  kd_buf_be16(&b, 5);
  kd_buf_be16(&b, 0x0800);
  ipv4_tcp(&b, A, B, 1, 1688, 3, KD_TCP_ACK, "0123456789", 10, 0);
  int ok = 0, bad = 0, trunc = 0;
  for (size_t n = 0; n <= b.len; n++) {
    uint8_t *c = malloc(n ? n : 1);
    memcpy(c, b.data, n);
    kd_pkt_t p;
    int st = kd_cap_decode(1, c, n, &p);
    if (st == KMSDIAG_OK) {
      ok++;
      if (p.truncated)
        trunc++;
      CHECK(p.paylen <= 10);
    } else {
      bad++;
      CHECK(p.err != NULL);
    }
    free(c);
  }
  CHECK_EQ(ok, 11);    /* 0..10 payload bytes captured */
  CHECK_EQ(trunc, 10); /* all but the whole frame are marked */
  CHECK_EQ(bad, (int)b.len + 1 - 11);
  kd_buf_free(&b);
}

/* ---- reassembly ------------------------------------------------------------ */

static void test_stream_order(void) {
  kd_stream_t s;
  kd_membudget_t mb = {0, 0, 0};
  kd_stream_init(&s, 4096);
  CHECK(!kd_stream_add(&s, &mb, 999, true, false, NULL, 0, 1)); /* SYN */
  CHECK(kd_stream_add(&s, &mb, 1000, false, false, (const uint8_t *)"abc", 3,
                      2));
  /* out of order: 1006 before 1003 */
  CHECK(!kd_stream_add(&s, &mb, 1006, false, false, (const uint8_t *)"ghi", 3,
                       3));
  CHECK_EQ(s.len, 3);
  CHECK(kd_stream_add(&s, &mb, 1003, false, false, (const uint8_t *)"def", 3,
                      4));
  CHECK_EQ(s.len, 9);
  CHECK(memcmp(s.buf, "abcdefghi", 9) == 0);
  /* retransmission: dropped */
  CHECK(!kd_stream_add(&s, &mb, 1003, false, false, (const uint8_t *)"XXX", 3,
                       5));
  CHECK_EQ(s.retrans, 1);
  /* overlap: old part trimmed, first copy wins */
  CHECK(kd_stream_add(&s, &mb, 1007, false, false, (const uint8_t *)"YYjk",
                      4, 6));
  CHECK_EQ(s.len, 11);
  CHECK(memcmp(s.buf, "abcdefghijk", 11) == 0);
  CHECK_EQ(s.overlaps, 1);
  kd_stream_consume(&s, 4);
  CHECK(memcmp(s.buf, "efghijk", 7) == 0);
  CHECK(!s.gap);
  CHECK(mb.now > 0);
  kd_stream_free(&s, &mb);
  CHECK_EQ(mb.now, 0);
}

static void test_stream_wrap_and_gap(void) {
  kd_stream_t s;
  kd_membudget_t mb = {0, 0, 0};
  kd_stream_init(&s, 2048);
  /* sequence numbers wrap around 2^32 */
  CHECK(kd_stream_add(&s, &mb, 0xFFFFFFFEu, false, false,
                      (const uint8_t *)"wxyz", 4, 1));
  CHECK(kd_stream_add(&s, &mb, 2, false, false, (const uint8_t *)"12", 2, 2));
  CHECK_EQ(s.len, 6);
  CHECK_EQ(s.next_seq, 4);
  /* a hole that never fills: more than 32 segments wait, then the
   * reassembler gives up on the hole and marks a gap */
  uint8_t seg[10];
  memset(seg, 'q', sizeof seg);
  bool jumped = false;
  for (uint32_t i = 0; i < 40 && !jumped; i++)
    jumped = kd_stream_add(&s, &mb, 100 + i * 10, false, false, seg, 10,
                           10 + i);
  CHECK(jumped);
  CHECK(s.gap);
  CHECK_EQ(s.gaps, 1);
  CHECK(s.len >= 10);
  CHECK(s.buf[0] == 'q');
  /* the limit holds whatever arrives */
  uint8_t big[600];
  memset(big, 'z', sizeof big);
  for (int i = 0; i < 50; i++)
    (void)kd_stream_add(&s, &mb, s.next_seq + 700, false, false, big,
                        sizeof big, 100 + (uint64_t)i);
  CHECK(s.len + s.ooo_bytes <= 2048);
  /* a segment far ahead is not taken as part of the stream */
  size_t before = s.ooo_bytes;
  CHECK(!kd_stream_add(&s, &mb, s.next_seq + (3u << 20), false, false, big,
                       10, 200));
  CHECK_EQ(s.ooo_bytes, before);
  /* one segment larger than the limit: skipped as a gap */
  uint8_t *huge = calloc(1, 4096);
  uint64_t g = s.gaps;
  CHECK(!kd_stream_add(&s, &mb, s.next_seq, false, false, huge, 4096, 300));
  CHECK(s.gaps > g);
  free(huge);
  kd_stream_free(&s, &mb);
  CHECK_EQ(mb.now, 0);
  CHECK(mb.peak > 0);
}

int main(void) {
  test_ethernet_vlan();
  test_other_links();
  test_ipv6();
  test_ipv4_fragment_and_damage();
  test_every_truncation();
  test_stream_order();
  test_stream_wrap_and_gap();
  return check_finish();
}
