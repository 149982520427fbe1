/* kmsdiag_out.h: output helpers shared by every tool.
 *
 * One JSON Lines writer (kmsdiag_json_t) and one terminal text escaper, so
 * that untrusted strings (workstation names, ePIDs, DNS names) are escaped
 * the same way everywhere. */
#ifndef KMSDIAG_OUT_H
#define KMSDIAG_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- JSON Lines writer ------------------------------------------------ */

/*! Opaque JSON writer that builds text in memory. Errors are sticky: after
 *  the first failure every call is a no-op and kmsdiag_json_status() tells
 *  what went wrong (KMSDIAG_ENOMEM, or KMSDIAG_ESTATE for misuse such as a
 *  value without a key inside an object). */
typedef struct kmsdiag_json kmsdiag_json_t;

/*! Create a writer. \param[out] out must be kmsdiag_json_free()'d. */
KMSDIAG_API KMSDIAG_NODISCARD kmsdiag_status_t
kmsdiag_json_new(kmsdiag_json_t **out);
/*! Free a writer; NULL is fine. */
KMSDIAG_API void kmsdiag_json_free(kmsdiag_json_t *j);
/*! Forget the text written so far and any error, keep the memory. */
KMSDIAG_API void kmsdiag_json_reset(kmsdiag_json_t *j);
/*! The first error, or KMSDIAG_OK. */
KMSDIAG_API kmsdiag_status_t kmsdiag_json_status(const kmsdiag_json_t *j);
/*! The text written so far, NUL-terminated; borrowed, valid until the next
 *  call on \p j. \p len (may be NULL) receives its length. */
KMSDIAG_API const char *kmsdiag_json_text(const kmsdiag_json_t *j,
                                          size_t *len);

/* In every call below \p key is the member name inside an object and must
 * be NULL inside an array or at the top level. */
KMSDIAG_API void kmsdiag_json_object_begin(kmsdiag_json_t *j, const char *key);
KMSDIAG_API void kmsdiag_json_object_end(kmsdiag_json_t *j);
KMSDIAG_API void kmsdiag_json_array_begin(kmsdiag_json_t *j, const char *key);
KMSDIAG_API void kmsdiag_json_array_end(kmsdiag_json_t *j);
/*! A string from a NUL-terminated C string; NULL writes null. */
KMSDIAG_API void kmsdiag_json_str(kmsdiag_json_t *j, const char *key,
                                  const char *value);
/*! A string from \p len bytes that may hold anything (NULs, invalid UTF-8,
 *  control bytes): valid UTF-8 is kept, control characters become \\uXXXX,
 *  each invalid byte becomes U+FFFD followed by nothing else, so the output
 *  is always valid JSON and valid UTF-8. */
KMSDIAG_API void kmsdiag_json_strn(kmsdiag_json_t *j, const char *key,
                                   const void *value, size_t len);
/*! A string built with printf formatting (escaped like kmsdiag_json_str). */
KMSDIAG_API void kmsdiag_json_strf(kmsdiag_json_t *j, const char *key,
                                   const char *fmt, ...) KMSDIAG_PRINTF(3, 4);
KMSDIAG_API void kmsdiag_json_int(kmsdiag_json_t *j, const char *key,
                                  int64_t value);
KMSDIAG_API void kmsdiag_json_uint(kmsdiag_json_t *j, const char *key,
                                   uint64_t value);
/*! A finite double; NaN and infinities are written as null. */
KMSDIAG_API void kmsdiag_json_double(kmsdiag_json_t *j, const char *key,
                                     double value);
KMSDIAG_API void kmsdiag_json_bool(kmsdiag_json_t *j, const char *key,
                                   bool value);
KMSDIAG_API void kmsdiag_json_null(kmsdiag_json_t *j, const char *key);
/*! A 32-bit code as the string "0x%08X" (HRESULTs, statuses). */
KMSDIAG_API void kmsdiag_json_hex32(kmsdiag_json_t *j, const char *key,
                                    uint32_t value);
/*! Bytes as a lower-case hex string. */
KMSDIAG_API void kmsdiag_json_hexbytes(kmsdiag_json_t *j, const char *key,
                                       const void *data, size_t len);
/*! End one JSON Lines record: the top-level value must be complete; a
 *  newline is appended. */
KMSDIAG_API void kmsdiag_json_endline(kmsdiag_json_t *j);

/* ---- terminal text escaping ------------------------------------------ */

/*! Escape \p len bytes of untrusted text for a terminal: printable ASCII
 *  and valid printable UTF-8 pass; backslash becomes "\\\\"; control
 *  characters (C0, DEL, C1), invalid UTF-8 bytes, and Unicode bidi
 *  controls become "\\xNN" (one per byte) so no raw escape sequence ever
 *  reaches a terminal. Writes at most \p dstsz bytes including the NUL
 *  (when dstsz > 0) and returns the length the full result needs, not
 *  counting the NUL, like snprintf. */
KMSDIAG_API size_t kmsdiag_text_escape(char *dst, size_t dstsz,
                                       const void *src, size_t len);
/*! kmsdiag_text_escape into a new string. \return must be free()'d, or
 *  NULL when out of memory. \p src may be NULL (gives ""). */
KMSDIAG_API char *kmsdiag_text_escape_dup(const void *src, size_t len);

#ifdef __cplusplus
}
#endif
#endif
