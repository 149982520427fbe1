/* kmsdiag_slmgr.h: read pasted `slmgr /dlv` (and `/dli`) output.
 *
 * Support engineers are handed the text a Windows client printed: copied
 * from a console, saved by a Windows tool as UTF-16 with a byte order
 * mark, mailed with CRLF line ends, hard-wrapped at the console width,
 * wrapped in banners and junk. This module turns that text into plain
 * fields:
 *
 *   kmsdiag_slmgr_t *s;
 *   if (kmsdiag_slmgr_new(&s) != KMSDIAG_OK) ...;
 *   if (kmsdiag_slmgr_parse(s, text, len) != KMSDIAG_OK)
 *     fprintf(stderr, "line %u: %s\n", kmsdiag_slmgr_error_line(s),
 *             kmsdiag_slmgr_error_text(s));
 *   const kmsdiag_slmgr_product_t *p = kmsdiag_slmgr_primary(s);
 *   if (p && p->pinned_host) ...   (slmgr /skms is set)
 *   kmsdiag_slmgr_free(s);
 *
 * Office's "ospp.vbs /dstatus" output (LICENSE NAME, LICENSE STATUS,
 * ERROR CODE, ...) is read too.
 *
 * Input: UTF-8 (with or without BOM), UTF-16LE or UTF-16BE (with a BOM,
 * or recognised by its zero bytes), CRLF / LF / CR line ends. Labels are
 * the English ones slmgr.vbs prints, matched without regard to case
 * after leading blanks. A line that is not a label and follows a labelled
 * line of at least 40 bytes that is (nearly, within 8 bytes) as long as the
 * longest line of the text is taken as the continuation of a value a
 * console hard-wrapped at its width (the parts are joined without a blank
 * unless one side had one).
 *
 * Limits: KMSDIAG_SLMGR_MAX_INPUT bytes of input, KMSDIAG_SLMGR_MAX_LINES
 * lines, KMSDIAG_SLMGR_MAX_PRODUCTS product blocks; values longer than
 * KMSDIAG_SLMGR_VALUE_MAX bytes are cut (with a warning). Everything read
 * is untrusted text: escape it before showing it (kmsdiag_text_escape(),
 * kmsdiag_json_str()).
 *
 * Ownership: every string and struct returned points into the handle and
 * stays valid until the next kmsdiag_slmgr_parse() on it or
 * kmsdiag_slmgr_free(). One handle must not be used from two threads at
 * once; separate handles are independent. */
#ifndef KMSDIAG_SLMGR_H
#define KMSDIAG_SLMGR_H

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

#define KMSDIAG_SLMGR_MAX_INPUT (1u << 20)  /*!< 1 MiB of raw input */
#define KMSDIAG_SLMGR_MAX_LINES 20000u
#define KMSDIAG_SLMGR_MAX_PRODUCTS 64u
#define KMSDIAG_SLMGR_VALUE_MAX 255u        /*!< bytes kept per value */
#define KMSDIAG_SLMGR_MAX_WARNINGS 64u

/*! The license channel of the installed key. Only KMS clients
 *  (VOLUME_KMSCLIENT, a GVLK) ask a KMS host for activation. */
typedef enum kmsdiag_slmgr_channel {
  KMSDIAG_SLMGR_CHANNEL_UNKNOWN = 0,   /*!< not shown in the text */
  KMSDIAG_SLMGR_CHANNEL_KMSCLIENT = 1, /*!< VOLUME_KMSCLIENT / Volume:GVLK */
  KMSDIAG_SLMGR_CHANNEL_KMSHOST = 2,   /*!< VOLUME_KMS_* / Volume:CSVLK: a
                                            KMS host key */
  KMSDIAG_SLMGR_CHANNEL_MAK = 3,       /*!< VOLUME_MAK / Volume:MAK */
  KMSDIAG_SLMGR_CHANNEL_RETAIL = 4,    /*!< RETAIL / Retail */
  KMSDIAG_SLMGR_CHANNEL_OEM = 5,       /*!< OEM_DM, OEM_SLP, OEM_COA_*,
                                            OEM_NONSLP / OEM:... */
  KMSDIAG_SLMGR_CHANNEL_OTHER = 6      /*!< any other channel text */
} kmsdiag_slmgr_channel_t;

/*! License Status values, numbered like the WMI LicenseStatus property. */
typedef enum kmsdiag_slmgr_license {
  KMSDIAG_SLMGR_LICENSE_UNKNOWN = -1,     /*!< absent or not recognised */
  KMSDIAG_SLMGR_LICENSE_UNLICENSED = 0,
  KMSDIAG_SLMGR_LICENSE_LICENSED = 1,
  KMSDIAG_SLMGR_LICENSE_OOB_GRACE = 2,    /*!< Initial grace period */
  KMSDIAG_SLMGR_LICENSE_OOT_GRACE = 3,    /*!< Additional grace period */
  KMSDIAG_SLMGR_LICENSE_NONGENUINE = 4,   /*!< Non-genuine grace period */
  KMSDIAG_SLMGR_LICENSE_NOTIFICATION = 5,
  KMSDIAG_SLMGR_LICENSE_EXTENDED = 6      /*!< Extended grace period */
} kmsdiag_slmgr_license_t;

/*! One product block (from a "Name:" line to the next). String members
 *  are NULL when the text did not hold the field; numbers come with a
 *  has_ flag. All pointers are owned by the kmsdiag_slmgr_t. */
typedef struct kmsdiag_slmgr_product {
  unsigned first_line;          /*!< 1-based first line of the block (its
                                     "Name:", or a field printed before it) */
  const char *name;             /*!< "Name:" (edition) */
  const char *description;      /*!< "Description:" */
  const char *channel_text;     /*!< channel word as printed, e.g.
                                     "VOLUME_KMSCLIENT" or "Volume:GVLK" */
  kmsdiag_slmgr_channel_t channel;
  const char *key_channel;      /*!< "Product Key Channel:" */
  bool has_activation_id;
  kmsdiag_guid_t activation_id; /*!< "Activation ID:" (SKU ID) */
  bool has_application_id;
  kmsdiag_guid_t application_id;
  const char *extended_pid;     /*!< "Extended PID:" (own ePID) */
  const char *partial_key;      /*!< "Partial Product Key:" (5 chars) */
  kmsdiag_slmgr_license_t license;
  const char *license_text;     /*!< "License Status:" as printed */
  bool has_notification_reason;
  uint32_t notification_reason; /*!< "Notification Reason: 0x..." */
  bool has_expiration;
  uint32_t expiration_minutes;  /*!< "Volume activation expiration:" */
  bool has_cmid;
  kmsdiag_guid_t cmid;          /*!< "Client Machine ID (CMID):" */
  const char *skms_domain;      /*!< "Registered KMS SRV record lookup
                                     domain:" (slmgr /skms-domain) */
  const char *pinned_host;      /*!< "Registered KMS machine name:" (or
                                     the older "KMS machine registry
                                     override defined:"): slmgr /skms */
  uint16_t pinned_port;         /*!< its port, 1688 when not printed */
  const char *dns_host;         /*!< "KMS machine name from DNS:": the
                                     discovered (and cached) host */
  uint16_t dns_port;
  bool dns_not_available;       /*!< "DNS auto-discovery: KMS name not
                                     available" */
  const char *kms_ip;           /*!< "KMS machine IP address:" (NULL when
                                     "not available") */
  const char *kms_epid;         /*!< "KMS machine extended PID:" */
  bool has_activation_interval;
  uint32_t activation_interval; /*!< minutes */
  bool has_renewal_interval;
  uint32_t renewal_interval;    /*!< minutes */
  int host_caching;             /*!< 1 enabled, 0 disabled, -1 not shown */
  bool is_kms_host;             /*!< "Key Management Service is enabled
                                     on this machine" */
  bool has_current_count;
  uint32_t current_count;       /*!< "Current count:" (host block) */
  bool has_listening_port;
  uint16_t listening_port;      /*!< "Listening on Port:" (host block) */
} kmsdiag_slmgr_product_t;

/*! Opaque parse state and result. */
typedef struct kmsdiag_slmgr kmsdiag_slmgr_t;

/*! Create an empty handle. \param[out] out free with kmsdiag_slmgr_free().
 *  \return KMSDIAG_OK, KMSDIAG_EINVAL (NULL out), KMSDIAG_ENOMEM. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_slmgr_new(kmsdiag_slmgr_t **out);
/*! Free the handle and everything it owns; NULL is fine. */
KMSDIAG_API void kmsdiag_slmgr_free(kmsdiag_slmgr_t *s);

/*! Parse \p len bytes of untrusted text (see the top of this header). The
 *  bytes are not kept. Any earlier result in \p s is dropped first.
 *  \return KMSDIAG_OK when at least one slmgr label was recognised;
 *          KMSDIAG_EPARSE when none was (empty input, another language,
 *          not slmgr output); KMSDIAG_ETOOBIG when the input exceeds
 *          KMSDIAG_SLMGR_MAX_INPUT bytes or KMSDIAG_SLMGR_MAX_LINES lines;
 *          KMSDIAG_ENOMEM; KMSDIAG_EINVAL for a NULL \p s (or NULL \p data
 *          with a non-zero \p len). On failure kmsdiag_slmgr_error_text()
 *          says what and kmsdiag_slmgr_error_line() where. */
KMSDIAG_API kmsdiag_status_t kmsdiag_slmgr_parse(kmsdiag_slmgr_t *s,
                                                 const void *data,
                                                 size_t len);

/*! What the last failed parse found wrong (static English text, "" after
 *  success). Never NULL for a non-NULL \p s. */
KMSDIAG_API const char *kmsdiag_slmgr_error_text(const kmsdiag_slmgr_t *s);
/*! 1-based line of that problem, 0 when it concerns the whole input. */
KMSDIAG_API unsigned kmsdiag_slmgr_error_line(const kmsdiag_slmgr_t *s);

/*! Encoding the input was read as: "utf-8", "utf-8-bom", "utf-16le" or
 *  "utf-16be" (static). */
KMSDIAG_API const char *kmsdiag_slmgr_encoding(const kmsdiag_slmgr_t *s);
/*! Number of lines read (after decoding, before joining wrapped lines). */
KMSDIAG_API unsigned kmsdiag_slmgr_line_count(const kmsdiag_slmgr_t *s);

/*! Product blocks in the order printed. */
KMSDIAG_API size_t kmsdiag_slmgr_product_count(const kmsdiag_slmgr_t *s);
/*! Block \p i, or NULL when out of range. Borrowed. */
KMSDIAG_API const kmsdiag_slmgr_product_t *
kmsdiag_slmgr_product_at(const kmsdiag_slmgr_t *s, size_t i);
/*! The block that describes the installed key: the first with a partial
 *  product key, preferring one whose name starts with "Windows"; else
 *  the first block. NULL when there is none. Borrowed. */
KMSDIAG_API const kmsdiag_slmgr_product_t *
kmsdiag_slmgr_primary(const kmsdiag_slmgr_t *s);

/*! The last "Error: 0x..." line (pasted output of slmgr /ato); false and
 *  \p code untouched when there was none. */
KMSDIAG_API bool kmsdiag_slmgr_last_error(const kmsdiag_slmgr_t *s,
                                          uint32_t *code);
/*! "Software licensing service version:" or NULL. Borrowed. */
KMSDIAG_API const char *kmsdiag_slmgr_service_version(const kmsdiag_slmgr_t *s);

/*! Problems with individual fields that did not stop the parse ("port out
 *  of range", "value cut", "bad GUID"...): count, and text of warning \p i
 *  (NULL when out of range) with its 1-based line in \p line (may be
 *  NULL). At most KMSDIAG_SLMGR_MAX_WARNINGS are kept. Borrowed. */
KMSDIAG_API size_t kmsdiag_slmgr_warning_count(const kmsdiag_slmgr_t *s);
KMSDIAG_API const char *kmsdiag_slmgr_warning_at(const kmsdiag_slmgr_t *s,
                                                 size_t i, unsigned *line);

/*! "VOLUME_KMSCLIENT", "KMS_HOST", "MAK", "RETAIL", "OEM", "OTHER",
 *  "UNKNOWN" (static). */
KMSDIAG_API const char *
kmsdiag_slmgr_channel_name(kmsdiag_slmgr_channel_t channel);
/*! "unlicensed", "licensed", "initial_grace", "additional_grace",
 *  "non_genuine_grace", "notification", "extended_grace", "unknown". */
KMSDIAG_API const char *
kmsdiag_slmgr_license_name(kmsdiag_slmgr_license_t license);

/*! Write the whole result as one top-level JSON object, without ending the
 *  line: "type":"slmgr", "encoding", "lines", "last_error", "products":[
 *  {...every field above, snake_case, null when absent...}], "warnings".
 *  \return kmsdiag_json_status(j) afterwards; KMSDIAG_EINVAL for NULL. */
KMSDIAG_API kmsdiag_status_t kmsdiag_slmgr_write_json(const kmsdiag_slmgr_t *s,
                                                      kmsdiag_json_t *j);

#ifdef __cplusplus
}
#endif
#endif
