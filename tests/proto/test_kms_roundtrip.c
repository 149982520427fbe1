/* test_kms_roundtrip.c: our encoder's requests decode to what was put in
 * (V4, V5, V6, each in NDR32 and NDR64 through the RPC layer); responses
 * from the test-only builder decode and verify; deliberately wrong
 * responses are reported as failing verification. */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_kms.h>
#include <kmsdiag/kmsdiag_rpc.h>

#include "check.h"
#include "kms_test_build.h"
#include "pcap_pdus.h"

static kmsdiag_kms_request_params_t params(uint16_t major, const char *ws) {
  kmsdiag_kms_request_params_t p;
  memset(&p, 0, sizeof p);
  p.version_major = major;
  p.vm = true;
  p.license_status = 5;
  p.binding_expiration = 12345;
  (void)kmsdiag_guid_parse(&p.app_id, "55c92734-d682-4d71-983e-d6ec3f16059f");
  (void)kmsdiag_guid_parse(&p.sku_id, "{73111121-5638-40F6-BC11-F1D7B0D64300}");
  (void)kmsdiag_guid_parse(&p.kms_id, "58e2134f-8e11-4d17-9cb2-91069c151148");
  (void)kmsdiag_guid_parse(&p.cmid, "01234567-89ab-4def-8123-456789abcdef");
  (void)kmsdiag_guid_parse(&p.previous_cmid, "fedcba98-7654-4321-8fed-cba987654321");
  p.n_policy = 5;
  p.client_time = UINT64_C(134084526250000000);
  p.workstation = ws;
  return p;
}

static void check_same(const kmsdiag_kms_request_t *q,
                       const kmsdiag_kms_request_params_t *p) {
  CHECK_EQ(q->version_major, p->version_major);
  CHECK_EQ(q->version_minor, p->version_minor);
  CHECK_EQ(q->vm, p->vm ? 1 : 0);
  CHECK_EQ(q->license_status, p->license_status);
  CHECK_EQ(q->binding_expiration, p->binding_expiration);
  CHECK(kmsdiag_guid_equal(&q->app_id, &p->app_id));
  CHECK(kmsdiag_guid_equal(&q->sku_id, &p->sku_id));
  CHECK(kmsdiag_guid_equal(&q->kms_id, &p->kms_id));
  if (!p->random_cmid)
    CHECK(kmsdiag_guid_equal(&q->cmid, &p->cmid));
  CHECK(kmsdiag_guid_equal(&q->previous_cmid, &p->previous_cmid));
  CHECK_EQ(q->n_policy, p->n_policy);
  CHECK_EQ_U64(q->client_time, p->client_time);
  CHECK_STR(q->workstation, p->workstation ? p->workstation : "");
  CHECK(q->workstation_terminated);
  CHECK(q->verified);
}

/* request -> RPC request PDU -> decode -> stub -> KMS decode; then the
 * builder's response -> RPC response PDU -> decode -> verify. */
static void roundtrip(uint16_t major, bool ndr64, uint64_t seed) {
  kmsdiag_kms_request_params_t p = params(major, "host-\xc3\xa9t\xc3\xa9.example");
  uint8_t *kms = NULL, *pdu = NULL, *resp = NULL, *rpdu = NULL;
  size_t kl = 0, pl = 0, rl = 0, rpl = 0;
  kmsdiag_rpc_pdu_t d;
  kmsdiag_kms_request_t q;
  kmsdiag_kms_response_t r;
  const uint8_t *stub_kms;
  size_t sk;
  uint64_t s = seed;
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s, &kms, &kl),
           KMSDIAG_OK);
  CHECK_EQ(kl, major == 4 ? 252 : 260);
  CHECK_EQ(kmsdiag_rpc_encode_request(7, ndr64 ? 1 : 0, ndr64, kms, kl, &pdu, &pl),
           KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_decode(pdu, pl, &d), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_request_stub(d.u.request.stub, d.u.request.stub_len,
                                    ndr64, &stub_kms, &sk, NULL),
           KMSDIAG_OK);
  CHECK_EQ(sk, kl);
  CHECK_EQ(kmsdiag_kms_decode_request(stub_kms, sk, &q), KMSDIAG_OK);
  check_same(&q, &p);

  kt_response_params_t rp;
  memset(&rp, 0, sizeof rp);
  rp.epid = "05426-00206-271-298329-03-1033-9200.0000-3652017"; /* 48 chars */
  rp.count = 7;
  rp.activation_interval = 120;
  rp.renewal_interval = 10080;
  memcpy(rp.hwid, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
  CHECK_EQ(kt_build_kms_response(kms, kl, &rp, kt_rand_xorshift, &s, &resp, &rl),
           KMSDIAG_OK);
  /* 48-char ePID: P = 98 */
  CHECK_EQ(rl, major == 4 ? 158 : major == 5 ? 212 : 260);
  /* vlmcsd's unaligned HRESULT placement and the aligned one both work */
  for (int un = 0; un < 2; un++) {
    uint32_t hr = 1;
    CHECK_EQ(kt_build_response_pdu(7, ndr64 ? 1 : 0, ndr64, resp, rl, 0, un,
                                   &rpdu, &rpl),
             KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_decode(rpdu, rpl, &d), KMSDIAG_OK);
    CHECK_EQ(d.hdr.ptype, KMSDIAG_RPC_RESPONSE);
    CHECK_EQ(kmsdiag_rpc_response_stub(d.u.response.stub, d.u.response.stub_len,
                                       ndr64, &stub_kms, &sk, &hr, NULL),
             KMSDIAG_OK);
    CHECK_EQ_U64(hr, 0);
    CHECK_EQ(sk, rl);
    CHECK_EQ(kmsdiag_kms_decode_response(stub_kms, sk, &q, &r), KMSDIAG_OK);
    CHECK(r.verified);
    CHECK_STR(r.epid, rp.epid);
    CHECK_EQ(r.count, 7);
    CHECK_EQ(r.activation_interval, 120);
    CHECK_EQ(r.renewal_interval, 10080);
    CHECK(kmsdiag_guid_equal(&r.cmid, &p.cmid));
    CHECK_EQ_U64(r.client_time, p.client_time);
    CHECK_EQ(r.has_hwid, major == 6);
    if (major == 6) {
      CHECK_MEM(r.hwid, rp.hwid, 8);
      CHECK_EQ(r.verify.hmac_slot, 0);
    }
    free(rpdu);
  }
  free(resp);
  free(pdu);
  free(kms);
}

static void test_roundtrips(void) {
  for (uint16_t v = 4; v <= 6; v++)
    for (int n64 = 0; n64 < 2; n64++)
      roundtrip(v, n64, 0x1234 + v * 2u + (unsigned)n64);
}

/* the random source makes encoding reproducible, and matters */
static void test_determinism(void) {
  kmsdiag_kms_request_params_t p = params(6, "ws");
  uint8_t *a, *b, *c;
  size_t al, bl, cl;
  uint64_t s1 = 99, s2 = 99, s3 = 100;
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s1, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s2, &b, &bl), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s3, &c, &cl), KMSDIAG_OK);
  CHECK(al == bl && memcmp(a, b, al) == 0);
  CHECK(al == cl && memcmp(a, c, al) != 0);
  free(a);
  free(b);
  free(c);
  /* OpenSSL's RAND when no source is given: two requests differ in IV */
  CHECK_EQ(kmsdiag_kms_encode_request(&p, NULL, NULL, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_encode_request(&p, NULL, NULL, &b, &bl), KMSDIAG_OK);
  CHECK(memcmp(a + 4, b + 4, 16) != 0);
  free(a);
  free(b);
  /* a failing source is passed on */
  uint64_t zero = 0;
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &zero, &a, &al),
           KMSDIAG_EINVAL);
  /* random CMID: a version-4 UUID, different per draw */
  p.random_cmid = true;
  kmsdiag_kms_request_t q1, q2;
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s1, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s1, &b, &bl), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_decode_request(a, al, &q1), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_decode_request(b, bl, &q2), KMSDIAG_OK);
  CHECK_EQ(q1.cmid.data3 >> 12, 4);
  CHECK_EQ(q1.cmid.data4[0] >> 6, 2);
  CHECK(!kmsdiag_guid_equal(&q1.cmid, &q2.cmid));
  free(a);
  free(b);
}

static void test_workstation(void) {
  char ws[80];
  uint8_t *a;
  size_t al;
  kmsdiag_kms_request_t q;
  uint64_t s = 5;
  memset(ws, 'w', 63);
  ws[63] = '\0';
  kmsdiag_kms_request_params_t p = params(5, ws);
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_decode_request(a, al, &q), KMSDIAG_OK);
  CHECK_STR(q.workstation, ws);
  CHECK_EQ(q.workstation_units, 63);
  free(a);
  ws[63] = 'w';
  ws[64] = '\0';
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s, &a, &al),
           KMSDIAG_ETOOBIG);
  /* a character outside the BMP takes two units and survives */
  p.workstation = "pc-\xf0\x9f\x98\x80";
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_decode_request(a, al, &q), KMSDIAG_OK);
  CHECK_STR(q.workstation, "pc-\xf0\x9f\x98\x80");
  CHECK_EQ(q.workstation_units, 5);
  free(a);
  p.workstation = "bad-\xff";
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s, &a, &al), KMSDIAG_EINVAL);
  p.workstation = NULL;
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_decode_request(a, al, &q), KMSDIAG_OK);
  CHECK_STR(q.workstation, "");
  free(a);
  p.version_major = 7;
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s, &a, &al),
           KMSDIAG_EUNSUPPORTED);
}

/* Wrong responses from the builder are reported, each by its check. */
static void test_bad_responses(void) {
  for (uint16_t v = 4; v <= 6; v++) {
    kmsdiag_kms_request_params_t p = params(v, "client");
    uint8_t *kms, *resp;
    size_t kl, rl;
    uint64_t s = 77 + v;
    kmsdiag_kms_request_t q;
    kmsdiag_kms_response_t r;
    CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s, &kms, &kl), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_kms_decode_request(kms, kl, &q), KMSDIAG_OK);
    kt_response_params_t base;
    memset(&base, 0, sizeof base);
    base.epid = "06401-00206-558-040878-03-1051-9600.0000-1912021";
    base.count = 50;

    kt_response_params_t rp = base;
    rp.override_cmid = true;
    rp.cmid = q.previous_cmid;
    CHECK_EQ(kt_build_kms_response(kms, kl, &rp, kt_rand_xorshift, &s, &resp, &rl), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_kms_decode_response(resp, rl, &q, &r), KMSDIAG_EVERIFY);
    CHECK(!r.verified);
    CHECK_EQ(r.verify.cmid_echo, KMSDIAG_KMS_CHECK_BAD);
    free(resp);

    rp = base;
    rp.override_time = true;
    rp.client_time = q.client_time + 10000000; /* one second later */
    CHECK_EQ(kt_build_kms_response(kms, kl, &rp, kt_rand_xorshift, &s, &resp, &rl), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_kms_decode_response(resp, rl, &q, &r), KMSDIAG_EVERIFY);
    CHECK_EQ(r.verify.time_echo, KMSDIAG_KMS_CHECK_BAD);
    free(resp);

    rp = base;
    rp.override_version = true;
    rp.version_major = (uint16_t)(v == 4 ? 5 : 4);
    CHECK_EQ(kt_build_kms_response(kms, kl, &rp, kt_rand_xorshift, &s, &resp, &rl), KMSDIAG_OK);
    if (v == 4) {
      /* V4 carries its version once, in clear: a "5.0" message is then
       * read as V5 and does not even decode */
      CHECK(kmsdiag_kms_decode_response(resp, rl, &q, &r) != KMSDIAG_OK);
      CHECK(!r.verified);
    } else {
      CHECK_EQ(kmsdiag_kms_decode_response(resp, rl, &q, &r), KMSDIAG_EVERIFY);
      CHECK_EQ(r.verify.version, KMSDIAG_KMS_CHECK_BAD);
    }
    free(resp);

    if (v >= 5) {
      rp = base;
      rp.corrupt_hash = true;
      CHECK_EQ(kt_build_kms_response(kms, kl, &rp, kt_rand_xorshift, &s, &resp, &rl), KMSDIAG_OK);
      CHECK_EQ(kmsdiag_kms_decode_response(resp, rl, &q, &r), KMSDIAG_EVERIFY);
      CHECK_EQ(r.verify.hash, KMSDIAG_KMS_CHECK_BAD);
      CHECK_EQ(r.verify.decrypt, KMSDIAG_KMS_CHECK_OK);
      free(resp);
      /* a response decrypted with the request of another exchange */
      kmsdiag_kms_request_t other = q;
      other.div[3] ^= 0x10;
      CHECK_EQ(kt_build_kms_response(kms, kl, &base, kt_rand_xorshift, &s, &resp, &rl), KMSDIAG_OK);
      CHECK_EQ(kmsdiag_kms_decode_response(resp, rl, &other, &r), KMSDIAG_EVERIFY);
      CHECK_EQ(r.verify.hash, KMSDIAG_KMS_CHECK_BAD);
      free(resp);
    }
    if (v == 6) {
      for (int slot = -3; slot <= 3; slot++) {
        rp = base;
        rp.hmac_slot = slot;
        CHECK_EQ(kt_build_kms_response(kms, kl, &rp, kt_rand_xorshift, &s, &resp, &rl), KMSDIAG_OK);
        kmsdiag_status_t st = kmsdiag_kms_decode_response(resp, rl, &q, &r);
        if (slot >= -1 && slot <= 1) {
          CHECK_EQ(st, KMSDIAG_OK);
          CHECK_EQ(r.verify.hmac, KMSDIAG_KMS_CHECK_OK);
          CHECK_EQ(r.verify.hmac_slot, slot);
        } else {
          CHECK_EQ(st, KMSDIAG_EVERIFY);
          CHECK_EQ(r.verify.hmac, KMSDIAG_KMS_CHECK_BAD);
        }
        free(resp);
      }
      rp = base;
      rp.v5_rules_in_v6 = true;
      CHECK_EQ(kt_build_kms_response(kms, kl, &rp, kt_rand_xorshift, &s, &resp, &rl), KMSDIAG_OK);
      CHECK_EQ(kmsdiag_kms_decode_response(resp, rl, &q, &r), KMSDIAG_OK);
      CHECK(r.verify.iv_suspicious);
      free(resp);
    }
    free(kms);
  }
}

/* The other builders decode to what they were given. */
static void test_rpc_builders(void) {
  uint8_t *b, *a;
  size_t bl, al;
  kmsdiag_rpc_pdu_t d, ack;
  kmsdiag_rpc_bind_params_t bp;
  kt_bind_policy_t pol = {true, true, "1688", 0x1234};
  kmsdiag_rpc_bind_params_default(&bp, 2, true, true, true);
  CHECK_EQ(kmsdiag_rpc_encode_bind(&bp, false, &b, &bl), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_decode(b, bl, &d), KMSDIAG_OK);
  CHECK_EQ(kt_answer_bind(&d, &pol, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_decode(a, al, &ack), KMSDIAG_OK);
  CHECK_EQ(ack.hdr.ptype, KMSDIAG_RPC_BIND_ACK);
  CHECK_EQ(ack.hdr.pfc_flags, 0x13);
  CHECK_STR(ack.u.bind_ack.sec_addr, "1688");
  CHECK_EQ(ack.u.bind_ack.assoc_group, 0x1234);
  CHECK_EQ(ack.u.bind_ack.n_results, 3);
  CHECK_EQ(ack.u.bind_ack.results[0].result, KMSDIAG_RPC_ACK_PROVIDER_REJECTION);
  CHECK_EQ(ack.u.bind_ack.results[1].result, KMSDIAG_RPC_ACK_ACCEPTANCE);
  CHECK_EQ(ack.u.bind_ack.results[2].result, KMSDIAG_RPC_ACK_NEGOTIATE_ACK);
  CHECK_EQ(ack.u.bind_ack.results[2].reason, 3);
  free(a);
  /* alter_context back to NDR32: accepted, empty address, flags 0x03 */
  {
    kmsdiag_rpc_bind_params_t ap;
    uint8_t *ab;
    size_t abl;
    kmsdiag_rpc_pdu_t ad;
    kmsdiag_rpc_bind_params_default(&ap, 2, true, false, false);
    CHECK_EQ(kmsdiag_rpc_encode_bind(&ap, true, &ab, &abl), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_decode(ab, abl, &ad), KMSDIAG_OK);
    CHECK_EQ(kt_answer_bind(&ad, &pol, &a, &al), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_decode(a, al, &ack), KMSDIAG_OK);
    CHECK_EQ(ack.hdr.ptype, KMSDIAG_RPC_ALTER_CONTEXT_RESP);
    CHECK_EQ(ack.hdr.pfc_flags, 0x03);
    CHECK_EQ(ack.u.bind_ack.sec_addr_len, 0);
    CHECK_EQ(ack.u.bind_ack.n_results, 1);
    CHECK_EQ(ack.u.bind_ack.results[0].result, KMSDIAG_RPC_ACK_ACCEPTANCE);
    CHECK_EQ(al, 56); /* as in the captures */
    free(a);
    free(ab);
  }
  pol.ndr64 = false;
  CHECK_EQ(kt_answer_bind(&d, &pol, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_decode(a, al, &ack), KMSDIAG_OK);
  CHECK_EQ(ack.u.bind_ack.results[0].result, KMSDIAG_RPC_ACK_ACCEPTANCE);
  CHECK_EQ(ack.u.bind_ack.results[1].result, KMSDIAG_RPC_ACK_PROVIDER_REJECTION);
  free(a);
  free(b);
  /* a bind to another interface */
  kmsdiag_rpc_syntax_t other = kmsdiag_rpc_ndr64;
  bp.abstract = &other;
  CHECK_EQ(kmsdiag_rpc_encode_bind(&bp, false, &b, &bl), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_decode(b, bl, &d), KMSDIAG_OK);
  CHECK_EQ(kt_answer_bind(&d, &pol, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_decode(a, al, &ack), KMSDIAG_OK);
  CHECK_EQ(ack.u.bind_ack.results[0].reason,
           KMSDIAG_RPC_REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED);
  free(a);
  free(b);
  CHECK_EQ(kt_build_bind_nak(9, 4, &a, &al), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_decode(a, al, &d), KMSDIAG_OK);
  CHECK_EQ(d.hdr.ptype, KMSDIAG_RPC_BIND_NAK);
  CHECK_EQ(d.u.bind_nak.reject_reason, 4);
  CHECK_EQ(d.u.bind_nak.n_versions, 1);
  free(a);
  CHECK_EQ(kt_build_fault(2, 0, 0, KMSDIAG_RPC_NCA_UNK_IF, 0x74, 0x2e, &a, &al), KMSDIAG_OK);
  CHECK_EQ(al, 32);
  CHECK_EQ(kmsdiag_rpc_decode(a, al, &d), KMSDIAG_OK);
  CHECK_EQ(d.hdr.pfc_flags, 0x23);
  CHECK_EQ_U64(d.u.fault.status, KMSDIAG_RPC_NCA_UNK_IF);
  free(a);
  /* refusal stubs: 12 bytes NDR32, 20 bytes NDR64 */
  for (int n64 = 0; n64 < 2; n64++) {
    const uint8_t *k;
    size_t kl;
    uint32_t hr;
    CHECK_EQ(kt_build_response_pdu(3, (uint16_t)n64, n64, NULL, 0, 0xC004F042u, false, &a, &al),
             KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_decode(a, al, &d), KMSDIAG_OK);
    CHECK_EQ(d.u.response.stub_len, n64 ? 20 : 12);
    CHECK_EQ(kmsdiag_rpc_response_stub(d.u.response.stub, d.u.response.stub_len, n64,
                                       &k, &kl, &hr, NULL),
             KMSDIAG_OK);
    CHECK_EQ_U64(hr, 0xC004F042u);
    CHECK(k == NULL);
    free(a);
  }
}

/* JSON writers: the documented keys, valid JSON. */
static void test_json(void) {
  kmsdiag_kms_request_params_t p = params(6, "json\"host");
  uint8_t *kms, *resp;
  size_t kl, rl;
  uint64_t s = 3;
  kmsdiag_kms_request_t q;
  kmsdiag_kms_response_t r;
  kmsdiag_json_t *j = NULL;
  kt_response_params_t rp;
  memset(&rp, 0, sizeof rp);
  rp.epid = "03612-00206-562-856904-03-12289-17763.0000-0902026";
  memcpy(rp.hwid, "\x3a\x1c\x04\x96\x00\xb6\x00\x76", 8);
  CHECK_EQ(kmsdiag_kms_encode_request(&p, kt_rand_xorshift, &s, &kms, &kl), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_decode_request(kms, kl, &q), KMSDIAG_OK);
  CHECK_EQ(kt_build_kms_response(kms, kl, &rp, kt_rand_xorshift, &s, &resp, &rl), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_kms_decode_response(resp, rl, &q, &r), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_kms_request_write_json(j, "request", &q);
  kmsdiag_kms_response_write_json(j, "response", &r);
  kmsdiag_json_object_end(j);
  kmsdiag_json_endline(j);
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_OK);
  const char *t = kmsdiag_json_text(j, NULL);
  static const char *want[] = {
      "\"version\":\"6.0\"", "\"vm\":true", "\"license_status\":5",
      "\"binding_expiration\":12345",
      "\"app_id\":\"55c92734-d682-4d71-983e-d6ec3f16059f\"",
      "\"sku_id\":\"73111121-5638-40f6-bc11-f1d7b0d64300\"",
      "\"kms_id\":\"58e2134f-8e11-4d17-9cb2-91069c151148\"",
      "\"cmid\":\"01234567-89ab-4def-8123-456789abcdef\"", "\"n_policy\":5",
      "\"request_time\":\"", "\"previous_cmid\":\"fedcba98-7654-4321-8fed-cba987654321\"",
      "\"workstation\":\"json\\\"host\"",
      "\"epid\":\"03612-00206-562-856904-03-12289-17763.0000-0902026\"",
      "\"count\":0", "\"activation_interval\":0", "\"renewal_interval\":0",
      "\"hwid\":\"3A1C049600B60076\"", "\"verified\":true", "\"verification\":{",
      "\"hmac\":\"ok\"", "\"hash\":\"ok\"", "\"cmid_echo\":\"ok\"",
      "\"mac\":\"not_applicable\""};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    bool found = t && strstr(t, want[i]) != NULL;
    if (!found)
      fprintf(stderr, "missing %s in %s\n", want[i], t ? t : "(null)");
    CHECK(found);
  }
  kmsdiag_json_free(j);
  free(kms);
  free(resp);
}

/* The test host answers vlmcs's recorded bind and alter_context with the
 * very bytes vlmcsd sent (given the same association group). */
static void test_answer_matches_capture(void) {
  test_pdu_list_t l;
  if (test_pcap_pdus("captures/interop/v6-win10-enterprise.pcap", 16888, &l) != 0) {
    CHECK(0);
    return;
  }
  CHECK_EQ(l.n, 6);
  for (size_t i = 0; i + 1 < l.n && i < 4; i += 2) {
    kmsdiag_rpc_pdu_t q, want;
    uint8_t *a;
    size_t al;
    CHECK_EQ(kmsdiag_rpc_decode(l.pdus[i].data, l.pdus[i].len, &q), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_decode(l.pdus[i + 1].data, l.pdus[i + 1].len, &want),
             KMSDIAG_OK);
    kt_bind_policy_t pol = {true, true, "16888", want.u.bind_ack.assoc_group};
    CHECK_EQ(kt_answer_bind(&q, &pol, &a, &al), KMSDIAG_OK);
    CHECK_EQ(al, l.pdus[i + 1].len);
    if (al == l.pdus[i + 1].len) {
      if (i == 0) {
        CHECK_MEM(a, l.pdus[i + 1].data, al);
      } else {
        /* vlmcsd leaves two stale bytes ("16") in the alignment padding
         * after the empty secondary address; ours are zero */
        CHECK_MEM(a, l.pdus[i + 1].data, 26);
        CHECK_MEM(a + 28, l.pdus[i + 1].data + 28, al - 28);
        CHECK(a[26] == 0 && a[27] == 0);
      }
    }
    free(a);
  }
  test_pdu_list_free(&l);
}

/* V4 has no random part: the test host's answer to vlmcs's recorded V4
 * request must be vlmcsd's recorded answer, byte for byte, both the KMS
 * message and the whole response PDU. */
static void test_v4_response_matches_capture(void) {
  test_pdu_list_t l;
  if (test_pcap_pdus("captures/interop/v4-win10-enterprise.pcap", 16888, &l) != 0) {
    CHECK(0);
    return;
  }
  CHECK_EQ(l.n, 6);
  if (l.n == 6) {
    kmsdiag_rpc_pdu_t q, rs;
    const uint8_t *req, *want;
    size_t ql, wl;
    uint32_t hr;
    uint8_t *resp, *pdu;
    size_t rl, pl;
    CHECK_EQ(kmsdiag_rpc_decode(l.pdus[4].data, l.pdus[4].len, &q), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_decode(l.pdus[5].data, l.pdus[5].len, &rs), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_request_stub(q.u.request.stub, q.u.request.stub_len,
                                      false, &req, &ql, NULL), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_response_stub(rs.u.response.stub, rs.u.response.stub_len,
                                       false, &want, &wl, &hr, NULL), KMSDIAG_OK);
    kt_response_params_t rp;
    memset(&rp, 0, sizeof rp);
    rp.epid = "06401-00206-558-040878-03-1051-9600.0000-1912021";
    rp.count = 50;
    rp.activation_interval = 120;
    rp.renewal_interval = 10080;
    CHECK_EQ(kt_build_kms_response(req, ql, &rp, NULL, NULL, &resp, &rl), KMSDIAG_OK);
    CHECK_EQ(rl, wl);
    if (rl == wl)
      CHECK_MEM(resp, want, rl);
    CHECK_EQ(kt_build_response_pdu(2, 0, false, resp, rl, 0, true, &pdu, &pl),
             KMSDIAG_OK);
    CHECK_EQ(pl, l.pdus[5].len);
    if (pl == l.pdus[5].len)
      CHECK_MEM(pdu, l.pdus[5].data, pl);
    free(pdu);
    free(resp);
  }
  test_pdu_list_free(&l);
}

int main(void) {
  test_roundtrips();
  test_determinism();
  test_workstation();
  test_bad_responses();
  test_rpc_builders();
  test_json();
  test_answer_matches_capture();
  test_v4_response_matches_capture();
  return check_finish();
}
