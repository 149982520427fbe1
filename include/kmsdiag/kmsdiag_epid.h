/* kmsdiag_epid.h: the KMS host's extended PID (ePID).
 *
 * A KMS response carries the host's ePID, for example
 *
 *   06401-00206-558-040878-03-1051-9600.0000-1912021
 *   PPPPP-GGGGG-KKK-KKKKKK-CC-LCID-BUILD.0000-DDDYYYY
 *
 * platform ID of the host OS, CSVLK group ID, key ID (3+6 digits), license
 * channel (03 = volume), LCID (decimal), host OS build, and the day of year
 * and year the host key was activated. kmsdiag_epid_parse() checks the
 * syntax of every field and then the plausibility of the values, and
 * names the host OS and the host key (CSVLK) they point to.
 * kmsdiag_epid_can_activate() answers "can this host activate product X?".
 *
 * The input is untrusted (pasted by a user or decoded from the network):
 * any bytes, any length. */
#ifndef KMSDIAG_EPID_H
#define KMSDIAG_EPID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_products.h>
#include <kmsdiag/kmsdiag_status.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! Longest ePID: a KMS response holds at most 64 UTF-16 units including
 *  the terminator. */
#define KMSDIAG_EPID_MAX_LEN 63
/*! Problems kept per ePID (more are counted in n_problems_dropped). */
#define KMSDIAG_EPID_MAX_PROBLEMS 12
/*! Size of a problem message, including the NUL. */
#define KMSDIAG_EPID_MSG_SIZE 192

typedef enum kmsdiag_epid_severity {
  KMSDIAG_EPID_INFO = 0,   /*!< worth knowing, not wrong */
  KMSDIAG_EPID_WARN = 1,   /*!< unusual or inconsistent */
  KMSDIAG_EPID_ERROR = 2   /*!< impossible for a genuine host, or not an
                                ePID at all */
} kmsdiag_epid_severity_t;

/*! "info", "warning", "error". */
KMSDIAG_API const char *
kmsdiag_epid_severity_name(kmsdiag_epid_severity_t s);

/*! One finding. \c rule is a stable snake_case identifier in static
 *  storage; \c message is English text built from validated fields only
 *  (never raw input bytes), so it is safe to print. */
typedef struct kmsdiag_epid_problem {
  kmsdiag_epid_severity_t severity;
  const char *rule;
  char message[KMSDIAG_EPID_MSG_SIZE];
} kmsdiag_epid_problem_t;

/* Problem rules (values of kmsdiag_epid_problem_t.rule):
 *   syntax                  not of the ePID form (error; see err_offset)
 *   too_long                longer than KMSDIAG_EPID_MAX_LEN (error)
 *   embedded_nul            a NUL byte inside the text (error)
 *   platform_unknown        platform ID none of those KMS hosts send
 *                           (55041, 5426, 6401, 3612) (error)
 *   platform_build_mismatch platform ID does not go with the build (warning)
 *   build_unknown           host build not in the table (info; warning when
 *                           it is below 6000, older than any KMS host)
 *   group_unknown           CSVLK group ID not in the table (warning)
 *   key_id_out_of_range     key ID outside the ranges of its group (warning)
 *   csvlk_host_os           the host key cannot be installed on that build
 *                           (warning)
 *   client_os_host          host key for a Windows client OS: activates
 *                           clients only (info)
 *   channel                 license channel is not 03 (warning)
 *   lcid_invalid            LCID 0 or not a valid language ID (warning)
 *   day_zero                activation day of year 0 (error)
 *   day_range               activation day above 366 (error)
 *   day_not_in_year         day 366 of a year that is not a leap year (error)
 *   year_range              activation year before 2006 (no KMS yet) (error)
 *   date_future             activation date after "now" (error)
 *   date_before_build       activated before the host build was released
 *                           (warning)
 *   suffix                  the part after the build is not ".0000" (warning)
 */

typedef struct kmsdiag_epid {
  /* The input, for display: its first KMSDIAG_EPID_MAX_LEN bytes after
   * trimming blanks and trailing NULs. UNTRUSTED when syntax_ok is false:
   * escape it (kmsdiag_json_strn / kmsdiag_text_escape). */
  char text[KMSDIAG_EPID_MAX_LEN + 1];
  size_t text_len;
  size_t input_len;         /*!< length of the whole input, untrimmed */
  bool syntax_ok;           /*!< every field parsed; the values below are
                                 valid only when this is true */
  size_t err_offset;        /*!< syntax error: byte offset in the trimmed
                                 text */

  uint32_t platform_id;     /*!< 6401 */
  uint32_t group_id;        /*!< 206 */
  uint32_t key_id;          /*!< 558040878 (KKK * 1000000 + KKKKKK) */
  uint32_t channel;         /*!< 3 */
  uint32_t lcid;            /*!< 1033 */
  uint32_t build;           /*!< 9600 */
  uint32_t build_suffix;    /*!< the 4 digits after the build's dot, 0 */
  uint32_t day_of_year;     /*!< 1..366 when plausible */
  uint32_t year;            /*!< 2021 */
  bool date_ok;             /*!< day and year form a real date */
  uint32_t month, mday;     /*!< that date, when date_ok */

  const char *platform_name;        /*!< NULL when unknown */
  const kmsdiag_host_os_t *host_os; /*!< NULL when the build is unknown */
  const kmsdiag_csvlk_t *csvlk;     /*!< NULL when unknown or ambiguous */
  const char *lcid_name;            /*!< "en-US", NULL when not in the
                                         short table */

  size_t n_problems;
  size_t n_problems_dropped;
  kmsdiag_epid_problem_t problems[KMSDIAG_EPID_MAX_PROBLEMS];
} kmsdiag_epid_t;

/*! Parse and check \p len bytes of \p text (any bytes; need not be
 *  NUL-terminated; leading/trailing blanks and trailing NULs are ignored).
 *  "Now" for the date check is the current time.
 *  \param[out] out always filled (problems say what is wrong); nothing to
 *              free.
 *  \return KMSDIAG_OK when the syntax is valid (values may still have
 *          problems: see out->problems), KMSDIAG_EPARSE for text that is
 *          not an ePID, KMSDIAG_ETOOBIG when longer than
 *          KMSDIAG_EPID_MAX_LEN, KMSDIAG_EINVAL for NULL \p out (or NULL
 *          \p text with \p len > 0). */
KMSDIAG_API kmsdiag_status_t kmsdiag_epid_parse(const char *text, size_t len,
                                                kmsdiag_epid_t *out);
/*! kmsdiag_epid_parse() with "now" given as Unix seconds (deterministic). */
KMSDIAG_API kmsdiag_status_t kmsdiag_epid_parse_at(const char *text,
                                                   size_t len, int64_t now,
                                                   kmsdiag_epid_t *out);

/*! True when any problem has severity \p at_least or higher. */
KMSDIAG_API bool kmsdiag_epid_has_problem(const kmsdiag_epid_t *e,
                                          kmsdiag_epid_severity_t at_least);

/*! Activation date as "YYYY-MM-DD" into \p buf (at least 11 bytes); ""
 *  when the date is not valid. Returns \p buf. */
KMSDIAG_API char *kmsdiag_epid_date_str(const kmsdiag_epid_t *e, char *buf,
                                        size_t bufsz);

/* ---- can this host activate that product? ----------------------------- */

typedef enum kmsdiag_activation_answer {
  KMSDIAG_ACTIVATE_UNKNOWN = 0, /*!< the host key is not identified, or
                                     Microsoft's host key table does not
                                     list the product at all (Windows 8,
                                     Vista): not known either way */
  KMSDIAG_ACTIVATE_YES = 1,
  KMSDIAG_ACTIVATE_NO = 2,      /*!< the client gets \c hresult
                                     (0xC004F042) */
  KMSDIAG_ACTIVATE_PARTLY = 3   /*!< the product row covers several lines
                                     (Windows 10 and 11 share SKU IDs) and
                                     the host key activates only some */
} kmsdiag_activation_answer_t;

/*! "unknown", "yes", "no", "partly". */
KMSDIAG_API const char *
kmsdiag_activation_answer_name(kmsdiag_activation_answer_t a);

typedef struct kmsdiag_activation_verdict {
  kmsdiag_activation_answer_t answer;
  uint32_t hresult;          /*!< what a refused client gets: 0xC004F042
                                  for NO and PARTLY, 0 otherwise */
  bool verified;             /*!< false when any fact used is unverified */
  const kmsdiag_csvlk_t *csvlk; /*!< the host key, or NULL */
  kmsdiag_line_mask_t lines_yes; /*!< lines of the product it activates */
  kmsdiag_line_mask_t lines_no;  /*!< lines it does not */
  char reason[320];          /*!< English, from validated fields only */
  kmsdiag_line_mask_t lines_unknown; /*!< lines no row of Microsoft's host
                                          key table lists: neither yes nor
                                          no */
} kmsdiag_activation_verdict_t;

/*! Can host key \p k activate the lines \p lines of \p product (0: all
 *  of product->lines; lines outside product->lines are ignored)?
 *  For a host key of Microsoft's table: YES for the lines its row lists;
 *  NO (0xC004F042) for lines another of its rows lists, and for products
 *  of the other application (a Windows host key never activates Office, an
 *  Office key never Windows); UNKNOWN for lines no row lists (Windows 8,
 *  Vista): never a NO. For a host key whose list is assumed, YES or NO by
 *  that list, unverified. PARTLY when the lines get different answers.
 *  \return KMSDIAG_OK, KMSDIAG_EINVAL for NULL arguments. */
KMSDIAG_API kmsdiag_status_t
kmsdiag_csvlk_can_activate(const kmsdiag_csvlk_t *k,
                           const kmsdiag_product_t *product,
                           kmsdiag_line_mask_t lines,
                           kmsdiag_activation_verdict_t *out);

/*! The host keys (table order) whose kmsdiag_csvlk_can_activate() answer
 *  for \p product and \p lines is \p answer: with KMSDIAG_ACTIVATE_YES,
 *  exactly the host keys for which an ePID of that key gets YES from
 *  kmsdiag_epid_can_activate_lines(). Stores up to \p max borrowed
 *  pointers in \p out (may be NULL when \p max is 0).
 *  \return the number of such host keys (may exceed \p max); 0 for a NULL
 *  \p product. */
KMSDIAG_API size_t kmsdiag_product_host_keys(const kmsdiag_product_t *product,
                                             kmsdiag_line_mask_t lines,
                                             kmsdiag_activation_answer_t answer,
                                             const kmsdiag_csvlk_t **out,
                                             size_t max);

/*! Can the host whose ePID is \p e activate \p product?
 *  Decided from the host key (CSVLK) identified by the ePID's group ID and
 *  key ID (kmsdiag_csvlk_can_activate()), and UNKNOWN when the ePID names
 *  no host key.
 *  \return KMSDIAG_OK (the answer may still be UNKNOWN), KMSDIAG_EINVAL for
 *          NULL arguments. */
KMSDIAG_API kmsdiag_status_t
kmsdiag_epid_can_activate(const kmsdiag_epid_t *e,
                          const kmsdiag_product_t *product,
                          kmsdiag_activation_verdict_t *out);

/*! kmsdiag_epid_can_activate() for only the product lines in \p lines
 *  (see kmsdiag_product_query_lines()); 0 means all of product->lines,
 *  lines outside product->lines are ignored. */
KMSDIAG_API kmsdiag_status_t kmsdiag_epid_can_activate_lines(
    const kmsdiag_epid_t *e, const kmsdiag_product_t *product,
    kmsdiag_line_mask_t lines, kmsdiag_activation_verdict_t *out);

/* ---- JSON ------------------------------------------------------------- */

/*! Write \p e as a JSON object (member \p key, or NULL in an array / top
 *  level). Keys: epid (escaped input), valid, platform_id, platform,
 *  group_id, key_id, csvlk {name, group_id, verified, ...} or null,
 *  channel, lcid, lcid_name, host_build, host_os, activation_day,
 *  activation_year, activation_date, problems [{severity, rule,
 *  message}]. Values that did not parse are null. */
KMSDIAG_API void kmsdiag_epid_write_json(kmsdiag_json_t *j, const char *key,
                                         const kmsdiag_epid_t *e);
/*! Write \p v as a JSON object: answer, hresult ("0xC004F042" or null),
 *  verified, reason, csvlk (name or null), lines_yes, lines_no,
 *  lines_unknown. */
KMSDIAG_API void
kmsdiag_activation_verdict_write_json(kmsdiag_json_t *j, const char *key,
                                      const kmsdiag_activation_verdict_t *v);

#ifdef __cplusplus
}
#endif
#endif
