/* cap_int.h: internals of the capture analyser (never installed).
 *
 *   cap_layers.c  link / IPv4 / IPv6 / TCP / UDP decoding of one frame
 *   cap_stream.c  per-direction TCP reassembly with bounded buffers
 *   cap_rpc.c     DCE/RPC PDUs on a KMS flow -> bind/exchange/fault events
 *   cap_dns.c     DNS messages (UDP and TCP) -> dns events
 *   cap_diag.c    per-client state and the diagnosis
 *   capture.c     flow table, public API
 *   cap_pcap.c    libpcap source */
#ifndef KMSDIAG_CAPTURE_INT_H
#define KMSDIAG_CAPTURE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_capture.h>

/* ---- one decoded frame ---------------------------------------------------- */

enum {
  KD_PKT_OTHER = 0, /* not IP, or an IP protocol we ignore */
  KD_PKT_TCP = 6,
  KD_PKT_UDP = 17
};

enum {
  KD_TCP_FIN = 0x01,
  KD_TCP_SYN = 0x02,
  KD_TCP_RST = 0x04,
  KD_TCP_PSH = 0x08,
  KD_TCP_ACK = 0x10
};

typedef struct kd_pkt {
  uint8_t family;      /* 4, 6, or 0 when not IP */
  uint8_t proto;       /* KD_PKT_* */
  uint8_t src[16], dst[16];
  uint16_t sport, dport;
  uint8_t tcp_flags;
  uint32_t seq, ack;
  const uint8_t *payload; /* transport payload actually captured */
  size_t paylen;
  size_t wire_paylen;  /* payload length the headers announce */
  bool truncated;      /* payload cut by the snapshot length */
  bool fragment;       /* an IP fragment: not decoded past IP */
  /* IPv4 fragment details (when fragment and family 4) */
  uint16_t frag_id;
  uint8_t frag_proto;
  bool frag_more;
  size_t frag_off;      /* byte offset of this fragment's data */
  const uint8_t *frag_data; /* captured data of the fragment */
  size_t frag_len;
  bool frag_cut;        /* fewer bytes captured than the header says */
  /* damage: a static description and the frame offset it refers to */
  const char *err;
  size_t err_off;
} kd_pkt_t;

/* Decode one frame. Returns KMSDIAG_OK (pkt filled; proto may be OTHER),
 * KMSDIAG_EUNSUPPORTED for an unknown link type, or KMSDIAG_EMALFORMED /
 * KMSDIAG_ETRUNC with pkt->err and pkt->err_off set. Never reads outside
 * data[0..caplen). */
int kd_cap_decode(int linktype, const uint8_t *data, size_t caplen,
                  kd_pkt_t *pkt);

/* ---- TCP reassembly of one direction ---------------------------------------- */

typedef struct kd_seg {
  struct kd_seg *next;
  uint32_t seq;
  uint32_t len;
  uint64_t frame;
  uint8_t data[];
} kd_seg_t;

typedef struct kd_stream {
  bool init;            /* next_seq is known */
  bool fin;             /* FIN seen in order */
  bool gap;             /* bytes were lost before buf[0]: consumer resyncs */
  uint32_t next_seq;
  uint8_t *buf;         /* in-order bytes not consumed yet */
  size_t len, cap;
  uint64_t buf_frame;   /* frame that delivered buf[0] */
  kd_seg_t *ooo;        /* out-of-order segments, sorted by seq */
  size_t ooo_bytes;
  unsigned ooo_count;
  size_t limit;         /* cap on len + ooo_bytes */
  uint64_t gaps, retrans, overlaps, dropped;
  uint64_t gap_frame;   /* frame where the last gap was noticed */
} kd_stream_t;

/* Account of buffered bytes across streams (for stats and a global cap). */
typedef struct kd_membudget {
  size_t now, peak, max;
} kd_membudget_t;

void kd_stream_init(kd_stream_t *s, size_t limit);
void kd_stream_free(kd_stream_t *s, kd_membudget_t *mb);
/* Add a segment. Returns true when new in-order bytes were appended (the
 * consumer should look at buf). seq is the segment's sequence number; for
 * a SYN pass syn = true (consumes one sequence number). */
bool kd_stream_add(kd_stream_t *s, kd_membudget_t *mb, uint32_t seq,
                   bool syn, bool fin, const uint8_t *data, size_t len,
                   uint64_t frame);
/* Drop n consumed bytes from the front of buf. */
void kd_stream_consume(kd_stream_t *s, size_t n);
/* Give up on missing data: jump to the first out-of-order segment (marks a
 * gap). Returns true when bytes were appended. */
bool kd_stream_skip_gap(kd_stream_t *s, kd_membudget_t *mb, uint64_t frame);
/* Discard buffered in-order bytes (unparseable): marks a gap. */
void kd_stream_discard(kd_stream_t *s);
/* Give up on everything buffered (in order and out of order): the stream
 * resumes after the furthest byte seen, marked as a gap. Returns the
 * bytes released. */
size_t kd_stream_drop(kd_stream_t *s, kd_membudget_t *mb);
/* Release the buffer of a stream that holds no bytes. */
void kd_stream_trim(kd_stream_t *s, kd_membudget_t *mb);

/* ---- analyser internals shared by the modules ---------------------------- */

struct kd_flow;
struct kmsdiag_capture;

/* Current frame context. */
typedef struct kd_frame_ctx {
  uint64_t frame;
  int64_t sec;
  uint32_t nsec;
} kd_frame_ctx_t;

void kd_cap_emit(struct kmsdiag_capture *cap, kmsdiag_capture_event_t *ev);
void kd_cap_note(struct kmsdiag_capture *cap, uint64_t frame, size_t off,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));


/* DNS: one message (without the TCP length prefix). from_server tells the
 * direction for TCP; for UDP the QR bit decides. */
void kd_dns_message(struct kmsdiag_capture *cap, const kd_frame_ctx_t *fc,
                    const kmsdiag_endpoint_t *src,
                    const kmsdiag_endpoint_t *dst, bool tcp,
                    const uint8_t *msg, size_t len);
void kd_dns_flush(struct kmsdiag_capture *cap, bool all, int64_t now);
void kd_dns_free(struct kmsdiag_capture *cap);

/* RPC over one KMS flow. */
typedef struct kd_rpc_pending {
  bool used;
  uint32_t call_id;
  uint16_t ctx_id;
  bool ndr64;
  uint64_t frame;
  int64_t sec;
  uint32_t nsec;
  uint64_t mono;  /* capture progress clock at the request */
  uint8_t *req;   /* KMS request bytes (malloc) */
  size_t req_len;
  const char *stub_error;
} kd_rpc_pending_t;

#define KD_RPC_MAX_PENDING 4

typedef struct kd_rpc_state {
  bool have_bind;
  kmsdiag_cap_bind_t bind;      /* pending bind / alter_context */
  uint64_t bind_mono;           /* capture progress clock at the bind */
  int8_t ctx_ndr64[16];         /* per ctx id < 16: -1 unknown, 0, 1 */
  bool bound;                   /* some KMS context accepted */
  bool any_request;
  bool any_response;
  uint64_t exchanges;
  unsigned notes[2];            /* notes about this flow, per direction */
  struct kmsdiag_rpc_reasm *reasm[2]; /* fragment reassembly, per direction
                                         (created on the first fragment) */
  kd_rpc_pending_t pend[KD_RPC_MAX_PENDING];
} kd_rpc_state_t;

void kd_rpc_init(kd_rpc_state_t *r);
/* Parse PDUs at the front of s; from_client gives the direction. */
void kd_rpc_consume(struct kmsdiag_capture *cap, struct kd_flow *f,
                    kd_stream_t *s, bool from_client,
                    const kd_frame_ctx_t *fc);
/* Flush pending requests as exchanges without a response. */
void kd_rpc_flush(struct kmsdiag_capture *cap, struct kd_flow *f,
                  const kd_frame_ctx_t *fc);
void kd_rpc_free(kd_rpc_state_t *r);
/* True when payload starts a DCE/RPC bind offering the KMS interface. */
bool kd_rpc_is_kms_bind(const uint8_t *p, size_t n);

/* Diagnosis: observations fed by the modules. */
void kd_diag_event(struct kmsdiag_capture *cap,
                   const kmsdiag_capture_event_t *ev);
void kd_diag_finish(struct kmsdiag_capture *cap);
void kd_diag_free(struct kmsdiag_capture *cap);

/* The KMS interface UUID in wire order. */
extern const uint8_t kd_kms_iface_wire[16];

#endif
