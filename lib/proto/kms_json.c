/* kms_json.c: JSON form of decoded KMS messages (stable snake_case keys). */
#include <string.h>

#include <kmsdiag/kmsdiag_kms.h>

static void guid(kmsdiag_json_t *j, const char *key, const kmsdiag_guid_t *g) {
  char b[KMSDIAG_GUID_STRLEN];
  kmsdiag_json_str(j, key, kmsdiag_guid_to_str(g, b));
}

static void ftime(kmsdiag_json_t *j, const char *key, uint64_t ft) {
  char b[64];
  kmsdiag_json_str(j, key, kmsdiag_filetime_to_str(ft, b, sizeof b));
}

static void check(kmsdiag_json_t *j, const char *key, kmsdiag_kms_check_t c) {
  kmsdiag_json_str(j, key, kmsdiag_kms_check_name(c));
}

void kmsdiag_kms_request_write_json(kmsdiag_json_t *j, const char *key,
                                    const kmsdiag_kms_request_t *r) {
  if (!j || !r)
    return;
  kmsdiag_json_object_begin(j, key);
  kmsdiag_json_strf(j, "version", "%u.%u", (unsigned)r->version_major,
                    (unsigned)r->version_minor);
  kmsdiag_json_bool(j, "vm", r->vm != 0);
  kmsdiag_json_uint(j, "license_status", r->license_status);
  kmsdiag_json_uint(j, "binding_expiration", r->binding_expiration);
  guid(j, "app_id", &r->app_id);
  guid(j, "sku_id", &r->sku_id);
  guid(j, "kms_id", &r->kms_id);
  guid(j, "cmid", &r->cmid);
  kmsdiag_json_uint(j, "n_policy", r->n_policy);
  ftime(j, "request_time", r->client_time);
  guid(j, "previous_cmid", &r->previous_cmid);
  kmsdiag_json_strn(j, "workstation", r->workstation,
                    strnlen(r->workstation, sizeof r->workstation));
  if (r->version_major >= 5)
    kmsdiag_json_hexbytes(j, "iv", r->iv, 16);
  kmsdiag_json_bool(j, "verified", r->verified);
  kmsdiag_json_object_begin(j, "verification");
  check(j, "decrypt", r->verify.decrypt);
  check(j, "mac", r->verify.mac);
  check(j, "version", r->verify.version);
  check(j, "size", r->verify.size);
  kmsdiag_json_object_end(j);
  kmsdiag_json_object_end(j);
}

void kmsdiag_kms_response_write_json(kmsdiag_json_t *j, const char *key,
                                     const kmsdiag_kms_response_t *r) {
  if (!j || !r)
    return;
  const kmsdiag_kms_verification_t *v = &r->verify;
  kmsdiag_json_object_begin(j, key);
  kmsdiag_json_strf(j, "version", "%u.%u", (unsigned)r->version_major,
                    (unsigned)r->version_minor);
  kmsdiag_json_strn(j, "epid", r->epid, strnlen(r->epid, sizeof r->epid));
  guid(j, "cmid", &r->cmid);
  ftime(j, "request_time", r->client_time);
  kmsdiag_json_uint(j, "count", r->count);
  kmsdiag_json_uint(j, "activation_interval", r->activation_interval);
  kmsdiag_json_uint(j, "renewal_interval", r->renewal_interval);
  if (r->has_hwid) {
    char h[17];
    kmsdiag_json_str(j, "hwid", kmsdiag_kms_hwid_to_str(r->hwid, h));
  } else {
    kmsdiag_json_null(j, "hwid");
  }
  if (r->version_major >= 5) /* the response IV block, as on the wire */
    kmsdiag_json_hexbytes(j, "iv", r->iv, 16);
  kmsdiag_json_bool(j, "verified", r->verified);
  kmsdiag_json_object_begin(j, "verification");
  check(j, "decrypt", v->decrypt);
  check(j, "mac", v->mac);
  check(j, "hash", v->hash);
  check(j, "hmac", v->hmac);
  if (v->hmac == KMSDIAG_KMS_CHECK_OK)
    kmsdiag_json_int(j, "hmac_slot", v->hmac_slot);
  else
    kmsdiag_json_null(j, "hmac_slot");
  check(j, "ivs", v->ivs);
  check(j, "version", v->version);
  check(j, "cmid_echo", v->cmid_echo);
  check(j, "time_echo", v->time_echo);
  check(j, "pid_length", v->pid_length);
  check(j, "size", v->size);
  kmsdiag_json_bool(j, "iv_suspicious", v->iv_suspicious);
  kmsdiag_json_object_end(j);
  kmsdiag_json_object_end(j);
}
