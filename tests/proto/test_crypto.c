/* test_crypto.c: the Rijndael core against the FIPS-197 vectors and
 * against OpenSSL's AES, the 160-bit-key and V6 variants, the V4 CBC-MAC
 * padding rule, CBC helpers and the V6 time-slot HMAC construction. The
 * 160-bit-key variant and the V6 schedule are also checked end to end by
 * test_kms_interop, whose V4 MACs and V6 ciphertexts come from an
 * independent implementation. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/kms_crypto.h"
#include "proto/rijndael.h"

static void hex(const char *s, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned v = 0;
    sscanf(s + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
}

static void seq(uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++)
    out[i] = (uint8_t)i;
}

/* FIPS-197 Appendix B and C.1-C.3, and the last round key of A.1. */
static void test_fips197(void) {
  kd_rijndael_t k;
  uint8_t key[32], pt[16], ct[16], out[16], back[16];

  hex("2b7e151628aed2a6abf7158809cf4f3c", key, 16);
  hex("3243f6a8885a308d313198a2e0370734", pt, 16);
  hex("3925841d02dc09fbdc118597196a0b32", ct, 16);
  CHECK(kd_rijndael_init(&k, key, 16));
  CHECK_EQ(k.rounds, 10);
  uint8_t last[16];
  hex("d014f9a8c9ee2589e13f0cc8b6630ca6", last, 16);
  CHECK_MEM(k.rk + 160, last, 16);
  kd_rijndael_encrypt(&k, pt, out);
  CHECK_MEM(out, ct, 16);
  kd_rijndael_decrypt(&k, ct, back);
  CHECK_MEM(back, pt, 16);

  static const struct {
    size_t klen;
    int rounds;
    const char *ct;
  } c[] = {{16, 10, "69c4e0d86a7b0430d8cdb78070b4c55a"},
           {24, 12, "dda97ca4864cdfe06eaf70a0ec0d7191"},
           {32, 14, "8ea2b7ca516745bfeafc49904b496089"}};
  hex("00112233445566778899aabbccddeeff", pt, 16);
  seq(key, 32);
  for (size_t i = 0; i < 3; i++) {
    CHECK(kd_rijndael_init(&k, key, c[i].klen));
    CHECK_EQ(k.rounds, c[i].rounds);
    hex(c[i].ct, ct, 16);
    kd_rijndael_encrypt(&k, pt, out);
    CHECK_MEM(out, ct, 16);
    kd_rijndael_decrypt(&k, ct, back);
    CHECK_MEM(back, pt, 16);
  }
  CHECK(!kd_rijndael_init(&k, key, 15));
  CHECK(!kd_rijndael_init(&k, key, 12));
  CHECK(!kd_rijndael_init(&k, key, 36));
}

/* Many random keys and blocks: our core equals OpenSSL's AES-ECB. */
static void test_vs_openssl(void) {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  const EVP_CIPHER *ciphers[3] = {EVP_aes_128_ecb(), EVP_aes_192_ecb(),
                                  EVP_aes_256_ecb()};
  int mismatches = 0;
  for (int round = 0; round < 300; round++) {
    uint8_t key[32], pt[16], mine[16], theirs[32];
    for (int i = 0; i < 32; i++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      key[i] = (uint8_t)s;
    }
    for (int i = 0; i < 16; i++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      pt[i] = (uint8_t)s;
    }
    int which = round % 3;
    kd_rijndael_t k;
    CHECK(kd_rijndael_init(&k, key, (size_t)(16 + 8 * which)));
    kd_rijndael_encrypt(&k, pt, mine);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    EVP_EncryptInit_ex(c, ciphers[which], NULL, key, NULL);
    EVP_CIPHER_CTX_set_padding(c, 0);
    EVP_EncryptUpdate(c, theirs, &n, pt, 16);
    EVP_CIPHER_CTX_free(c);
    if (n != 16 || memcmp(mine, theirs, 16) != 0)
      mismatches++;
  }
  CHECK_EQ(mismatches, 0);
}

/* The 160-bit key: 11 rounds, the first 5 words are the key, the schedule
 * for Nk=5 applies SubWord only every 5th word, and decrypt inverts. */
static void test_160(void) {
  kd_rijndael_t k;
  uint8_t pt[16], ct[16], back[16];
  CHECK(kd_rijndael_init(&k, kd_kms_key_v4, 20));
  CHECK_EQ(k.rounds, 11);
  CHECK_MEM(k.rk, kd_kms_key_v4, 20);
  /* word 5 = word 0 ^ SubWord(RotWord(word 4)) ^ Rcon 1; word 6 = w1 ^ w5 */
  for (int i = 0; i < 4; i++)
    CHECK_EQ(k.rk[24 + i], k.rk[4 + i] ^ k.rk[20 + i]);
  /* word 9 is plain XOR too (no SubWord at i % Nk == 4 when Nk <= 6) */
  for (int i = 0; i < 4; i++)
    CHECK_EQ(k.rk[36 + i], k.rk[16 + i] ^ k.rk[32 + i]);
  seq(pt, 16);
  kd_rijndael_encrypt(&k, pt, ct);
  CHECK(memcmp(ct, pt, 16) != 0);
  kd_rijndael_decrypt(&k, ct, back);
  CHECK_MEM(back, pt, 16);
  /* a 160-bit key is not a truncated 192-bit one */
  kd_rijndael_t k24;
  uint8_t key24[24], ct24[16];
  memcpy(key24, kd_kms_key_v4, 20);
  memset(key24 + 20, 0, 4);
  CHECK(kd_rijndael_init(&k24, key24, 24));
  kd_rijndael_encrypt(&k24, pt, ct24);
  CHECK(memcmp(ct, ct24, 16) != 0);
}

/* The V6 schedule differs from AES-128 in exactly three bytes. */
static void test_v6_schedule(void) {
  kd_rijndael_t std, v6;
  CHECK(kd_rijndael_init(&std, kd_kms_key_v6, 16));
  v6 = std;
  kd_rijndael_v6_tweak(&v6);
  int diffs = 0;
  for (size_t i = 0; i < 176; i++)
    if (std.rk[i] != v6.rk[i])
      diffs++;
  CHECK_EQ(diffs, 3);
  CHECK_EQ(std.rk[64] ^ v6.rk[64], 0x73);
  CHECK_EQ(std.rk[96] ^ v6.rk[96], 0x09);
  CHECK_EQ(std.rk[128] ^ v6.rk[128], 0xE4);
  uint8_t pt[16], a[16], b[16], back[16];
  seq(pt, 16);
  kd_rijndael_encrypt(&std, pt, a);
  kd_rijndael_encrypt(&v6, pt, b);
  CHECK(memcmp(a, b, 16) != 0);
  kd_rijndael_decrypt(&v6, b, back);
  CHECK_MEM(back, pt, 16);
}

/* kd_kms_cbc: V5 through OpenSSL equals our core with the V5 key; V6
 * round-trips; bad lengths and versions are refused. */
static void test_cbc(void) {
  uint8_t iv[16], pt[64], a[64], b[64], back[64];
  seq(iv, 16);
  for (int i = 0; i < 64; i++)
    pt[i] = (uint8_t)(200 - i);
  CHECK_EQ(kd_kms_cbc(5, true, iv, pt, a, 64), KMSDIAG_OK);
  kd_rijndael_t k;
  CHECK(kd_rijndael_init(&k, kd_kms_key_v5, 16));
  kd_rijndael_cbc_encrypt(&k, iv, pt, b, 64);
  CHECK_MEM(a, b, 64);
  CHECK_EQ(kd_kms_cbc(5, false, iv, a, back, 64), KMSDIAG_OK);
  CHECK_MEM(back, pt, 64);
  CHECK_EQ(kd_kms_cbc(6, true, iv, pt, a, 64), KMSDIAG_OK);
  CHECK(memcmp(a, b, 64) != 0);
  memcpy(back, a, 64);
  CHECK_EQ(kd_kms_cbc(6, false, iv, back, back, 64), KMSDIAG_OK); /* in place */
  CHECK_MEM(back, pt, 64);
  CHECK_EQ(kd_kms_cbc(6, true, iv, pt, a, 63), KMSDIAG_EINVAL);
  CHECK_EQ(kd_kms_cbc(4, true, iv, pt, a, 64), KMSDIAG_EINVAL);
  /* CBC chaining: changing block 0 of the plaintext changes every block */
  uint8_t pt2[64];
  memcpy(pt2, pt, 64);
  pt2[0] ^= 1;
  CHECK_EQ(kd_kms_cbc(6, true, iv, pt2, b, 64), KMSDIAG_OK);
  for (int blk = 0; blk < 4; blk++)
    CHECK(memcmp(a + 16 * blk, b + 16 * blk, 16) != 0);
}

/* V4 CBC-MAC: 0x80 padding always added, so a 16-byte message takes two
 * blocks; equals a manual CBC-MAC with the 160-bit core. */
static void test_v4_mac(void) {
  kd_rijndael_t k;
  uint8_t msg[40], mac[16], chain[16], blk[16];
  CHECK(kd_rijndael_init(&k, kd_kms_key_v4, 20));
  seq(msg, sizeof msg);
  for (size_t len = 0; len <= 40; len++) {
    kd_kms_v4_mac(msg, len, mac);
    memset(chain, 0, 16);
    size_t padded = (len / 16 + 1) * 16;
    for (size_t off = 0; off < padded; off += 16) {
      for (size_t i = 0; i < 16; i++) {
        size_t at = off + i;
        uint8_t v = at < len ? msg[at] : (at == len ? 0x80 : 0);
        blk[i] = (uint8_t)(v ^ chain[i]);
      }
      kd_rijndael_encrypt(&k, blk, chain);
    }
    CHECK_MEM(mac, chain, 16);
  }
  uint8_t m1[16], m2[16];
  kd_kms_v4_mac(msg, 16, m1);
  msg[15] ^= 1;
  kd_kms_v4_mac(msg, 16, m2);
  CHECK(memcmp(m1, m2, 16) != 0);
}

/* The V6 HMAC: key from the time slot, last 16 bytes of HMAC-SHA256; the
 * slot changes every C1 ticks (about 4.11 h) and slot +-1 shifts by C1. */
static void test_v6_hmac(void) {
  const uint8_t data[] = "kmsdiag v6 hmac test data";
  uint64_t ft = UINT64_C(134083002250000000); /* a FILETIME in November 2025 */
  uint8_t a[16], b[16], c[16], d[16];
  CHECK_EQ(kd_kms_v6_hmac(ft, 0, data, sizeof data, a), KMSDIAG_OK);
  /* by hand */
  uint64_t t = (ft / KD_KMS_TIME_C1) * KD_KMS_TIME_C2 + KD_KMS_TIME_C3;
  uint8_t tb[8], h[32], full[32];
  unsigned n = 0;
  for (int i = 0; i < 8; i++)
    tb[i] = (uint8_t)(t >> (8 * i));
  CHECK_EQ(kd_sha256(tb, 8, h), KMSDIAG_OK);
  CHECK(HMAC(EVP_sha256(), h + 16, 16, data, sizeof data, full, &n) != NULL);
  CHECK_MEM(a, full + 16, 16);
  /* same slot a few ticks later, other slot one C1 later */
  uint64_t slot_start = (ft / KD_KMS_TIME_C1) * KD_KMS_TIME_C1;
  CHECK_EQ(kd_kms_v6_hmac(slot_start, 0, data, sizeof data, b), KMSDIAG_OK);
  CHECK_MEM(a, b, 16);
  CHECK_EQ(kd_kms_v6_hmac(slot_start + KD_KMS_TIME_C1, 0, data, sizeof data, c),
           KMSDIAG_OK);
  CHECK(memcmp(a, c, 16) != 0);
  /* T + C1 is not the next slot's T (that adds C2): the -1/+1 tolerance
   * is applied to T as the reference client does */
  CHECK_EQ(kd_kms_v6_hmac(ft, 1, data, sizeof data, d), KMSDIAG_OK);
  CHECK(memcmp(a, d, 16) != 0);
  t += KD_KMS_TIME_C1;
  for (int i = 0; i < 8; i++)
    tb[i] = (uint8_t)(t >> (8 * i));
  CHECK_EQ(kd_sha256(tb, 8, h), KMSDIAG_OK);
  CHECK(HMAC(EVP_sha256(), h + 16, 16, data, sizeof data, full, &n) != NULL);
  CHECK_MEM(d, full + 16, 16);
  /* SHA-256 of "abc" (FIPS 180-2) */
  uint8_t want[32];
  hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
  CHECK_EQ(kd_sha256((const uint8_t *)"abc", 3, h), KMSDIAG_OK);
  CHECK_MEM(h, want, 32);
  CHECK(kd_ct_equal(want, want, 32));
  h[31] ^= 0x40;
  CHECK(!kd_ct_equal(want, h, 32));
}

int main(void) {
  test_fips197();
  test_vs_openssl();
  test_160();
  test_v6_schedule();
  test_cbc();
  test_v4_mac();
  test_v6_hmac();
  return check_finish();
}
