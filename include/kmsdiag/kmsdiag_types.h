/* kmsdiag_types.h: plain data types shared by the modules: GUIDs (in the
 * Microsoft mixed-endian wire layout) and FILETIME. */
#ifndef KMSDIAG_TYPES_H
#define KMSDIAG_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <kmsdiag/kmsdiag_export.h>
#include <kmsdiag/kmsdiag_status.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! A GUID as its fields: on the wire Data1..Data3 are little-endian and
 *  Data4 is 8 raw bytes. */
typedef struct kmsdiag_guid {
  uint32_t data1;
  uint16_t data2;
  uint16_t data3;
  uint8_t data4[8];
} kmsdiag_guid_t;

/*! Text form length: 36 characters plus the NUL. */
#define KMSDIAG_GUID_STRLEN 37

/*! Decode 16 wire bytes (mixed-endian) into \p out. */
KMSDIAG_API void kmsdiag_guid_from_wire(kmsdiag_guid_t *out,
                                        const uint8_t wire[16]);
/*! Encode \p g as 16 wire bytes. */
KMSDIAG_API void kmsdiag_guid_to_wire(const kmsdiag_guid_t *g,
                                      uint8_t wire[16]);
/*! Lower-case 8-4-4-4-12 text into \p buf (at least KMSDIAG_GUID_STRLEN);
 *  returns \p buf. */
KMSDIAG_API char *kmsdiag_guid_to_str(const kmsdiag_guid_t *g, char *buf);
/*! Parse 8-4-4-4-12 text, with optional braces, either case.
 *  \return KMSDIAG_OK or KMSDIAG_EPARSE. */
KMSDIAG_API kmsdiag_status_t kmsdiag_guid_parse(kmsdiag_guid_t *out,
                                                const char *text);
KMSDIAG_API bool kmsdiag_guid_equal(const kmsdiag_guid_t *a,
                                    const kmsdiag_guid_t *b);
KMSDIAG_API bool kmsdiag_guid_is_null(const kmsdiag_guid_t *g);

/*! 100-ns ticks between 1601-01-01 and 1970-01-01. */
#define KMSDIAG_FILETIME_UNIX_EPOCH UINT64_C(116444736000000000)

/*! FILETIME (100-ns ticks since 1601 UTC) to Unix seconds; sub-second part
 *  in \p nsec when not NULL. Values before 1970 give negative seconds. */
KMSDIAG_API int64_t kmsdiag_filetime_to_unix(uint64_t ft, uint32_t *nsec);
/*! Unix seconds (+ nanoseconds) to FILETIME; clamps below 1601 to 0. */
KMSDIAG_API uint64_t kmsdiag_filetime_from_unix(int64_t sec, uint32_t nsec);
/*! ISO 8601 UTC text "YYYY-MM-DDTHH:MM:SSZ" into \p buf (at least 32
 *  bytes); returns \p buf. */
KMSDIAG_API char *kmsdiag_filetime_to_str(uint64_t ft, char *buf,
                                          size_t bufsz);

#ifdef __cplusplus
}
#endif
#endif
