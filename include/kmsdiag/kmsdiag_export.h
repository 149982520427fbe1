/* kmsdiag_export.h: symbol visibility and function annotations. */
#ifndef KMSDIAG_EXPORT_H
#define KMSDIAG_EXPORT_H

#if defined(KMSDIAG_BUILDING) && defined(__GNUC__)
#define KMSDIAG_API __attribute__((visibility("default")))
#else
#define KMSDIAG_API
#endif

#if defined(__GNUC__)
#define KMSDIAG_NODISCARD __attribute__((warn_unused_result))
#define KMSDIAG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define KMSDIAG_DEPRECATED_FOR(f) __attribute__((deprecated("use " #f)))
#else
#define KMSDIAG_NODISCARD
#define KMSDIAG_PRINTF(fmt, args)
#define KMSDIAG_DEPRECATED_FOR(f)
#endif

#endif
