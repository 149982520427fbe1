/* kmsdiag_doctor.h: walk a KMS client's whole activation path and say
 * what is wrong, with evidence and the fix.
 *
 * The doctor follows the client (windows-kms-facts.md sections 1 and 1.4):
 *
 *   slmgr text  (optional) channel of the installed key, pinned host
 *               (/skms), lookup domain (/skms-domain), cached host, CMID,
 *               last error;
 *   resolver    primary DNS suffix and search list (none: 0x8007007B);
 *   srv         "_vlmcs._tcp.<domain>" per domain (0x8007232B, 0x8007251D,
 *               0x8007232A), every target and its addresses;
 *   probe       tcp, rpc and (opt-in) kms stages on every address of every
 *               target, or on the pinned host, which overrides DNS;
 *   product     its threshold (N-policy) and which host keys activate it;
 *               with the kms stage the host's count and its key (ePID).
 *
 * Every step adds checks (OK / WARN / FAIL / INFO with evidence and the
 * HRESULT it implies); nothing is skipped silently. Then one verdict: the
 * code the client shows (or would show), what it means, the cause found
 * and the ordered fix with commands.
 *
 *   kmsdiag_doctor_t *d;
 *   kmsdiag_doctor_new(&d);
 *   kmsdiag_doctor_set_domain(d, "corp.example");
 *   kmsdiag_doctor_run(d);
 *   for (size_t i = 0; i < kmsdiag_doctor_check_count(d); i++) ...
 *   const kmsdiag_doctor_verdict_t *v = kmsdiag_doctor_verdict(d);
 *   kmsdiag_doctor_free(d);
 *
 * Network traffic: DNS queries to the configured servers and TCP to the
 * targets on their KMS port. The kms stage sends one activation request
 * (it counts the probe's CMID on the host; see kmsdiag_probe.h).
 *
 * Ownership: setters copy their arguments, except kmsdiag_doctor_set_slmgr()
 * which borrows. Checks, verdict and every string in them are owned by the
 * doctor and valid until the next run or kmsdiag_doctor_free(). Strings may
 * quote untrusted names (DNS answers, pasted text): escape before printing.
 * A doctor must not be used from two threads at once. */
#ifndef KMSDIAG_DOCTOR_H
#define KMSDIAG_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_slmgr.h>
#include <kmsdiag/kmsdiag_status.h>
#include <kmsdiag/kmsdiag_types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! Outcome of one check. */
typedef enum kmsdiag_doctor_status {
  KMSDIAG_DOCTOR_OK = 0,
  KMSDIAG_DOCTOR_WARN = 1,  /*!< a problem that does not stop activation
                                 by itself (stale record beside a good
                                 one, odd record, unverifiable fact) */
  KMSDIAG_DOCTOR_FAIL = 2,  /*!< this step fails */
  KMSDIAG_DOCTOR_INFO = 3   /*!< context: what was used, what was not run
                                 and why */
} kmsdiag_doctor_status_t;

/*! "OK", "WARN", "FAIL", "INFO" (static). */
KMSDIAG_API const char *kmsdiag_doctor_status_name(kmsdiag_doctor_status_t s);

/*! One check. Check names are stable snake_case identifiers:
 *  slmgr_input, license_channel, license_status, cmid, client_last_error,
 *  pinned_host, cached_host, resolver_config, srv_lookup, srv_record,
 *  srv_target, resolve, tcp, rpc, kms, product, threshold, host_key,
 *  clock. */
typedef struct kmsdiag_doctor_check {
  const char *name;
  kmsdiag_doctor_status_t status;
  const char *subject;   /*!< what it is about ("_vlmcs._tcp.corp.example.",
                              "kms01.corp.example. 10.0.0.5:1688"), or NULL */
  const char *evidence;  /*!< what was seen, English, one line */
  uint32_t hresult;      /*!< the code this finding implies, 0 for none */
} kmsdiag_doctor_check_t;

/*! The conclusion. */
typedef struct kmsdiag_doctor_verdict {
  bool healthy;          /*!< the client can activate */
  bool warnings;         /*!< some check is WARN or FAIL */
  uint32_t hresult;      /*!< the code the client shows or would show;
                              0 when healthy or when no KMS code applies
                              (a key that does not use KMS) */
  const char *name;      /*!< symbolic name of \c hresult, or NULL */
  const char *meaning;   /*!< what the code means */
  const char *cause;     /*!< the cause found, with the evidence */
  const char *check;     /*!< name of the check that decided */
  const char *const *fixes; /*!< ordered steps, commands included */
  size_t nfixes;
} kmsdiag_doctor_verdict_t;

/*! Opaque doctor: options, then after a run the checks and the verdict. */
typedef struct kmsdiag_doctor kmsdiag_doctor_t;

/*! \param[out] out free with kmsdiag_doctor_free().
 *  \return KMSDIAG_OK, KMSDIAG_EINVAL, KMSDIAG_ENOMEM. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_doctor_new(kmsdiag_doctor_t **out);
/*! NULL is fine. Does not free a kmsdiag_slmgr_t given to it. */
KMSDIAG_API void kmsdiag_doctor_free(kmsdiag_doctor_t *d);

/*! Search this domain instead of the resolver's suffix and search list
 *  (NULL: back to the resolver configuration). Copied. */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_set_domain(kmsdiag_doctor_t *d,
                                                       const char *domain);
/*! Probe this host ("HOST", "HOST:PORT", "[V6]:PORT") instead of
 *  discovering hosts, as slmgr /skms does. NULL clears. Copied.
 *  \return KMSDIAG_EPARSE for a malformed spec. */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_set_host(kmsdiag_doctor_t *d,
                                                     const char *spec);
/*! DNS servers to ask ("ADDR[:PORT]" list, as kmsdiag_dns_set_servers()),
 *  NULL for the resolver configuration. Copied. */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_set_dns_servers(kmsdiag_doctor_t *d,
                                                            const char *list);
/*! Resolver configuration file to read instead of /etc/resolv.conf (or
 *  KMSDIAG_RESOLV_CONF). NULL restores the default. Copied. */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_set_resolv_conf(kmsdiag_doctor_t *d,
                                                            const char *path);
/*! The product the client activates, by anything kmsdiag_product_find()
 *  accepts (name, SKU ID, GVLK). NULL: from the slmgr text's Activation
 *  ID, else kmsdiag_product_default(). Copied; resolved by the run.
 *  \return KMSDIAG_OK; the run reports an unknown or ambiguous name. */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_set_product(kmsdiag_doctor_t *d,
                                                        const char *name);
/*! Last probe stage: KMSDIAG_PROBE_STAGE_RPC (default) or _KMS, as the
 *  numbers 2 and 3 of kmsdiag_probe_stage_t (1, tcp, is accepted too). */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_set_stage(kmsdiag_doctor_t *d,
                                                      int stage);
/*! Timeout of each DNS try and each probe stage, 10..600000 ms
 *  (default 2000). */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_set_timeout_ms(kmsdiag_doctor_t *d,
                                                           unsigned ms);
/*! The CMID the kms stage sends (required for it). Copied. */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_set_cmid(kmsdiag_doctor_t *d,
                                                     const kmsdiag_guid_t *cmid);
/*! Parsed slmgr /dlv text of the client (borrowed: keep it alive until
 *  the doctor is freed or given another; NULL clears). */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_set_slmgr(kmsdiag_doctor_t *d,
                                                      const kmsdiag_slmgr_t *s);

/*! Walk the path. Problems found are in the checks and the verdict, not
 *  in the return value. \return KMSDIAG_OK, KMSDIAG_ENOMEM, KMSDIAG_ESYS
 *  (the DNS or probe event loop failed), KMSDIAG_EINVAL. */
KMSDIAG_API kmsdiag_status_t kmsdiag_doctor_run(kmsdiag_doctor_t *d);

/*! Checks of the last run, in the order they were made. */
KMSDIAG_API size_t kmsdiag_doctor_check_count(const kmsdiag_doctor_t *d);
KMSDIAG_API const kmsdiag_doctor_check_t *
kmsdiag_doctor_check_at(const kmsdiag_doctor_t *d, size_t i);
/*! The verdict of the last run, NULL before a run. */
KMSDIAG_API const kmsdiag_doctor_verdict_t *
kmsdiag_doctor_verdict(const kmsdiag_doctor_t *d);

/*! One top-level JSON object: type "check", name, status ("ok", "warn",
 *  "fail", "info"), subject, evidence, hresult ("0x%08X" or null).
 *  \return kmsdiag_json_status(j). */
KMSDIAG_API kmsdiag_status_t
kmsdiag_doctor_check_write_json(const kmsdiag_doctor_check_t *c,
                                kmsdiag_json_t *j);
/*! One top-level JSON object: type "verdict", healthy, warnings, hresult
 *  ("0x%08X" or null), name, meaning, cause, check, fixes [strings]. */
KMSDIAG_API kmsdiag_status_t
kmsdiag_doctor_verdict_write_json(const kmsdiag_doctor_verdict_t *v,
                                  kmsdiag_json_t *j);

#ifdef __cplusplus
}
#endif
#endif
