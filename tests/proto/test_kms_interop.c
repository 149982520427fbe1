/* test_kms_interop.c: the KMS payloads of every recorded interop capture
 * (vlmcs <-> vlmcsd) decode to exactly the ground truth that the client
 * printed (the .vlmcs.txt files next to the captures), and every response verifies. */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_kms.h>
#include <kmsdiag/kmsdiag_rpc.h>

#include "check.h"
#include "pcap_pdus.h"

#define PORT 16888
#define APP_WINDOWS "55c92734-d682-4d71-983e-d6ec3f16059f"
#define SKU_W10_ENT "73111121-5638-40f6-bc11-f1d7b0d64300"
#define KMS_W10 "58e2134f-8e11-4d17-9cb2-91069c151148"
#define NULL_GUID "00000000-0000-0000-0000-000000000000"

typedef struct exchange {
  uint32_t call_id;
  uint16_t ctx_id;
  const uint8_t *req;
  size_t req_len;
  const uint8_t *resp;
  size_t resp_len;
  uint32_t hresult;
} exchange_t;

/* Pull the request/response pairs of a capture through the RPC layer. */
static size_t exchanges(const test_pdu_list_t *l, exchange_t *ex, size_t max) {
  size_t n = 0;
  bool ndr64 = false;
  for (size_t i = 0; i < l->n; i++) {
    kmsdiag_rpc_pdu_t p;
    const uint8_t *kms;
    size_t kl;
    if (kmsdiag_rpc_decode(l->pdus[i].data, l->pdus[i].len, &p) != KMSDIAG_OK)
      continue;
    if (p.hdr.ptype == KMSDIAG_RPC_REQUEST && n < max) {
      /* ctx 1 is NDR64 in vlmcs's default bind, ctx 0 NDR32 */
      ndr64 = p.u.request.ctx_id == 1;
      memset(&ex[n], 0, sizeof ex[n]);
      ex[n].call_id = p.hdr.call_id;
      ex[n].ctx_id = p.u.request.ctx_id;
      if (kmsdiag_rpc_request_stub(p.u.request.stub, p.u.request.stub_len,
                                   ndr64, &kms, &kl, NULL) == KMSDIAG_OK) {
        ex[n].req = kms;
        ex[n].req_len = kl;
      }
      n++;
    } else if (p.hdr.ptype == KMSDIAG_RPC_RESPONSE && n > 0) {
      uint32_t hr = 0;
      CHECK_EQ(p.hdr.call_id, ex[n - 1].call_id);
      if (kmsdiag_rpc_response_stub(p.u.response.stub, p.u.response.stub_len,
                                    ndr64, &kms, &kl, &hr, NULL) == KMSDIAG_OK) {
        ex[n - 1].resp = kms;
        ex[n - 1].resp_len = kl;
        ex[n - 1].hresult = hr;
      }
    }
  }
  return n;
}

static const char *gs(const kmsdiag_guid_t *g, char *b) {
  return kmsdiag_guid_to_str(g, b);
}

static const char *ts(uint64_t ft, char *b) {
  return kmsdiag_filetime_to_str(ft, b, 64);
}

typedef struct truth {
  unsigned major;
  const char *kms_id, *cmid, *workstation, *time, *epid, *hwid;
  size_t req_len, resp_len;
} truth_t;

static void check_request(const kmsdiag_kms_request_t *q, const truth_t *t) {
  char b[64];
  CHECK_EQ(q->version_major, t->major);
  CHECK_EQ(q->version_minor, 0);
  CHECK_EQ(q->vm, 0);
  CHECK_EQ(q->license_status, 2);
  CHECK_EQ(q->binding_expiration, 43200);
  CHECK_STR(gs(&q->app_id, b), APP_WINDOWS);
  CHECK_STR(gs(&q->sku_id, b), SKU_W10_ENT);
  CHECK_STR(gs(&q->kms_id, b), t->kms_id);
  CHECK_STR(gs(&q->cmid, b), t->cmid);
  CHECK_STR(gs(&q->previous_cmid, b), NULL_GUID);
  CHECK_EQ(q->n_policy, 25);
  CHECK_STR(ts(q->client_time, b), t->time);
  CHECK_STR(q->workstation, t->workstation);
  CHECK_EQ(q->workstation_units, strlen(t->workstation));
  CHECK(q->workstation_terminated);
  CHECK_EQ(q->wire_len, t->req_len);
  CHECK(q->verified);
  CHECK_EQ(q->verify.version, KMSDIAG_KMS_CHECK_OK);
  CHECK_EQ(q->verify.size, KMSDIAG_KMS_CHECK_OK);
  if (t->major == 4) {
    CHECK_EQ(q->verify.mac, KMSDIAG_KMS_CHECK_OK);
  } else {
    CHECK_EQ(q->verify.decrypt, KMSDIAG_KMS_CHECK_OK);
    CHECK_EQ(q->inner_major, t->major);
  }
}

static void check_response(const kmsdiag_kms_response_t *r, const truth_t *t) {
  char b[64];
  CHECK_EQ(r->version_major, t->major);
  CHECK_EQ(r->version_minor, 0);
  CHECK_STR(r->epid, t->epid);
  CHECK_EQ(r->pid_size, 2 * (strlen(t->epid) + 1));
  CHECK_STR(gs(&r->cmid, b), t->cmid);
  CHECK_STR(ts(r->client_time, b), t->time);
  CHECK_EQ(r->count, 50);
  CHECK_EQ(r->activation_interval, 120);
  CHECK_EQ(r->renewal_interval, 10080);
  CHECK_EQ(r->wire_len, t->resp_len);
  CHECK_EQ(r->expected_len, t->resp_len);
  if (t->hwid) {
    CHECK(r->has_hwid);
    CHECK_STR(kmsdiag_kms_hwid_to_str(r->hwid, b), t->hwid);
  } else {
    CHECK(!r->has_hwid);
  }
  CHECK(r->verified);
  const kmsdiag_kms_verification_t *v = &r->verify;
  CHECK_EQ(v->version, KMSDIAG_KMS_CHECK_OK);
  CHECK_EQ(v->cmid_echo, KMSDIAG_KMS_CHECK_OK);
  CHECK_EQ(v->time_echo, KMSDIAG_KMS_CHECK_OK);
  CHECK_EQ(v->pid_length, KMSDIAG_KMS_CHECK_OK);
  CHECK_EQ(v->size, KMSDIAG_KMS_CHECK_OK);
  switch (t->major) {
  case 4:
    CHECK_EQ(v->mac, KMSDIAG_KMS_CHECK_OK);
    CHECK_EQ(v->hash, KMSDIAG_KMS_CHECK_NA);
    CHECK_EQ(v->hmac, KMSDIAG_KMS_CHECK_NA);
    break;
  case 5:
    CHECK_EQ(v->decrypt, KMSDIAG_KMS_CHECK_OK);
    CHECK_EQ(v->hash, KMSDIAG_KMS_CHECK_OK);
    CHECK_EQ(v->ivs, KMSDIAG_KMS_CHECK_OK);
    CHECK_EQ(v->hmac, KMSDIAG_KMS_CHECK_NA);
    break;
  default:
    CHECK_EQ(v->decrypt, KMSDIAG_KMS_CHECK_OK);
    CHECK_EQ(v->hash, KMSDIAG_KMS_CHECK_OK);
    CHECK_EQ(v->ivs, KMSDIAG_KMS_CHECK_OK);
    CHECK_EQ(v->hmac, KMSDIAG_KMS_CHECK_OK);
    CHECK(!v->iv_suspicious);
    break;
  }
}

static int load(const char *name, test_pdu_list_t *l) {
  char path[256];
  snprintf(path, sizeof path, "captures/interop/%s.pcap", name);
  int rc = test_pcap_pdus(path, PORT, l);
  CHECK_EQ(rc, 0);
  return rc;
}

/* V5: does flipping wire byte i garble a plaintext block holding a field
 * that V5 can check (the IV, CMID, time, random, hash, padding)? */
static bool covered(unsigned major, uint32_t p, size_t i) {
  if (major != 5 || i < 20)
    return true;
  size_t lo = 16 * ((i - 4) / 16), hi = lo + 16; /* plaintext block */
  size_t a1 = 24 + p, b1 = 48 + p, a2 = 60 + p;
  return (lo < b1 && hi > a1) || hi > a2;
}

/* Decode one exchange against its truth; also corrupt it and check that
 * the corruption is reported. */
static void check_exchange(const exchange_t *e, const truth_t *t) {
  kmsdiag_kms_request_t q;
  kmsdiag_kms_response_t r;
  CHECK_EQ(e->req_len, t->req_len);
  CHECK_EQ(e->resp_len, t->resp_len);
  CHECK_EQ_U64(e->hresult, 0);
  CHECK_EQ(kmsdiag_kms_decode_request(e->req, e->req_len, &q), KMSDIAG_OK);
  check_request(&q, t);
  CHECK_EQ(kmsdiag_kms_decode_response(e->resp, e->resp_len, &q, &r),
           KMSDIAG_OK);
  check_response(&r, t);

  /* without the request: fields decode, echo checks are not applicable */
  kmsdiag_status_t st = kmsdiag_kms_decode_response(e->resp, e->resp_len, NULL, &r);
  CHECK_EQ(st, KMSDIAG_OK);
  CHECK_STR(r.epid, t->epid);
  CHECK_EQ(r.verify.cmid_echo, KMSDIAG_KMS_CHECK_NA);
  CHECK_EQ(r.verify.hash, KMSDIAG_KMS_CHECK_NA);
  /* V4 MAC and V6 HMAC need no request; V5 cannot be verified alone */
  CHECK_EQ(r.verified, t->major != 5);

  /* every single-bit flip anywhere in a V4 or V6 response is reported:
   * either the decode fails or verification does. V5 protects only some
   * fields (no MAC over ePID, count, intervals: a protocol property), so
   * there only flips garbling a protected plaintext block must be caught. */
  uint8_t *m = malloc(e->resp_len);
  size_t undetected = 0;
  for (size_t i = 0; m && i < e->resp_len; i++) {
    for (int bit = 0; bit < 8; bit += 3) {
      memcpy(m, e->resp, e->resp_len);
      m[i] ^= (uint8_t)(1u << bit);
      st = kmsdiag_kms_decode_response(m, e->resp_len, &q, &r);
      if (st == KMSDIAG_OK && r.verified && covered(t->major, r.pid_size, i)) {
        if (undetected++ < 5)
          fprintf(stderr, "undetected flip: v%u byte %zu bit %d\n", t->major, i, bit);
      }
    }
  }
  CHECK_EQ(undetected, 0);
  free(m);

  /* V4 requests carry a MAC: every bit flip in one is reported (V5/V6
   * requests have no integrity check beyond padding and version) */
  if (t->major == 4) {
    uint8_t *qm = malloc(e->req_len);
    size_t missed = 0;
    kmsdiag_kms_request_t bad;
    for (size_t i = 4; qm && i < e->req_len; i++) {
      memcpy(qm, e->req, e->req_len);
      qm[i] ^= 0x20;
      st = kmsdiag_kms_decode_request(qm, e->req_len, &bad);
      if (st != KMSDIAG_EVERIFY || bad.verified ||
          bad.verify.mac != KMSDIAG_KMS_CHECK_BAD)
        missed++;
    }
    CHECK_EQ(missed, 0);
    free(qm);
  }

  /* a response for another client: wrong CMID / time in the request */
  kmsdiag_kms_request_t other = q;
  other.cmid.data1 ^= 1;
  st = kmsdiag_kms_decode_response(e->resp, e->resp_len, &other, &r);
  CHECK_EQ(st, KMSDIAG_EVERIFY);
  CHECK(!r.verified);
  CHECK_EQ(r.verify.cmid_echo, KMSDIAG_KMS_CHECK_BAD);
  CHECK_EQ(r.verify.time_echo, KMSDIAG_KMS_CHECK_OK);
  other = q;
  other.client_time += 1;
  st = kmsdiag_kms_decode_response(e->resp, e->resp_len, &other, &r);
  CHECK_EQ(st, KMSDIAG_EVERIFY);
  CHECK_EQ(r.verify.time_echo, KMSDIAG_KMS_CHECK_BAD);

  /* every truncation of either message is an error naming a field */
  for (size_t cut = 0; cut < e->req_len; cut++) {
    st = kmsdiag_kms_decode_request(e->req, cut, &q);
    CHECK(st == KMSDIAG_ETRUNC);
    CHECK(q.err.field && q.err.field[0]);
  }
  CHECK_EQ(kmsdiag_kms_decode_request(e->req, e->req_len, &q), KMSDIAG_OK);
  for (size_t cut = 0; cut < e->resp_len; cut++) {
    st = kmsdiag_kms_decode_response(e->resp, cut, &q, &r);
    CHECK(st != KMSDIAG_OK || !r.verified);
    if (st != KMSDIAG_OK && st != KMSDIAG_EVERIFY)
      CHECK(r.err.field && r.err.field[0]);
  }
}

static void test_single(const char *name, const truth_t *t) {
  test_pdu_list_t l;
  exchange_t ex[4];
  if (load(name, &l) != 0)
    return;
  size_t n = exchanges(&l, ex, 4);
  CHECK_EQ(n, 1);
  if (n == 1)
    check_exchange(&ex[0], t);
  test_pdu_list_free(&l);
}

static void test_v5_ivs(void) {
  /* ground truth: request and response IV both 1e2c1ff2... */
  static const uint8_t want[16] = {0x1e, 0x2c, 0x1f, 0xf2, 0x83, 0xa9, 0x22, 0xcb,
                                   0xee, 0xab, 0x50, 0xd3, 0x8d, 0x1f, 0x91, 0x2c};
  test_pdu_list_t l;
  exchange_t ex[2];
  kmsdiag_kms_request_t q;
  kmsdiag_kms_response_t r;
  if (load("v5-win10-enterprise", &l) != 0)
    return;
  if (exchanges(&l, ex, 2) == 1 && ex[0].req && ex[0].resp) {
    CHECK_EQ(kmsdiag_kms_decode_request(ex[0].req, ex[0].req_len, &q), KMSDIAG_OK);
    CHECK_MEM(q.iv, want, 16);
    CHECK_EQ(kmsdiag_kms_decode_response(ex[0].resp, ex[0].resp_len, &q, &r),
             KMSDIAG_OK);
    CHECK_MEM(r.iv, want, 16);
    /* V5 rule: the response IV block decrypts to the request's D(IV) */
    CHECK_MEM(r.iv_plain, q.div, 16);
  } else {
    CHECK(0);
  }
  test_pdu_list_free(&l);
}

static void test_multi(void) {
  static const char *cmids[3] = {"5c01936a-ffc8-447b-9ff3-f12e10306302",
                                 "0116c209-f0be-4de8-af9c-01b57f95c6a8",
                                 "a8deb2d3-268c-4887-b6e8-44ce1815e794"};
  static const char *ws[3] = {"dns.oracle.fr", "hack-me.samsung.net",
                              "headquarter.amazon.me"};
  test_pdu_list_t l;
  exchange_t ex[4];
  if (load("rpc-ndr64-multi-request", &l) != 0)
    return;
  size_t n = exchanges(&l, ex, 4);
  CHECK_EQ(n, 3);
  for (size_t i = 0; i < n && i < 3; i++) {
    truth_t t = {6, KMS_W10, cmids[i], ws[i], "2026-11-22T02:53:18Z",
                 "06401-00206-562-755972-03-8251-9600.0000-0042021",
                 "3A1C049600B60076", 260, 260};
    CHECK_EQ(ex[i].call_id, 2 + i);
    CHECK_EQ(ex[i].ctx_id, i == 0 ? 0 : 1);
    check_exchange(&ex[i], &t);
  }
  test_pdu_list_free(&l);
}

static void test_refused(void) {
  test_pdu_list_t l;
  exchange_t ex[2];
  char b[64];
  if (load("err-unknown-kmsid-whitelist", &l) == 0) {
    size_t n = exchanges(&l, ex, 2);
    CHECK_EQ(n, 1);
    if (n == 1) {
      kmsdiag_kms_request_t q;
      CHECK_EQ_U64(ex[0].hresult, 0xC004F042u);
      CHECK(ex[0].resp == NULL);
      CHECK_EQ(ex[0].resp_len, 0);
      CHECK_EQ(kmsdiag_kms_decode_request(ex[0].req, ex[0].req_len, &q), KMSDIAG_OK);
      CHECK_EQ(q.version_major, 6);
      CHECK_STR(gs(&q.kms_id, b), "11111111-2222-4333-8444-555555555555");
      CHECK_STR(gs(&q.cmid, b), "e0ce8b3f-45a8-4b9d-a7d0-0d723144af2b");
      CHECK_STR(q.workstation, "smtp.sony.co.uk");
      CHECK_STR(ts(q.client_time, b), "2026-11-22T02:50:58Z");
    }
    test_pdu_list_free(&l);
  }
  if (load("rpc-raw-invalid-kms-payload", &l) == 0) {
    size_t n = exchanges(&l, ex, 2);
    CHECK_EQ(n, 1);
    if (n == 1) {
      kmsdiag_kms_request_t q;
      CHECK_EQ_U64(ex[0].hresult, 0x8007000Du);
      CHECK_EQ(ex[0].req_len, 64);
      /* the truncated V6 request: our decoder says so, too */
      CHECK_EQ(kmsdiag_kms_decode_request(ex[0].req, ex[0].req_len, &q),
               KMSDIAG_ETRUNC);
      CHECK_EQ(q.version_major, 6);
      CHECK_STR(q.err.field, "ciphertext");
      CHECK_EQ(q.err.offset, 64);
    }
    test_pdu_list_free(&l);
  }
}

int main(void) {
  truth_t v4 = {4, KMS_W10, "88fc59d9-5fd9-4f34-83df-cb1c9c63b6d8",
                "ftp.samsung.info", "2026-11-22T02:50:21Z",
                "06401-00206-558-040878-03-1051-9600.0000-1912021", NULL, 252, 158};
  truth_t v5 = {5, KMS_W10, "528f092e-d906-4c8e-a9d7-a9a4808c0825",
                "hack-me.ubuntu.cn", "2026-11-22T02:50:23Z",
                "06401-00206-555-524955-03-1069-9600.0000-0182022", NULL, 260, 212};
  truth_t v6 = {6, KMS_W10, "90db7c23-a4ee-4def-a2da-6790533a3bea",
                "ns1.apple.kr", "2026-11-22T02:50:25Z",
                "03612-00206-562-856904-03-12289-17763.0000-0902026",
                "3A1C049600B60076", 260, 260};
  test_single("v4-win10-enterprise", &v4);
  test_single("v5-win10-enterprise", &v5);
  test_single("v6-win10-enterprise", &v6);
  test_v5_ivs();
  test_multi();
  test_refused();
  return check_finish();
}
