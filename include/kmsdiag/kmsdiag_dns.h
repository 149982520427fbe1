/* kmsdiag_dns.h: KMS host discovery through DNS SRV records, the way a
 * Windows KMS client does it (windows-kms-facts.md section 1).
 *
 * A Windows KMS client without a pinned host (slmgr /skms) queries
 * "_vlmcs._tcp.<suffix>" for type SRV, with its primary DNS suffix and then
 * the suffixes of its search list; with no suffix at all it sends no query
 * and fails with 0x8007007B. The hosts of the answer are tried in RFC 2782
 * order: priority ascending, weighted random choice within one priority.
 *
 * Transport: c-ares (servers, retries, timeouts, many queries in flight in
 * one event loop; a truncated UDP answer is retried over TCP and reported).
 * Parsing: ldns, so rcode, AA/TC/AD flags, TTLs, the authority SOA and the
 * additional section are all visible in the result.
 *
 * Two ways to use it:
 *  - blocking: kmsdiag_dns_lookup() runs N domains in one event loop and
 *    returns all results;
 *  - event loop integration: kmsdiag_dns_start() queues a lookup with a
 *    completion callback; the caller polls the descriptors from
 *    kmsdiag_dns_fds(), waits at most kmsdiag_dns_next_timeout_ms() and
 *    calls kmsdiag_dns_process() for each ready descriptor (and once after
 *    a timeout). kmsdiag_dns_run() is that loop for callers without one.
 *
 * A context is not thread-safe; use one per thread. kmsdiag_dns_new() and
 * kmsdiag_dns_free() initialise and release c-ares's library state, which
 * c-ares 1.18 does not guard: create and free contexts from one thread.
 *
 * Event loop sketch (what kmsdiag_dns_run() does):
 *
 *   kmsdiag_dns_start(d, "corp.example", NULL, 0, on_done, ctx);
 *   while (kmsdiag_dns_pending(d) > 0) {
 *     kmsdiag_dns_fd_t f[16];
 *     size_t n = kmsdiag_dns_fds(d, f, 16);       (also starts queued work)
 *     ... poll() those fds (plus your own) for at most
 *         kmsdiag_dns_next_timeout_ms(d) ...
 *     for each ready DNS fd: kmsdiag_dns_process(d, fd, readable, writable);
 *     on a timeout:          kmsdiag_dns_process(d, -1, false, false);
 *   }
 *
 * Descriptors come and go between calls; ask kmsdiag_dns_fds() again each
 * round. Completion callbacks run only inside kmsdiag_dns_process() and
 * kmsdiag_dns_run(); a callback may start new lookups but must not free
 * the context. */
#ifndef KMSDIAG_DNS_H
#define KMSDIAG_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- HRESULTs a KMS client shows for the DNS step (facts 1.4, 3) ------- */
#define KMSDIAG_HR_OK 0x00000000u
/*! No DNS suffix or an invalid name: no query sent (ERROR_INVALID_NAME). */
#define KMSDIAG_HR_DNS_INVALID_NAME 0x8007007Bu
/*! The SRV name does not exist: NXDOMAIN (DNS_ERROR_RCODE_NAME_ERROR). */
#define KMSDIAG_HR_DNS_NAME_ERROR 0x8007232Bu
/*! The name exists but has no SRV data (DNS_INFO_NO_RECORDS). */
#define KMSDIAG_HR_DNS_NO_RECORDS 0x8007251Du
/*! Server failure or no usable answer (DNS_ERROR_RCODE_SERVER_FAILURE). */
#define KMSDIAG_HR_DNS_SERVER_FAILURE 0x8007232Au

/*! SRV records were found but none is usable (target ".", port 0, or no
 *  address): the client has no host to contact and ends with
 *  SL_E_VL_BINDING_SERVICE_UNAVAILABLE, as when every host failed. */
#define KMSDIAG_HR_DNS_NO_USABLE_HOST 0xC004F074u

/*! The standard KMS TCP port. */
#define KMSDIAG_KMS_PORT 1688

/* ---- results ----------------------------------------------------------- */

typedef enum kmsdiag_dns_severity {
  KMSDIAG_DNS_INFO = 0,
  KMSDIAG_DNS_WARNING = 1,
  KMSDIAG_DNS_ERROR = 2
} kmsdiag_dns_severity_t;

/*! "info", "warning" or "error". */
KMSDIAG_API const char *kmsdiag_dns_severity_name(kmsdiag_dns_severity_t s);

/*! A finding about a lookup. \c rule is a stable kebab-case id (static
 *  storage); \c message is English text owned by the result and may quote
 *  names from the answer (escape it before printing). */
typedef struct kmsdiag_dns_problem {
  kmsdiag_dns_severity_t severity;
  const char *rule;
  char *message;
} kmsdiag_dns_problem_t;

/*! One address of an SRV target. */
typedef struct kmsdiag_dns_addr {
  int family;        /*!< AF_INET or AF_INET6 */
  uint8_t addr[16];  /*!< 4 or 16 bytes in network order */
  uint32_t ttl;
  char text[48];     /*!< numeric text form */
} kmsdiag_dns_addr_t;

/*! One SRV record with what is known about its target. */
typedef struct kmsdiag_dns_srv {
  char *target;       /*!< presentation form, absolute ("kms.example."),
                           "." for "service not available"; owned */
  uint16_t priority;
  uint16_t weight;
  uint16_t port;
  uint32_t ttl;
  kmsdiag_dns_addr_t *addrs; /*!< owned array of \c naddrs */
  size_t naddrs;
  bool addrs_from_additional; /*!< addresses came with the SRV answer */
  bool addrs_queried;         /*!< A/AAAA queries were sent for it */
  bool target_is_cname;       /*!< an A/AAAA query met a CNAME */
  char *cname;                /*!< where the CNAME points, or NULL; owned */
} kmsdiag_dns_srv_t;

/*! The outcome for one queried name.
 *
 *  \c status is KMSDIAG_OK when an answer was received and parsed (whatever
 *  its rcode); otherwise the transport or parse failure (ETIMEOUT,
 *  ECONNREFUSED, EMALFORMED, ETRUNC, EDNS, EINVAL for an invalid name) with
 *  details in \c error. \c hresult is what the KMS client would report for
 *  this step (kmsdiag_dns_hresult()). Records are in one possible client
 *  order (RFC 2782). */
typedef struct kmsdiag_dns_result {
  char *domain;       /*!< the domain searched, as given; NULL when there
                           was none (no-domain) */
  const char *source; /*!< "argument", "primary-suffix", "search-list",
                           "exact-name" or "wire" (static) */
  char *qname;        /*!< the name queried (absolute), or NULL */
  uint16_t qtype;     /*!< 33 (SRV) for lookups; from the packet for
                           kmsdiag_dns_parse_srv_answer() */
  kmsdiag_status_t status;
  char *error;        /*!< text when status != OK (names what and where);
                           NULL otherwise */
  bool answered;      /*!< a DNS answer was received and parsed */
  bool is_response;   /*!< QR bit (wire parser; true for lookups) */
  uint16_t id;        /*!< DNS message id */
  int rcode;          /*!< DNS rcode, -1 without an answer */
  bool aa, tc, ad, ra; /*!< header flags of the (final) answer */
  bool truncated_udp; /*!< the UDP answer had TC set */
  bool via_tcp;       /*!< the final answer came over TCP */
  char server[64];    /*!< "ADDR:PORT" / "[ADDR]:PORT" that answered,
                           "" when unknown or none answered */
  uint32_t hresult;
  unsigned answer_count, authority_count, additional_count;
  bool has_soa;       /*!< an SOA was in the authority section */
  char *soa_zone;     /*!< its owner name (owned), or NULL */
  uint32_t soa_ttl, soa_minimum; /*!< negative caching: min(ttl, minimum) */
  kmsdiag_dns_srv_t *records; /*!< owned array of \c nrecords */
  size_t nrecords;
  size_t usable;      /*!< records a client could try: target not ".",
                           port not 0, and addresses known unless
                           resolution was off */
  kmsdiag_dns_problem_t *problems; /*!< owned array of \c nproblems */
  size_t nproblems;
  unsigned elapsed_ms; /*!< from first send to completion */
  unsigned mismatched_replies; /*!< UDP replies to the SRV query that the
                           transport dropped because they do not match it
                           (wrong id, other question, shorter than a
                           header); with no valid answer the result says
                           so instead of reporting silence */
} kmsdiag_dns_result_t;

/*! A set of results in query order. */
typedef struct kmsdiag_dns_results {
  kmsdiag_dns_result_t **items; /*!< owned */
  size_t count;
} kmsdiag_dns_results_t;

/*! Free one result and all it owns; NULL is fine. */
KMSDIAG_API void kmsdiag_dns_result_free(kmsdiag_dns_result_t *r);
/*! Free a result set and every result in it; NULL is fine. */
KMSDIAG_API void kmsdiag_dns_results_free(kmsdiag_dns_results_t *rs);

/*! "NOERROR", "NXDOMAIN", ... or "RCODE<n>"; "none" for -1. Static. */
KMSDIAG_API const char *kmsdiag_dns_rcode_name(int rcode);

/*! The HRESULT a KMS client reports for a DNS outcome.
 *  \param status KMSDIAG_OK when an answer was received; ETIMEOUT,
 *         ECONNREFUSED, EMALFORMED... when not; EINVAL for no/invalid name.
 *  \param rcode the answer's rcode (ignored unless status is OK).
 *  \param nsrv SRV records in the answer for the queried name.
 *  \return 0 with records (a lookup result whose records are all unusable
 *  carries KMSDIAG_HR_DNS_NO_USABLE_HOST instead); 0x8007007B invalid or
 *  missing name; 0x8007232B
 *  NXDOMAIN; 0x8007251D NOERROR without SRV data; 0x8007232A SERVFAIL, no
 *  answer or an unusable answer; other rcodes map like SERVFAIL and
 *  NXDOMAIN do, 0x80070000 | (9000 + rcode) (DNS_ERROR_RCODE_*). */
KMSDIAG_API uint32_t kmsdiag_dns_hresult(kmsdiag_status_t status, int rcode,
                                         size_t nsrv);

/*! Short English text for an HRESULT of kmsdiag_dns_hresult(). Static. */
KMSDIAG_API const char *kmsdiag_dns_hresult_message(uint32_t hr);

/*! Random source for the weighted choice: returns a uniformly distributed
 *  32-bit value. */
typedef uint32_t (*kmsdiag_dns_rand_fn)(void *userdata);

/*! Put \p n records into RFC 2782 order in place: priority ascending;
 *  within a priority, the records are first put in a random order (weight-0
 *  records then moved to the front, as RFC 2782 says), then a record is
 *  picked repeatedly with probability proportional to its weight over the
 *  running sum (weight-0 records are picked rarely but can be). Records of
 *  equal weight are thus equally likely to come first; when all weights
 *  are 0 the order is a uniform random permutation. The result depends
 *  only on the set and the draws, not on the order of the input. \p rnd
 *  NULL uses a fixed-seed generator, so the same input always gives the
 *  same order. */
KMSDIAG_API void kmsdiag_dns_order_srv(kmsdiag_dns_srv_t *recs, size_t n,
                                       kmsdiag_dns_rand_fn rnd,
                                       void *userdata);

/*! Parse a raw DNS message (e.g. seen in a capture) into a result.
 *
 *  The message is parsed with ldns; SRV records for the question name are
 *  collected and ordered (fixed seed unless \p rnd is given), addresses for
 *  their targets are taken from the additional section, rcode/flags/SOA are
 *  filled in, and the problems of the record set are listed. A query (QR=0)
 *  gives a result with is_response false and no records.
 *
 *  \param[out] out set to a new result to kmsdiag_dns_result_free() on
 *  KMSDIAG_OK, and also on KMSDIAG_EMALFORMED / KMSDIAG_ETRUNC, where
 *  out->error names what is wrong and where (section, record, offset).
 *  \return KMSDIAG_OK, EMALFORMED, ETRUNC, EINVAL (NULL args), ENOMEM. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_dns_parse_srv_answer(const uint8_t *wire, size_t len,
                             kmsdiag_dns_rand_fn rnd, void *userdata,
                             kmsdiag_dns_result_t **out);

/*! Write \p r as one JSON object (no line end) with the keys: type
 *  ("srv_lookup"), domain, source, qname, status, error, rcode, hresult,
 *  hresult_message, server, transport, truncated_udp, flags {aa,tc,ad,ra},
 *  counts, soa, records [{order, target, port, priority, weight, ttl,
 *  cname, addresses_from, addresses [{address, family, ttl}]}],
 *  usable_hosts, problems [{severity, rule, message}], mismatched_replies,
 *  elapsed_ms. Untrusted names are escaped by the writer. */
KMSDIAG_API void kmsdiag_dns_result_write_json(kmsdiag_json_t *j,
                                               const kmsdiag_dns_result_t *r);

/* ---- discovery context --------------------------------------------------- */

/*! Opaque discovery context: servers, timeouts, domains, c-ares channels. */
typedef struct kmsdiag_dns kmsdiag_dns_t;

/*! Create a context with defaults: servers and domains from the resolver
 *  configuration (see kmsdiag_dns_set_resolv_conf), timeout 2000 ms,
 *  2 tries per server, 128 lookups in flight, target addresses resolved.
 *  The default random source is seeded from the clock and pid, or from
 *  the environment variable KMSDIAG_DNS_SEED (a decimal number) when set,
 *  for reproducible client orders in demos and tests.
 *  \param[out] out must be kmsdiag_dns_free()'d.
 *  \return KMSDIAG_OK, ENOMEM, EDNS (c-ares could not start). */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_dns_new(kmsdiag_dns_t **out);
/*! Free a context; lookups still running are cancelled and their
 *  callbacks are not called. NULL is fine. */
KMSDIAG_API void kmsdiag_dns_free(kmsdiag_dns_t *d);

/*! Use these DNS servers instead of the configured ones: a list separated
 *  by commas or spaces of "ADDR", "ADDR:PORT", "[ADDR6]:PORT" or "ADDR6"
 *  (default port 53). NULL or "" goes back to the resolver configuration.
 *  Only between lookups. \return OK, EPARSE (bad entry, nothing changed),
 *  ETOOBIG (more than 16), ESTATE (lookups running). */
KMSDIAG_API kmsdiag_status_t kmsdiag_dns_set_servers(kmsdiag_dns_t *d,
                                                     const char *list);
/*! Read the resolver configuration (nameserver, domain, search) from
 *  \p path instead of the environment variable KMSDIAG_RESOLV_CONF or
 *  /etc/resolv.conf. The copy is taken; NULL restores the default. */
KMSDIAG_API kmsdiag_status_t kmsdiag_dns_set_resolv_conf(kmsdiag_dns_t *d,
                                                         const char *path);
/*! Time per try in milliseconds (10..600000). */
KMSDIAG_API kmsdiag_status_t kmsdiag_dns_set_timeout_ms(kmsdiag_dns_t *d,
                                                        unsigned ms);
/*! Tries per server (1..10). */
KMSDIAG_API kmsdiag_status_t kmsdiag_dns_set_tries(kmsdiag_dns_t *d,
                                                   unsigned tries);
/*! Most lookups in flight at once (1..4096). */
KMSDIAG_API kmsdiag_status_t kmsdiag_dns_set_max_inflight(kmsdiag_dns_t *d,
                                                          unsigned n);
/*! true (default): query A and AAAA for targets whose addresses were not
 *  in the additional section (and the missing family when the additional
 *  section had only A or only AAAA for a target), and when no usable
 *  record was found, look for records under near-miss names (_vlmcs._udp,
 *  _vmlcs._tcp, _vlmcs.tcp, ...).
 *  false: exactly one SRV query per name and nothing else. */
KMSDIAG_API void kmsdiag_dns_set_follow_up(kmsdiag_dns_t *d, bool on);
/*! Random source for the RFC 2782 weighted order (tests inject one).
 *  NULL restores the default (seeded from the clock and pid). Two values
 *  are drawn from it at the first lookup; each lookup then orders its
 *  records with a generator seeded from those and the name queried, so
 *  with a fixed source a domain's order is the same whatever else is
 *  looked up in the same run and in whatever order answers arrive. */
KMSDIAG_API void kmsdiag_dns_set_random(kmsdiag_dns_t *d,
                                        kmsdiag_dns_rand_fn rnd,
                                        void *userdata);

/*! The domains the client would search, from the resolver configuration:
 *  the "domain" line (primary suffix) first, then the "search" entries,
 *  duplicates removed. \param[out] domains a NULL-terminated array to free
 *  with kmsdiag_dns_strv_free(); empty (just NULL) when none is set.
 *  \param[out] sources optional, parallel static strings "primary-suffix"
 *  or "search-list" (free the array itself with free()).
 *  \return OK, EIO (file unreadable: the list is then empty), ENOMEM. */
KMSDIAG_API kmsdiag_status_t kmsdiag_dns_config_domains(kmsdiag_dns_t *d,
                                                        char ***domains,
                                                        const char ***sources);
/*! Free a NULL-terminated string array; NULL is fine. */
KMSDIAG_API void kmsdiag_dns_strv_free(char **v);

/*! Completion of one lookup. \p r is handed over: free it with
 *  kmsdiag_dns_result_free(). Called from kmsdiag_dns_process() or
 *  kmsdiag_dns_run(), never from kmsdiag_dns_start(). */
typedef void (*kmsdiag_dns_done_fn)(kmsdiag_dns_result_t *r, void *userdata);

/*! Flags for kmsdiag_dns_start(). */
#define KMSDIAG_DNS_EXACT_NAME 0x1u /*!< \p name is the full SRV owner
                                         name, not a domain */

/*! Queue one lookup of "_vlmcs._tcp.<name>" (or of \p name itself with
 *  KMSDIAG_DNS_EXACT_NAME). \p name NULL queues the "no domain" outcome
 *  (0x8007007B, no query sent). An invalid name completes with EINVAL and
 *  0x8007007B. \p source is a static label copied into the result (NULL:
 *  "argument"). The lookup starts when fewer than max_inflight run.
 *  \return OK, ENOMEM, EINVAL (no callback). */
KMSDIAG_API kmsdiag_status_t kmsdiag_dns_start(kmsdiag_dns_t *d,
                                               const char *name,
                                               const char *source,
                                               unsigned flags,
                                               kmsdiag_dns_done_fn cb,
                                               void *userdata);
/*! Lookups queued or running. */
KMSDIAG_API size_t kmsdiag_dns_pending(const kmsdiag_dns_t *d);

/*! A descriptor to watch. */
typedef struct kmsdiag_dns_fd {
  int fd;
  bool want_read;
  bool want_write;
} kmsdiag_dns_fd_t;

/*! Fill up to \p max descriptors to wait on; returns how many there are
 *  (may exceed \p max: call again with more room). Starts queued lookups
 *  first. */
KMSDIAG_API size_t kmsdiag_dns_fds(kmsdiag_dns_t *d, kmsdiag_dns_fd_t *fds,
                                   size_t max);
/*! Milliseconds until kmsdiag_dns_process() must be called even without
 *  activity (retries and timeouts); -1 when nothing is pending. */
KMSDIAG_API int kmsdiag_dns_next_timeout_ms(kmsdiag_dns_t *d);
/*! Handle readiness of \p fd (-1 for none: just run timers). Completion
 *  callbacks run from here. */
KMSDIAG_API void kmsdiag_dns_process(kmsdiag_dns_t *d, int fd, bool readable,
                                     bool writable);
/*! Run the event loop with poll() until nothing is pending.
 *  \return OK or ESYS (poll failed). */
KMSDIAG_API kmsdiag_status_t kmsdiag_dns_run(kmsdiag_dns_t *d);

/*! Blocking lookup of \p n domains, all in flight in one event loop.
 *  \p n == 0 uses the resolver configuration's domain and search list;
 *  when that is empty too, the one result is the "no domain" outcome
 *  (0x8007007B). \param[out] out results in query order, to free with
 *  kmsdiag_dns_results_free(). \return OK (per-domain failures are in the
 *  results), ENOMEM, ESYS, EINVAL. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_dns_lookup(kmsdiag_dns_t *d, const char *const *domains, size_t n,
                   kmsdiag_dns_results_t **out);

#ifdef __cplusplus
}
#endif
#endif
