/* rsp_kms.c: the KMS responses of the test responder, V4/V5/V6, built the
 * way a KMS host builds them (kms-protocol.md sections 2.3, 2.4, 3) from
 * the library's crypto primitives, and spoiled on request. The request is
 * decoded with the library's own decoder. */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

#include "internal/buf.h"
#include "proto/kms_crypto.h"
#include "rsp_kms.h"

static void fill_random(uint8_t *b, size_t n) {
  static uint64_t x = 0x243F6A8885A308D3ull;
  x ^= rsp_now_ms();
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b[i] = (uint8_t)(x >> 24);
  }
}

/* The base response: version .. renewal interval (44 + PIDSize bytes). */
static void base_response(kd_buf_t *b, const kmsdiag_kms_request_t *rq,
                          const rsp_config_t *cfg, uint64_t *ft_out) {
  uint8_t w[16];
  size_t n = strlen(cfg->epid);
  kmsdiag_guid_t cmid = rq->cmid;
  uint64_t ft = rq->client_time;
  uint32_t count = cfg->count ? cfg->count : 2 * rq->n_policy;
  if (cfg->behaviour == RSP_BADCMID)
    cmid.data4[7] ^= 0x5A;
  if (cfg->behaviour == RSP_STALE)
    ft -= (uint64_t)cfg->stale_s * 10000000u;
  kd_buf_le16(b, rq->version_minor);
  kd_buf_le16(b, rq->version_major);
  kd_buf_le32(b, (uint32_t)(2 * (n + 1)));
  for (size_t i = 0; i < n; i++)
    kd_buf_le16(b, (uint8_t)cfg->epid[i]); /* ASCII ePID */
  kd_buf_le16(b, 0);
  kmsdiag_guid_to_wire(&cmid, w);
  kd_buf_put(b, w, 16);
  kd_buf_le64(b, ft);
  kd_buf_le32(b, count);
  kd_buf_le32(b, cfg->act);
  kd_buf_le32(b, cfg->renew);
  *ft_out = ft;
}

static uint8_t *v4(const kmsdiag_kms_request_t *rq, const rsp_config_t *cfg,
                   size_t *len) {
  kd_buf_t b;
  uint8_t mac[16];
  uint64_t ft;
  kd_buf_init(&b);
  base_response(&b, rq, cfg, &ft);
  if (!kd_buf_ok(&b)) {
    kd_buf_free(&b);
    return NULL;
  }
  kd_kms_v4_mac(b.data, b.len, mac);
  if (cfg->behaviour == RSP_BADMAC)
    mac[3] ^= 0x10;
  kd_buf_put(&b, mac, 16);
  return kd_buf_steal(&b, len);
}

static uint8_t *v56(const kmsdiag_kms_request_t *rq, const rsp_config_t *cfg,
                    size_t *len) {
  unsigned major = rq->version_major;
  kd_buf_t pt, out;
  uint8_t r[16], x[16], hash[32], iv[16], zero[16] = {0};
  uint64_t ft;
  kd_buf_init(&pt);
  if (major == 5) {
    memcpy(iv, rq->div, 16);
  } else {
    fill_random(iv, 16);
  }
  kd_buf_put(&pt, iv, 16);
  base_response(&pt, rq, cfg, &ft);
  fill_random(r, 16);
  for (int i = 0; i < 16; i++)
    x[i] = (uint8_t)(r[i] ^ rq->div[i]);
  kd_buf_put(&pt, x, 16);
  if (kd_sha256(r, 16, hash) != KMSDIAG_OK) {
    kd_buf_free(&pt);
    return NULL;
  }
  if (cfg->behaviour == RSP_BADMAC && major == 5)
    hash[0] ^= 0x01;
  kd_buf_put(&pt, hash, 32);
  if (major == 6) {
    uint8_t hmac[16];
    kd_buf_put(&pt, cfg->hwid, 8);
    kd_buf_put(&pt, rq->div, 16);
    if (!kd_buf_ok(&pt) ||
        kd_kms_v6_hmac(ft, 0, pt.data, pt.len, hmac) != KMSDIAG_OK) {
      kd_buf_free(&pt);
      return NULL;
    }
    if (cfg->behaviour == RSP_BADMAC)
      hmac[15] ^= 0x80;
    kd_buf_put(&pt, hmac, 16);
  }
  /* PKCS#7: 1..16 bytes. */
  size_t pad = 16 - pt.len % 16;
  for (size_t i = 0; i < pad; i++)
    kd_buf_u8(&pt, (uint8_t)pad);
  if (!kd_buf_ok(&pt) ||
      kd_kms_cbc(major, true, zero, pt.data, pt.data, pt.len) != KMSDIAG_OK) {
    kd_buf_free(&pt);
    return NULL;
  }
  kd_buf_init(&out);
  kd_buf_le16(&out, rq->version_minor);
  kd_buf_le16(&out, rq->version_major);
  kd_buf_put(&out, pt.data, pt.len);
  kd_buf_free(&pt);
  return kd_buf_steal(&out, len);
}

uint8_t *rsp_kms_answer(const uint8_t *req, size_t len,
                        const rsp_config_t *cfg, size_t *out_len) {
  kmsdiag_kms_request_t rq;
  kmsdiag_status_t st = kmsdiag_kms_decode_request(req, len, &rq);
  if (st != KMSDIAG_OK)
    return NULL;
  char g[KMSDIAG_GUID_STRLEN];
  rsp_log_request(rq.version_major, kmsdiag_guid_to_str(&rq.cmid, g),
                  rq.workstation);
  if (rq.version_major == 4)
    return v4(&rq, cfg, out_len);
  if (rq.version_major == 5 || rq.version_major == 6)
    return v56(&rq, cfg, out_len);
  return NULL;
}
