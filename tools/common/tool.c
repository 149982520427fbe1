/* tool.c: helpers shared by the kmsdiag tools. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char *g_name = "kmsdiag";

void tool_init(const char *name) { g_name = name; }
const char *tool_name(void) { return g_name; }

/* Messages quote what the user or a file gave (an option's value, a
 * name): escape it for the terminal, keeping the message's own line
 * breaks. Long messages are cut at 4 KiB. */
static void put_message(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));
static void put_message(const char *fmt, va_list ap) {
  char buf[4096];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  size_t len = n < 0 ? 0 : (size_t)n >= sizeof buf ? sizeof buf - 1 : (size_t)n;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || buf[i] == '\n') {
      tool_put_escaped(stderr, buf + start, i - start);
      if (i < len)
        fputc('\n', stderr);
      start = i + 1;
    }
  }
}

void tool_err(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", g_name);
  va_start(ap, fmt);
  put_message(fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void tool_print_version(void) {
  printf("%s %s (libkmsdiag %s)\n", g_name, KMSDIAG_VERSION_STR,
         kmsdiag_version());
}

int tool_usage_error(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", g_name);
  va_start(ap, fmt);
  put_message(fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry '%s --help'.\n", g_name);
  return TOOL_EXIT_USAGE;
}

void tool_put_escaped(FILE *f, const void *s, size_t len) {
  char small[256];
  size_t need = kmsdiag_text_escape(small, sizeof small, s, len);
  if (need < sizeof small) {
    fputs(small, f);
    return;
  }
  char *big = kmsdiag_text_escape_dup(s, len);
  if (big) {
    fputs(big, f);
    free(big);
  }
}

void tool_puts_escaped(FILE *f, const char *s) {
  if (!s)
    fputs("-", f);
  else
    tool_put_escaped(f, s, strlen(s));
}

bool tool_json_emit(kmsdiag_json_t *j) {
  size_t len;
  const char *t;
  kmsdiag_json_endline(j);
  if (kmsdiag_json_status(j) != KMSDIAG_OK) {
    tool_err("internal error writing JSON: %s",
             kmsdiag_strerror(kmsdiag_json_status(j)));
    kmsdiag_json_reset(j);
    return false;
  }
  t = kmsdiag_json_text(j, &len);
  fwrite(t, 1, len, stdout);
  kmsdiag_json_reset(j);
  return true;
}

static void log_cb(kmsdiag_log_level_t level, const char *msg, void *ud) {
  (void)ud;
  fprintf(stderr, "%s: %s: ", g_name, kmsdiag_log_level_name(level));
  tool_puts_escaped(stderr, msg);
  fputc('\n', stderr);
}

void tool_log_to_stderr(int verbosity) {
  kmsdiag_log_level_t lvl = KMSDIAG_LOG_WARN;
  if (verbosity >= 2)
    lvl = KMSDIAG_LOG_DEBUG;
  else if (verbosity == 1)
    lvl = KMSDIAG_LOG_INFO;
  kmsdiag_set_log(log_cb, NULL, lvl);
}

bool tool_parse_long(const char *s, long min, long max, long *out) {
  char *end;
  long v;
  if (!s || !*s)
    return false;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || *end || v < min || v > max)
    return false;
  *out = v;
  return true;
}
