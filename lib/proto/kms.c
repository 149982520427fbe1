/* kms.c: KMS activation requests and responses, protocol V4, V5 and V6:
 * decode (decrypt and verify) both directions, encode client requests. */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kmsdiag/kmsdiag_kms.h>

#include "internal/buf.h"
#include "internal/reader.h"
#include "internal/utf8.h"
#include "proto/kms_crypto.h"

/* Offsets in the 236-byte base request. */
enum {
  RQ_VERSION = 0,
  RQ_VM = 4,
  RQ_LICENSE = 8,
  RQ_BINDING = 12,
  RQ_APP = 16,
  RQ_SKU = 32,
  RQ_KMS = 48,
  RQ_CMID = 64,
  RQ_NPOLICY = 80,
  RQ_TIME = 84,
  RQ_PREV = 92,
  RQ_WORKSTATION = 108,
  RQ_END = 236
};

const char *kmsdiag_kms_check_name(kmsdiag_kms_check_t c) {
  switch (c) {
  case KMSDIAG_KMS_CHECK_OK: return "ok";
  case KMSDIAG_KMS_CHECK_BAD: return "bad";
  case KMSDIAG_KMS_CHECK_NA: break;
  }
  return "not_applicable";
}

char *kmsdiag_kms_hwid_to_str(const uint8_t hwid[8], char *buf) {
  static const char hx[] = "0123456789ABCDEF";
  for (int i = 0; i < 8; i++) {
    buf[2 * i] = hx[hwid[i] >> 4];
    buf[2 * i + 1] = hx[hwid[i] & 15];
  }
  buf[16] = '\0';
  return buf;
}

static kmsdiag_status_t fail_at(kmsdiag_decode_where_t *w, const char *field,
                                size_t off, kmsdiag_status_t st) {
  w->field = field;
  w->offset = off;
  return st;
}

static void put_utf8(char *dst, size_t cap, size_t *n, uint32_t cp) {
  uint8_t b[4];
  size_t k;
  if (cp < 0x80) {
    b[0] = (uint8_t)cp;
    k = 1;
  } else if (cp < 0x800) {
    b[0] = (uint8_t)(0xC0 | (cp >> 6));
    b[1] = (uint8_t)(0x80 | (cp & 0x3F));
    k = 2;
  } else if (cp < 0x10000) {
    b[0] = (uint8_t)(0xE0 | (cp >> 12));
    b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    b[2] = (uint8_t)(0x80 | (cp & 0x3F));
    k = 3;
  } else {
    b[0] = (uint8_t)(0xF0 | (cp >> 18));
    b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (uint8_t)(0x80 | (cp & 0x3F));
    k = 4;
  }
  if (*n + k < cap) { /* keep room for the NUL */
    memcpy(dst + *n, b, k);
    *n += k;
  }
}

/* UTF-16LE (\p units code units at \p p) up to the first NUL into UTF-8.
 * Unpaired surrogates become U+FFFD. Returns the units before the NUL and
 * sets *terminated when a NUL was found. dst must hold 3 bytes per unit
 * plus 1 to never truncate. */
static size_t utf16_to_utf8(const uint8_t *p, size_t units, char *dst,
                            size_t cap, bool *terminated) {
  size_t n = 0, i = 0;
  *terminated = false;
  while (i < units) {
    uint32_t u = (uint32_t)(p[2 * i] | (p[2 * i + 1] << 8));
    if (u == 0) {
      *terminated = true;
      break;
    }
    i++;
    if (u >= 0xD800 && u <= 0xDBFF && i < units) {
      uint32_t lo = (uint32_t)(p[2 * i] | (p[2 * i + 1] << 8));
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        i++;
        put_utf8(dst, cap, &n, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
        continue;
      }
    }
    if (u >= 0xD800 && u <= 0xDFFF)
      u = 0xFFFD;
    put_utf8(dst, cap, &n, u);
  }
  dst[n] = '\0';
  return i;
}

static void rd_guid(kd_reader_t *r, kmsdiag_guid_t *g) {
  uint8_t w[16];
  kd_rd_copy(r, w, 16);
  kmsdiag_guid_from_wire(g, w);
}

/* Parse the 236-byte base request (already known to be complete). */
static void parse_base_request(const uint8_t *b, kmsdiag_kms_request_t *out,
                               bool inner) {
  kd_reader_t r;
  kd_rd_init(&r, b, RQ_END);
  uint16_t minor = kd_rd_le16(&r), major = kd_rd_le16(&r);
  if (inner) {
    out->inner_minor = minor;
    out->inner_major = major;
  }
  out->vm = kd_rd_le32(&r);
  out->license_status = kd_rd_le32(&r);
  out->binding_expiration = kd_rd_le32(&r);
  rd_guid(&r, &out->app_id);
  rd_guid(&r, &out->sku_id);
  rd_guid(&r, &out->kms_id);
  rd_guid(&r, &out->cmid);
  out->n_policy = kd_rd_le32(&r);
  out->client_time = kd_rd_le64(&r);
  rd_guid(&r, &out->previous_cmid);
  const uint8_t *ws = kd_rd_ptr(&r, 2 * KMSDIAG_KMS_WORKSTATION_UNITS);
  if (ws)
    out->workstation_units =
        utf16_to_utf8(ws, KMSDIAG_KMS_WORKSTATION_UNITS, out->workstation,
                      sizeof out->workstation, &out->workstation_terminated);
}

static const char *request_field_at(size_t off) {
  static const struct {
    size_t end;
    const char *name;
  } f[] = {{4, "version"},          {8, "vm_info"},
           {12, "license_status"},  {16, "binding_expiration"},
           {32, "app_id"},          {48, "sku_id"},
           {64, "kms_id"},          {80, "cmid"},
           {84, "n_policy"},        {92, "client_time"},
           {108, "previous_cmid"},  {236, "workstation"}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
    if (off < f[i].end)
      return f[i].name;
  return "mac";
}

static bool version_ok(uint16_t major, uint16_t minor) {
  return minor == 0 && major >= 4 && major <= 6;
}

kmsdiag_status_t kmsdiag_kms_decode_request(const uint8_t *data, size_t len,
                                            kmsdiag_kms_request_t *out) {
  kd_reader_t r;
  if (!out)
    return KMSDIAG_EINVAL;
  memset(out, 0, sizeof *out);
  out->err.field = "";
  if (!data && len)
    return KMSDIAG_EINVAL;
  out->wire_len = len;
  if (len > KMSDIAG_KMS_MAX_MESSAGE)
    return fail_at(&out->err, "message", 0, KMSDIAG_ETOOBIG);
  kd_rd_init(&r, data, len);
  out->version_minor = kd_rd_le16(&r);
  out->version_major = kd_rd_le16(&r);
  if (!kd_rd_ok(&r))
    return fail_at(&out->err, "version", 0, KMSDIAG_ETRUNC);
  if (!version_ok(out->version_major, out->version_minor))
    return fail_at(&out->err, "version", 0, KMSDIAG_EUNSUPPORTED);
  kmsdiag_kms_verification_t *v = &out->verify;

  if (out->version_major == 4) {
    if (len < KMSDIAG_KMS_REQUEST_V4_LEN)
      return fail_at(&out->err, request_field_at(len), len, KMSDIAG_ETRUNC);
    parse_base_request(data, out, false);
    out->inner_major = out->version_major;
    out->inner_minor = out->version_minor;
    memcpy(out->mac, data + RQ_END, 16);
    uint8_t mac[16];
    kd_kms_v4_mac(data, RQ_END, mac);
    v->mac = kd_ct_equal(mac, out->mac, 16) ? KMSDIAG_KMS_CHECK_OK
                                            : KMSDIAG_KMS_CHECK_BAD;
    v->version = KMSDIAG_KMS_CHECK_OK;
    v->size = len == KMSDIAG_KMS_REQUEST_V4_LEN ? KMSDIAG_KMS_CHECK_OK
                                                : KMSDIAG_KMS_CHECK_BAD;
    out->verified = v->mac == KMSDIAG_KMS_CHECK_OK;
    return out->verified ? KMSDIAG_OK : KMSDIAG_EVERIFY;
  }

  /* V5 / V6: version, IV, 240 bytes of CBC ciphertext */
  if (len < 20)
    return fail_at(&out->err, "iv", len, KMSDIAG_ETRUNC);
  if (len < KMSDIAG_KMS_REQUEST_V5_LEN)
    return fail_at(&out->err, "ciphertext", len, KMSDIAG_ETRUNC);
  static const uint8_t zero[16];
  uint8_t pt[240];
  kmsdiag_status_t st;
  memcpy(out->iv, data + 4, 16);
  st = kd_kms_cbc(out->version_major, false, out->iv, data + 20, pt, 240);
  if (st == KMSDIAG_OK)
    st = kd_kms_cbc(out->version_major, false, zero, out->iv, out->div, 16);
  if (st != KMSDIAG_OK)
    return fail_at(&out->err, "ciphertext", 20, KMSDIAG_ECRYPTO);
  v->decrypt = (pt[236] == 4 && pt[237] == 4 && pt[238] == 4 && pt[239] == 4)
                   ? KMSDIAG_KMS_CHECK_OK
                   : KMSDIAG_KMS_CHECK_BAD;
  parse_base_request(pt, out, true);
  v->version = (out->inner_major == out->version_major &&
                out->inner_minor == out->version_minor)
                   ? KMSDIAG_KMS_CHECK_OK
                   : KMSDIAG_KMS_CHECK_BAD;
  v->size = len == KMSDIAG_KMS_REQUEST_V5_LEN ? KMSDIAG_KMS_CHECK_OK
                                              : KMSDIAG_KMS_CHECK_BAD;
  out->verified = v->decrypt == KMSDIAG_KMS_CHECK_OK &&
                  v->version == KMSDIAG_KMS_CHECK_OK;
  return out->verified ? KMSDIAG_OK : KMSDIAG_EVERIFY;
}

/* ---- responses ------------------------------------------------------------ */

/* Parse the base response at the reader (starting with its Version), whose
 * offsets are reported relative to \p base_off in the wire message.
 * Returns the base length (44 + P) or 0 after setting out->err. */
static size_t parse_base_response(kd_reader_t *r, size_t wire_shift,
                                  kmsdiag_kms_response_t *out,
                                  kmsdiag_status_t *st) {
  size_t start = kd_rd_offset(r);
  out->inner_minor = kd_rd_le16(r);
  out->inner_major = kd_rd_le16(r);
  out->pid_size = kd_rd_le32(r);
  if (!kd_rd_ok(r)) {
    *st = fail_at(&out->err, "pid_size", r->err_off + wire_shift, KMSDIAG_ETRUNC);
    return 0;
  }
  size_t p_off = kd_rd_offset(r);
  if (out->pid_size > kd_rd_remaining(r)) {
    *st = fail_at(&out->err, "epid", p_off + wire_shift, KMSDIAG_ETRUNC);
    return 0;
  }
  const uint8_t *pid = kd_rd_ptr(r, out->pid_size);
  bool term = false;
  size_t units = out->pid_size / 2;
  size_t before_nul = utf16_to_utf8(pid, units, out->epid, sizeof out->epid, &term);
  out->epid_units = before_nul;
  /* PIDSize: even, 2..128, the NUL is the last unit and the only one */
  bool pid_ok = out->pid_size % 2 == 0 && out->pid_size >= 2 &&
                out->pid_size <= KMSDIAG_KMS_PID_SIZE_MAX && term &&
                before_nul + 1 == units;
  out->verify.pid_length = pid_ok ? KMSDIAG_KMS_CHECK_OK : KMSDIAG_KMS_CHECK_BAD;
  rd_guid(r, &out->cmid);
  if (!kd_rd_ok(r)) {
    *st = fail_at(&out->err, "cmid", r->err_off + wire_shift, KMSDIAG_ETRUNC);
    return 0;
  }
  out->client_time = kd_rd_le64(r);
  if (!kd_rd_ok(r)) {
    *st = fail_at(&out->err, "client_time", r->err_off + wire_shift, KMSDIAG_ETRUNC);
    return 0;
  }
  out->count = kd_rd_le32(r);
  out->activation_interval = kd_rd_le32(r);
  out->renewal_interval = kd_rd_le32(r);
  if (!kd_rd_ok(r)) {
    *st = fail_at(&out->err, "intervals", r->err_off + wire_shift, KMSDIAG_ETRUNC);
    return 0;
  }
  return kd_rd_offset(r) - start;
}

static void echo_checks(kmsdiag_kms_response_t *out,
                        const kmsdiag_kms_request_t *req) {
  kmsdiag_kms_verification_t *v = &out->verify;
  bool ver = out->inner_major == out->version_major &&
             out->inner_minor == out->version_minor;
  if (req)
    ver = ver && req->version_major == out->version_major &&
          req->version_minor == out->version_minor;
  v->version = ver ? KMSDIAG_KMS_CHECK_OK : KMSDIAG_KMS_CHECK_BAD;
  if (!req)
    return;
  v->cmid_echo = kmsdiag_guid_equal(&req->cmid, &out->cmid)
                     ? KMSDIAG_KMS_CHECK_OK
                     : KMSDIAG_KMS_CHECK_BAD;
  v->time_echo = req->client_time == out->client_time ? KMSDIAG_KMS_CHECK_OK
                                                      : KMSDIAG_KMS_CHECK_BAD;
}

static kmsdiag_status_t conclude(kmsdiag_kms_response_t *out,
                                 kmsdiag_kms_check_t integrity) {
  const kmsdiag_kms_verification_t *v = &out->verify;
  const kmsdiag_kms_check_t all[] = {v->decrypt, v->mac,       v->hash,
                                     v->hmac,    v->ivs,       v->version,
                                     v->cmid_echo, v->time_echo, v->pid_length};
  bool bad = false;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i] == KMSDIAG_KMS_CHECK_BAD)
      bad = true;
  out->verified = !bad && integrity == KMSDIAG_KMS_CHECK_OK;
  return bad ? KMSDIAG_EVERIFY : KMSDIAG_OK;
}

kmsdiag_status_t kmsdiag_kms_decode_response(const uint8_t *data, size_t len,
                                             const kmsdiag_kms_request_t *req,
                                             kmsdiag_kms_response_t *out) {
  kd_reader_t r;
  kmsdiag_status_t st = KMSDIAG_OK;
  if (!out)
    return KMSDIAG_EINVAL;
  memset(out, 0, sizeof *out);
  out->err.field = "";
  if (!data && len)
    return KMSDIAG_EINVAL;
  out->wire_len = len;
  if (len > KMSDIAG_KMS_MAX_MESSAGE)
    return fail_at(&out->err, "message", 0, KMSDIAG_ETOOBIG);
  kd_rd_init(&r, data, len);
  out->version_minor = kd_rd_le16(&r);
  out->version_major = kd_rd_le16(&r);
  if (!kd_rd_ok(&r))
    return fail_at(&out->err, "version", 0, KMSDIAG_ETRUNC);
  if (!version_ok(out->version_major, out->version_minor))
    return fail_at(&out->err, "version", 0, KMSDIAG_EUNSUPPORTED);
  kmsdiag_kms_verification_t *v = &out->verify;

  if (out->version_major == 4) {
    kd_rd_seek(&r, 0);
    size_t base = parse_base_response(&r, 0, out, &st);
    if (!base)
      return st;
    size_t mac_off = kd_rd_offset(&r);
    kd_rd_copy(&r, out->mac, 16);
    if (!kd_rd_ok(&r))
      return fail_at(&out->err, "mac", mac_off, KMSDIAG_ETRUNC);
    out->expected_len = base + 16;
    v->size = len == out->expected_len ? KMSDIAG_KMS_CHECK_OK
                                       : KMSDIAG_KMS_CHECK_BAD;
    uint8_t mac[16];
    kd_kms_v4_mac(data, base, mac);
    v->mac = kd_ct_equal(mac, out->mac, 16) ? KMSDIAG_KMS_CHECK_OK
                                            : KMSDIAG_KMS_CHECK_BAD;
    echo_checks(out, req);
    return conclude(out, v->mac);
  }

  /* V5 / V6: version in clear, then CBC ciphertext from the IV block on,
   * decrypted with a zero IV. */
  size_t ct_len = len - 4;
  if (ct_len < 16)
    return fail_at(&out->err, "iv", len, KMSDIAG_ETRUNC);
  if (ct_len % 16 != 0)
    return fail_at(&out->err, "ciphertext", 4 + (ct_len & ~(size_t)15),
                   KMSDIAG_EMALFORMED);
  static const uint8_t zero[16];
  uint8_t pt[KMSDIAG_KMS_MAX_MESSAGE];
  memcpy(out->iv, data + 4, 16);
  if (kd_kms_cbc(out->version_major, false, zero, data + 4, pt, ct_len) !=
      KMSDIAG_OK)
    return fail_at(&out->err, "ciphertext", 4, KMSDIAG_ECRYPTO);
  size_t pt_len = ct_len;
  uint8_t pad = pt[ct_len - 1];
  bool pad_ok = pad >= 1 && pad <= 16;
  for (size_t i = 0; pad_ok && i < pad; i++)
    if (pt[ct_len - 1 - i] != pad)
      pad_ok = false;
  v->decrypt = pad_ok ? KMSDIAG_KMS_CHECK_OK : KMSDIAG_KMS_CHECK_BAD;
  if (pad_ok) {
    pt_len -= pad;
    out->padding_len = pad;
  }
  kd_reader_t pr;
  kd_rd_init(&pr, pt, pt_len);
  kd_rd_copy(&pr, out->iv_plain, 16);
  size_t base = parse_base_response(&pr, 4, out, &st);
  if (!base)
    return st;
  bool v6 = out->version_major == 6;
  size_t body_end = 16 + base + 16 + 32 + (v6 ? 8 + 16 + 16 : 0);
  kd_rd_copy(&pr, out->random_xored, 16);
  if (!kd_rd_ok(&pr))
    return fail_at(&out->err, "random_xored_ivs", 4 + pr.err_off, KMSDIAG_ETRUNC);
  kd_rd_copy(&pr, out->hash, 32);
  if (!kd_rd_ok(&pr))
    return fail_at(&out->err, "hash", 4 + pr.err_off, KMSDIAG_ETRUNC);
  if (v6) {
    kd_rd_copy(&pr, out->hwid, 8);
    if (!kd_rd_ok(&pr))
      return fail_at(&out->err, "hwid", 4 + pr.err_off, KMSDIAG_ETRUNC);
    out->has_hwid = true;
    kd_rd_copy(&pr, out->xored_ivs, 16);
    if (!kd_rd_ok(&pr))
      return fail_at(&out->err, "xored_ivs", 4 + pr.err_off, KMSDIAG_ETRUNC);
    kd_rd_copy(&pr, out->hmac, 16);
    if (!kd_rd_ok(&pr))
      return fail_at(&out->err, "hmac", 4 + pr.err_off, KMSDIAG_ETRUNC);
  }
  out->expected_len = 4 + (body_end / 16 + 1) * 16;
  v->size = (len == out->expected_len && pad_ok && pt_len == body_end)
                ? KMSDIAG_KMS_CHECK_OK
                : KMSDIAG_KMS_CHECK_BAD;

  if (v6) {
    uint8_t mac[16];
    v->hmac = KMSDIAG_KMS_CHECK_BAD;
    for (int slot = -1; slot <= 1; slot++) {
      if (kd_kms_v6_hmac(out->client_time, slot, pt, body_end - 16, mac) !=
          KMSDIAG_OK)
        return fail_at(&out->err, "hmac", 4 + body_end - 16, KMSDIAG_ECRYPTO);
      if (kd_ct_equal(mac, out->hmac, 16)) {
        v->hmac = KMSDIAG_KMS_CHECK_OK;
        v->hmac_slot = slot;
        break;
      }
    }
  }
  echo_checks(out, req);
  if (req && req->version_major == out->version_major) {
    uint8_t h[32];
    for (int i = 0; i < 16; i++)
      out->random[i] = (uint8_t)(out->random_xored[i] ^ req->div[i]);
    out->has_random = true;
    if (kd_sha256(out->random, 16, h) != KMSDIAG_OK)
      return fail_at(&out->err, "hash", 0, KMSDIAG_ECRYPTO);
    v->hash = kd_ct_equal(h, out->hash, 32) ? KMSDIAG_KMS_CHECK_OK
                                            : KMSDIAG_KMS_CHECK_BAD;
    if (v6) {
      v->ivs = kd_ct_equal(out->xored_ivs, req->div, 16) ? KMSDIAG_KMS_CHECK_OK
                                                         : KMSDIAG_KMS_CHECK_BAD;
      v->iv_suspicious = kd_ct_equal(out->iv_plain, req->div, 16);
    } else {
      v->ivs = kd_ct_equal(out->iv, req->iv, 16) ? KMSDIAG_KMS_CHECK_OK
                                                 : KMSDIAG_KMS_CHECK_BAD;
    }
  }
  return conclude(out, v6 ? v->hmac : v->hash);
}

/* ---- encoding ----------------------------------------------------------- */

static kmsdiag_status_t draw(kmsdiag_kms_rand_fn rnd, void *ud, uint8_t *buf,
                             size_t n) {
  if (rnd)
    return rnd(ud, buf, n);
  return RAND_bytes(buf, (int)n) == 1 ? KMSDIAG_OK : KMSDIAG_ECRYPTO;
}

/* UTF-8 to UTF-16LE units; false for invalid UTF-8, *units > cap = too long. */
static bool utf8_to_utf16(const char *s, uint16_t *dst, size_t cap,
                          size_t *units) {
  size_t n = 0, len = strlen(s), i = 0;
  while (i < len) {
    uint32_t cp;
    size_t k = kd_utf8_decode((const uint8_t *)s + i, len - i, &cp);
    if (k == 0 || cp == 0)
      return false;
    i += k;
    if (cp >= 0x10000) {
      if (n + 2 <= cap) {
        dst[n] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
        dst[n + 1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
      }
      n += 2;
    } else {
      if (n + 1 <= cap)
        dst[n] = (uint16_t)cp;
      n += 1;
    }
    if (n > cap)
      break;
  }
  *units = n;
  return true;
}

static void put_guid(kd_buf_t *b, const kmsdiag_guid_t *g) {
  uint8_t w[16];
  kmsdiag_guid_to_wire(g, w);
  kd_buf_put(b, w, 16);
}

kmsdiag_status_t kmsdiag_kms_encode_request(
    const kmsdiag_kms_request_params_t *p, kmsdiag_kms_rand_fn rnd, void *ud,
    uint8_t **out, size_t *out_len) {
  uint16_t ws[KMSDIAG_KMS_WORKSTATION_UNITS];
  size_t units = 0;
  kmsdiag_status_t st;
  if (!p || !out || !out_len)
    return KMSDIAG_EINVAL;
  *out = NULL;
  *out_len = 0;
  if (p->version_major < 4 || p->version_major > 6)
    return KMSDIAG_EUNSUPPORTED;
  memset(ws, 0, sizeof ws);
  if (!utf8_to_utf16(p->workstation ? p->workstation : "", ws,
                     KMSDIAG_KMS_WORKSTATION_UNITS - 1, &units))
    return KMSDIAG_EINVAL;
  if (units > KMSDIAG_KMS_WORKSTATION_UNITS - 1)
    return KMSDIAG_ETOOBIG;
  kmsdiag_guid_t cmid = p->cmid;
  if (p->random_cmid) {
    uint8_t w[16];
    if ((st = draw(rnd, ud, w, 16)) != KMSDIAG_OK)
      return st;
    kmsdiag_guid_from_wire(&cmid, w);
    cmid.data3 = (uint16_t)((cmid.data3 & 0x0FFF) | 0x4000);
    cmid.data4[0] = (uint8_t)((cmid.data4[0] & 0x3F) | 0x80);
  }
  uint64_t ft = p->client_time;
  if (ft == 0)
    ft = kmsdiag_filetime_from_unix((int64_t)time(NULL), 0);

  kd_buf_t b;
  kd_buf_init(&b);
  kd_buf_le16(&b, p->version_minor);
  kd_buf_le16(&b, p->version_major);
  kd_buf_le32(&b, p->vm ? 1 : 0);
  kd_buf_le32(&b, p->license_status);
  kd_buf_le32(&b, p->binding_expiration);
  put_guid(&b, &p->app_id);
  put_guid(&b, &p->sku_id);
  put_guid(&b, &p->kms_id);
  put_guid(&b, &cmid);
  kd_buf_le32(&b, p->n_policy);
  kd_buf_le64(&b, ft);
  put_guid(&b, &p->previous_cmid);
  for (size_t i = 0; i < KMSDIAG_KMS_WORKSTATION_UNITS; i++)
    kd_buf_le16(&b, ws[i]);
  if (!kd_buf_ok(&b) || b.len != RQ_END) {
    kd_buf_free(&b);
    return KMSDIAG_ENOMEM;
  }
  if (p->version_major == 4) {
    uint8_t mac[16];
    kd_kms_v4_mac(b.data, RQ_END, mac);
    kd_buf_put(&b, mac, 16);
  } else {
    uint8_t iv[16], ct[240];
    memcpy(ct, b.data, RQ_END);
    memset(ct + RQ_END, 4, 4); /* PKCS#7 */
    if ((st = draw(rnd, ud, iv, 16)) != KMSDIAG_OK ||
        (st = kd_kms_cbc(p->version_major, true, iv, ct, ct, 240)) !=
            KMSDIAG_OK) {
      kd_buf_free(&b);
      return st;
    }
    b.len = 4; /* keep the clear version */
    kd_buf_put(&b, iv, 16);
    kd_buf_put(&b, ct, 240);
  }
  *out = kd_buf_steal(&b, out_len);
  kd_buf_free(&b);
  return *out ? KMSDIAG_OK : KMSDIAG_ENOMEM;
}
