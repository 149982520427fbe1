/* cap_flow.h: the flow table and the analyser object (internal). */
#ifndef KMSDIAG_CAPTURE_FLOW_H
#define KMSDIAG_CAPTURE_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/cap_int.h"
#include "internal/buf.h"

typedef enum kd_flow_kind {
  KD_FLOW_KMS = 1, /* KMS port or KMS bind seen */
  KD_FLOW_DNS = 2  /* TCP port 53 */
} kd_flow_kind_t;

typedef struct kd_flow {
  struct kd_flow *hnext;            /* hash chain */
  struct kd_flow *lru_prev, *lru_next;
  uint32_t hash;
  kd_flow_kind_t kind;
  kmsdiag_endpoint_t client, server; /* client = SYN sender (or guess) */
  int64_t last_sec;
  uint32_t syn_count;
  uint64_t syn_frame;
  int64_t syn_sec;
  uint32_t syn_nsec;
  bool synack;                      /* handshake answered */
  bool connect_reported;
  bool closed_reported;
  bool client_fin, server_fin, rst;
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
  unsigned file_index;
} kd_dns_q_t;

#define KD_DNS_PENDING 256
#define KD_DNS_TARGETS 64

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
  uint8_t ports[65536 / 8];         /* KMS port bitmap */
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
  char (*dns_targets)[KMSDIAG_CAP_NAME_MAX]; /* SRV targets to follow */
  size_t n_dns_targets;
  kd_syn_t *syns; /* KD_SYN_SLOTS */
  kd_frag_t *frags; /* KD_FRAG_SLOTS, on the first fragment */
  bool v6frag_noted;
  kd_diag_t *diag;
};

bool kd_cap_is_kms_port(const struct kmsdiag_capture *cap, uint16_t port);

#endif
