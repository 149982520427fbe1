/* kmsdiag_probe.h: probe KMS hosts stage by stage (tcp, rpc, kms).
 *
 * One prober (kmsdiag_probe_t) holds the options and a list of targets. Its
 * run drives one poll() loop with non-blocking sockets (IPv4 and IPv6),
 * c-ares for host names and, with kmsdiag_probe_add_domain(), the SRV
 * discovery of kmsdiag_dns.h, so hundreds of targets are found and probed
 * at once with a bounded number in flight. Each target goes through the stages in order,
 * each with its own deadline, and stops at the first failure:
 *
 *   tcp  connect to the address and port (refused, timed out, unreachable
 *        and closed-after-accept are told apart);
 *   rpc  DCE/RPC bind to the KMS interface (what was accepted: NDR32,
 *        NDR64, bind time feature negotiation; bind_nak, rejections,
 *        faults, garbage, silence). The default: it proves a KMS service
 *        answers without touching its count;
 *   kms  (opt-in) one activation request, then decode and verify the
 *        response. This adds the probe's CMID to the host's count: use a
 *        stable CMID (kmsdiag_probe_cmid_load()) so repeated probes count
 *        as one machine.
 *
 * Every failure carries the HRESULT a Windows client would show. A prober
 * is not thread-safe: use one per thread. The library never prints; results are read through the accessors below or
 * written as JSON with kmsdiag_probe_result_write_json(). */
#ifndef KMSDIAG_PROBE_H
#define KMSDIAG_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_dns.h>
#include <kmsdiag/kmsdiag_epid.h>
#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_products.h>
#include <kmsdiag/kmsdiag_status.h>
#include <kmsdiag/kmsdiag_types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! Stages, in order. STAGE_NONE as "reached" means not even tcp passed. */
typedef enum kmsdiag_probe_stage {
  KMSDIAG_PROBE_STAGE_NONE = 0,
  KMSDIAG_PROBE_STAGE_TCP = 1,
  KMSDIAG_PROBE_STAGE_RPC = 2,
  KMSDIAG_PROBE_STAGE_KMS = 3
} kmsdiag_probe_stage_t;

/*! "none", "tcp", "rpc" or "kms" (static storage). */
KMSDIAG_API const char *kmsdiag_probe_stage_name(kmsdiag_probe_stage_t s);
/*! Parse "tcp", "rpc" or "kms". \return KMSDIAG_OK or KMSDIAG_EPARSE. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_stage_parse(
    const char *text, kmsdiag_probe_stage_t *out);

/* Defaults. */
#define KMSDIAG_PROBE_DEFAULT_PORT 1688
#define KMSDIAG_PROBE_DEFAULT_TIMEOUT_MS 3000u
#define KMSDIAG_PROBE_DEFAULT_CONCURRENCY 64u
#define KMSDIAG_PROBE_MAX_TARGETS 100000u
/*! The longest workstation name the request can carry (UTF-16 units). */
#define KMSDIAG_PROBE_WORKSTATION_MAX 63

/*! Well-known HRESULTs the probe reports. */
#define KMSDIAG_HR_BINDING_SERVICE_UNAVAILABLE 0xC004F074u /* no host */
#define KMSDIAG_HR_RPC_SERVER_UNAVAILABLE 0x800706BAu /* per host */
#define KMSDIAG_HR_NOT_ENOUGH_COUNT 0xC004F038u
#define KMSDIAG_HR_INVALID_TIMESTAMP 0xC004F06Cu
#define KMSDIAG_HR_KMS_ID_MISMATCH 0xC004F042u

/* ---- the prober ------------------------------------------------------ */

/*! Opaque prober: options, targets, and after a run their results. */
typedef struct kmsdiag_probe kmsdiag_probe_t;
/*! One target's result; owned by its prober. */
typedef struct kmsdiag_probe_result kmsdiag_probe_result_t;

/*! Create a prober with the defaults: stage rpc, port 1688, timeout
 *  3000 ms per stage, 64 in flight, CMID all zero (must be set for the kms
 *  stage), workstation "kmsdiag-probe.<hostname>".
 *  \param[out] out free with kmsdiag_probe_free(). */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_probe_new(kmsdiag_probe_t **out);
/*! Free a prober and all its results; NULL is fine. */
KMSDIAG_API void kmsdiag_probe_free(kmsdiag_probe_t *p);

/*! The last stage to run (default rpc). */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_stage(kmsdiag_probe_t *p,
                                                     kmsdiag_probe_stage_t s);
/*! Deadline of each stage (and of name resolution), 1..600000 ms. The tcp
 *  stage shares its deadline among a name's addresses (see
 *  kmsdiag_probe_result_attempt_count()). */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_timeout_ms(kmsdiag_probe_t *p,
                                                          unsigned ms);
/*! Targets in flight at once, 1..4096. The run lowers it further when the
 *  process may not open that many descriptors. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_concurrency(kmsdiag_probe_t *p,
                                                           unsigned n);
/*! Port for targets added without one (default 1688); 1..65535. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_default_port(kmsdiag_probe_t *p,
                                                            uint16_t port);
/*! DNS servers for host names, as c-ares CSV "ADDR[:PORT],..." ("[v6]:port"
 *  for IPv6 with a port); NULL restores the system resolver. Copied. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_dns_servers(kmsdiag_probe_t *p,
                                                           const char *csv);
/*! How long the tcp stage (when it is the last stage) watches an accepted
 *  connection for an immediate close, 0..timeout ms (default 200). */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_close_watch_ms(
    kmsdiag_probe_t *p, unsigned ms);

/* kms stage options. */

/*! The client machine ID sent in the request. Copied. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_cmid(kmsdiag_probe_t *p,
                                                    const kmsdiag_guid_t *cmid);
/*! Workstation name (UTF-8, at most 63 characters). Copied. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_workstation(kmsdiag_probe_t *p,
                                                           const char *name);
/*! The product to request: application ID, SKU (activation) ID, KMS
 *  counted ID, its N-policy threshold (clients needed) and its own
 *  protocol version (4, 5 or 6). \p name (may be NULL) is for the report.
 *  Copied. Callers normally fill these from kmsdiag_products.h. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_product_ids(
    kmsdiag_probe_t *p, const char *name, const kmsdiag_guid_t *app_id,
    const kmsdiag_guid_t *sku_id, const kmsdiag_guid_t *kms_id,
    uint32_t n_policy, unsigned protocol);
/*! The product to request, from the product table (kmsdiag_products.h):
 *  its IDs, threshold and protocol, and the ePID of the answer is checked
 *  against it ("can this host key activate it?"). Borrowed: the table is
 *  static. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_product(
    kmsdiag_probe_t *p, const kmsdiag_product_t *product);
/*! Force the protocol version (4, 5, 6), or 0 for the product's own. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_protocol(kmsdiag_probe_t *p,
                                                        unsigned major);
/*! Our clock for the request, as Unix seconds; 0 (default) means the real
 *  clock. For tests and for "what if my clock were off" checks. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_set_client_time(kmsdiag_probe_t *p,
                                                           int64_t unix_sec);

/* ---- targets --------------------------------------------------------- */

/*! Add a target: \p host is a DNS name or an IPv4/IPv6 literal (no
 *  brackets); \p port 0 means the default port. \p index (may be NULL)
 *  receives its position. Copied. Not allowed during a run. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_add_target(kmsdiag_probe_t *p,
                                                      const char *host,
                                                      uint16_t port,
                                                      size_t *index);
/*! Add a target written "HOST", "HOST:PORT", "V6ADDR" or "[V6ADDR]:PORT".
 *  \return KMSDIAG_EPARSE for a malformed spec. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_add_target_spec(kmsdiag_probe_t *p,
                                                           const char *spec,
                                                           size_t *index);
/*! Add a target whose addresses are already known (for example from an
 *  SRV answer): \p label is what the result reports as its host, \p
 *  addresses are IPv4/IPv6 literals tried in order (at most 8 are kept),
 *  \p port 0 means the default port. With \p n 0 the label is resolved
 *  like any host name. Copied. \return KMSDIAG_EPARSE for an address that
 *  is not a literal. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_add_target_resolved(
    kmsdiag_probe_t *p, const char *label, uint16_t port,
    const char *const *addresses, size_t n, size_t *index);
/*! Discover targets through DNS inside the run, in the same event loop as
 *  the probes: the SRV lookup of "_vlmcs._tcp.<domain>" goes through \p
 *  dns (borrowed: configured by the caller, it must outlive the run and
 *  not be driven by anyone else meanwhile), and every SRV target of the
 *  answer (target not ".") becomes a target with the record's port and
 *  addresses, in client order, appended after the targets added before,
 *  domain after domain in the order they were added. \p domain NULL
 *  records the "no domain" outcome (0x8007007B, no query). \p source is a
 *  static label ("argument", "primary-suffix", ...; NULL = "argument").
 *  Copied. At most 256 domains. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_add_domain(kmsdiag_probe_t *p,
                                                      kmsdiag_dns_t *dns,
                                                      const char *domain,
                                                      const char *source);
/*! Domains added, and after the run the outcome of each lookup (borrowed,
 *  valid until the prober is freed; NULL before it completed). */
KMSDIAG_API size_t kmsdiag_probe_domain_count(const kmsdiag_probe_t *p);
KMSDIAG_API const kmsdiag_dns_result_t *
kmsdiag_probe_domain_result(const kmsdiag_probe_t *p, size_t index);
/*! Number of targets added (during a run with domains, it grows as their
 *  answers arrive). */
KMSDIAG_API size_t kmsdiag_probe_target_count(const kmsdiag_probe_t *p);

/*! Called once per target as soon as it finishes (completion order, not
 *  target order), from inside kmsdiag_probe_run(). \p r is borrowed. */
typedef void (*kmsdiag_probe_result_fn)(const kmsdiag_probe_result_t *r,
                                        size_t index, void *userdata);
KMSDIAG_API void kmsdiag_probe_set_result_callback(kmsdiag_probe_t *p,
                                                   kmsdiag_probe_result_fn fn,
                                                   void *userdata);

/*! Probe every target not probed yet; blocks until all are done. Target
 *  outcomes are in the results, not in the return value.
 *  \return KMSDIAG_OK, KMSDIAG_EINVAL (kms stage without product or CMID),
 *  KMSDIAG_ENOMEM, KMSDIAG_ESYS (poll or resolver setup failed). */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_run(kmsdiag_probe_t *p);

/*! The result of target \p index (NULL when out of range); borrowed, valid
 *  until the prober is freed. Before the run it reads "not run". */
KMSDIAG_API const kmsdiag_probe_result_t *
kmsdiag_probe_result(const kmsdiag_probe_t *p, size_t index);

/* ---- results --------------------------------------------------------- */

/*! The target as given (borrowed string). */
KMSDIAG_API const char *kmsdiag_probe_result_host(const kmsdiag_probe_result_t *r);
/*! The address probed, as text ("" when the name did not resolve). */
KMSDIAG_API const char *kmsdiag_probe_result_address(const kmsdiag_probe_result_t *r);
KMSDIAG_API uint16_t kmsdiag_probe_result_port(const kmsdiag_probe_result_t *r);
/*! Whether the target has been probed. */
KMSDIAG_API bool kmsdiag_probe_result_done(const kmsdiag_probe_result_t *r);
KMSDIAG_API kmsdiag_probe_stage_t
kmsdiag_probe_result_stage_requested(const kmsdiag_probe_result_t *r);
/*! The last stage that passed. */
KMSDIAG_API kmsdiag_probe_stage_t
kmsdiag_probe_result_stage_reached(const kmsdiag_probe_result_t *r);
/*! The stage that failed (STAGE_NONE also when resolution failed or all
 *  passed; see ok()). */
KMSDIAG_API kmsdiag_probe_stage_t
kmsdiag_probe_result_stage_failed(const kmsdiag_probe_result_t *r);
/*! Every requested stage passed and, for kms, the host would activate. */
KMSDIAG_API bool kmsdiag_probe_result_ok(const kmsdiag_probe_result_t *r);
/*! Why the failing stage failed (KMSDIAG_OK when ok): ETIMEOUT,
 *  ECONNREFUSED, EUNREACH, ECLOSED, ECONNRESET, EBINDREJECT, ERPCFAULT,
 *  EPROTO, EVERIFY, EKMSREFUSED, EDNS ... */
KMSDIAG_API kmsdiag_status_t
kmsdiag_probe_result_status(const kmsdiag_probe_result_t *r);
/*! The HRESULT a Windows client would show for this host (0 when ok):
 *  0xC004F074 when it fails at tcp or rpc (once every host has failed),
 *  the host's own HRESULT for a refusal, 0xC004F038 for a count below the
 *  threshold, 0xC004F06C for a time skew over 4 hours. */
KMSDIAG_API uint32_t kmsdiag_probe_result_hresult(const kmsdiag_probe_result_t *r);
/*! The per-host code behind it, as in the client's event 12288 (e.g.
 *  0x800706BA for an unreachable RPC server), or 0. */
KMSDIAG_API uint32_t kmsdiag_probe_result_detail_hresult(const kmsdiag_probe_result_t *r);
/*! One line saying what happened (borrowed; may quote peer bytes only in
 *  escaped form). */
KMSDIAG_API const char *kmsdiag_probe_result_message(const kmsdiag_probe_result_t *r);
/*! Milliseconds spent in \p stage (STAGE_NONE = name resolution), or a
 *  negative value when it did not run. */
KMSDIAG_API double kmsdiag_probe_result_stage_ms(const kmsdiag_probe_result_t *r,
                                                kmsdiag_probe_stage_t stage);

/*! The addresses the tcp stage tried, in order (a name may have several:
 *  IPv4 and IPv6, or several hosts). A connect that gets no answer gets a
 *  share of the stage's timeout (the time left divided by the addresses
 *  left) and then the next address is tried, as is one that fails at
 *  once; the stage stops at the first address that connects. 0 when no
 *  address was tried (the name did not resolve). */
KMSDIAG_API size_t kmsdiag_probe_result_attempt_count(
    const kmsdiag_probe_result_t *r);
/*! Attempt \p i: its address as text (borrowed, valid until the prober is
 *  freed), its outcome (KMSDIAG_OK connected, ETIMEOUT, ECONNREFUSED,
 *  EUNREACH, ...) and the milliseconds it took; each out-parameter may be
 *  NULL. \return false when \p i is out of range. */
KMSDIAG_API bool kmsdiag_probe_result_attempt(const kmsdiag_probe_result_t *r,
                                              size_t i, const char **address,
                                              kmsdiag_status_t *status,
                                              double *ms);

/* rpc stage details (valid once the bind got an answer). */
KMSDIAG_API bool kmsdiag_probe_result_ndr32(const kmsdiag_probe_result_t *r);
KMSDIAG_API bool kmsdiag_probe_result_ndr64(const kmsdiag_probe_result_t *r);
/*! Bind time feature negotiation: true when acknowledged; the accepted
 *  feature bits in \p features (may be NULL). */
KMSDIAG_API bool kmsdiag_probe_result_btfn(const kmsdiag_probe_result_t *r,
                                           uint16_t *features);
/*! The RPC status of a fault PDU, or the reject reason of a bind_nak;
 *  0 otherwise. */
KMSDIAG_API uint32_t kmsdiag_probe_result_rpc_status(const kmsdiag_probe_result_t *r);

/* kms stage details (valid when has_kms()). */
KMSDIAG_API bool kmsdiag_probe_result_has_kms(const kmsdiag_probe_result_t *r);
/*! Protocol major version requested. */
KMSDIAG_API unsigned kmsdiag_probe_result_protocol(const kmsdiag_probe_result_t *r);
/*! The host's ePID as UTF-8 (untrusted: escape before showing), or NULL. */
KMSDIAG_API const char *kmsdiag_probe_result_epid(const kmsdiag_probe_result_t *r);
/*! The V6 hardware ID into \p out; false when none (V4/V5). */
KMSDIAG_API bool kmsdiag_probe_result_hwid(const kmsdiag_probe_result_t *r,
                                           uint8_t out[8]);
KMSDIAG_API uint32_t kmsdiag_probe_result_count(const kmsdiag_probe_result_t *r);
KMSDIAG_API uint32_t kmsdiag_probe_result_threshold(const kmsdiag_probe_result_t *r);
KMSDIAG_API uint32_t kmsdiag_probe_result_activation_interval(const kmsdiag_probe_result_t *r);
KMSDIAG_API uint32_t kmsdiag_probe_result_renewal_interval(const kmsdiag_probe_result_t *r);
/*! Whether the response passed every verification check. */
KMSDIAG_API bool kmsdiag_probe_result_verified(const kmsdiag_probe_result_t *r);
/*! The host's ePID taken apart (host OS, group, host key), or NULL;
 *  borrowed. */
KMSDIAG_API const kmsdiag_epid_t *
kmsdiag_probe_result_epid_info(const kmsdiag_probe_result_t *r);
/*! Whether that host key can activate the requested product (needs
 *  kmsdiag_probe_set_product()); false when not known. */
KMSDIAG_API bool kmsdiag_probe_result_can_activate(
    const kmsdiag_probe_result_t *r, kmsdiag_activation_verdict_t *out);
/*! Seconds between the time in the response and our clock at receipt. */
KMSDIAG_API int64_t kmsdiag_probe_result_time_skew(const kmsdiag_probe_result_t *r);

/*! Write one JSON object describing \p r (type "probe") into \p j, at the
 *  top level (then call kmsdiag_json_endline) or, with \p key, as a
 *  member. Keys: type, host, address, port, stage, stage_reached,
 *  stage_failed ("resolve", "tcp", "rpc", "kms" or null), ok, status,
 *  hresult, hresult_name and hresult_message (from the error catalogue),
 *  detail_hresult, detail_name, message, resolve_ms,
 *  tcp_ms, rpc_ms, kms_ms, addresses_tried (an array of {address, status,
 *  ms}, one per connect attempt), ndr32, ndr64, btfn, btfn_features, rpc_status,
 *  and for the kms stage protocol, epid, hwid, count, threshold,
 *  activation_interval, renewal_interval, verified, verification,
 *  time_skew_s, epid_info, can_activate. */
KMSDIAG_API void kmsdiag_probe_result_write_json(const kmsdiag_probe_result_t *r,
                                                 kmsdiag_json_t *j,
                                                 const char *key);

/* ---- the stable CMID ------------------------------------------------- */

/*! The state file path: $XDG_STATE_HOME/kmsdiag/cmid, else
 *  $HOME/.local/state/kmsdiag/cmid. \return a string to free(), or NULL
 *  (no usable environment, or out of memory). */
KMSDIAG_API char *kmsdiag_probe_cmid_path(void);
/*! Read the CMID kept in \p path (NULL: kmsdiag_probe_cmid_path()), or
 *  generate a random version-4 one and store it there (directories 0700,
 *  file 0600, written atomically). \p created (may be NULL) tells which.
 *  \return KMSDIAG_OK, KMSDIAG_EPARSE (file holds no GUID), KMSDIAG_EIO,
 *  KMSDIAG_ESYS. */
KMSDIAG_API kmsdiag_status_t kmsdiag_probe_cmid_load(const char *path,
                                                     kmsdiag_guid_t *out,
                                                     bool *created);

#ifdef __cplusplus
}
#endif
#endif
