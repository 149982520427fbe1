/* kmsdiag_capture.h: capture analysis. Reads packets (pcap, pcapng, live
 * interfaces) and turns them into KMS activation events (DNS discovery,
 * TCP connects, RPC binds, KMS exchanges, RPC faults) and a diagnosis per
 * client.
 *
 * Two objects:
 *  - kmsdiag_capture_t, the analyser: fed one frame at a time, it decodes
 *    the link, IP and TCP/UDP layers, reassembles the TCP flows that carry
 *    KMS or DNS, and reports events through a callback. It keeps bounded
 *    memory whatever the input (caps on flows and on buffered bytes per
 *    flow; idle flows are expired).
 *  - kmsdiag_pcap_source_t, a libpcap reader (file, "-" for standard input,
 *    or a live interface) that feeds an analyser.
 *
 * Every byte of a frame is untrusted: damaged input produces NOTE events
 * naming the frame and offset, never a crash. */
#ifndef KMSDIAG_CAPTURE_H
#define KMSDIAG_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_status.h>
#include <kmsdiag/kmsdiag_types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- endpoints --------------------------------------------------------- */

/*! An IP endpoint. \p family is 4 or 6 (0 = none); IPv4 uses addr[0..3]. */
typedef struct kmsdiag_endpoint {
  uint8_t family;
  uint8_t addr[16];
  uint16_t port;
} kmsdiag_endpoint_t;

/*! Buffer size for kmsdiag_endpoint_to_str (IPv6 in brackets + port). */
#define KMSDIAG_ENDPOINT_STRLEN 56

/*! "192.0.2.1:1688" or "[2001:db8::1]:1688" into \p buf (at least
 *  KMSDIAG_ENDPOINT_STRLEN bytes); with \p with_port false only the
 *  address. Returns \p buf. */
KMSDIAG_API char *kmsdiag_endpoint_to_str(const kmsdiag_endpoint_t *e,
                                          bool with_port, char *buf,
                                          size_t bufsz);

/* ---- events ------------------------------------------------------------ */

typedef enum kmsdiag_capture_event_type {
  KMSDIAG_CAPEV_NOTE = 0,     /*!< damaged input, gap, limit, fragment */
  KMSDIAG_CAPEV_DNS = 1,      /*!< a DNS query (and its answer) for KMS */
  KMSDIAG_CAPEV_CONNECT = 2,  /*!< outcome of a TCP connection to KMS */
  KMSDIAG_CAPEV_RPC_BIND = 3, /*!< an RPC bind / alter_context and answer */
  KMSDIAG_CAPEV_EXCHANGE = 4, /*!< a KMS request and its response */
  KMSDIAG_CAPEV_RPC_FAULT = 5,/*!< an RPC fault PDU */
  KMSDIAG_CAPEV_DIAGNOSIS = 6 /*!< a finding, per client or global */
} kmsdiag_capture_event_type_t;

/*! Stable snake_case name of an event type ("note", "dns", "connect",
 *  "rpc_bind", "exchange", "rpc_fault", "diagnosis"). */
KMSDIAG_API const char *
kmsdiag_capture_event_type_name(kmsdiag_capture_event_type_t t);

typedef enum kmsdiag_conn_state {
  KMSDIAG_CONN_ESTABLISHED = 0, /*!< SYN answered by SYN/ACK */
  KMSDIAG_CONN_REFUSED = 1,     /*!< SYN answered by RST */
  KMSDIAG_CONN_NO_ANSWER = 2,   /*!< SYN never answered */
  KMSDIAG_CONN_RESET = 3,       /*!< reset before the exchange completed */
  KMSDIAG_CONN_CLOSED_EARLY = 4,/*!< FIN before the exchange completed */
  KMSDIAG_CONN_MIDSTREAM = 5,   /*!< capture started after the handshake */
  /*! The capture cannot tell: it ended (or the flow was dropped from a full
   *  flow table) too soon after what the client was waiting for (see
   *  waiting_for and wait_ms). Not a failure. */
  KMSDIAG_CONN_UNDECIDED = 6,
  /*! The exchange cannot be decoded because its bytes are not in the
   *  capture: frames cut by the snapshot length (snaplen) or IPv6
   *  fragments (cut_reason). Not a failure. */
  KMSDIAG_CONN_UNDECODABLE = 7
} kmsdiag_conn_state_t;

/*! "established", "refused", "no_answer", "reset", "closed_early",
 *  "midstream", "undecided", "undecodable". */
KMSDIAG_API const char *kmsdiag_conn_state_name(kmsdiag_conn_state_t s);

#define KMSDIAG_CAP_NAME_MAX 256   /* DNS names, bytes incl. NUL */
#define KMSDIAG_CAP_MAX_SRV 8      /* SRV records kept per answer */
#define KMSDIAG_CAP_MAX_ADDR 8     /* A/AAAA records kept per answer */
#define KMSDIAG_CAP_MAX_CTX 8      /* context items kept per bind */
#define KMSDIAG_CAP_MAX_EVIDENCE 16

typedef struct kmsdiag_cap_srv {
  uint16_t priority, weight, port;
  char target[KMSDIAG_CAP_NAME_MAX]; /*!< raw name bytes: escape to show */
} kmsdiag_cap_srv_t;

typedef struct kmsdiag_cap_dns {
  bool tcp;                 /*!< DNS over TCP */
  uint16_t id;
  uint16_t qtype;           /*!< 33 SRV, 1 A, 28 AAAA */
  char qname[KMSDIAG_CAP_NAME_MAX]; /*!< untrusted; escape to show */
  bool is_vlmcs;            /*!< qname starts with _vlmcs._tcp. */
  bool answered;            /*!< a response was seen */
  bool truncated;           /*!< UDP answer with the TC bit: the client
                                 retries over TCP (not a failure) */
  bool capture_ended;       /*!< not answered, but the capture ended only
                                 wait_ms after the query: undecided, not a
                                 failure (client_code 0) */
  uint64_t wait_ms;         /*!< capture time after an unanswered query */
  int rcode;                /*!< response code, -1 when not answered */
  uint16_t ancount;
  uint64_t query_frame, response_frame; /*!< 0 when not seen */
  size_t n_srv;             /*!< SRV records kept (at most MAX_SRV) */
  size_t srv_total;         /*!< SRV records in the answer section */
  kmsdiag_cap_srv_t srv[KMSDIAG_CAP_MAX_SRV];
  size_t n_addr;
  kmsdiag_endpoint_t addr[KMSDIAG_CAP_MAX_ADDR]; /*!< port 0 */
  uint32_t client_code;     /*!< what the client reports for this lookup:
                                 0, 0x8007232B, 0x8007251D, 0x8007232A */
} kmsdiag_cap_dns_t;

typedef struct kmsdiag_cap_connect {
  kmsdiag_conn_state_t state;
  uint64_t syn_frame;       /*!< first SYN (0 if not seen) */
  uint64_t reply_frame;     /*!< SYN/ACK, RST or FIN frame (0 if none) */
  unsigned syn_count;       /*!< SYNs sent (retransmissions + 1) */
  bool server_closed;       /*!< for RESET/CLOSED_EARLY: the server did it */
  /* UNDECIDED: what the client was waiting for ("syn_ack", "bind_ack",
   * "response", or "request" when the client had sent nothing yet), the
   * capture time between that frame and the end, and whether the flow was
   * dropped from a full flow table rather than ended by the capture. */
  const char *waiting_for;
  uint64_t wait_ms;
  bool evicted;
  /* UNDECODABLE: why ("snaplen" or "ipv6_fragments"), the snapshot length
   * (bytes captured per frame, for "snaplen") and the frames missing
   * data: how many, the first and the last. */
  const char *cut_reason;
  uint32_t snaplen;
  uint64_t cut_frames, first_cut_frame, last_cut_frame;
} kmsdiag_cap_connect_t;

typedef struct kmsdiag_cap_ctx {
  uint16_t ctx_id;
  kmsdiag_guid_t abstract_uuid;
  uint16_t abstract_major, abstract_minor;
  kmsdiag_guid_t transfer_uuid;
  uint32_t transfer_version;
  /*! result from the ack: 0 acceptance, 1 user rejection, 2 provider
   *  rejection, 3 negotiate ack; -1 when no ack was seen */
  int result;
  uint16_t reason;
} kmsdiag_cap_ctx_t;

typedef struct kmsdiag_cap_bind {
  bool alter_context;       /*!< alter_context rather than bind */
  uint32_t call_id;
  uint64_t bind_frame, ack_frame; /*!< ack_frame 0 when no answer seen */
  int64_t bind_sec;         /*!< capture time of the bind frame */
  uint32_t bind_nsec;
  bool nak;                 /*!< bind_nak received */
  uint16_t nak_reason;
  bool kms_interface;       /*!< a context offers the KMS interface */
  bool accepted;            /*!< a KMS context was accepted */
  const char *syntax;       /*!< accepted syntax: "ndr32", "ndr64" or NULL */
  size_t n_ctx;
  kmsdiag_cap_ctx_t ctx[KMSDIAG_CAP_MAX_CTX];
} kmsdiag_cap_bind_t;

typedef struct kmsdiag_cap_exchange {
  uint32_t call_id;
  uint16_t ctx_id;
  bool ndr64;
  uint64_t request_frame, response_frame; /*!< response_frame 0: none */
  int64_t request_sec, response_sec;
  uint32_t request_nsec, response_nsec;
  /*! The KMS request message (the byte array of RequestActivation), and
   *  the response message; borrowed, valid during the callback only. */
  const uint8_t *request;
  size_t request_len;
  const uint8_t *response;
  size_t response_len;
  bool has_response;        /*!< a Response PDU was decoded */
  uint32_t hresult;         /*!< return value in the response stub */
  const char *stub_error;   /*!< why a stub could not be decoded, or NULL */
} kmsdiag_cap_exchange_t;

typedef struct kmsdiag_cap_fault {
  uint32_t call_id;
  uint32_t status;          /*!< e.g. 0x1C010003 nca_unk_if */
  uint8_t flags;
  uint64_t request_frame;   /*!< the request it answers, 0 if unknown */
} kmsdiag_cap_fault_t;

/*! Steps of an activation attempt, as bits of kmsdiag_cap_diagnosis_t
 *  steps. */
enum {
  KMSDIAG_CAP_STEP_DNS = 1,      /*!< an SRV or host lookup */
  KMSDIAG_CAP_STEP_CONNECT = 2,  /*!< a TCP connection attempt */
  KMSDIAG_CAP_STEP_BIND = 4,     /*!< an RPC bind */
  KMSDIAG_CAP_STEP_REQUEST = 8,  /*!< a KMS request */
  KMSDIAG_CAP_STEP_RESPONSE = 16 /*!< a response (or fault) */
};

typedef struct kmsdiag_cap_diagnosis {
  const char *kind;         /*!< "client" (per-client outcome) or a global
                                 finding: "duplicate_cmid", "clock_skew",
                                 "low_count", "epid_cannot_activate" */
  bool undetermined;        /*!< the capture cannot show the outcome (cut
                                 by the snapshot length, or it ended too
                                 soon): ok false, hresult 0, not a
                                 failure; message says why */
  const char *workstation;  /*!< UTF-8 from the request, untrusted, or NULL */
  bool ok;                  /*!< the client activated */
  uint32_t hresult;         /*!< the code the client would report (0 = ok) */
  const char *stage;        /*!< furthest step: "dns", "connect", "bind",
                                 "request", "response" */
  unsigned steps;           /*!< KMSDIAG_CAP_STEP_* seen for this client
                                 (0 for global findings) */
  const char *message;      /*!< one-line explanation; may quote untrusted
                                 text: escape before showing */
  const char *remedy;       /*!< what to do, or NULL */
  size_t n_evidence;
  uint64_t evidence[KMSDIAG_CAP_MAX_EVIDENCE]; /*!< frame numbers */
  unsigned evidence_file[KMSDIAG_CAP_MAX_EVIDENCE]; /*!< their file index */
} kmsdiag_cap_diagnosis_t;

typedef struct kmsdiag_cap_note {
  const char *message;      /*!< plain text; may hold escaped input bytes */
  size_t offset;            /*!< byte offset in the frame, or 0 */
} kmsdiag_cap_note_t;

/*! One event. Everything is borrowed and valid only during the callback. */
typedef struct kmsdiag_capture_event {
  kmsdiag_capture_event_type_t type;
  unsigned file_index;      /*!< 0-based index of the input file */
  uint64_t frame;           /*!< frame (1-based, per file) it is tied to */
  int64_t ts_sec;           /*!< capture time of that frame */
  uint32_t ts_nsec;
  kmsdiag_endpoint_t client, server; /*!< family 0 when not applicable */
  union {
    kmsdiag_cap_note_t note;
    kmsdiag_cap_dns_t dns;
    kmsdiag_cap_connect_t connect;
    kmsdiag_cap_bind_t bind;
    kmsdiag_cap_exchange_t exchange;
    kmsdiag_cap_fault_t fault;
    kmsdiag_cap_diagnosis_t diagnosis;
  } u;
} kmsdiag_capture_event_t;

/*! Event callback: \p ev is borrowed for the duration of the call. */
typedef void (*kmsdiag_capture_event_fn)(const kmsdiag_capture_event_t *ev,
                                         void *userdata);

/* ---- the analyser -------------------------------------------------------- */

typedef struct kmsdiag_capture kmsdiag_capture_t;

/*! Create an analyser (KMS port 1688, default limits).
 *  \param[out] out must be kmsdiag_capture_free()'d. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_capture_new(kmsdiag_capture_t **out);
/*! Free an analyser; NULL is fine. Pending events are dropped (call
 *  kmsdiag_capture_finish() first to get them). */
KMSDIAG_API void kmsdiag_capture_free(kmsdiag_capture_t *cap);

/*! Set the event callback (\p userdata is passed back; not owned). */
KMSDIAG_API void kmsdiag_capture_set_callback(kmsdiag_capture_t *cap,
                                              kmsdiag_capture_event_fn fn,
                                              void *userdata);
/*! Treat TCP \p port as a KMS port in addition to 1688 (and to the ports
 *  found by content: any TCP flow that binds the KMS interface). */
KMSDIAG_API kmsdiag_status_t kmsdiag_capture_add_port(kmsdiag_capture_t *cap,
                                                      uint16_t port);

typedef struct kmsdiag_capture_limits {
  size_t max_flows;          /*!< tracked TCP flows (default 4096) */
  size_t max_flow_bytes;     /*!< buffered bytes per flow direction,
                                  in order + out of order (default 64 KiB) */
  uint32_t idle_timeout_sec; /*!< capture-time idle expiry (default 120) */
  uint32_t syn_timeout_sec;  /*!< unanswered SYN after this: no_answer
                                  (default 21) */
  uint32_t max_skew_sec;     /*!< clock skew finding above (default 4 h) */
  size_t max_buffered_bytes; /*!< buffered bytes over all flows (default
                                  32 MiB): above it the out-of-order data
                                  of the least recently used flows is
                                  dropped (a gap, with a note) */
} kmsdiag_capture_limits_t;

/*! Replace the limits; zero fields keep their default. */
KMSDIAG_API kmsdiag_status_t
kmsdiag_capture_set_limits(kmsdiag_capture_t *cap,
                           const kmsdiag_capture_limits_t *lim);

/*! Start the next input file: frame numbers restart at 1 and events carry
 *  the new file index. Flows carry over (files in order of one run). */
KMSDIAG_API void kmsdiag_capture_next_file(kmsdiag_capture_t *cap);

/*! One captured frame. \p linktype is a libpcap DLT value (pcap_datalink):
 *  1 Ethernet, 0 null, 108 loop, 12/14/101 raw IP, 113 SLL, 276 SLL2. */
typedef struct kmsdiag_frame {
  int linktype;
  int64_t ts_sec;
  uint32_t ts_nsec;
  uint32_t caplen;          /*!< bytes in \p data */
  uint32_t wirelen;         /*!< original length on the wire */
  const uint8_t *data;      /*!< borrowed for the call */
} kmsdiag_frame_t;

/*! Feed one frame. Events may be reported from inside this call. Returns
 *  KMSDIAG_OK for any frame content (damage becomes a NOTE), KMSDIAG_EINVAL
 *  for a NULL argument, KMSDIAG_ENOMEM when memory ran out. */
KMSDIAG_API kmsdiag_status_t kmsdiag_capture_feed(kmsdiag_capture_t *cap,
                                                  const kmsdiag_frame_t *f);

/*! End of input: flush every flow (pending requests, unanswered SYNs and
 *  queries), then report one DIAGNOSIS per client and the global
 *  findings. After this the analyser accepts no more frames.
 *
 *  What is still waiting at the end counts as never answered only when
 *  enough capture time followed it: 3 s after a SYN (the first
 *  retransmission of a Windows client is due by then), 30 s after a bind,
 *  a request or a connection on which the client sent nothing yet (a KMS
 *  host answers in milliseconds), 5 s after a DNS query. Otherwise the
 *  CONNECT event is KMSDIAG_CONN_UNDECIDED (or the DNS event has
 *  capture_ended) and the diagnosis is undetermined. */
KMSDIAG_API kmsdiag_status_t kmsdiag_capture_finish(kmsdiag_capture_t *cap);

typedef struct kmsdiag_capture_stats {
  uint64_t frames, bytes;   /*!< frames fed and their captured bytes */
  uint64_t ip_packets, tcp_packets, udp_packets;
  uint64_t non_ip;          /*!< frames that carry no IPv4/IPv6 */
  uint64_t malformed;       /*!< frames with a damaged header */
  uint64_t truncated;       /*!< frames cut by the snapshot length */
  uint64_t fragments;       /*!< IP fragments (not reassembled) */
  uint64_t flows_tracked, flows_expired, flows_evicted;
  uint64_t gaps, retransmissions, overlaps;
  uint64_t budget_drops;    /*!< flow directions whose buffered data was
                                 dropped to keep max_buffered_bytes */
  uint64_t dns_messages, kms_exchanges, failures;
  size_t flows_now, peak_flows;
  size_t buffered_bytes, peak_buffered_bytes;
} kmsdiag_capture_stats_t;

/*! Copy the counters into \p out. */
KMSDIAG_API void kmsdiag_capture_get_stats(const kmsdiag_capture_t *cap,
                                           kmsdiag_capture_stats_t *out);

/* ---- libpcap source --------------------------------------------------------- */

typedef struct kmsdiag_pcap_source kmsdiag_pcap_source_t;

/*! Open a pcap or pcapng file (\p path "-" reads standard input), with an
 *  optional BPF \p filter (NULL for none). On failure returns KMSDIAG_EPCAP
 *  or KMSDIAG_EIO with the reason in \p errbuf (\p errsz bytes, may be 0).
 *  \param[out] out must be kmsdiag_pcap_source_close()'d. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_pcap_open_file(const char *path, const char *filter,
                       kmsdiag_pcap_source_t **out, char *errbuf,
                       size_t errsz);
/*! Open a live interface (\p snaplen 0 = 262144), promiscuous off, with an
 *  optional BPF \p filter. Needs the capture privilege. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_pcap_open_live(const char *iface, const char *filter, int snaplen,
                       kmsdiag_pcap_source_t **out, char *errbuf,
                       size_t errsz);
/*! Also write every frame read to the pcap file \p path. */
KMSDIAG_API kmsdiag_status_t kmsdiag_pcap_set_dump(kmsdiag_pcap_source_t *src,
                                                   const char *path,
                                                   char *errbuf, size_t errsz);
/*! Link type (DLT) of the source. */
KMSDIAG_API int kmsdiag_pcap_linktype(const kmsdiag_pcap_source_t *src);

/*! Progress callback: \p bytes read so far (file offset, or the bytes of
 *  the records read when the input is not seekable, e.g. a pipe) of
 *  \p total (0 if unknown), and \p frames read so far. */
typedef void (*kmsdiag_pcap_progress_fn)(uint64_t bytes, uint64_t total,
                                         uint64_t frames, void *userdata);

/*! Read frames into \p cap until the end of the file, \p max_frames frames
 *  (0 = no limit) or kmsdiag_pcap_break(). A damaged file is read as far as
 *  it goes: the reason is then in \p errbuf and the status is KMSDIAG_EPCAP
 *  (frames before it were fed). A file libpcap cannot read to the end
 *  although it is not damaged (a pcapng file whose interfaces have
 *  different link types) gives KMSDIAG_EUNSUPPORTED with the reason in
 *  \p errbuf. \p progress may be NULL. */
KMSDIAG_API kmsdiag_status_t
kmsdiag_pcap_run(kmsdiag_pcap_source_t *src, kmsdiag_capture_t *cap,
                 uint64_t max_frames, kmsdiag_pcap_progress_fn progress,
                 void *userdata, char *errbuf, size_t errsz);
/*! Stop kmsdiag_pcap_run() (safe from a signal handler). */
KMSDIAG_API void kmsdiag_pcap_break(kmsdiag_pcap_source_t *src);
/*! Frames the source delivered. */
KMSDIAG_API uint64_t kmsdiag_pcap_frames(const kmsdiag_pcap_source_t *src);
/*! Close (and flush the dump file); NULL is fine. */
KMSDIAG_API void kmsdiag_pcap_source_close(kmsdiag_pcap_source_t *src);

#ifdef __cplusplus
}
#endif
#endif
