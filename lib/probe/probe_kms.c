/* probe_kms.c: the kms stage. One activation request (kmsdiag_kms.h
 * encoder) inside an RPC request PDU, then the answer decoded through the
 * library's RPC and KMS decoders and judged the way a Windows client
 * would: refusal HRESULTs, verification, time skew, count against the
 * product's threshold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kmsdiag/kmsdiag_errors.h>
#include <kmsdiag/kmsdiag_rpc.h>

#include "probe_internal.h"

#define HR_F074 KMSDIAG_HR_BINDING_SERVICE_UNAVAILABLE
#define HR_UNKNOWN_IF 0x800706B5u
#define HR_CALL_FAILED 0x800706BEu
#define HR_PROTOCOL_ERROR 0x800706C0u
/* Client and host clocks may differ by at most 4 hours. */
#define MAX_SKEW_S (4 * 3600)

struct kd_probe_kms {
  kmsdiag_kms_request_t req; /* our request, decoded: what verifies the
                                answer */
  bool ndr64;
};

bool kd_probe_kms_available(void) { return true; }

static void real_now(int64_t *sec, uint32_t *nsec) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  *sec = (int64_t)ts.tv_sec;
  *nsec = (uint32_t)ts.tv_nsec;
}

kmsdiag_status_t kd_probe_kms_request(const kmsdiag_probe_t *p, unsigned ctx,
                                      kd_buf_t *b, kd_probe_kms_t **stp,
                                      kmsdiag_probe_result_t *r, char *msg,
                                      size_t msgsz) {
  kmsdiag_kms_request_params_t rp;
  kd_probe_kms_t *st;
  uint8_t *kms = NULL, *pdu = NULL;
  size_t kms_len = 0, pdu_len = 0;
  kmsdiag_status_t s;
  int64_t sec;
  uint32_t nsec;
  memset(&rp, 0, sizeof rp);
  rp.version_major = (uint16_t)(p->protocol ? p->protocol : p->product_protocol);
  rp.version_minor = 0;
  rp.vm = false;
  rp.license_status = 2;          /* out-of-box grace: a first activation */
  rp.binding_expiration = 43200;  /* minutes left in it (30 days) */
  rp.app_id = p->app_id;
  rp.sku_id = p->sku_id;
  rp.kms_id = p->kms_id;
  rp.cmid = p->cmid;
  rp.random_cmid = false;
  rp.n_policy = p->n_policy;
  real_now(&sec, &nsec);
  if (p->client_time) {
    sec = p->client_time;
    nsec = 0;
  }
  rp.client_time = kmsdiag_filetime_from_unix(sec, nsec);
  rp.workstation = p->workstation;
  r->protocol = rp.version_major;
  r->threshold = p->n_policy;
  s = kmsdiag_kms_encode_request(&rp, p->rand, p->rand_ud, &kms, &kms_len);
  if (s != KMSDIAG_OK) {
    snprintf(msg, msgsz, "could not encode the activation request: %s",
             kmsdiag_strerror(s));
    return s;
  }
  st = calloc(1, sizeof *st);
  if (!st) {
    free(kms);
    snprintf(msg, msgsz, "out of memory");
    return KMSDIAG_ENOMEM;
  }
  s = kmsdiag_kms_decode_request(kms, kms_len, &st->req);
  if (s == KMSDIAG_OK) {
    st->ndr64 = ctx == 1;
    s = kmsdiag_rpc_encode_request(KD_PROBE_CALL_ID, (uint16_t)ctx, st->ndr64,
                                   kms, kms_len, &pdu, &pdu_len);
  }
  free(kms);
  if (s != KMSDIAG_OK) {
    free(st);
    snprintf(msg, msgsz, "could not build the request PDU: %s",
             kmsdiag_strerror(s));
    return s;
  }
  kd_buf_put(b, pdu, pdu_len);
  free(pdu);
  *stp = st;
  return KMSDIAG_OK;
}

void kd_probe_kms_free(kd_probe_kms_t *st) { free(st); }

static const char *hr_name(uint32_t hr) {
  const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(hr);
  return e && e->name ? e->name : "unknown code";
}

/* Names of the checks that failed, comma-separated. */
static void bad_checks(const kmsdiag_kms_verification_t *v, char *out,
                       size_t outsz) {
  const struct {
    const char *name;
    kmsdiag_kms_check_t c;
  } c[] = {{"decryption", v->decrypt},   {"MAC", v->mac},
           {"hash", v->hash},            {"HMAC", v->hmac},
           {"IVs", v->ivs},              {"version", v->version},
           {"CMID echo", v->cmid_echo},  {"time echo", v->time_echo},
           {"ePID length", v->pid_length}};
  size_t n = 0;
  out[0] = '\0';
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    if (c[i].c != KMSDIAG_KMS_CHECK_BAD)
      continue;
    int w = snprintf(out + n, outsz - n, "%s%s", n ? ", " : "", c[i].name);
    if (w < 0 || (size_t)w >= outsz - n)
      break;
    n += (size_t)w;
  }
  if (!n)
    snprintf(out, outsz, "integrity not proven");
}

static void analyse_epid(const kmsdiag_probe_t *p, kmsdiag_probe_result_t *r) {
  kmsdiag_epid_t *e = calloc(1, sizeof *e);
  if (!e)
    return;
  kmsdiag_status_t st = kmsdiag_epid_parse(r->epid, strlen(r->epid), e);
  if (st == KMSDIAG_EINVAL) {
    free(e);
    return;
  }
  /* Also kept when it is not an ePID: the problems say why. */
  r->epid_info = e;
  if (p->product && e->syntax_ok &&
      kmsdiag_epid_can_activate(e, p->product, &r->verdict) == KMSDIAG_OK)
    r->has_verdict = true;
}

kmsdiag_status_t kd_probe_kms_answer(const kmsdiag_probe_t *p,
                                     kd_probe_kms_t *st, const uint8_t *pdu,
                                     size_t len, kmsdiag_probe_result_t *r,
                                     char *msg, size_t msgsz) {
  kmsdiag_rpc_pdu_t d;
  kmsdiag_kms_response_t resp;
  const uint8_t *kms = NULL;
  size_t kms_len = 0;
  uint32_t hr = 0;
  kmsdiag_status_t s;
  int64_t now_s;
  uint32_t now_ns;

  r->hresult = HR_F074;
  r->detail = HR_PROTOCOL_ERROR;
  if (!st) {
    snprintf(msg, msgsz, "internal error: no request state");
    return KMSDIAG_ESTATE;
  }
  s = kmsdiag_rpc_decode(pdu, len, &d);
  if (s != KMSDIAG_OK) {
    snprintf(msg, msgsz, "malformed answer to the request: %s at %s, offset %zu",
             kmsdiag_strerror(s), d.err.field ? d.err.field : "?", d.err.offset);
    return KMSDIAG_EPROTO;
  }
  if (d.hdr.ptype == KMSDIAG_RPC_FAULT) {
    const char *fn = kmsdiag_rpc_fault_name(d.u.fault.status);
    r->rpc_status = d.u.fault.status;
    r->detail = d.u.fault.status == KMSDIAG_RPC_NCA_UNK_IF ? HR_UNKNOWN_IF
                                                          : HR_CALL_FAILED;
    snprintf(msg, msgsz, "the request was answered with an RPC fault: status "
             "0x%08X %s", (unsigned)d.u.fault.status, fn ? fn : "");
    return KMSDIAG_ERPCFAULT;
  }
  if (d.hdr.ptype != KMSDIAG_RPC_RESPONSE) {
    snprintf(msg, msgsz, "the request was answered with RPC PDU type %u (%s), "
             "not a response", d.hdr.ptype, kmsdiag_rpc_ptype_name(d.hdr.ptype));
    return KMSDIAG_EPROTO;
  }
  if ((d.hdr.pfc_flags & 0x03) != 0x03) {
    snprintf(msg, msgsz, "fragmented response (flags 0x%02x): KMS answers in "
             "one fragment", d.hdr.pfc_flags);
    return KMSDIAG_EPROTO;
  }
  if (d.hdr.call_id != KD_PROBE_CALL_ID) {
    snprintf(msg, msgsz, "response call_id %u, expected %u",
             (unsigned)d.hdr.call_id, KD_PROBE_CALL_ID);
    return KMSDIAG_EPROTO;
  }
  kmsdiag_rpc_stub_info_t info;
  s = kmsdiag_rpc_response_stub(d.u.response.stub, d.u.response.stub_len,
                                st->ndr64, &kms, &kms_len, &hr, &info);
  if (s != KMSDIAG_OK) {
    snprintf(msg, msgsz, "malformed response stub: %s at %s, offset %zu",
             kmsdiag_strerror(s), info.err.field ? info.err.field : "?",
             info.err.offset);
    return KMSDIAG_EPROTO;
  }
  if (hr != 0 || !kms) {
    const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(hr);
    r->hresult = hr ? hr : HR_F074;
    r->detail = 0;
    snprintf(msg, msgsz, "the host refused the activation: 0x%08X %s%s%s",
             (unsigned)hr, e && e->name ? e->name : "",
             e ? ": " : "", e ? e->message : "");
    return KMSDIAG_EKMSREFUSED;
  }
  s = kmsdiag_kms_decode_response(kms, kms_len, &st->req, &resp);
  real_now(&now_s, &now_ns);
  if (s != KMSDIAG_OK && s != KMSDIAG_EVERIFY) {
    snprintf(msg, msgsz, "the KMS response does not decode: %s at %s, "
             "offset %zu", kmsdiag_strerror(s),
             resp.err.field ? resp.err.field : "?", resp.err.offset);
    return KMSDIAG_EPROTO;
  }
  r->has_kms = true;
  free(r->epid);
  r->epid = strdup(resp.epid);
  r->has_hwid = resp.has_hwid;
  if (resp.has_hwid)
    memcpy(r->hwid, resp.hwid, 8);
  r->count = resp.count;
  r->act_interval = resp.activation_interval;
  r->renew_interval = resp.renewal_interval;
  r->has_verification = true;
  r->verification = resp.verify;
  r->verified = s == KMSDIAG_OK && resp.verified;
  r->skew = kmsdiag_filetime_to_unix(resp.client_time, NULL) - now_s;
  if (r->epid)
    analyse_epid(p, r);
  int64_t askew = r->skew < 0 ? -r->skew : r->skew;

  if (!r->verified) {
    char bad[160];
    bad_checks(&resp.verify, bad, sizeof bad);
    if (askew > MAX_SKEW_S) {
      r->hresult = KMSDIAG_HR_INVALID_TIMESTAMP;
      r->detail = 0;
      snprintf(msg, msgsz, "the response fails verification (%s) and its "
               "time is %lld s away from our clock: a stale or replayed "
               "answer; a client reports 0x%08X %s", bad, (long long)r->skew,
               KMSDIAG_HR_INVALID_TIMESTAMP, hr_name(KMSDIAG_HR_INVALID_TIMESTAMP));
    } else {
      r->detail = 0;
      snprintf(msg, msgsz, "the response fails verification (%s): a client "
               "discards it", bad);
    }
    return KMSDIAG_EVERIFY;
  }
  /* The stage passed: a verified answer. Now judge it as a client. */
  r->reached = KMSDIAG_PROBE_STAGE_KMS;
  if (askew > MAX_SKEW_S) {
    r->hresult = KMSDIAG_HR_INVALID_TIMESTAMP;
    r->detail = 0;
    snprintf(msg, msgsz, "request time and our clock are %lld s apart "
             "(more than 4 hours): 0x%08X %s", (long long)r->skew,
             KMSDIAG_HR_INVALID_TIMESTAMP, hr_name(KMSDIAG_HR_INVALID_TIMESTAMP));
    return KMSDIAG_EKMSREFUSED;
  }
  if (resp.count < p->n_policy) {
    r->hresult = KMSDIAG_HR_NOT_ENOUGH_COUNT;
    r->detail = 0;
    snprintf(msg, msgsz, "count %u is below the product's threshold %u: "
             "0x%08X %s", (unsigned)resp.count, (unsigned)p->n_policy,
             KMSDIAG_HR_NOT_ENOUGH_COUNT, hr_name(KMSDIAG_HR_NOT_ENOUGH_COUNT));
    return KMSDIAG_EKMSREFUSED;
  }
  r->hresult = 0;
  r->detail = 0;
  char epid[100];
  kd_probe_escape(epid, sizeof epid, resp.epid, strlen(resp.epid));
  snprintf(msg, msgsz, "activated: V%u response verified, ePID %s, count %u "
           "(threshold %u), intervals %u/%u min%s", (unsigned)r->protocol,
           epid, (unsigned)resp.count, (unsigned)p->n_policy,
           (unsigned)resp.activation_interval, (unsigned)resp.renewal_interval,
           r->has_verdict && r->verdict.answer == KMSDIAG_ACTIVATE_NO
               ? "; but its host key should not activate this product "
                 "(a genuine host answers 0xC004F042)"
               : "");
  return KMSDIAG_OK;
}
