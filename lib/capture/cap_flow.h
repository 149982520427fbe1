/* cap_flow.h: the flow table and the analyser object (internal). */
#ifndef KMSDIAG_CAPTURE_FLOW_H
#define KMSDIAG_CAPTURE_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/cap_int.h"
#include "internal/buf.h"

typedef enum kd_flow_kind {
  KD_FLOW_KMS = 1, /* KMS port or KMS bind seen */
  KD_FLOW_DNS = 2, /* TCP port 53 */
  KD_FLOW_OTHER = 3 /* a learned-port flow found to be another protocol */
} kd_flow_kind_t;

typedef struct kd_flow {
  struct kd_flow *hnext;            /* hash chain */
  struct kd_flow *lru_prev, *lru_next;
  uint32_t hash;
  kd_flow_kind_t kind;
  kmsdiag_endpoint_t client, server; /* client = SYN sender (or guess) */
  int64_t last_sec;
  uint32_t last_nsec;
  uint64_t last_frame;
  uint64_t last_mono, syn_mono;     /* capture progress clock (us) */
  uint32_t syn_count;
  uint64_t syn_frame;
  int64_t syn_sec;
  uint32_t syn_nsec;
  bool synack;                      /* handshake answered */
  bool connect_reported;
  bool closed_reported;
  bool client_fin, server_fin, rst;
  /* payload bytes missing from the capture (snapshot length) */
  uint32_t cut_count;
  uint32_t snaplen;
  uint64_t cut_first, cut_last;
  uint32_t cut_down;                /* of them from the host */
  uint64_t cut_mono;                /* progress clock at the last cut */
  bool down_after_cut;              /* host bytes captured after a cut */
  bool undecodable;                 /* decided: reported when it ends */
  bool by_learned;                  /* KMS only by a port learned by DNS */
  kd_stream_t up, down;             /* client->server, server->client */
  kd_rpc_state_t rpc;
} kd_flow_t;

/* Pending DNS query (UDP or TCP) waiting for its response. */
typedef struct kd_dns_q {
  bool used;
  kmsdiag_endpoint_t client, server;
  kmsdiag_cap_dns_t d;
  int64_t sec;
  uint32_t nsec;
  uint64_t mono;
  unsigned file_index;
} kd_dns_q_t;

#define KD_DNS_PENDING 256
#define KD_DNS_TARGETS 64
#define KD_TARGET_PORTS 4

/* An SRV target name to follow, with the ports its SRV records named. */
typedef struct kd_dns_target {
  char name[KMSDIAG_CAP_NAME_MAX];
  uint16_t ports[KD_TARGET_PORTS];
  uint8_t nports;
} kd_dns_target_t;

/* KMS endpoints learned from DNS: an SRV target's address with the port
 * of its SRV record. Open addressing, fixed size; when full, the oldest
 * probed slot is replaced. */
typedef struct kd_learn {
  uint8_t used;
  uint8_t family;
  uint16_t port;
  uint8_t addr[16];
} kd_learn_t;
#define KD_LEARN_SLOTS 1024
#define KD_LEARN_PROBE 8

/* IPv6 address pairs that exchanged fragments (not reassembled). */
typedef struct kd_v6frag {
  bool used;
  uint8_t a[16], b[16];
  uint64_t first, last, count;
  unsigned file;
} kd_v6frag_t;
#define KD_V6FRAG_SLOTS 16

/* Handshakes of flows not (yet) tracked: when a KMS bind later shows up
 * on such a flow, its SYN and SYN/ACK are known. Direct-mapped, fixed. */
typedef struct kd_syn {
  uint32_t hash; /* 0: empty */
  uint8_t family;
  uint8_t cli[16], srv[16];
  uint16_t cport, sport;
  uint32_t syn_count;
  uint64_t syn_frame, synack_frame;
  int64_t syn_sec, synack_sec;
  uint32_t syn_nsec, synack_nsec;
  bool synack;
} kd_syn_t;

#define KD_SYN_SLOTS 16384

/* IPv4 datagrams being put together from fragments (small, fixed). */
#define KD_FRAG_SLOTS 32
#define KD_FRAG_MAX 16384 /* largest datagram payload reassembled */
typedef struct kd_frag {
  bool used;
  uint8_t src[4], dst[4];
  uint16_t id;
  uint8_t proto;
  int64_t sec;          /* first fragment's time */
  uint64_t frame;       /* first fragment's frame */
  size_t total;         /* payload length, once the last fragment is seen */
  uint8_t *buf;         /* KD_FRAG_MAX bytes */
  uint8_t bits[KD_FRAG_MAX / 8 / 8]; /* 8-byte blocks received */
} kd_frag_t;

typedef struct kd_diag kd_diag_t;

struct kmsdiag_capture {
  kmsdiag_capture_event_fn fn;
  void *ud;
  kmsdiag_capture_limits_t lim;
  uint8_t ports[65536 / 8];         /* KMS ports (1688, add_port) */
  uint8_t learned_ports[65536 / 8]; /* ports of the learned endpoints */
  uint8_t content_ports[65536 / 8]; /* ports of flows found by content
                                       (never cleared: only a filter) */
  kd_learn_t *learn;                /* KD_LEARN_SLOTS, on first use */
  size_t n_learned;
  uint32_t cur_caplen;              /* caplen of the frame being fed */
  bool finishing;                   /* inside kmsdiag_capture_finish */
  /* Capture progress clock: the sum of the forward steps between the
   * time stamps of consecutive frames of a file, in us. It measures "how
   * much capture followed" even when files overlap in time. */
  uint64_t mono_us;
  int64_t prev_sec;
  uint32_t prev_nsec;
  bool prev_valid;
  kd_v6frag_t v6frags[KD_V6FRAG_SLOTS];
  kd_flow_t **buckets;
  size_t nbuckets;
  kd_flow_t *lru_head, *lru_tail;   /* head = least recently used */
  size_t nflows;
  kd_membudget_t mem;
  kmsdiag_capture_stats_t st;
  unsigned file_index;
  uint64_t frame;                   /* frame number in the current file */
  int64_t now_sec;
  uint32_t now_nsec;
  bool finished;
  bool enomem;
  uint64_t notes;
  kd_buf_t note_buf;
  /* DNS */
  kd_dns_q_t *dns_q;                /* KD_DNS_PENDING slots */
  kd_dns_target_t *dns_targets;     /* SRV targets to follow */
  size_t n_dns_targets;
  kd_syn_t *syns; /* KD_SYN_SLOTS */
  kd_frag_t *frags; /* KD_FRAG_SLOTS, on the first fragment */
  bool v6frag_noted;
  kd_diag_t *diag;
};

bool kd_cap_is_kms_port(const struct kmsdiag_capture *cap, uint16_t port);
/* A TCP endpoint is KMS by port: 1688 / add_port on any address, or a
 * learned (SRV target address, SRV port) pair. */
bool kd_cap_is_kms_ep(const struct kmsdiag_capture *cap, uint8_t family,
                      const uint8_t *addr, uint16_t port);
/* Learn (address, port) as a KMS endpoint (from an SRV answer). */
void kd_cap_learn_ep(struct kmsdiag_capture *cap, uint8_t family,
                     const uint8_t *addr, uint16_t port);

#endif
