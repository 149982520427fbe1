/* rijndael.h (internal): a small Rijndael core with a 128-bit block and
 * 128/160/192/224/256-bit keys. KMS needs two variants OpenSSL cannot do:
 * V4 uses a 160-bit key (Nk = 5, 11 rounds), V6 uses AES-128 with three
 * bytes of the expanded key changed. Byte-oriented, table-driven S-boxes;
 * no lengths come from input here (callers pass whole blocks). */
#ifndef KMSDIAG_PROTO_RIJNDAEL_H
#define KMSDIAG_PROTO_RIJNDAEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KD_RIJNDAEL_MAX_ROUNDS 14

typedef struct kd_rijndael {
  uint8_t rk[16 * (KD_RIJNDAEL_MAX_ROUNDS + 1)]; /* round keys, 16 bytes each */
  int rounds;
} kd_rijndael_t;

/* Expand a key of 16, 20, 24, 28 or 32 bytes. False for another length. */
bool kd_rijndael_init(kd_rijndael_t *k, const uint8_t *key, size_t key_len);
/* The KMS V6 change to an expanded AES-128 key: byte 0 of round keys 4, 6
 * and 8 XORed with 0x73, 0x09 and 0xE4. */
void kd_rijndael_v6_tweak(kd_rijndael_t *k);
void kd_rijndael_encrypt(const kd_rijndael_t *k, const uint8_t in[16],
                         uint8_t out[16]);
void kd_rijndael_decrypt(const kd_rijndael_t *k, const uint8_t in[16],
                         uint8_t out[16]);
/* CBC over len bytes (a multiple of 16); in and out may be the same. */
void kd_rijndael_cbc_encrypt(const kd_rijndael_t *k, const uint8_t iv[16],
                             const uint8_t *in, uint8_t *out, size_t len);
void kd_rijndael_cbc_decrypt(const kd_rijndael_t *k, const uint8_t iv[16],
                             const uint8_t *in, uint8_t *out, size_t len);

#endif
