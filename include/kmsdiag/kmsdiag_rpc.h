/* kmsdiag_rpc.h: DCE/RPC connection-oriented PDUs as KMS uses them.
 *
 * Decoding: kmsdiag_rpc_pdu_length() finds PDU boundaries in a TCP byte
 * stream, kmsdiag_rpc_decode() turns one PDU into a plain struct, the
 * reassembler joins FIRST..LAST fragments, and kmsdiag_rpc_request_stub() /
 * kmsdiag_rpc_response_stub() unpack the NDR32 or NDR64 stub of opnum 0
 * (RequestActivation) down to the KMS message bytes.
 *
 * Encoding (client side only): bind, alter_context and request PDUs.
 *
 * All input is treated as hostile: every length is checked, every count
 * capped. On failure the decoders say which field and at which offset in a
 * kmsdiag_decode_where_t. The library never builds server-side PDUs. */
#ifndef KMSDIAG_RPC_H
#define KMSDIAG_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_status.h>
#include <kmsdiag/kmsdiag_types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- where a decode failed ------------------------------------------- */

/*! Location of a decode error: \p field is a static string naming the
 *  field ("frag_len", "ctx_item[1].n_transfer", ...; "" when no error),
 *  \p offset the byte offset into the buffer given to the decoder. */
typedef struct kmsdiag_decode_where {
  const char *field;
  size_t offset;
} kmsdiag_decode_where_t;

/* ---- constants ---------------------------------------------------------- */

#define KMSDIAG_RPC_HEADER_LEN 16u
/*! Largest PDU the decoders accept. KMS peers negotiate 5840-byte
 *  fragments and send messages under 400 bytes; anything above this cap is
 *  reported as KMSDIAG_ETOOBIG. */
#define KMSDIAG_RPC_MAX_FRAG 16384u
/*! Caps on counts in bind-type PDUs (KMS uses at most 3 items). */
#define KMSDIAG_RPC_MAX_CTX_ITEMS 8u
#define KMSDIAG_RPC_MAX_TRANSFER 4u
#define KMSDIAG_RPC_SEC_ADDR_MAX 63u
/*! Cap on a reassembled stub (sum of all fragments of one call). */
#define KMSDIAG_RPC_MAX_STUB 65536u
/*! The max_xmit_frag / max_recv_frag KMS clients propose. */
#define KMSDIAG_RPC_DEFAULT_FRAG 5840u

/*! PDU types (ptype) of the connection-oriented protocol. */
enum {
  KMSDIAG_RPC_REQUEST = 0,
  KMSDIAG_RPC_RESPONSE = 2,
  KMSDIAG_RPC_FAULT = 3,
  KMSDIAG_RPC_BIND = 11,
  KMSDIAG_RPC_BIND_ACK = 12,
  KMSDIAG_RPC_BIND_NAK = 13,
  KMSDIAG_RPC_ALTER_CONTEXT = 14,
  KMSDIAG_RPC_ALTER_CONTEXT_RESP = 15,
  KMSDIAG_RPC_AUTH3 = 16,
  KMSDIAG_RPC_SHUTDOWN = 17,
  KMSDIAG_RPC_CO_CANCEL = 18,
  KMSDIAG_RPC_ORPHANED = 19
};

/*! pfc_flags bits. */
enum {
  KMSDIAG_RPC_PFC_FIRST_FRAG = 0x01,
  KMSDIAG_RPC_PFC_LAST_FRAG = 0x02,
  KMSDIAG_RPC_PFC_PENDING_CANCEL = 0x04, /* also SUPPORT_HEADER_SIGN */
  KMSDIAG_RPC_PFC_CONC_MPX = 0x10,
  KMSDIAG_RPC_PFC_DID_NOT_EXECUTE = 0x20,
  KMSDIAG_RPC_PFC_MAYBE = 0x40,
  KMSDIAG_RPC_PFC_OBJECT_UUID = 0x80
};

/*! Presentation context results (bind_ack / alter_context_resp). */
enum {
  KMSDIAG_RPC_ACK_ACCEPTANCE = 0,
  KMSDIAG_RPC_ACK_USER_REJECTION = 1,
  KMSDIAG_RPC_ACK_PROVIDER_REJECTION = 2,
  KMSDIAG_RPC_ACK_NEGOTIATE_ACK = 3 /* BTFN: reason = accepted features */
};

/*! Provider rejection reasons. */
enum {
  KMSDIAG_RPC_REASON_NOT_SPECIFIED = 0,
  KMSDIAG_RPC_REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED = 1,
  KMSDIAG_RPC_REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED = 2,
  KMSDIAG_RPC_REASON_LOCAL_LIMIT_EXCEEDED = 3
};

/*! Bind-time feature negotiation bits (carried in the BTFN UUID and in
 *  the reason field of its negotiate_ack result). */
enum {
  KMSDIAG_RPC_BTFN_SEC_CTX_MULTIPLEXING = 0x0001,
  KMSDIAG_RPC_BTFN_KEEP_CONNECTION_ON_ORPHAN = 0x0002
};

/*! Fault statuses KMS peers send (others are passed through as numbers). */
#define KMSDIAG_RPC_NCA_UNK_IF UINT32_C(0x1C010003)
#define KMSDIAG_RPC_NCA_PROTO_ERROR UINT32_C(0x1C01000B)
#define KMSDIAG_RPC_NCA_OP_RNG_ERROR UINT32_C(0x1C010002)

/* ---- syntaxes ------------------------------------------------------------ */

/*! A syntax identifier: UUID plus version. On the wire the 32-bit version
 *  is u16 major then u16 minor (for transfer syntaxes minor is 0). */
typedef struct kmsdiag_rpc_syntax {
  kmsdiag_guid_t uuid;
  uint16_t ver_major;
  uint16_t ver_minor;
} kmsdiag_rpc_syntax_t;

/*! What a syntax is, recognised from its UUID (and version). */
typedef enum kmsdiag_rpc_syntax_kind {
  KMSDIAG_RPC_SYNTAX_OTHER = 0,
  KMSDIAG_RPC_SYNTAX_NULL = 1,  /* all-zero UUID (e.g. in a BTFN result) */
  KMSDIAG_RPC_SYNTAX_NDR32 = 2, /* 8a885d04-1ceb-11c9-9fe8-08002b104860 v2 */
  KMSDIAG_RPC_SYNTAX_NDR64 = 3, /* 71710533-beba-4937-8319-b5dbef9ccc36 v1 */
  KMSDIAG_RPC_SYNTAX_BTFN = 4,  /* 6cb71c2c-9812-4540-XXXX-000000000000 v1 */
  KMSDIAG_RPC_SYNTAX_KMS = 5    /* 51c82175-844e-4750-b0d8-ec255555bc06 v1.0 */
} kmsdiag_rpc_syntax_kind_t;

/*! The KMS interface (abstract syntax), NDR32 and NDR64 syntaxes. */
KMSDIAG_API extern const kmsdiag_rpc_syntax_t kmsdiag_rpc_kms_interface;
KMSDIAG_API extern const kmsdiag_rpc_syntax_t kmsdiag_rpc_ndr32;
KMSDIAG_API extern const kmsdiag_rpc_syntax_t kmsdiag_rpc_ndr64;
/*! The BTFN pseudo-syntax with the given feature bits in UUID bytes 8-9. */
KMSDIAG_API kmsdiag_rpc_syntax_t kmsdiag_rpc_btfn(uint16_t features);
/*! Classify \p s. For BTFN, \p btfn_features (may be NULL) receives the
 *  feature bits from the UUID. */
KMSDIAG_API kmsdiag_rpc_syntax_kind_t
kmsdiag_rpc_syntax_classify(const kmsdiag_rpc_syntax_t *s,
                            uint16_t *btfn_features);
/*! "NDR32", "NDR64", "BTFN", "KMS", "null" or "other". */
KMSDIAG_API const char *
kmsdiag_rpc_syntax_kind_name(kmsdiag_rpc_syntax_kind_t k);

/* ---- decoded PDUs ----------------------------------------------------- */

/*! The 16-byte common header. */
typedef struct kmsdiag_rpc_header {
  uint8_t rpc_vers;       /* 5 */
  uint8_t rpc_vers_minor; /* 0 or 1 */
  uint8_t ptype;
  uint8_t pfc_flags;
  uint8_t drep[4]; /* 10 00 00 00: little-endian, ASCII, IEEE */
  uint16_t frag_len;
  uint16_t auth_len;
  uint32_t call_id;
} kmsdiag_rpc_header_t;

/*! One presentation context item of a bind or alter_context. */
typedef struct kmsdiag_rpc_ctx_item {
  uint16_t ctx_id;
  uint8_t n_transfer; /* 1..KMSDIAG_RPC_MAX_TRANSFER */
  kmsdiag_rpc_syntax_t abstract;
  kmsdiag_rpc_syntax_t transfer[KMSDIAG_RPC_MAX_TRANSFER];
} kmsdiag_rpc_ctx_item_t;

/*! One result of a bind_ack or alter_context_resp. */
typedef struct kmsdiag_rpc_ctx_result {
  uint16_t result; /* KMSDIAG_RPC_ACK_* */
  uint16_t reason; /* KMSDIAG_RPC_REASON_*, or BTFN feature bits */
  kmsdiag_rpc_syntax_t transfer;
} kmsdiag_rpc_ctx_result_t;

/*! A decoded PDU. Pointers (\c stub) borrow from the buffer given to
 *  kmsdiag_rpc_decode() and are valid as long as it is. */
typedef struct kmsdiag_rpc_pdu {
  kmsdiag_rpc_header_t hdr;
  union {
    /* KMSDIAG_RPC_BIND, KMSDIAG_RPC_ALTER_CONTEXT */
    struct {
      uint16_t max_xmit_frag, max_recv_frag;
      uint32_t assoc_group;
      uint8_t n_items;
      kmsdiag_rpc_ctx_item_t items[KMSDIAG_RPC_MAX_CTX_ITEMS];
    } bind;
    /* KMSDIAG_RPC_BIND_ACK, KMSDIAG_RPC_ALTER_CONTEXT_RESP */
    struct {
      uint16_t max_xmit_frag, max_recv_frag;
      uint32_t assoc_group;
      uint16_t sec_addr_len; /* on the wire, including the NUL */
      /* the secondary address (the server's port as decimal text), up to
       * its first NUL, at most KMSDIAG_RPC_SEC_ADDR_MAX bytes; untrusted
       * text: escape before printing */
      char sec_addr[KMSDIAG_RPC_SEC_ADDR_MAX + 1];
      uint8_t n_results;
      kmsdiag_rpc_ctx_result_t results[KMSDIAG_RPC_MAX_CTX_ITEMS];
    } bind_ack;
    /* KMSDIAG_RPC_BIND_NAK */
    struct {
      uint16_t reject_reason;
      uint8_t n_versions; /* protocol versions listed (0 if absent) */
    } bind_nak;
    /* KMSDIAG_RPC_REQUEST */
    struct {
      uint32_t alloc_hint;
      uint16_t ctx_id;
      uint16_t opnum;
      bool has_object;
      kmsdiag_guid_t object;
      const uint8_t *stub;
      size_t stub_len;
    } request;
    /* KMSDIAG_RPC_RESPONSE */
    struct {
      uint32_t alloc_hint;
      uint16_t ctx_id;
      uint8_t cancel_count;
      uint8_t reserved;
      const uint8_t *stub;
      size_t stub_len;
    } response;
    /* KMSDIAG_RPC_FAULT */
    struct {
      uint32_t alloc_hint;
      uint16_t ctx_id;
      uint8_t cancel_count; /* vlmcsd leaves junk here */
      uint8_t reserved;
      uint32_t status;
      const uint8_t *stub; /* anything after status + reserved */
      size_t stub_len;
    } fault;
  } u;
  kmsdiag_decode_where_t err; /* set when the decode failed */
} kmsdiag_rpc_pdu_t;

/* ---- decoding --------------------------------------------------------- */

/*! Find the PDU boundary at the start of a TCP byte stream: reads the
 *  common header from \p avail bytes at \p data and stores the fragment
 *  length in \p frag_len.
 *  \return KMSDIAG_OK (the PDU may still be incomplete: compare *frag_len
 *  with avail), KMSDIAG_ETRUNC when fewer than 16 bytes are available,
 *  KMSDIAG_EMALFORMED when this is not an RPC v5 connection-oriented header
 *  or frag_len < 16, KMSDIAG_ETOOBIG when frag_len > KMSDIAG_RPC_MAX_FRAG. */
KMSDIAG_API kmsdiag_status_t kmsdiag_rpc_pdu_length(const uint8_t *data,
                                                   size_t avail,
                                                   size_t *frag_len);

/*! Decode the PDU of exactly \p len bytes at \p data (frag_len must equal
 *  \p len). \p out is overwritten; its stub pointers borrow from \p data.
 *  \return KMSDIAG_OK; KMSDIAG_ETRUNC / KMSDIAG_EMALFORMED / KMSDIAG_ETOOBIG
 *  with out->err naming field and offset; KMSDIAG_EAUTH when auth_len is
 *  not 0 (KMS never authenticates); KMSDIAG_EUNSUPPORTED for a big-endian
 *  or non-ASCII data representation. PDU types other than those in the
 *  union are accepted with only the header filled. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_rpc_decode(const uint8_t *data, size_t len, kmsdiag_rpc_pdu_t *out);

/*! Extra facts about a decoded stub (all optional for the caller). */
typedef struct kmsdiag_rpc_stub_info {
  uint64_t size;          /* requestSize / responseSize field */
  uint64_t referent;      /* response: unique pointer referent (0 = NULL) */
  size_t hresult_offset;  /* response: where the HRESULT was read */
  bool hresult_unaligned; /* response: HRESULT right after an array whose
                             length is not a multiple of 4 (vlmcsd) */
  size_t trailing;        /* bytes after the last field (padding) */
  kmsdiag_decode_where_t err;
} kmsdiag_rpc_stub_info_t;

/*! Unpack a RequestActivation request stub (NDR32: u32 size, u32
 *  max_count, bytes; NDR64: the same with u64). \p kms / \p kms_len receive
 *  the KMS request bytes (borrowed from \p stub). \p info may be NULL.
 *  \return KMSDIAG_OK, KMSDIAG_ETRUNC, KMSDIAG_EMALFORMED (max_count does
 *  not equal size), KMSDIAG_ETOOBIG (size above KMSDIAG_RPC_MAX_STUB). */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t kmsdiag_rpc_request_stub(
    const uint8_t *stub, size_t len, bool ndr64, const uint8_t **kms,
    size_t *kms_len, kmsdiag_rpc_stub_info_t *info);

/*! Unpack a RequestActivation response stub: size, unique pointer
 *  referent, [max_count, bytes,] HRESULT. A refusal is size 0 with a NULL
 *  referent: then *kms is NULL and *kms_len 0. The HRESULT is accepted
 *  4-byte aligned (correct NDR) or right after the array (vlmcsd).
 *  \return KMSDIAG_OK whenever the stub is well formed, also for a failure
 *  HRESULT (the caller checks *hresult); decode errors as above. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t kmsdiag_rpc_response_stub(
    const uint8_t *stub, size_t len, bool ndr64, const uint8_t **kms,
    size_t *kms_len, uint32_t *hresult, kmsdiag_rpc_stub_info_t *info);

/* ---- fragment reassembly ----------------------------------------------- */

/*! Joins the stubs of the fragments of one request or response call
 *  (FIRST ... LAST, same call_id, same ptype). Use one per direction. */
typedef struct kmsdiag_rpc_reasm kmsdiag_rpc_reasm_t;

/*! \param[out] out must be kmsdiag_rpc_reasm_free()'d. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_rpc_reasm_new(kmsdiag_rpc_reasm_t **out);
/*! NULL is fine. */
KMSDIAG_API void kmsdiag_rpc_reasm_free(kmsdiag_rpc_reasm_t *r);
/*! Add a decoded request or response PDU. When it completes a call,
 *  *complete is true and *stub / *stub_len give the whole stub: borrowed,
 *  valid until the next call on \p r (for a single-fragment PDU it points
 *  into the PDU itself). Otherwise *complete is false.
 *  \return KMSDIAG_OK; KMSDIAG_EINVAL for another PDU type; KMSDIAG_EPROTO
 *  for a fragment that does not continue the call in progress (a FIRST
 *  fragment always starts a new call, dropping an unfinished one);
 *  KMSDIAG_ETOOBIG past KMSDIAG_RPC_MAX_STUB; KMSDIAG_ENOMEM. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t kmsdiag_rpc_reasm_add(
    kmsdiag_rpc_reasm_t *r, const kmsdiag_rpc_pdu_t *pdu, bool *complete,
    const uint8_t **stub, size_t *stub_len);

/* ---- names -------------------------------------------------------------- */

/*! "request", "bind_ack", ...; "unknown" for other values. Static. */
KMSDIAG_API const char *kmsdiag_rpc_ptype_name(uint8_t ptype);
/*! "acceptance", "user_rejection", "provider_rejection", "negotiate_ack". */
KMSDIAG_API const char *kmsdiag_rpc_ack_result_name(uint16_t result);
/*! Provider rejection reason: "abstract_syntax_not_supported", ... */
KMSDIAG_API const char *kmsdiag_rpc_ack_reason_name(uint16_t reason);
/*! bind_nak reject reason: "reason_not_specified", ... */
KMSDIAG_API const char *kmsdiag_rpc_bind_nak_reason_name(uint16_t reason);
/*! Fault status: "nca_unk_if", "nca_proto_error", ...; NULL if unknown. */
KMSDIAG_API const char *kmsdiag_rpc_fault_name(uint32_t status);

/*! Write \p pdu as a JSON object under \p key (NULL inside an array):
 *  ptype, ptype_name, flags, call_id, frag_len, and per type: ctx_id,
 *  opnum, alloc_hint, stub_len, items [{ctx_id, abstract, transfer}],
 *  results [{result, reason, transfer}], sec_addr, status, status_name. */
KMSDIAG_API void kmsdiag_rpc_pdu_write_json(kmsdiag_json_t *j,
                                            const char *key,
                                            const kmsdiag_rpc_pdu_t *pdu);

/* ---- encoding (client side) -------------------------------------------- */

/*! One context item to offer in a bind or alter_context. */
typedef struct kmsdiag_rpc_offer {
  uint16_t ctx_id;
  kmsdiag_rpc_syntax_kind_t syntax; /* NDR32, NDR64 or BTFN */
} kmsdiag_rpc_offer_t;

/*! Parameters of a bind or alter_context. Zero fields take the defaults
 *  noted. What Windows and vlmcs send by default is ctx 0 NDR32, ctx 1
 *  NDR64, ctx 2 BTFN with features 0x0003, and PFC_CONC_MPX. */
typedef struct kmsdiag_rpc_bind_params {
  uint32_t call_id;
  uint8_t extra_flags;   /* OR-ed into FIRST|LAST, e.g. PFC_CONC_MPX */
  uint16_t max_xmit_frag; /* 0 = KMSDIAG_RPC_DEFAULT_FRAG */
  uint16_t max_recv_frag; /* 0 = KMSDIAG_RPC_DEFAULT_FRAG */
  uint32_t assoc_group;
  uint16_t btfn_features; /* bits offered with a BTFN item */
  size_t n_offers;        /* 1..KMSDIAG_RPC_MAX_CTX_ITEMS */
  kmsdiag_rpc_offer_t offers[KMSDIAG_RPC_MAX_CTX_ITEMS];
  /* abstract syntax to bind to; NULL = the KMS interface 1.0 */
  const kmsdiag_rpc_syntax_t *abstract;
} kmsdiag_rpc_bind_params_t;

/*! Fill \p p with what vlmcs and Windows send: ctx 0 NDR32 (if \p ndr32),
 *  next ctx NDR64 (if \p ndr64), next BTFN 0x0003 (if \p btfn), with
 *  PFC_CONC_MPX, call id \p call_id. */
KMSDIAG_API void kmsdiag_rpc_bind_params_default(kmsdiag_rpc_bind_params_t *p,
                                                 uint32_t call_id, bool ndr32,
                                                 bool ndr64, bool btfn);

/*! Encode a bind (\p alter_context false) or alter_context PDU.
 *  \param[out] out a malloc()'d buffer the caller free()s; \p out_len its
 *  length. \return KMSDIAG_OK, KMSDIAG_EINVAL, KMSDIAG_ENOMEM. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_rpc_encode_bind(const kmsdiag_rpc_bind_params_t *p, bool alter_context,
                        uint8_t **out, size_t *out_len);

/*! Encode a request PDU for opnum 0 carrying \p kms_len bytes of KMS
 *  request in an NDR32 or NDR64 stub, on context \p ctx_id.
 *  \param[out] out malloc()'d, caller free()s. \return KMSDIAG_OK,
 *  KMSDIAG_EINVAL, KMSDIAG_ETOOBIG (PDU above KMSDIAG_RPC_MAX_FRAG),
 *  KMSDIAG_ENOMEM. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t kmsdiag_rpc_encode_request(
    uint32_t call_id, uint16_t ctx_id, bool ndr64, const uint8_t *kms,
    size_t kms_len, uint8_t **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
