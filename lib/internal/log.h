/* log.h: internal logging into the user's callback (silent by default). */
#ifndef KMSDIAG_INTERNAL_LOG_H
#define KMSDIAG_INTERNAL_LOG_H

#include <stdbool.h>

#include <kmsdiag/kmsdiag_log.h>

bool kd_log_enabled(kmsdiag_log_level_t level);
void kd_log(kmsdiag_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define KD_LOG_ERR(...) kd_log(KMSDIAG_LOG_ERROR, __VA_ARGS__)
#define KD_LOG_WARN(...) kd_log(KMSDIAG_LOG_WARN, __VA_ARGS__)
#define KD_LOG_INFO(...) kd_log(KMSDIAG_LOG_INFO, __VA_ARGS__)
#define KD_LOG_DEBUG(...) kd_log(KMSDIAG_LOG_DEBUG, __VA_ARGS__)

#endif
