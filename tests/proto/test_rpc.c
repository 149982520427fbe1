/* test_rpc.c: the RPC decoder against the recorded interop captures
 * (vlmcs <-> vlmcsd, not produced by our encoder), hand-made stubs for
 * both HRESULT placements, reassembly, and encoder round trips. */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_rpc.h>

#include "check.h"
#include "internal/buf.h"
#include "pcap_pdus.h"

#define PORT 16888

static int load(const char *name, test_pdu_list_t *l) {
  char path[256];
  snprintf(path, sizeof path, "captures/interop/%s.pcap", name);
  int rc = test_pcap_pdus(path, PORT, l);
  CHECK_EQ(rc, 0);
  return rc;
}

static kmsdiag_status_t dec(const test_pdu_t *p, kmsdiag_rpc_pdu_t *out) {
  return kmsdiag_rpc_decode(p->data, p->len, out);
}

static const char *kind(const kmsdiag_rpc_syntax_t *s) {
  return kmsdiag_rpc_syntax_kind_name(kmsdiag_rpc_syntax_classify(s, NULL));
}

/* The default vlmcs bind: NDR32 ctx 0, NDR64 ctx 1, BTFN ctx 2 (0x0003);
 * the ack rejects NDR32 (reason 2), accepts NDR64, negotiate_acks BTFN;
 * then alter_context to NDR32 on ctx 0, accepted with an empty address. */
static void check_default_bind(const test_pdu_list_t *l) {
  kmsdiag_rpc_pdu_t p;
  uint16_t feat = 0;
  CHECK(l->n >= 4);
  if (l->n < 4)
    return;
  CHECK_EQ(dec(&l->pdus[0], &p), KMSDIAG_OK);
  CHECK(l->pdus[0].to_server);
  CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_BIND);
  CHECK_EQ(p.hdr.pfc_flags, 0x13);
  CHECK_EQ(p.hdr.call_id, 2);
  CHECK_EQ(p.hdr.frag_len, 160);
  CHECK_EQ(p.u.bind.max_xmit_frag, 5840);
  CHECK_EQ(p.u.bind.max_recv_frag, 5840);
  CHECK_EQ(p.u.bind.n_items, 3);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(p.u.bind.items[i].ctx_id, i);
    CHECK_EQ(p.u.bind.items[i].n_transfer, 1);
    CHECK_STR(kind(&p.u.bind.items[i].abstract), "KMS");
    CHECK_EQ(p.u.bind.items[i].abstract.ver_major, 1);
  }
  CHECK_STR(kind(&p.u.bind.items[0].transfer[0]), "NDR32");
  CHECK_EQ(p.u.bind.items[0].transfer[0].ver_major, 2);
  CHECK_STR(kind(&p.u.bind.items[1].transfer[0]), "NDR64");
  CHECK_EQ(kmsdiag_rpc_syntax_classify(&p.u.bind.items[2].transfer[0], &feat),
           KMSDIAG_RPC_SYNTAX_BTFN);
  CHECK_EQ(feat, 3);

  CHECK_EQ(dec(&l->pdus[1], &p), KMSDIAG_OK);
  CHECK(!l->pdus[1].to_server);
  CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_BIND_ACK);
  CHECK_EQ(p.hdr.call_id, 2);
  CHECK_EQ(p.hdr.frag_len, 108);
  CHECK_STR(p.u.bind_ack.sec_addr, "16888");
  CHECK_EQ(p.u.bind_ack.sec_addr_len, 6);
  CHECK_EQ(p.u.bind_ack.n_results, 3);
  CHECK_EQ(p.u.bind_ack.results[0].result, KMSDIAG_RPC_ACK_PROVIDER_REJECTION);
  CHECK_EQ(p.u.bind_ack.results[0].reason,
           KMSDIAG_RPC_REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED);
  CHECK_EQ(p.u.bind_ack.results[1].result, KMSDIAG_RPC_ACK_ACCEPTANCE);
  CHECK_STR(kind(&p.u.bind_ack.results[1].transfer), "NDR64");
  CHECK_EQ(p.u.bind_ack.results[2].result, KMSDIAG_RPC_ACK_NEGOTIATE_ACK);
  CHECK_EQ(p.u.bind_ack.results[2].reason, 3);
  CHECK_STR(kind(&p.u.bind_ack.results[2].transfer), "null");

  CHECK_EQ(dec(&l->pdus[2], &p), KMSDIAG_OK);
  CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_ALTER_CONTEXT);
  CHECK_EQ(p.u.bind.n_items, 1);
  CHECK_EQ(p.u.bind.items[0].ctx_id, 0);
  CHECK_STR(kind(&p.u.bind.items[0].transfer[0]), "NDR32");

  CHECK_EQ(dec(&l->pdus[3], &p), KMSDIAG_OK);
  CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_ALTER_CONTEXT_RESP);
  CHECK_EQ(p.hdr.pfc_flags, 0x03);
  CHECK_EQ(p.u.bind_ack.n_results, 1);
  CHECK_EQ(p.u.bind_ack.results[0].result, KMSDIAG_RPC_ACK_ACCEPTANCE);
  CHECK_STR(kind(&p.u.bind_ack.results[0].transfer), "NDR32");
  CHECK_STR(p.u.bind_ack.sec_addr, "");
}

/* request i / response i of a single exchange: returns KMS sizes. */
static void check_exchange(const test_pdu_t *rq, const test_pdu_t *rs,
                           uint32_t call_id, uint16_t ctx, size_t req_len,
                           size_t resp_len, uint32_t want_hr) {
  kmsdiag_rpc_pdu_t p;
  const uint8_t *kms;
  size_t kl;
  uint32_t hr = 1;
  bool ndr64 = ctx == 1;
  CHECK(rq->to_server);
  CHECK_EQ(dec(rq, &p), KMSDIAG_OK);
  CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_REQUEST);
  CHECK_EQ(p.hdr.call_id, call_id);
  CHECK_EQ(p.u.request.ctx_id, ctx);
  CHECK_EQ(p.u.request.opnum, 0);
  CHECK_EQ(p.u.request.alloc_hint, p.u.request.stub_len);
  CHECK_EQ(kmsdiag_rpc_request_stub(p.u.request.stub, p.u.request.stub_len,
                                    ndr64, &kms, &kl, NULL),
           KMSDIAG_OK);
  CHECK_EQ(kl, req_len);
  CHECK(!rs->to_server);
  CHECK_EQ(dec(rs, &p), KMSDIAG_OK);
  CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_RESPONSE);
  CHECK_EQ(p.hdr.call_id, call_id);
  CHECK_EQ(p.u.response.ctx_id, ctx);
  kmsdiag_rpc_stub_info_t info;
  CHECK_EQ(kmsdiag_rpc_response_stub(p.u.response.stub, p.u.response.stub_len,
                                     ndr64, &kms, &kl, &hr, &info),
           KMSDIAG_OK);
  CHECK_EQ(kl, resp_len);
  CHECK_EQ_U64(hr, want_hr);
  if (resp_len) {
    CHECK(kms != NULL);
    CHECK_EQ(info.referent, 0x20000);
  } else {
    CHECK(kms == NULL);
    CHECK_EQ(info.referent, 0);
  }
}

static void test_single_exchanges(void) {
  static const struct {
    const char *name;
    size_t req, resp;
  } cases[] = {{"v4-win10-enterprise", 252, 158},
               {"v5-win10-enterprise", 260, 212},
               {"v6-win10-enterprise", 260, 260}};
  for (size_t i = 0; i < 3; i++) {
    test_pdu_list_t l;
    if (load(cases[i].name, &l) != 0)
      continue;
    CHECK_EQ(l.n, 6);
    check_default_bind(&l);
    if (l.n == 6)
      check_exchange(&l.pdus[4], &l.pdus[5], 2, 0, cases[i].req,
                     cases[i].resp, 0);
    test_pdu_list_free(&l);
  }
}

static void test_v4_alloc_hint(void) {
  /* 158-byte V4 response: NDR32 stub 12 + 158 + HRESULT, padded to 176 */
  test_pdu_list_t l;
  kmsdiag_rpc_pdu_t p;
  if (load("v4-win10-enterprise", &l) != 0)
    return;
  CHECK_EQ(dec(&l.pdus[5], &p), KMSDIAG_OK);
  CHECK_EQ(p.u.response.alloc_hint, 176);
  CHECK_EQ(p.u.response.stub_len, 176);
  test_pdu_list_free(&l);
}

static void test_multi_request(void) {
  test_pdu_list_t l;
  if (load("rpc-ndr64-multi-request", &l) != 0)
    return;
  CHECK_EQ(l.n, 10);
  check_default_bind(&l);
  if (l.n == 10) {
    check_exchange(&l.pdus[4], &l.pdus[5], 2, 0, 260, 260, 0); /* NDR32 */
    check_exchange(&l.pdus[6], &l.pdus[7], 3, 1, 260, 260, 0); /* NDR64 */
    check_exchange(&l.pdus[8], &l.pdus[9], 4, 1, 260, 260, 0);
    /* NDR64 stubs: 16 + 260 = 276; response 8+8+8+260+4 = 288 */
    kmsdiag_rpc_pdu_t p;
    CHECK_EQ(dec(&l.pdus[6], &p), KMSDIAG_OK);
    CHECK_EQ(p.u.request.stub_len, 276);
    CHECK_EQ(dec(&l.pdus[7], &p), KMSDIAG_OK);
    CHECK_EQ(p.u.response.stub_len, 288);
  }
  test_pdu_list_free(&l);
}

static void test_refusals(void) {
  test_pdu_list_t l;
  if (load("err-unknown-kmsid-whitelist", &l) == 0) {
    CHECK_EQ(l.n, 6);
    check_default_bind(&l);
    if (l.n == 6) {
      check_exchange(&l.pdus[4], &l.pdus[5], 2, 0, 260, 0, 0xC004F042u);
      kmsdiag_rpc_pdu_t p;
      CHECK_EQ(dec(&l.pdus[5], &p), KMSDIAG_OK);
      CHECK_EQ(p.u.response.stub_len, 12);
    }
    test_pdu_list_free(&l);
  }
  if (load("rpc-raw-invalid-kms-payload", &l) == 0) {
    kmsdiag_rpc_pdu_t p;
    CHECK_EQ(l.n, 4);
    if (l.n == 4) {
      CHECK_EQ(dec(&l.pdus[0], &p), KMSDIAG_OK);
      CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_BIND);
      CHECK_EQ(p.u.bind.n_items, 1);
      CHECK_EQ(dec(&l.pdus[1], &p), KMSDIAG_OK);
      CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_BIND_ACK);
      CHECK_EQ(p.hdr.frag_len, 60);
      CHECK_EQ(p.u.bind_ack.results[0].result, 0);
      check_exchange(&l.pdus[2], &l.pdus[3], 2, 0, 64, 0, 0x8007000Du);
      CHECK_EQ(dec(&l.pdus[3], &p), KMSDIAG_OK);
      CHECK_EQ(p.u.response.stub_len, 12);
    }
    test_pdu_list_free(&l);
  }
  if (load("rpc-raw-fault-unknown-context", &l) == 0) {
    kmsdiag_rpc_pdu_t p;
    CHECK_EQ(l.n, 4);
    if (l.n == 4) {
      CHECK_EQ(dec(&l.pdus[2], &p), KMSDIAG_OK);
      CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_REQUEST);
      CHECK_EQ(p.u.request.ctx_id, 7);
      CHECK_EQ(dec(&l.pdus[3], &p), KMSDIAG_OK);
      CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_FAULT);
      CHECK_EQ(p.hdr.pfc_flags, 0x23);
      CHECK_EQ(p.hdr.frag_len, 32);
      CHECK_EQ(p.hdr.call_id, 2);
      CHECK_EQ_U64(p.u.fault.status, KMSDIAG_RPC_NCA_UNK_IF);
      CHECK_STR(kmsdiag_rpc_fault_name(p.u.fault.status), "nca_unk_if");
      /* the junk in cancel_count / reserved is passed through */
      CHECK_EQ(p.u.fault.cancel_count, 0x74);
      CHECK_EQ(p.u.fault.reserved, 0x2e);
    }
    test_pdu_list_free(&l);
  }
  if (load("err-conn-refused", &l) == 0) {
    CHECK_EQ(l.n, 0);
    CHECK(l.rst_frames >= 1);
    test_pdu_list_free(&l);
  }
}

/* ---- synthetic stubs ------------------------------------------------------ */

static void build_resp_stub(kd_buf_t *b, bool ndr64, size_t n, uint32_t hr,
                            bool unaligned) {
  kd_buf_reset(b);
  if (ndr64) {
    kd_buf_le64(b, n);
    kd_buf_le64(b, n ? 0x20000 : 0);
    if (n)
      kd_buf_le64(b, n);
  } else {
    kd_buf_le32(b, (uint32_t)n);
    kd_buf_le32(b, n ? 0x20000 : 0);
    if (n)
      kd_buf_le32(b, (uint32_t)n);
  }
  for (size_t i = 0; i < n; i++)
    kd_buf_u8(b, (uint8_t)(0xA0 + i));
  if (!unaligned)
    kd_buf_pad(b, 4);
  kd_buf_le32(b, hr);
  kd_buf_pad(b, 4);
}

static void test_hresult_placement(void) {
  kd_buf_t b;
  kd_buf_init(&b);
  for (int n64 = 0; n64 < 2; n64++) {
    for (size_t n = 0; n <= 9; n++) {
      for (int un = 0; un < 2; un++) {
        static const uint32_t hrs[] = {0, 0xC004F042u, 0x8007000Du, 0x12340000u};
        for (size_t h = 0; h < 4; h++) {
          const uint8_t *kms;
          size_t kl;
          uint32_t hr;
          kmsdiag_rpc_stub_info_t info;
          /* a value whose low half is zero placed unaligned is
           * indistinguishable from an aligned one with junk: skip */
          if (un && hrs[h] == 0x12340000u && n % 4)
            continue;
          build_resp_stub(&b, n64, n, hrs[h], un);
          CHECK_EQ(kmsdiag_rpc_response_stub(b.data, b.len, n64, &kms, &kl,
                                             &hr, &info),
                   KMSDIAG_OK);
          CHECK_EQ_U64(hr, hrs[h]);
          CHECK_EQ(kl, n);
          if (n)
            CHECK(kms && kms[0] == 0xA0);
          if (hrs[h] != 0 && un && n % 4)
            CHECK(info.hresult_unaligned);
          if (!un)
            CHECK(!info.hresult_unaligned);
          /* every truncation is an error, never a crash */
          for (size_t cut = 0; cut < b.len; cut++) {
            kmsdiag_status_t st = kmsdiag_rpc_response_stub(
                b.data, cut, n64, &kms, &kl, &hr, &info);
            if (st == KMSDIAG_OK)
              CHECK(info.hresult_offset + 4 <= cut);
            else
              CHECK(st == KMSDIAG_ETRUNC);
          }
        }
      }
    }
  }
  /* the exact refusal stubs: 12 bytes NDR32, 20 bytes NDR64 */
  build_resp_stub(&b, false, 0, 0xC004F042u, false);
  CHECK_EQ(b.len, 12);
  build_resp_stub(&b, true, 0, 0xC004F042u, false);
  CHECK_EQ(b.len, 20);
  {
    const uint8_t *kms;
    size_t kl;
    uint32_t hr;
    kmsdiag_rpc_stub_info_t info;
    CHECK_EQ(kmsdiag_rpc_response_stub(b.data, b.len, true, &kms, &kl, &hr, &info),
             KMSDIAG_OK);
    CHECK_EQ_U64(hr, 0xC004F042u);
    CHECK(kms == NULL);
    CHECK_EQ(info.hresult_offset, 16);
    /* size without a pointer is malformed */
    kd_buf_reset(&b);
    kd_buf_le32(&b, 5);
    kd_buf_le32(&b, 0);
    kd_buf_le32(&b, 0);
    CHECK_EQ(kmsdiag_rpc_response_stub(b.data, b.len, false, &kms, &kl, &hr, &info),
             KMSDIAG_EMALFORMED);
    CHECK_STR(info.err.field, "stub.referent");
    CHECK_EQ(info.err.offset, 4);
    /* max_count != size */
    kd_buf_reset(&b);
    kd_buf_le32(&b, 4);
    kd_buf_le32(&b, 0x20000);
    kd_buf_le32(&b, 5);
    kd_buf_le32(&b, 0);
    kd_buf_le32(&b, 0);
    CHECK_EQ(kmsdiag_rpc_response_stub(b.data, b.len, false, &kms, &kl, &hr, &info),
             KMSDIAG_EMALFORMED);
    CHECK_STR(info.err.field, "stub.max_count");
    CHECK_EQ(info.err.offset, 8);
    /* absurd size */
    kd_buf_reset(&b);
    kd_buf_le64(&b, UINT64_C(0x100000000));
    kd_buf_le64(&b, UINT64_C(0x100000000));
    CHECK_EQ(kmsdiag_rpc_request_stub(b.data, b.len, true, &kms, &kl, &info),
             KMSDIAG_ETOOBIG);
    /* request stub size beyond the data */
    kd_buf_reset(&b);
    kd_buf_le32(&b, 10);
    kd_buf_le32(&b, 10);
    kd_buf_le32(&b, 0);
    CHECK_EQ(kmsdiag_rpc_request_stub(b.data, b.len, false, &kms, &kl, &info),
             KMSDIAG_ETRUNC);
    CHECK_STR(info.err.field, "stub.request");
    CHECK_EQ(info.err.offset, 8);
  }
  kd_buf_free(&b);
}

/* ---- header errors ----------------------------------------------------------- */

static void test_header_errors(void) {
  uint8_t enc_default[16] = {5, 0, 2, 3, 0x10, 0, 0, 0, 16, 0, 0, 0, 9, 0, 0, 0};
  uint8_t h[16];
  size_t fl;
  kmsdiag_rpc_pdu_t p;
  memcpy(h, enc_default, 16);
  CHECK_EQ(kmsdiag_rpc_pdu_length(h, 15, &fl), KMSDIAG_ETRUNC);
  CHECK_EQ(kmsdiag_rpc_pdu_length(h, 16, &fl), KMSDIAG_OK);
  CHECK_EQ(fl, 16);
  /* a response without its 8-byte body */
  CHECK_EQ(kmsdiag_rpc_decode(h, 16, &p), KMSDIAG_ETRUNC);
  CHECK_STR(p.err.field, "response.header");
  CHECK_EQ(p.err.offset, 16);
  h[0] = 4;
  CHECK_EQ(kmsdiag_rpc_pdu_length(h, 16, &fl), KMSDIAG_EMALFORMED);
  CHECK_EQ(kmsdiag_rpc_decode(h, 16, &p), KMSDIAG_EMALFORMED);
  CHECK_STR(p.err.field, "rpc_vers");
  memcpy(h, enc_default, 16);
  h[8] = 10; /* frag_len < 16 */
  CHECK_EQ(kmsdiag_rpc_pdu_length(h, 16, &fl), KMSDIAG_EMALFORMED);
  h[8] = 0;
  h[9] = 0x80; /* frag_len 32768 */
  CHECK_EQ(kmsdiag_rpc_pdu_length(h, 16, &fl), KMSDIAG_ETOOBIG);
  memcpy(h, enc_default, 16);
  h[2] = 5; /* connectionless type */
  CHECK_EQ(kmsdiag_rpc_decode(h, 16, &p), KMSDIAG_EMALFORMED);
  CHECK_STR(p.err.field, "ptype");
  CHECK_EQ(p.err.offset, 2);
  memcpy(h, enc_default, 16);
  h[4] = 0x00; /* big-endian */
  CHECK_EQ(kmsdiag_rpc_decode(h, 16, &p), KMSDIAG_EUNSUPPORTED);
  CHECK_STR(p.err.field, "drep");
  memcpy(h, enc_default, 16);
  h[2] = KMSDIAG_RPC_SHUTDOWN;
  h[10] = 8; /* auth_len */
  CHECK_EQ(kmsdiag_rpc_decode(h, 16, &p), KMSDIAG_EAUTH);
  CHECK_STR(p.err.field, "auth_len");
  CHECK_EQ(p.err.offset, 10);
  h[10] = 0;
  CHECK_EQ(kmsdiag_rpc_decode(h, 16, &p), KMSDIAG_OK);
  CHECK_STR(kmsdiag_rpc_ptype_name(p.hdr.ptype), "shutdown");
  /* frag_len disagreeing with the buffer */
  h[8] = 20;
  CHECK_EQ(kmsdiag_rpc_decode(h, 16, &p), KMSDIAG_ETRUNC);
  CHECK_STR(p.err.field, "frag_len");
}

/* ---- reassembly ------------------------------------------------------------- */

static void make_frag(kd_buf_t *b, uint8_t flags, uint32_t call, const char *s) {
  size_t n = strlen(s);
  kd_buf_reset(b);
  kd_buf_u8(b, 5);
  kd_buf_u8(b, 0);
  kd_buf_u8(b, KMSDIAG_RPC_RESPONSE);
  kd_buf_u8(b, flags);
  kd_buf_le32(b, 0x10);
  kd_buf_le16(b, (uint16_t)(24 + n));
  kd_buf_le16(b, 0);
  kd_buf_le32(b, call);
  kd_buf_le32(b, 100);
  kd_buf_le16(b, 1);
  kd_buf_le16(b, 0);
  kd_buf_put(b, s, n);
}

static void test_reassembly(void) {
  kmsdiag_rpc_reasm_t *r = NULL;
  kd_buf_t b;
  kmsdiag_rpc_pdu_t p;
  bool done;
  const uint8_t *stub;
  size_t sl;
  kd_buf_init(&b);
  CHECK_EQ(kmsdiag_rpc_reasm_new(&r), KMSDIAG_OK);
  make_frag(&b, 0x01, 7, "hello ");
  CHECK_EQ(kmsdiag_rpc_decode(b.data, b.len, &p), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_reasm_add(r, &p, &done, &stub, &sl), KMSDIAG_OK);
  CHECK(!done);
  make_frag(&b, 0x00, 7, "fragmented ");
  CHECK_EQ(kmsdiag_rpc_decode(b.data, b.len, &p), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_reasm_add(r, &p, &done, &stub, &sl), KMSDIAG_OK);
  CHECK(!done);
  /* a middle fragment of another call does not belong */
  make_frag(&b, 0x00, 8, "intruder");
  CHECK_EQ(kmsdiag_rpc_decode(b.data, b.len, &p), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_reasm_add(r, &p, &done, &stub, &sl), KMSDIAG_EPROTO);
  make_frag(&b, 0x02, 7, "world");
  CHECK_EQ(kmsdiag_rpc_decode(b.data, b.len, &p), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_reasm_add(r, &p, &done, &stub, &sl), KMSDIAG_OK);
  CHECK(done);
  CHECK_EQ(sl, strlen("hello fragmented world"));
  if (done && sl == strlen("hello fragmented world"))
    CHECK_MEM(stub, "hello fragmented world", sl);
  /* a LAST without FIRST: no call in progress */
  CHECK_EQ(kmsdiag_rpc_reasm_add(r, &p, &done, &stub, &sl), KMSDIAG_EPROTO);
  /* a single fragment passes straight through */
  make_frag(&b, 0x03, 9, "single");
  CHECK_EQ(kmsdiag_rpc_decode(b.data, b.len, &p), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_reasm_add(r, &p, &done, &stub, &sl), KMSDIAG_OK);
  CHECK(done);
  CHECK_EQ(sl, 6);
  /* the cap: fragments adding up past KMSDIAG_RPC_MAX_STUB */
  {
    static char big[8001];
    memset(big, 'x', 8000);
    kmsdiag_status_t st = KMSDIAG_OK;
    make_frag(&b, 0x01, 10, big);
    CHECK_EQ(kmsdiag_rpc_decode(b.data, b.len, &p), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_reasm_add(r, &p, &done, &stub, &sl), KMSDIAG_OK);
    make_frag(&b, 0x00, 10, big);
    CHECK_EQ(kmsdiag_rpc_decode(b.data, b.len, &p), KMSDIAG_OK);
    for (int i = 0; i < 20 && st == KMSDIAG_OK; i++)
      st = kmsdiag_rpc_reasm_add(r, &p, &done, &stub, &sl);
    CHECK_EQ(st, KMSDIAG_ETOOBIG);
  }
  /* other PDU types are refused */
  p.hdr.ptype = KMSDIAG_RPC_BIND;
  CHECK_EQ(kmsdiag_rpc_reasm_add(r, &p, &done, &stub, &sl), KMSDIAG_EINVAL);
  kmsdiag_rpc_reasm_free(r);
  kmsdiag_rpc_reasm_free(NULL);
  kd_buf_free(&b);
}

/* ---- encoders --------------------------------------------------------------- */

static void test_encoders(void) {
  kmsdiag_rpc_bind_params_t bp;
  uint8_t *out = NULL;
  size_t len = 0;
  kmsdiag_rpc_pdu_t p;
  test_pdu_list_t l;
  kmsdiag_rpc_bind_params_default(&bp, 2, true, true, true);
  CHECK_EQ(kmsdiag_rpc_encode_bind(&bp, false, &out, &len), KMSDIAG_OK);
  /* byte-identical to what vlmcs sends, except assoc_group (0 in both) */
  if (load("v6-win10-enterprise", &l) == 0) {
    CHECK_EQ(len, l.pdus[0].len);
    if (len == l.pdus[0].len)
      CHECK_MEM(out, l.pdus[0].data, len);
    test_pdu_list_free(&l);
  }
  CHECK_EQ(kmsdiag_rpc_decode(out, len, &p), KMSDIAG_OK);
  CHECK_EQ(p.u.bind.n_items, 3);
  free(out);

  kmsdiag_rpc_bind_params_default(&bp, 2, true, false, false);
  CHECK_EQ(kmsdiag_rpc_encode_bind(&bp, true, &out, &len), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_rpc_decode(out, len, &p), KMSDIAG_OK);
  CHECK_EQ(p.hdr.ptype, KMSDIAG_RPC_ALTER_CONTEXT);
  CHECK_EQ(p.u.bind.n_items, 1);
  CHECK_EQ(len, 72);
  free(out);

  bp.n_offers = 0;
  CHECK_EQ(kmsdiag_rpc_encode_bind(&bp, false, &out, &len), KMSDIAG_EINVAL);

  uint8_t msg[257];
  for (size_t i = 0; i < sizeof msg; i++)
    msg[i] = (uint8_t)(i * 7);
  for (int n64 = 0; n64 < 2; n64++) {
    const uint8_t *kms;
    size_t kl;
    CHECK_EQ(kmsdiag_rpc_encode_request(5, (uint16_t)n64, n64, msg, sizeof msg,
                                        &out, &len),
             KMSDIAG_OK);
    CHECK_EQ(kmsdiag_rpc_decode(out, len, &p), KMSDIAG_OK);
    CHECK_EQ(p.hdr.call_id, 5);
    CHECK_EQ(p.u.request.ctx_id, n64);
    CHECK_EQ(p.u.request.alloc_hint, p.u.request.stub_len);
    CHECK_EQ(kmsdiag_rpc_request_stub(p.u.request.stub, p.u.request.stub_len,
                                      n64, &kms, &kl, NULL),
             KMSDIAG_OK);
    CHECK_EQ(kl, sizeof msg);
    if (kl == sizeof msg)
      CHECK_MEM(kms, msg, kl);
    /* the wrong NDR flavour does not silently succeed */
    CHECK(kmsdiag_rpc_request_stub(p.u.request.stub, p.u.request.stub_len,
                                   !n64, &kms, &kl, NULL) != KMSDIAG_OK);
    free(out);
  }
}

static void test_names(void) {
  CHECK_STR(kmsdiag_rpc_ptype_name(12), "bind_ack");
  CHECK_STR(kmsdiag_rpc_ptype_name(200), "unknown");
  CHECK_STR(kmsdiag_rpc_ack_result_name(3), "negotiate_ack");
  CHECK_STR(kmsdiag_rpc_ack_reason_name(1), "abstract_syntax_not_supported");
  CHECK_STR(kmsdiag_rpc_bind_nak_reason_name(4), "protocol_version_not_supported");
  CHECK(kmsdiag_rpc_fault_name(0x12345678u) == NULL);
  kmsdiag_rpc_syntax_t s = kmsdiag_rpc_btfn(0x0003);
  uint16_t f = 0;
  CHECK_EQ(kmsdiag_rpc_syntax_classify(&s, &f), KMSDIAG_RPC_SYNTAX_BTFN);
  CHECK_EQ(f, 3);
  char g[KMSDIAG_GUID_STRLEN];
  CHECK_STR(kmsdiag_guid_to_str(&s.uuid, g), "6cb71c2c-9812-4540-0300-000000000000");
  CHECK_STR(kmsdiag_guid_to_str(&kmsdiag_rpc_kms_interface.uuid, g),
            "51c82175-844e-4750-b0d8-ec255555bc06");
}

/* JSON of decoded PDUs: the documented keys, from the recorded capture */
static void test_json(void) {
  test_pdu_list_t l;
  if (load("rpc-raw-fault-unknown-context", &l) != 0)
    return;
  kmsdiag_json_t *j = NULL;
  CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
  kmsdiag_json_array_begin(j, NULL);
  for (size_t i = 0; i < l.n; i++) {
    kmsdiag_rpc_pdu_t p;
    CHECK_EQ(dec(&l.pdus[i], &p), KMSDIAG_OK);
    kmsdiag_rpc_pdu_write_json(j, NULL, &p);
  }
  kmsdiag_json_array_end(j);
  kmsdiag_json_endline(j);
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_OK);
  const char *t = kmsdiag_json_text(j, NULL);
  static const char *want[] = {
      "\"ptype_name\":\"bind\"", "\"ptype_name\":\"bind_ack\"",
      "\"sec_addr\":\"16888\"", "\"result_name\":\"acceptance\"",
      "\"uuid\":\"51c82175-844e-4750-b0d8-ec255555bc06\"", "\"kind\":\"KMS\"",
      "\"kind\":\"NDR32\"", "\"ctx_id\":7", "\"opnum\":0",
      "\"ptype_name\":\"fault\"", "\"flags\":\"0x23\"",
      "\"status\":\"0x1C010003\"", "\"status_name\":\"nca_unk_if\""};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    bool found = t && strstr(t, want[i]) != NULL;
    if (!found)
      fprintf(stderr, "missing %s in %s\n", want[i], t ? t : "(null)");
    CHECK(found);
  }
  kmsdiag_json_free(j);
  test_pdu_list_free(&l);
}

int main(void) {
  test_single_exchanges();
  test_v4_alloc_hint();
  test_multi_request();
  test_refusals();
  test_hresult_placement();
  test_header_errors();
  test_reassembly();
  test_encoders();
  test_names();
  test_json();
  return check_finish();
}
