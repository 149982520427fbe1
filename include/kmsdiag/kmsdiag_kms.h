/* kmsdiag_kms.h: KMS activation messages, protocol versions 4, 5 and 6.
 *
 * Decodes client requests and host responses (decrypting V5/V6 and
 * verifying everything that can be verified), encodes client requests, and
 * writes decoded messages as JSON. The messages here are the bytes inside
 * the RPC stub of RequestActivation (see kmsdiag_rpc.h). The library only
 * ever builds requests: it is a client-side diagnostic, not a KMS host.
 *
 * Everything decoded is plain data. Strings from the wire (workstation
 * name, ePID) are converted from UTF-16LE to UTF-8 (invalid UTF-16 becomes
 * U+FFFD) and are untrusted: escape them before showing them. */
#ifndef KMSDIAG_KMS_H
#define KMSDIAG_KMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_rpc.h>
#include <kmsdiag/kmsdiag_status.h>
#include <kmsdiag/kmsdiag_types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! Largest KMS message the decoders accept (a V6 response with the
 *  longest ePID is 292 bytes). */
#define KMSDIAG_KMS_MAX_MESSAGE 1024u
/*! Sizes on the wire. */
#define KMSDIAG_KMS_REQUEST_BASE_LEN 236u
#define KMSDIAG_KMS_REQUEST_V4_LEN 252u
#define KMSDIAG_KMS_REQUEST_V5_LEN 260u /* also V6 */
/*! Workstation name: 64 UTF-16 units on the wire including the NUL; as
 *  UTF-8 at most 63 * 3 bytes plus the NUL. */
#define KMSDIAG_KMS_WORKSTATION_UNITS 64u
#define KMSDIAG_KMS_WORKSTATION_UTF8_MAX 192u
/*! ePID: PIDSize is at most 128 bytes (64 UTF-16 units with the NUL). */
#define KMSDIAG_KMS_PID_SIZE_MAX 128u
#define KMSDIAG_KMS_EPID_UTF8_MAX 192u

/*! Outcome of one verification check. */
typedef enum kmsdiag_kms_check {
  KMSDIAG_KMS_CHECK_NA = 0,  /*!< does not apply to this version, or needs
                                  the request and none was given */
  KMSDIAG_KMS_CHECK_OK = 1,  /*!< checked and correct */
  KMSDIAG_KMS_CHECK_BAD = 2  /*!< checked and wrong */
} kmsdiag_kms_check_t;

/*! "not_applicable", "ok" or "bad". */
KMSDIAG_API const char *kmsdiag_kms_check_name(kmsdiag_kms_check_t c);

/*! The checks made on a message. Which apply:
 *  - decrypt: V5/V6, PKCS#7 padding after decryption is valid.
 *  - mac: V4, the CBC-MAC over the clear message.
 *  - hash: V5/V6 response, SHA-256 of the host's random (needs the
 *    request, whose decrypted IV unmasks the random).
 *  - hmac: V6 response, HMAC-SHA256 keyed from the response's time slot;
 *    hmac_slot tells which of the slots -1, 0, +1 matched.
 *  - ivs: V5 response IV equals the request IV; V6 XoredIVs equals the
 *    request's decrypted IV (needs the request).
 *  - version: outer (clear) version equals the inner (encrypted) one and,
 *    for a response when the request is given, the request's version.
 *  - cmid_echo, time_echo: the response echoes the request's CMID and
 *    ClientTime exactly (needs the request).
 *  - pid_length: PIDSize even, 2..128, NUL at the end and nowhere else.
 *  - size: the message is exactly as long as its layout says (informational:
 *    it does not affect `verified`). */
typedef struct kmsdiag_kms_verification {
  kmsdiag_kms_check_t decrypt;
  kmsdiag_kms_check_t mac;
  kmsdiag_kms_check_t hash;
  kmsdiag_kms_check_t hmac;
  int hmac_slot; /* -1, 0 or +1 when hmac is OK */
  kmsdiag_kms_check_t ivs;
  kmsdiag_kms_check_t version;
  kmsdiag_kms_check_t cmid_echo;
  kmsdiag_kms_check_t time_echo;
  kmsdiag_kms_check_t pid_length;
  kmsdiag_kms_check_t size;
  /* V6: the decrypted response IV equals the request's decrypted IV: the
   * host applied V5 rules to a V6 response (an emulator trait). */
  bool iv_suspicious;
} kmsdiag_kms_verification_t;

/*! A decoded client request. */
typedef struct kmsdiag_kms_request {
  uint16_t version_major, version_minor; /* outer (clear) version */
  uint16_t inner_major, inner_minor;     /* inside the encryption (V5/V6) */
  uint32_t vm;                           /* VMInfo: 0 physical, 1 VM */
  uint32_t license_status;               /* 0..6 */
  uint32_t binding_expiration;           /* minutes left in this state */
  kmsdiag_guid_t app_id;
  kmsdiag_guid_t sku_id;  /* activation ID */
  kmsdiag_guid_t kms_id;  /* KMS counted ID */
  kmsdiag_guid_t cmid;
  uint32_t n_policy;
  uint64_t client_time;   /* FILETIME, UTC */
  kmsdiag_guid_t previous_cmid;
  /* workstation name as UTF-8, NUL-terminated, up to the first UTF-16 NUL */
  char workstation[KMSDIAG_KMS_WORKSTATION_UTF8_MAX];
  size_t workstation_units;     /* UTF-16 units before the NUL (<= 64) */
  bool workstation_terminated;  /* a NUL was found within the 64 units */
  uint8_t iv[16];               /* V5/V6: the clear IV */
  uint8_t div[16];              /* V5/V6: the IV decrypted with the key:
                                   what response verification needs */
  uint8_t mac[16];              /* V4 */
  size_t wire_len;
  kmsdiag_kms_verification_t verify; /* decrypt, mac, version */
  bool verified;
  kmsdiag_decode_where_t err;   /* where decoding failed */
} kmsdiag_kms_request_t;

/*! A decoded host response. */
typedef struct kmsdiag_kms_response {
  uint16_t version_major, version_minor; /* outer (clear) version */
  uint16_t inner_major, inner_minor;
  uint32_t pid_size;                     /* bytes, with the NUL */
  char epid[KMSDIAG_KMS_EPID_UTF8_MAX];  /* UTF-8, NUL-terminated */
  size_t epid_units;                     /* UTF-16 units before the NUL */
  kmsdiag_guid_t cmid;                   /* echo of the request */
  uint64_t client_time;                  /* echo of the request */
  uint32_t count;                        /* active clients on the host */
  uint32_t activation_interval;          /* minutes */
  uint32_t renewal_interval;             /* minutes */
  bool has_hwid;                         /* V6 */
  uint8_t hwid[8];
  /* V5/V6 */
  uint8_t iv[16];            /* the response IV block as on the wire */
  uint8_t iv_plain[16];      /* that block decrypted (V5: request DIV) */
  uint8_t random_xored[16];  /* RandomXoredIVs */
  uint8_t hash[32];          /* SHA-256 of the random */
  bool has_random;           /* the request was given: random recovered */
  uint8_t random[16];
  size_t padding_len;        /* PKCS#7 padding removed */
  /* V6 */
  uint8_t xored_ivs[16];
  uint8_t hmac[16];
  /* V4 */
  uint8_t mac[16];
  size_t wire_len;
  size_t expected_len;       /* what the layout implies for this PIDSize */
  kmsdiag_kms_verification_t verify;
  bool verified;             /* the integrity check (mac / hash / hmac) is
                                OK and no check is BAD */
  kmsdiag_decode_where_t err;
} kmsdiag_kms_response_t;

/*! Decode a client request of \p len bytes (V4, V5 or V6; the outer
 *  version decides). \return KMSDIAG_OK when it decoded and verified;
 *  KMSDIAG_EVERIFY when it decoded but a check failed (fields filled,
 *  out->verify says which); KMSDIAG_ETRUNC, KMSDIAG_EMALFORMED,
 *  KMSDIAG_ETOOBIG with out->err; KMSDIAG_EUNSUPPORTED for a version other
 *  than 4.0, 5.0, 6.0; KMSDIAG_ECRYPTO if OpenSSL fails. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t kmsdiag_kms_decode_request(
    const uint8_t *data, size_t len, kmsdiag_kms_request_t *out);

/*! Decode and verify a host response. \p req is the decoded request it
 *  answers, or NULL (then the echo checks, the V5/V6 hash and the IV checks
 *  are KMSDIAG_KMS_CHECK_NA; the V4 MAC and V6 HMAC are still checked).
 *  \return KMSDIAG_OK when decoded and no check failed (see out->verified:
 *  with req NULL a V5 response cannot be verified); KMSDIAG_EVERIFY when
 *  decoded but a check is BAD; decode errors as for requests. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t kmsdiag_kms_decode_response(
    const uint8_t *data, size_t len, const kmsdiag_kms_request_t *req,
    kmsdiag_kms_response_t *out);

/*! Source of random bytes: fill \p buf with \p len bytes, return
 *  KMSDIAG_OK or an error that the encoder passes on. */
typedef kmsdiag_status_t (*kmsdiag_kms_rand_fn)(void *userdata, uint8_t *buf,
                                                size_t len);

/*! What a client request says. */
typedef struct kmsdiag_kms_request_params {
  uint16_t version_major;      /* 4, 5 or 6 */
  uint16_t version_minor;      /* 0 */
  bool vm;
  uint32_t license_status;     /* e.g. 2 = OOB grace */
  uint32_t binding_expiration; /* minutes, e.g. 43200 */
  kmsdiag_guid_t app_id, sku_id, kms_id;
  kmsdiag_guid_t cmid;         /* used as given unless random_cmid */
  bool random_cmid;            /* draw a version-4 UUID from the source */
  kmsdiag_guid_t previous_cmid;
  uint32_t n_policy;           /* 25 for Windows clients, 5 servers/Office */
  uint64_t client_time;        /* FILETIME; 0 = now */
  const char *workstation;     /* UTF-8, at most 63 UTF-16 units; NULL = "" */
} kmsdiag_kms_request_params_t;

/*! Encode a client request. Random bytes (the V5/V6 IV, a random CMID)
 *  come from \p rand (with \p userdata), or from OpenSSL's RAND_bytes when
 *  \p rand is NULL. To verify the answer, decode the encoded request with
 *  kmsdiag_kms_decode_request() and pass that to
 *  kmsdiag_kms_decode_response().
 *  \param[out] out a malloc()'d buffer the caller releases with free();
 *  \p out_len its length (252 for V4, 260 for V5/V6).
 *  \return KMSDIAG_OK; KMSDIAG_EINVAL (bad arguments, invalid UTF-8);
 *  KMSDIAG_ETOOBIG (workstation longer than 63 UTF-16 units);
 *  KMSDIAG_EUNSUPPORTED (version); KMSDIAG_ECRYPTO; KMSDIAG_ENOMEM; or
 *  the error of \p rand. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t kmsdiag_kms_encode_request(
    const kmsdiag_kms_request_params_t *params, kmsdiag_kms_rand_fn rand,
    void *userdata, uint8_t **out, size_t *out_len);

/*! HWID as 16 upper-case hex digits (as vlmcs prints it) into \p buf of at
 *  least 17 bytes; returns \p buf. */
KMSDIAG_API char *kmsdiag_kms_hwid_to_str(const uint8_t hwid[8], char *buf);

/*! JSON object of a request under \p key (NULL inside an array). Keys:
 *  version ("6.0"), vm (bool), license_status, binding_expiration, app_id,
 *  sku_id, kms_id, cmid, n_policy, request_time (ISO 8601 UTC),
 *  previous_cmid, workstation, iv (hex, V5/V6), verified, verification
 *  {decrypt, mac, version: "ok" | "bad" | "not_applicable"}. */
KMSDIAG_API void kmsdiag_kms_request_write_json(kmsdiag_json_t *j,
                                                const char *key,
                                                const kmsdiag_kms_request_t *r);

/*! JSON object of a response under \p key. Keys: version, epid, cmid,
 *  request_time, count, activation_interval, renewal_interval (minutes),
 *  hwid (16 upper-case hex digits, V6 only, else null), iv (hex, the
 *  response IV block as on the wire, V5/V6), verified,
 *  verification {decrypt, mac, hash, hmac, hmac_slot, ivs, version,
 *  cmid_echo, time_echo, pid_length, size, iv_suspicious}. */
KMSDIAG_API void kmsdiag_kms_response_write_json(
    kmsdiag_json_t *j, const char *key, const kmsdiag_kms_response_t *r);

#ifdef __cplusplus
}
#endif
#endif
