/* kmsdiag_zone.h: check KMS SRV records in DNS master files (RFC 1035
 * zone files) before rollout, offline and optionally against a live server.
 *
 * The file is read record by record with ldns ($ORIGIN, $TTL, multi-line
 * records); a syntax error becomes a finding with its line number and
 * checking goes on with the next record. Every "_vlmcs" record and every
 * name that looks like one (near-miss labels such as _vmlcs or _v1mcs,
 * _udp instead of _tcp) is checked: SRV field count and ranges, port,
 * missing trailing dots, targets that are CNAMEs or have no address in the
 * zone, targets outside the zone (not checkable offline), TTLs, .local and
 * single-label names. With a live server the same names, the zone's own
 * _vlmcs._tcp name and the addresses of in-zone targets are queried, and
 * differences between the file and what the server serves are findings. */
#ifndef KMSDIAG_ZONE_H
#define KMSDIAG_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_dns.h>
#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_status.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! One finding. Strings are owned by the report; \c rule is a stable
 *  kebab-case id in static storage; \c message and \c name may quote the
 *  (untrusted) file: escape them before printing. */
typedef struct kmsdiag_zone_finding {
  char *file;                      /*!< as given to the check */
  unsigned long line;              /*!< 1-based; 0 = the file as a whole */
  kmsdiag_dns_severity_t severity; /*!< error, warning or info */
  const char *rule;
  char *message;
  char *name;                      /*!< owner name concerned, or NULL */
} kmsdiag_zone_finding_t;

/*! The findings of one file, in line order (file-wide findings last). */
typedef struct kmsdiag_zone_report {
  kmsdiag_zone_finding_t *findings; /*!< owned array of \c count */
  size_t count;
  size_t errors, warnings, infos;
  size_t records;       /*!< resource records read */
  size_t kms_records;   /*!< SRV records checked as KMS records */
  size_t live_queries;  /*!< names compared with the live server (SRV
                             owners, origins, in-zone targets) */
  char *origin;         /*!< zone apex used for in-zone checks, or NULL */
} kmsdiag_zone_report_t;

/*! Free a report; NULL is fine. */
KMSDIAG_API void kmsdiag_zone_report_free(kmsdiag_zone_report_t *r);

/*! Opaque checker with its settings. */
typedef struct kmsdiag_zone_check kmsdiag_zone_check_t;

/*! \param[out] out to kmsdiag_zone_check_free(). \return OK or ENOMEM. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_zone_check_new(kmsdiag_zone_check_t **out);
/*! NULL is fine. Does not free a context given to set_live. */
KMSDIAG_API void kmsdiag_zone_check_free(kmsdiag_zone_check_t *c);

/*! Origin for relative names before any $ORIGIN line (like the zone name
 *  given to named-checkzone). NULL: none; relative names are then errors
 *  unless the file sets $ORIGIN. \return OK, EPARSE (not a name), ENOMEM. */
KMSDIAG_API kmsdiag_status_t
kmsdiag_zone_check_set_origin(kmsdiag_zone_check_t *c, const char *origin);

/*! Compare with a live server through \p dns (borrowed; its servers,
 *  timeout and tries are used; must outlive the checks):
 *  - every KMS-like owner name of the file, with or without SRV records in
 *    the file, is queried for SRV and the sets compared (live-missing,
 *    live-extra, live-ttl);
 *  - _vlmcs._tcp at the zone apex and at every $ORIGIN of the file, when
 *    the file has no record there: SRV records the server serves at such a
 *    name are live-extra-name;
 *  - the A and AAAA records of every SRV target inside the zone (not
 *    delegated, not an alias in the file) are queried and compared with
 *    the file's (live-address-missing, live-address-extra);
 *  - live-refused, live-no-answer when the server does not answer usefully.
 *  The report's live_queries counts the names queried. The checker runs
 *  \p dns's event loop (it must have no lookups of its own pending) and
 *  turns its follow-up queries off (kmsdiag_dns_set_follow_up). NULL turns
 *  live checks off. */
KMSDIAG_API void kmsdiag_zone_check_set_live(kmsdiag_zone_check_t *c,
                                             kmsdiag_dns_t *dns);

/*! Check one zone file. \param[out] out the report, to
 *  kmsdiag_zone_report_free(), set on OK. \return OK (findings, even
 *  errors, are in the report), EIO (cannot be read: *out is NULL, errno
 *  tells why), ETOOBIG (larger than 64 MiB), ENOMEM, EINVAL. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_zone_check_file(kmsdiag_zone_check_t *c, const char *path,
                        kmsdiag_zone_report_t **out);

/*! Check zone text held in memory; \p name labels the findings. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_zone_check_buffer(kmsdiag_zone_check_t *c, const char *name,
                          const void *data, size_t len,
                          kmsdiag_zone_report_t **out);

/*! Write one finding as a JSON object (no line end) with the keys type
 *  ("finding"), file, line, severity, rule, message, name. */
KMSDIAG_API void kmsdiag_zone_finding_write_json(
    kmsdiag_json_t *j, const kmsdiag_zone_finding_t *f);

#ifdef __cplusplus
}
#endif
#endif
