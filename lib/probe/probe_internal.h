/* probe_internal.h: shared state of the probe module (lib/probe only). */
#ifndef KMSDIAG_PROBE_INTERNAL_H
#define KMSDIAG_PROBE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <kmsdiag/kmsdiag_dns.h>
#include <kmsdiag/kmsdiag_kms.h>
#include <kmsdiag/kmsdiag_probe.h>

#include "internal/buf.h"

/* Longest PDU we accept: our bind offers max_recv_frag 5840, and KMS PDUs
 * are under 1 KiB. A frag_len above this is hostile or broken. */
#define KD_PROBE_PDU_MAX 5840u
/* Addresses tried per host name. */
#define KD_PROBE_MAX_ADDRS 8
#define KD_PROBE_MSG_MAX 320
#define KD_PROBE_ADDR_MAX 64 /* INET6_ADDRSTRLEN + slack */

/* One address the tcp stage tried: its outcome (KMSDIAG_OK: connected)
 * and the time spent on it. */
typedef struct kd_probe_attempt {
  char address[KD_PROBE_ADDR_MAX];
  kmsdiag_status_t status;
  double ms;
} kd_probe_attempt_t;

struct kmsdiag_probe_result {
  char *host;
  struct sockaddr_storage *pre;  /* known addresses (port unset), owned */
  socklen_t *prelen;
  size_t npre;
  char address[KD_PROBE_ADDR_MAX];
  kd_probe_attempt_t *attempts; /* owned, nattempts of them */
  size_t nattempts;
  uint16_t port;
  bool done;
  bool ok;
  kmsdiag_probe_stage_t requested, reached, failed;
  kmsdiag_status_t status;
  uint32_t hresult, detail;
  char message[KD_PROBE_MSG_MAX];
  double ms[4]; /* resolve, tcp, rpc, kms; < 0 when not run */
  /* rpc */
  bool bind_answered, ndr32, ndr64, btfn;
  uint16_t btfn_features;
  uint32_t rpc_status;
  /* kms */
  bool has_kms, has_hwid, verified;
  unsigned protocol;
  char *epid;
  uint8_t hwid[8];
  uint32_t count, threshold, act_interval, renew_interval;
  int64_t skew;
  kmsdiag_epid_t *epid_info;          /* owned */
  bool has_verdict;
  kmsdiag_activation_verdict_t verdict;
  bool has_verification;
  kmsdiag_kms_verification_t verification;
};

struct kmsdiag_probe {
  kmsdiag_probe_stage_t stage;
  unsigned timeout_ms, concurrency, close_watch_ms;
  uint16_t default_port;
  char *dns_servers;
  /* kms */
  kmsdiag_guid_t cmid;
  bool cmid_set;
  char workstation[4 * KMSDIAG_PROBE_WORKSTATION_MAX + 1];
  char *product_name;
  kmsdiag_guid_t app_id, sku_id, kms_id;
  uint32_t n_policy;
  unsigned product_protocol, protocol;
  bool product_set;
  const kmsdiag_product_t *product; /* when set from the table */
  int64_t client_time;
  /* Random source of the request (V5/V6 IV): NULL = OpenSSL. Internal,
   * for deterministic fuzzing. */
  kmsdiag_kms_rand_fn rand;
  void *rand_ud;
  /* discovery */
  struct kd_probe_domain *dom;
  size_t ndom, dom_cap, dom_next; /* dom_next: first not yet turned into
                                     targets */
  size_t dom_started;
  kmsdiag_dns_t *dns;
  /* targets */
  kmsdiag_probe_result_t **res;
  size_t n, cap, next;
  bool running;
  kmsdiag_probe_result_fn cb;
  void *cb_ud;
};

typedef struct kd_probe_domain {
  kmsdiag_probe_t *p;
  char *name;          /* NULL: the "no domain" outcome */
  const char *source;  /* static */
  kmsdiag_dns_result_t *result; /* owned, once the lookup completed */
  bool done;
} kd_probe_domain_t;

/* Internal add (also during a run): see kmsdiag_probe_add_target_resolved. */
kmsdiag_status_t kd_probe_add(kmsdiag_probe_t *p, const char *label,
                              uint16_t port, const char *const *addresses,
                              size_t n, size_t *index);

/* ---- rpc (probe_rpc.c) ---- */

/* Our call ID for the bind and the first request (as Windows does). */
#define KD_PROBE_CALL_ID 2u

/* Append the bind PDU (NDR32, NDR64, BTFN contexts) to `b`. */
void kd_probe_rpc_bind(kd_buf_t *b);
/* Check a PDU header (16 bytes at least in `hdr`). Returns KMSDIAG_OK and
 * the fragment length, or EPROTO with a message when the bytes are not a
 * DCE/RPC v5.0 PDU or announce an impossible length. */
kmsdiag_status_t kd_probe_rpc_header(const uint8_t *hdr, size_t len,
                                     size_t *frag_len, char *msg,
                                     size_t msgsz);
/* Decode the answer to our bind into `r` (ndr32/ndr64/btfn, rpc_status).
 * Returns OK (a usable context), EBINDREJECT, ERPCFAULT or EPROTO, with a
 * message. `ctx` receives the context to use for requests (0 NDR32, 1
 * NDR64). */
kmsdiag_status_t kd_probe_rpc_bind_answer(const uint8_t *pdu, size_t len,
                                          kmsdiag_probe_result_t *r,
                                          unsigned *ctx, char *msg,
                                          size_t msgsz);

/* ---- kms (probe_kms.c) ---- */

typedef struct kd_probe_kms kd_probe_kms_t; /* per-connection request state */

/* Build the request PDU for context `ctx` into `b` and keep what is
 * needed to verify the answer in *st (free with kd_probe_kms_free). */
kmsdiag_status_t kd_probe_kms_request(const kmsdiag_probe_t *p, unsigned ctx,
                                      kd_buf_t *b, kd_probe_kms_t **st,
                                      kmsdiag_probe_result_t *r, char *msg,
                                      size_t msgsz);
/* Decode and verify the response PDU; fills the kms fields of r, sets
 * r->hresult and returns OK only when the host would activate us. */
kmsdiag_status_t kd_probe_kms_answer(const kmsdiag_probe_t *p,
                                     kd_probe_kms_t *st, const uint8_t *pdu,
                                     size_t len, kmsdiag_probe_result_t *r,
                                     char *msg, size_t msgsz);
void kd_probe_kms_free(kd_probe_kms_t *st);
/* Whether the kms stage is available in this build. */
bool kd_probe_kms_available(void);

/* ---- helpers (probe.c) ---- */
void kd_probe_set_msg(kmsdiag_probe_result_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Escape up to n untrusted bytes into dst (for messages). */
void kd_probe_escape(char *dst, size_t dstsz, const void *src, size_t n);

#endif
