/* log.c: the process-wide log hook; silent until the user installs one. */
#include <stdarg.h>
#include <stdio.h>

#include "internal/log.h"

static kmsdiag_log_fn log_fn;
static void *log_ud;
static kmsdiag_log_level_t log_max = KMSDIAG_LOG_WARN;

void kmsdiag_set_log(kmsdiag_log_fn fn, void *userdata,
                     kmsdiag_log_level_t max_level) {
  log_fn = fn;
  log_ud = userdata;
  log_max = max_level;
}

const char *kmsdiag_log_level_name(kmsdiag_log_level_t level) {
  switch (level) {
  case KMSDIAG_LOG_ERROR: return "error";
  case KMSDIAG_LOG_WARN: return "warn";
  case KMSDIAG_LOG_INFO: return "info";
  case KMSDIAG_LOG_DEBUG: return "debug";
  }
  return "unknown";
}

bool kd_log_enabled(kmsdiag_log_level_t level) {
  return log_fn != NULL && level <= log_max;
}

void kd_log(kmsdiag_log_level_t level, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  if (!kd_log_enabled(level))
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_fn(level, msg, log_ud);
}
