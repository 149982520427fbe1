/* kmsdiag_products.h: what KMS knows about products.
 *
 * Read-only tables (static storage, never freed, safe to share between
 * threads) of:
 *   - application IDs (Windows, Office generations),
 *   - KMS counted IDs ("KMS groups"): the ID a host grants or refuses, with
 *     the N policy (25 for Windows clients, 5 for servers and Office) and
 *     the KMS protocol version the product speaks by default,
 *   - products (editions): name, family, application ID, SKU (activation)
 *     ID, KMS counted ID, GVLK (KMS client setup key),
 *   - CSVLK host key groups: ePID group ID and key-ID range, the host OS
 *     builds the key installs on, and which product lines it activates,
 *   - host OS builds as they appear in an ePID.
 *
 * Every row carries a confidence taken from the project's facts file:
 * KMSDIAG_CONF_MS (Microsoft documentation), KMSDIAG_CONF_RE (public
 * reverse-engineered implementations) or KMSDIAG_CONF_UNVERIFIED (the facts
 * file flags the value, or it is inferred here and not stated by a source);
 * tools must show unverified entries as such.
 *
 * Every pointer returned by this module points into those tables: borrowed,
 * valid for the life of the process, never to be freed. */
#ifndef KMSDIAG_PRODUCTS_H
#define KMSDIAG_PRODUCTS_H

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

/*! How much a table row can be trusted. */
typedef enum kmsdiag_confidence {
  KMSDIAG_CONF_MS = 0,         /*!< Microsoft documentation */
  KMSDIAG_CONF_RE = 1,         /*!< reverse-engineered implementation data */
  KMSDIAG_CONF_UNVERIFIED = 2  /*!< flagged or inferred: treat as a lead */
} kmsdiag_confidence_t;

/*! "ms", "re" or "unverified" (stable, used as JSON values). */
KMSDIAG_API const char *kmsdiag_confidence_name(kmsdiag_confidence_t c);

/*! Product family. */
typedef enum kmsdiag_family {
  KMSDIAG_FAMILY_WINDOWS_CLIENT = 1,
  KMSDIAG_FAMILY_WINDOWS_SERVER = 2,
  KMSDIAG_FAMILY_OFFICE = 3
} kmsdiag_family_t;

/*! "windows_client", "windows_server", "office" (stable JSON values), or
 *  "unknown". */
KMSDIAG_API const char *kmsdiag_family_name(kmsdiag_family_t f);

/*! Product lines, as Microsoft's host-key table (which CSVLK activates
 *  what) names them. A product row covers one or more lines (for example
 *  "Windows 10/11 Enterprise" shares one SKU ID between two lines). */
typedef enum kmsdiag_line {
  KMSDIAG_LINE_VISTA = 0,
  KMSDIAG_LINE_WIN7,
  KMSDIAG_LINE_WIN8,
  KMSDIAG_LINE_WIN81,
  KMSDIAG_LINE_WIN10,           /*!< Windows 10 Pro/Ent/Edu/Pro WS (+N) */
  KMSDIAG_LINE_WIN11,           /*!< Windows 11 Pro/Ent/Edu/Pro WS (+N) */
  KMSDIAG_LINE_WIN10_LTSB2015,
  KMSDIAG_LINE_WIN10_LTSB2016,
  KMSDIAG_LINE_WIN10_LTSC,      /*!< Windows 10 Enterprise LTSC 2019/2021 */
  KMSDIAG_LINE_WIN11_LTSC2024,
  KMSDIAG_LINE_WIN_GOV,         /*!< Enterprise G (China Government) */
  KMSDIAG_LINE_WS2008,
  KMSDIAG_LINE_WS2008R2,
  KMSDIAG_LINE_WS2012,
  KMSDIAG_LINE_WS2012R2,
  KMSDIAG_LINE_WS2016,
  KMSDIAG_LINE_WS_SAC,          /*!< Windows Server semi-annual channel */
  KMSDIAG_LINE_WS2019,
  KMSDIAG_LINE_WS2022,
  KMSDIAG_LINE_WS2025,
  KMSDIAG_LINE_OFFICE2010,
  KMSDIAG_LINE_OFFICE2013,
  KMSDIAG_LINE_OFFICE2016,
  KMSDIAG_LINE_OFFICE2019,
  KMSDIAG_LINE_OFFICE2021,
  KMSDIAG_LINE_OFFICE2024,
  KMSDIAG_LINE_COUNT_           /* not a line: one past the last */
} kmsdiag_line_t;

/*! Bit for a line in a kmsdiag_line_mask_t. */
#define KMSDIAG_LINE_BIT(l) (UINT32_C(1) << (unsigned)(l))
typedef uint32_t kmsdiag_line_mask_t;

/*! Display name of a line ("Windows Server 2022"); "unknown" otherwise. */
KMSDIAG_API const char *kmsdiag_line_name(kmsdiag_line_t l);

/* ---- application IDs -------------------------------------------------- */

typedef struct kmsdiag_app {
  kmsdiag_guid_t id;
  const char *name;               /*!< "Windows", "Office 2010", ... */
  kmsdiag_confidence_t confidence;
} kmsdiag_app_t;

KMSDIAG_API size_t kmsdiag_app_count(void);
/*! Row \p i (0-based) or NULL when out of range. */
KMSDIAG_API const kmsdiag_app_t *kmsdiag_app_at(size_t i);
/*! The application with this ID, or NULL (also for a NULL \p id). */
KMSDIAG_API const kmsdiag_app_t *kmsdiag_app_by_id(const kmsdiag_guid_t *id);

/* ---- KMS counted IDs (KMS groups) ------------------------------------- */

typedef struct kmsdiag_kms_group {
  kmsdiag_guid_t id;              /*!< the KMS counted ID ("KMSID") */
  const char *name;               /*!< "Windows Server 2019" */
  kmsdiag_family_t family;
  const kmsdiag_app_t *app;       /*!< application of its products */
  uint32_t n_policy;              /*!< minimum host count: 25 or 5 */
  uint16_t protocol_major;        /*!< default KMS protocol: 4, 5 or 6 */
  uint16_t protocol_minor;        /*!< always 0 so far */
  kmsdiag_confidence_t confidence;
  const char *note;               /*!< why it is unverified, or NULL */
} kmsdiag_kms_group_t;

KMSDIAG_API size_t kmsdiag_kms_group_count(void);
KMSDIAG_API const kmsdiag_kms_group_t *kmsdiag_kms_group_at(size_t i);
/*! The group with this KMS counted ID, or NULL. */
KMSDIAG_API const kmsdiag_kms_group_t *
kmsdiag_kms_group_by_id(const kmsdiag_guid_t *kms_id);

/* ---- products (editions) ---------------------------------------------- */

typedef struct kmsdiag_product {
  const char *name;               /*!< "Windows Server 2022 Datacenter" */
  kmsdiag_family_t family;
  const kmsdiag_app_t *app;       /*!< never NULL */
  bool has_sku_id;                /*!< false when no SKU ID is known */
  kmsdiag_guid_t sku_id;          /*!< activation ID; null when unknown */
  const kmsdiag_kms_group_t *kms_group; /*!< never NULL */
  const char *gvlk;               /*!< "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" or
                                       NULL (Office: not in our facts) */
  kmsdiag_line_mask_t lines;      /*!< product lines this row covers */
  kmsdiag_confidence_t confidence; /*!< weakest of its facts */
  const char *note;               /*!< what is unverified and why, or NULL */
} kmsdiag_product_t;

KMSDIAG_API size_t kmsdiag_product_count(void);
KMSDIAG_API const kmsdiag_product_t *kmsdiag_product_at(size_t i);
/*! The product with this SKU (activation) ID, or NULL. */
KMSDIAG_API const kmsdiag_product_t *
kmsdiag_product_by_sku(const kmsdiag_guid_t *sku_id);
/*! The product whose GVLK is \p len bytes at \p key (case-insensitive,
 *  surrounding blanks ignored), or NULL. Several rows never share a GVLK:
 *  rows that share one in Microsoft's list are one row here. */
KMSDIAG_API const kmsdiag_product_t *kmsdiag_product_by_gvlk(const char *key,
                                                             size_t len);

/*! Find products by \p text (NUL-terminated, untrusted, at most 256
 *  bytes): a SKU ID GUID, a GVLK, an exact name, or a partial,
 *  case-insensitive name whose words may come in any order and may be
 *  word prefixes ("2022 datacenter", "win 11 pro", "ws2019 std"). An
 *  exact name (as words), SKU ID or GVLK names its product. Otherwise,
 *  among names containing every word, one wins only when every other match
 *  is a variant of it (its words plus more: "8.1 pro" gives Windows 8.1
 *  Pro, not Pro N); matches that differ otherwise are ambiguous however
 *  close each is ("2019": Office 2019 and the Windows Server 2019 and LTSC
 *  2019 editions), and every match is a candidate, matches at word starts
 *  and with fewest extra words first.
 *  \param[out] out   receives up to \p max borrowed pointers (may be NULL
 *                    when \p max is 0)
 *  \param[out] n     number of matches (may exceed \p max; only \p max are
 *                    stored)
 *  \return KMSDIAG_OK (exactly one match, in out[0]), KMSDIAG_EAMBIGUOUS
 *          (several; the candidates are in \p out), KMSDIAG_ENOTFOUND,
 *          KMSDIAG_ETOOBIG (text longer than 256 bytes), KMSDIAG_EINVAL
 *          (NULL text or n, or NULL out with max > 0). */
KMSDIAG_API kmsdiag_status_t kmsdiag_product_find(const char *text,
                                                  const kmsdiag_product_t **out,
                                                  size_t max, size_t *n);

/*! The product lines of \p p that the query \p text names: a row such as
 *  "Windows 10/11 Enterprise" found by "windows 11 enterprise" gives only
 *  KMSDIAG_LINE_WIN11. Every number in the query that is also in the
 *  product's name must be in the line's name. Gives all of p->lines when
 *  the query names no particular line (or \p text is NULL); 0 for a NULL
 *  \p p. */
KMSDIAG_API kmsdiag_line_mask_t
kmsdiag_product_query_lines(const kmsdiag_product_t *p, const char *text);

/*! The product a probe asks for when the user names none: Windows Server
 *  2019 Standard, the newest Windows Server edition whose KMS counted ID the
 *  facts do not flag as a placeholder (the 2022 and 2025 counted IDs are). */
KMSDIAG_API const kmsdiag_product_t *kmsdiag_product_default(void);

/*! Write \p p as a JSON object (member \p key inside an object, NULL in an
 *  array or at top level). Keys: name, family, app_id, app, sku_id (null
 *  when unknown), kms_id, kms_group, n_policy, protocol ("6.0"), gvlk (null
 *  when unknown), lines (array of names), verified, confidence, note. */
KMSDIAG_API void kmsdiag_product_write_json(kmsdiag_json_t *j, const char *key,
                                            const kmsdiag_product_t *p);
/*! Write \p g as a JSON object: kms_id, name, family, app_id, app,
 *  n_policy, protocol, verified, confidence, note. */
KMSDIAG_API void kmsdiag_kms_group_write_json(kmsdiag_json_t *j,
                                              const char *key,
                                              const kmsdiag_kms_group_t *g);

/* ---- CSVLK host key groups -------------------------------------------- */

typedef struct kmsdiag_csvlk {
  const char *name;               /*!< "Windows Server 2019" */
  uint32_t group_id;              /*!< ePID group ID (206, 4573, ...) */
  bool has_key_range;             /*!< false: range not in our facts */
  uint32_t key_id_min;            /*!< inclusive */
  uint32_t key_id_max;            /*!< inclusive */
  bool has_sku_id;
  kmsdiag_guid_t sku_id;          /*!< the CSVLK's own SKU ID */
  /*! Host OS builds this key can be installed on (0-terminated, at most 8);
   *  an empty list means "not in our facts". */
  uint32_t host_builds[8];
  bool client_os_host;            /*!< installs only on Windows client OS */
  kmsdiag_line_mask_t activates;  /*!< product lines it activates */
  kmsdiag_confidence_t confidence; /*!< of the "activates" list */
  const char *note;               /*!< or NULL */
} kmsdiag_csvlk_t;

KMSDIAG_API size_t kmsdiag_csvlk_count(void);
KMSDIAG_API const kmsdiag_csvlk_t *kmsdiag_csvlk_at(size_t i);
/*! The \p index-th (0-based) CSVLK whose ePID group ID is \p group_id, or
 *  NULL past the last. Group 206 is shared by many host keys (Windows and
 *  Office); use kmsdiag_csvlk_identify() with the key ID to tell them
 *  apart. */
KMSDIAG_API const kmsdiag_csvlk_t *kmsdiag_csvlk_by_group_id(uint32_t group_id,
                                                             size_t index);
/*! The one CSVLK whose group ID is \p group_id and whose key-ID range
 *  contains \p key_id; a group with a single CSVLK and no known range also
 *  matches. NULL when none or several match. */
KMSDIAG_API const kmsdiag_csvlk_t *kmsdiag_csvlk_identify(uint32_t group_id,
                                                          uint32_t key_id);
/*! True when the CSVLK's group is known to hold host keys whose key-ID
 *  ranges are not in our tables (Office keys in group 206), so a key ID
 *  outside every listed range is not by itself suspicious. */
KMSDIAG_API bool kmsdiag_csvlk_group_has_unlisted(uint32_t group_id);

/* ---- host OS builds --------------------------------------------------- */

typedef struct kmsdiag_host_os {
  uint32_t build;                 /*!< 9600 */
  const char *name;               /*!< "Windows 8.1 / Windows Server 2012 R2" */
  const char *server_name;        /*!< "Windows Server 2012 R2" or NULL */
  uint32_t platform_id;           /*!< expected ePID platform ID */
  uint16_t release_year;          /*!< general knowledge, not in the facts */
  kmsdiag_confidence_t confidence;
} kmsdiag_host_os_t;

KMSDIAG_API size_t kmsdiag_host_os_count(void);
KMSDIAG_API const kmsdiag_host_os_t *kmsdiag_host_os_at(size_t i);
/*! The host OS with exactly this build number, or NULL. */
KMSDIAG_API const kmsdiag_host_os_t *kmsdiag_host_os_by_build(uint32_t build);
/*! The ePID platform ID that goes with \p build (55041, 5426, 6401, 3612),
 *  or 0 when the build is below 6000 or otherwise unknown. */
KMSDIAG_API uint32_t kmsdiag_platform_id_for_build(uint32_t build);
/*! Which host OS family an ePID platform ID stands for, or NULL. */
KMSDIAG_API const char *kmsdiag_platform_name(uint32_t platform_id);

#ifdef __cplusplus
}
#endif
#endif
