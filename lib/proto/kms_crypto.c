/* kms_crypto.c (internal): see kms_crypto.h. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "proto/kms_crypto.h"
#include "proto/rijndael.h"

/* Public constants of the protocol (every KMS client and host has them). */
const uint8_t kd_kms_key_v4[20] = {0x05, 0x3D, 0x83, 0x07, 0xF9, 0xE5, 0xF0,
                                   0x88, 0xEB, 0x5E, 0xA6, 0x68, 0x6C, 0xF0,
                                   0x37, 0xC7, 0xE4, 0xEF, 0xD2, 0xD6};
const uint8_t kd_kms_key_v5[16] = {0xCD, 0x7E, 0x79, 0x6F, 0x2A, 0xB2,
                                   0x5D, 0xCB, 0x55, 0xFF, 0xC8, 0xEF,
                                   0x83, 0x64, 0xC4, 0x70};
const uint8_t kd_kms_key_v6[16] = {0xA9, 0x4A, 0x41, 0x95, 0xE2, 0x01,
                                   0x43, 0x2D, 0x9B, 0xCB, 0x46, 0x04,
                                   0x05, 0xD8, 0x4A, 0x21};

static kmsdiag_status_t cbc_openssl(bool encrypt, const uint8_t iv[16],
                                    const uint8_t *in, uint8_t *out,
                                    size_t len) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n1 = 0, n2 = 0;
  kmsdiag_status_t st = KMSDIAG_ECRYPTO;
  if (!c)
    return KMSDIAG_ENOMEM;
  if (len > (size_t)INT32_MAX)
    goto out;
  if (EVP_CipherInit_ex(c, EVP_aes_128_cbc(), NULL, kd_kms_key_v5, iv,
                        encrypt ? 1 : 0) != 1)
    goto out;
  EVP_CIPHER_CTX_set_padding(c, 0);
  if (EVP_CipherUpdate(c, out, &n1, in, (int)len) != 1)
    goto out;
  if (EVP_CipherFinal_ex(c, out + n1, &n2) != 1)
    goto out;
  if ((size_t)(n1 + n2) == len)
    st = KMSDIAG_OK;
out:
  EVP_CIPHER_CTX_free(c);
  return st;
}

kmsdiag_status_t kd_kms_cbc(unsigned major, bool encrypt, const uint8_t iv[16],
                            const uint8_t *in, uint8_t *out, size_t len) {
  if (len % 16 != 0 || (!in && len) || (!out && len))
    return KMSDIAG_EINVAL;
  if (len == 0)
    return KMSDIAG_OK;
  if (major == 5)
    return cbc_openssl(encrypt, iv, in, out, len);
  if (major == 6) {
    kd_rijndael_t k;
    if (!kd_rijndael_init(&k, kd_kms_key_v6, sizeof kd_kms_key_v6))
      return KMSDIAG_ECRYPTO;
    kd_rijndael_v6_tweak(&k);
    if (encrypt)
      kd_rijndael_cbc_encrypt(&k, iv, in, out, len);
    else
      kd_rijndael_cbc_decrypt(&k, iv, in, out, len);
    return KMSDIAG_OK;
  }
  return KMSDIAG_EINVAL;
}

void kd_kms_v4_mac(const uint8_t *msg, size_t len, uint8_t mac[16]) {
  kd_rijndael_t k;
  uint8_t chain[16] = {0}, blk[16];
  size_t off = 0;
  (void)kd_rijndael_init(&k, kd_kms_key_v4, sizeof kd_kms_key_v4);
  for (;;) {
    size_t n = len - off < 16 ? len - off : 16;
    memset(blk, 0, 16);
    if (n)
      memcpy(blk, msg + off, n);
    if (n < 16)
      blk[n] = 0x80; /* the final, padded block */
    for (int i = 0; i < 16; i++)
      blk[i] ^= chain[i];
    kd_rijndael_encrypt(&k, blk, chain);
    off += n;
    if (n < 16)
      break;
  }
  memcpy(mac, chain, 16);
}

kmsdiag_status_t kd_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
  unsigned int n = 0;
  static const uint8_t empty[1] = {0};
  if (EVP_Digest(len ? data : empty, len, out, &n, EVP_sha256(), NULL) != 1 ||
      n != 32)
    return KMSDIAG_ECRYPTO;
  return KMSDIAG_OK;
}

kmsdiag_status_t kd_kms_v6_hmac(uint64_t filetime, int slot,
                                const uint8_t *data, size_t len,
                                uint8_t out[16]) {
  uint64_t t = (filetime / KD_KMS_TIME_C1) * KD_KMS_TIME_C2 + KD_KMS_TIME_C3;
  uint8_t tb[8], key_hash[32], mac[32];
  unsigned int n = 0;
  t += (uint64_t)(int64_t)slot * KD_KMS_TIME_C1;
  for (int i = 0; i < 8; i++)
    tb[i] = (uint8_t)(t >> (8 * i));
  if (kd_sha256(tb, 8, key_hash) != KMSDIAG_OK)
    return KMSDIAG_ECRYPTO;
  if (!HMAC(EVP_sha256(), key_hash + 16, 16, data, len, mac, &n) || n != 32)
    return KMSDIAG_ECRYPTO;
  memcpy(out, mac + 16, 16);
  return KMSDIAG_OK;
}

bool kd_ct_equal(const uint8_t *a, const uint8_t *b, size_t n) {
  uint8_t d = 0;
  for (size_t i = 0; i < n; i++)
    d |= (uint8_t)(a[i] ^ b[i]);
  return d == 0;
}
