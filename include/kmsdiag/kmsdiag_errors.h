/* kmsdiag_errors.h: the error catalogue.
 *
 * Support engineers arrive with a number (from slmgr, the event log, a
 * screenshot, a capture). The catalogue answers "what does this code
 * mean, where can it be observed, and what do I do":
 *
 *   const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(0xC004F074u);
 *   if (e) printf("%s: %s\n", e->name ? e->name : "-", e->message);
 *
 * Codes that are not in the table are still decoded (severity, facility,
 * the Win32 code inside an HRESULT_FROM_WIN32 value, Software Licensing or
 * not) by kmsdiag_error_decode().
 *
 * Every pointer handed out by this module points to static, read-only
 * storage: never free it, it stays valid for the life of the process.
 * Nothing here allocates, and every function is thread-safe. */
#ifndef KMSDIAG_ERRORS_H
#define KMSDIAG_ERRORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_out.h>
#include <kmsdiag/kmsdiag_status.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! Where a code can be observed; an entry's `layers` is a mask of these. */
typedef enum kmsdiag_error_layer {
  KMSDIAG_ERRLAYER_DNS = 1u << 0,          /*!< "dns": SRV/A lookups */
  KMSDIAG_ERRLAYER_TCP = 1u << 1,          /*!< "tcp": connect to 1688 */
  KMSDIAG_ERRLAYER_RPC = 1u << 2,          /*!< "rpc": bind, fault PDU */
  KMSDIAG_ERRLAYER_KMS_RESPONSE = 1u << 3, /*!< "kms-response": the HRESULT
                                                a KMS host answers with */
  KMSDIAG_ERRLAYER_HOST_SIDE = 1u << 4,    /*!< "host-side": KMS host's own
                                                logs and state */
  KMSDIAG_ERRLAYER_CLIENT_ONLY = 1u << 5,  /*!< "client-only": local state,
                                                seen with slmgr/events */
  KMSDIAG_ERRLAYER_ONLINE_ACTIVATION = 1u << 6 /*!< "online-activation":
                                                HTTPS to Microsoft */
} kmsdiag_error_layer_t;

/*! Number of layer bits (for loops over 1u << i). */
#define KMSDIAG_ERRLAYER_COUNT 7

/*! Entry flags. */
#define KMSDIAG_ERRF_UNVERIFIED 0x1u /*!< name or message is not confirmed
                                          by the references: show it as
                                          "(message not verified)" */

/*! One row of the catalogue. Static storage; never modify or free. */
typedef struct kmsdiag_error_entry {
  uint32_t code;                /*!< the 32-bit value */
  const char *name;             /*!< symbolic name, or NULL if none known */
  const char *message;          /*!< short meaning; never NULL */
  unsigned layers;              /*!< mask of kmsdiag_error_layer_t; never 0 */
  unsigned flags;               /*!< KMSDIAG_ERRF_* */
  const char *const *causes;    /*!< NULL-terminated list (may be empty,
                                     only for unverified entries) */
  const char *const *remedies;  /*!< NULL-terminated list, at least one */
  const char *source;           /*!< reference tags, e.g. "S-F074, S-ERR" */
} kmsdiag_error_entry_t;

/*! The entry for exactly \p code, or NULL. No Win32 mapping is applied:
 *  for a plain Win32 number use kmsdiag_error_hresult_from_win32() first. */
KMSDIAG_API const kmsdiag_error_entry_t *kmsdiag_error_lookup(uint32_t code);
/*! Number of entries in the catalogue. */
KMSDIAG_API size_t kmsdiag_error_count(void);
/*! Entry \p i (0 <= i < kmsdiag_error_count()), in ascending code order;
 *  NULL when out of range. */
KMSDIAG_API const kmsdiag_error_entry_t *kmsdiag_error_at(size_t i);

/*! Name of one layer bit: "dns", "tcp", "rpc", "kms-response",
 *  "host-side", "client-only", "online-activation"; NULL for anything that
 *  is not exactly one known bit. */
KMSDIAG_API const char *kmsdiag_error_layer_name(unsigned layer);

/*! Search limits: longer queries give KMSDIAG_ETOOBIG. */
#define KMSDIAG_ERROR_SEARCH_MAX_LEN 1024
#define KMSDIAG_ERROR_SEARCH_MAX_WORDS 16

/*! Find the entries that contain every word of \p query (words are split
 *  on white space; matching is case-insensitive, by substring) somewhere
 *  in their code text ("0xC004F074"), name, message, layer names, causes,
 *  remedies or, for HRESULT_FROM_WIN32 codes, the decimal Win32 number.
 *  Up to \p max matches are stored in \p out (in catalogue order; \p out
 *  may be NULL when \p max is 0); \p found (required) receives the total
 *  number of matches, which may exceed \p max.
 *  \return KMSDIAG_OK; KMSDIAG_EINVAL for a NULL query/found or a query
 *  without words; KMSDIAG_ETOOBIG when the query exceeds the limits above. */
KMSDIAG_API kmsdiag_status_t
kmsdiag_error_search(const char *query, const kmsdiag_error_entry_t **out,
                     size_t max, size_t *found);

/*! How a 32-bit value is laid out. */
typedef enum kmsdiag_error_format {
  KMSDIAG_ERRFMT_HRESULT = 0,   /*!< an HRESULT (including the 0xC004xxxx
                                     Software Licensing codes) */
  KMSDIAG_ERRFMT_NTSTATUS = 1,  /*!< an NTSTATUS-style value (bit 30 set,
                                     not Software Licensing) */
  KMSDIAG_ERRFMT_HRESULT_FROM_NT = 2, /*!< an HRESULT with the N bit: an
                                     NTSTATUS wrapped by HRESULT_FROM_NT */
  KMSDIAG_ERRFMT_NCA = 3,       /*!< a DCE RPC fault status 0x1C00xxxx or
                                     0x1C01xxxx (nca_*) */
  KMSDIAG_ERRFMT_WIN32 = 4      /*!< a bare Win32 number below 0x10000 */
} kmsdiag_error_format_t;

/*! The fields of a 32-bit code, for any value (in the table or not). */
typedef struct kmsdiag_error_info {
  uint32_t code;
  kmsdiag_error_format_t format;
  const char *format_name;  /*!< "hresult", "ntstatus", "hresult_from_nt",
                                 "nca", "win32"; static */
  const char *severity;     /*!< "success" (bit 31 and 30 clear),
                                 "informational" (only bit 30 set),
                                 "error" (bit 31 set); static */
  bool failure;             /*!< bit 31 */
  bool reserved_bit;        /*!< bit 30 (R in HRESULTs) */
  bool customer;            /*!< bit 29 (C: customer-defined) */
  bool nt_bit;              /*!< bit 28 (N: HRESULT_FROM_NT) */
  uint16_t facility;        /*!< bits 16..26 (HRESULT), 16..27 (NTSTATUS),
                                 0 for nca and win32 */
  const char *facility_name;/*!< e.g. "WIN32", "ITF", "RPC_RUNTIME",
                                 "NCA"; NULL when not known; static */
  uint16_t code_field;      /*!< bits 0..15 */
  bool is_win32;            /*!< HRESULT_FROM_WIN32 value (0x8007xxxx) or a
                                 bare Win32 number */
  uint32_t win32_code;      /*!< the Win32 error number when is_win32 */
  bool is_sl;               /*!< Software Licensing: 0xC004xxxx (errors)
                                 or 0x4004xxxx (informational SL_I_*) */
  uint32_t ntstatus;        /*!< the wrapped NTSTATUS for
                                 KMSDIAG_ERRFMT_HRESULT_FROM_NT, else 0 */
} kmsdiag_error_info_t;

/*! Decode \p code into \p out (never fails; \p out must not be NULL). */
KMSDIAG_API void kmsdiag_error_decode(uint32_t code,
                                      kmsdiag_error_info_t *out);

/*! HRESULT_FROM_WIN32: 0 stays 0, values with bits above 15 are returned
 *  unchanged, anything else becomes 0x8007xxxx. */
KMSDIAG_API uint32_t kmsdiag_error_hresult_from_win32(uint32_t win32);

/*! Generic remedy number \p i for any code (used for codes not in the
 *  table): 0 is the `slui.exe 0x2a` command, 1 the `net helpmsg` command
 *  for Win32 codes. Writes at most \p bufsz bytes including the NUL into
 *  \p buf (may be NULL when \p bufsz is 0) and returns the full length like
 *  snprintf, or 0 (and "") when there is no remedy \p i. */
KMSDIAG_API size_t kmsdiag_error_generic_remedy(uint32_t code, size_t i,
                                                char *buf, size_t bufsz);

/*! How kmsdiag_error_parse_code() read its input. */
typedef enum kmsdiag_error_input_form {
  KMSDIAG_ERRIN_HEX_PREFIXED = 0, /*!< "0xC004F074" / "0XC004F074" */
  KMSDIAG_ERRIN_HEX_BARE = 1,     /*!< exactly 8 hex digits: "C004F074" */
  KMSDIAG_ERRIN_DECIMAL = 2,      /*!< "3221549172" */
  KMSDIAG_ERRIN_NEGATIVE = 3,     /*!< "-1073418124" (signed 32-bit) */
  KMSDIAG_ERRIN_WIN32 = 4         /*!< a value 1..65535 in any of the
                                       forms above, taken as a Win32 error
                                       number: "1722" -> 0x800706BA */
} kmsdiag_error_input_form_t;

/*! Longest text kmsdiag_error_parse_code() accepts (characters). */
#define KMSDIAG_ERROR_CODE_TEXT_MAX 64

/*! Parse a code in every form people paste:
 *   - "0x" or "0X" and 1..8 hex digits, either case (leading zeros allowed
 *     up to KMSDIAG_ERROR_CODE_TEXT_MAX characters);
 *   - exactly 8 hex digits without prefix ("C004F074", "80070005");
 *   - decimal 0..4294967295 (any other number of digits, all 0-9);
 *   - negative decimal -1..-2147483648, as PowerShell prints HRESULTs;
 *   - a result between 1 and 65535 is a Win32 error number and is mapped
 *     to HRESULT_FROM_WIN32 ("9003" -> 0x8007232B, "0x6BA" -> 0x800706BA).
 *  No white space, sign "+", suffix or trailing characters are accepted.
 *  \param text NUL-terminated, untrusted.
 *  \param[out] out the code (unchanged on error).
 *  \return KMSDIAG_OK, KMSDIAG_EINVAL for NULL pointers, KMSDIAG_EPARSE
 *          otherwise. */
KMSDIAG_API kmsdiag_status_t kmsdiag_error_parse_code(const char *text,
                                                      uint32_t *out);
/*! kmsdiag_error_parse_code() that also tells how the text was read
 *  (\p form, may be NULL) or, on failure, why it was rejected (\p why,
 *  may be NULL: a static English phrase such as "trailing characters"). */
KMSDIAG_API kmsdiag_status_t
kmsdiag_error_parse_code_ex(const char *text, uint32_t *out,
                            kmsdiag_error_input_form_t *form,
                            const char **why);

/*! Write the members describing \p code into the JSON object that is open
 *  in \p j:
 *    "type":"error_code", "code":"0xC004F074", "known":bool,
 *    "name":string|null, "message":string|null, "verified":bool,
 *    "layer":string|null (the first layer), "layers":[...],
 *    "causes":[...], "remedies":[...], "source":string|null,
 *    "severity", "format", "facility":number, "facility_name":string|null,
 *    "code_field":number, "win32":number|null, "software_licensing":bool.
 *  For a code not in the table, known is false, name/message/layer/source
 *  are null, layers and causes are empty and remedies holds the generic
 *  commands that show the local description on Windows.
 *  Errors are sticky in \p j (see kmsdiag_json_status()). */
KMSDIAG_API void kmsdiag_error_json_members(kmsdiag_json_t *j, uint32_t code);
/*! A whole object: kmsdiag_json_object_begin(j, key), the members above,
 *  kmsdiag_json_object_end(j). \p key is NULL at the top level or inside an
 *  array. \return kmsdiag_json_status(j) afterwards. */
KMSDIAG_API kmsdiag_status_t kmsdiag_error_write_json(kmsdiag_json_t *j,
                                                      const char *key,
                                                      uint32_t code);

#ifdef __cplusplus
}
#endif
#endif
