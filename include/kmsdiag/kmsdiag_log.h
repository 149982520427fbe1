/* kmsdiag_log.h: the library never prints; it reports through this hook. */
#ifndef KMSDIAG_LOG_H
#define KMSDIAG_LOG_H

#include <kmsdiag/kmsdiag_export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kmsdiag_log_level {
  KMSDIAG_LOG_ERROR = 0,
  KMSDIAG_LOG_WARN = 1,
  KMSDIAG_LOG_INFO = 2,
  KMSDIAG_LOG_DEBUG = 3
} kmsdiag_log_level_t;

/*! Log callback. \p msg is borrowed, valid only during the call, and may
 *  contain text from untrusted input: escape it before showing it. */
typedef void (*kmsdiag_log_fn)(kmsdiag_log_level_t level, const char *msg,
                               void *userdata);

/*! Install (or with NULL remove) the process-wide log callback. Messages
 *  above \p max_level are dropped. The default is no callback: silent. */
KMSDIAG_API void kmsdiag_set_log(kmsdiag_log_fn fn, void *userdata,
                                 kmsdiag_log_level_t max_level);

/*! "error", "warn", "info" or "debug". */
KMSDIAG_API const char *kmsdiag_log_level_name(kmsdiag_log_level_t level);

#ifdef __cplusplus
}
#endif
#endif
