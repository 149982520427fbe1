/* kms_test_build.h: TEST-ONLY builders for what a KMS host sends.
 *
 * kmsdiag is a client-side diagnostic and never acts as a KMS host; the
 * installed library only encodes requests. Tests, however, need host
 * replies they control: this module builds V4/V5/V6 responses (given ePID,
 * HWID, count, intervals), RPC response stubs (including the HRESULT-only
 * refusal), bind_ack / alter_context_resp, bind_nak and fault PDUs. It is
 * compiled only into tests (target kmsdiag_test_kmsbuild, defined in
 * tests/proto/CMakeLists.txt) and is never installed.
 *
 * Every function returns a kmsdiag_status_t; built bytes come back in a
 * malloc()'d buffer the caller free()s. Random parts come from the given
 * kmsdiag_kms_rand_fn (reproducible tests) or OpenSSL when it is NULL. */
#ifndef KMSDIAG_TEST_KMS_TEST_BUILD_H
#define KMSDIAG_TEST_KMS_TEST_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_kms.h>
#include <kmsdiag/kmsdiag_rpc.h>

/* ---- KMS responses -------------------------------------------------------- */

/*! What the host answers. Fields marked "test" produce deliberately wrong
 *  responses; leave them zero for a correct one. */
typedef struct kt_response_params {
  const char *epid;             /* UTF-8, 1..63 UTF-16 units */
  uint32_t count;               /* active clients */
  uint32_t activation_interval; /* minutes, e.g. 120 */
  uint32_t renewal_interval;    /* minutes, e.g. 10080 */
  uint8_t hwid[8];              /* V6 only */
  /* test: echo another CMID / time / version than the request's */
  bool override_cmid;
  kmsdiag_guid_t cmid;
  bool override_time;
  uint64_t client_time;
  bool override_version;
  uint16_t version_major, version_minor; /* inner (encrypted) version */
  /* test: HMAC computed for slot offset hmac_slot (0 = correct; the client
   * accepts -1..+1) */
  int hmac_slot;
  /* test: V6 response built with the V5 IV rule (emulator trait) */
  bool v5_rules_in_v6;
  /* test: flip a bit of the SHA-256 of the random */
  bool corrupt_hash;
} kt_response_params_t;

/*! Build the KMS response to the raw request \p req (which is decoded to
 *  find the version, CMID, time and decrypted IV it must echo).
 *  \return KMSDIAG_OK, the request decoder's error, KMSDIAG_EINVAL (ePID
 *  empty, too long or invalid UTF-8), KMSDIAG_ECRYPTO, KMSDIAG_ENOMEM. */
kmsdiag_status_t kt_build_kms_response(const uint8_t *req, size_t req_len,
                                       const kt_response_params_t *p,
                                       kmsdiag_kms_rand_fn rnd, void *ud,
                                       uint8_t **out, size_t *out_len);

/* ---- RPC PDUs --------------------------------------------------------------- */

/*! A response PDU for opnum 0. With \p kms NULL and \p kms_len 0 the stub
 *  is the refusal form (size 0, NULL referent, HRESULT). \p
 *  hresult_unaligned places the HRESULT right after an array whose length
 *  is not a multiple of 4 and pads afterwards, as vlmcsd does; otherwise it
 *  is 4-byte aligned as NDR wants. */
kmsdiag_status_t kt_build_response_pdu(uint32_t call_id, uint16_t ctx_id,
                                       bool ndr64, const uint8_t *kms,
                                       size_t kms_len, uint32_t hresult,
                                       bool hresult_unaligned, uint8_t **out,
                                       size_t *out_len);

/*! A bind_ack (or alter_context_resp when \p alter_resp) with the given
 *  results. \p sec_addr is written with its NUL ("" gives length 0 for
 *  alter_context_resp, like Windows and vlmcsd). */
kmsdiag_status_t kt_build_bind_ack(uint32_t call_id, bool alter_resp,
                                   uint8_t flags, uint16_t max_xmit,
                                   uint16_t max_recv, uint32_t assoc_group,
                                   const char *sec_addr, size_t n_results,
                                   const kmsdiag_rpc_ctx_result_t *results,
                                   uint8_t **out, size_t *out_len);

/*! How a test host answers binds (what vlmcsd does by default is
 *  ndr64 = btfn = true). */
typedef struct kt_bind_policy {
  bool ndr64;  /* accept NDR64 (and then reject NDR32 in a bind) */
  bool btfn;   /* answer BTFN with negotiate_ack */
  const char *sec_addr; /* e.g. "1688"; alter_context_resp always has "" */
  uint32_t assoc_group;
} kt_bind_policy_t;

/*! Answer a decoded bind or alter_context the way vlmcsd does: a wrong
 *  interface gets provider_rejection/abstract_syntax_not_supported; BTFN
 *  negotiate_ack with reason = offered bits & 3; NDR64 accepted if the
 *  policy allows, and then NDR32 rejected in the bind; otherwise NDR32
 *  accepted; anything else rejected with reason 2. */
kmsdiag_status_t kt_answer_bind(const kmsdiag_rpc_pdu_t *bind,
                                const kt_bind_policy_t *policy, uint8_t **out,
                                size_t *out_len);

/*! A bind_nak with \p reason and the supported protocol version 5.0. */
kmsdiag_status_t kt_build_bind_nak(uint32_t call_id, uint16_t reason,
                                   uint8_t **out, size_t *out_len);

/*! A 32-byte fault PDU: flags (0 = 0x23: first, last, did_not_execute),
 *  ctx_id, status, and the given cancel_count / reserved bytes (vlmcsd
 *  leaves junk there). */
kmsdiag_status_t kt_build_fault(uint32_t call_id, uint8_t flags,
                                uint16_t ctx_id, uint32_t status,
                                uint8_t cancel_count, uint8_t reserved,
                                uint8_t **out, size_t *out_len);

/* ---- deterministic randomness for tests ------------------------------------ */

/*! A kmsdiag_kms_rand_fn drawing from a xorshift64* state (uint64_t *ud,
 *  never 0): reproducible "random" bytes for tests. */
kmsdiag_status_t kt_rand_xorshift(void *ud, uint8_t *buf, size_t len);

#endif
