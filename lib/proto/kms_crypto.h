/* kms_crypto.h (internal): the KMS message crypto. V4 CBC-MAC with a
 * 160-bit-key Rijndael; V5 AES-128-CBC (OpenSSL); V6 AES-128-CBC with the
 * modified key schedule (own Rijndael core); SHA-256 and the V6 time-slot
 * HMAC (OpenSSL). Shared with the test-only response builder. */
#ifndef KMSDIAG_PROTO_KMS_CRYPTO_H
#define KMSDIAG_PROTO_KMS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_status.h>

/* The published protocol keys. */
extern const uint8_t kd_kms_key_v4[20];
extern const uint8_t kd_kms_key_v5[16];
extern const uint8_t kd_kms_key_v6[16];

/* V6 time-slot constants. */
#define KD_KMS_TIME_C1 UINT64_C(0x00000022816889BD)
#define KD_KMS_TIME_C2 UINT64_C(0x000000208CBAB5ED)
#define KD_KMS_TIME_C3 UINT64_C(0x3156CD5AC628477A)

/* CBC with the key of protocol \p major (5 or 6) over \p len bytes (a
 * multiple of 16, no padding handling); in and out may alias.
 * KMSDIAG_EINVAL for another version or length, KMSDIAG_ECRYPTO if
 * OpenSSL fails. */
kmsdiag_status_t kd_kms_cbc(unsigned major, bool encrypt, const uint8_t iv[16],
                            const uint8_t *in, uint8_t *out, size_t len);

/* V4 CBC-MAC: 0x80 then zeros to a block boundary (always at least the
 * 0x80 byte), zero IV, the last cipher block is the MAC. */
void kd_kms_v4_mac(const uint8_t *msg, size_t len, uint8_t mac[16]);

kmsdiag_status_t kd_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* The V6 HMAC: time slot T = (ft / C1) * C2 + C3 + slot * C1 (u64 wrap),
 * key = last 16 bytes of SHA-256(T as 8 LE bytes), result = last 16 bytes
 * of HMAC-SHA256(key, data). */
kmsdiag_status_t kd_kms_v6_hmac(uint64_t filetime, int slot,
                                const uint8_t *data, size_t len,
                                uint8_t out[16]);

/* Constant-time comparison. */
bool kd_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
