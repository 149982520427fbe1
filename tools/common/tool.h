/* tool.h: helpers shared by the kmsdiag tools (never installed).
 *
 * Exit codes of the diagnostic tools (man pages say which apply):
 *   0 success / healthy, 1 a problem was found, 2 usage or internal error.
 * Monitoring mode (--nagios) uses 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
#ifndef KMSDIAG_TOOL_H
#define KMSDIAG_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <kmsdiag/kmsdiag.h>

enum {
  TOOL_EXIT_OK = 0,
  TOOL_EXIT_PROBLEM = 1,
  TOOL_EXIT_USAGE = 2,
};

/* Set once from argv[0]-independent tool name; used in messages. */
void tool_init(const char *name);
const char *tool_name(void);

/* "NAME: message" on stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "NAME VERSION (libkmsdiag VERSION)" on stdout. */
void tool_print_version(void);
/* Usage error: message on stderr plus "Try 'NAME --help'.", returns 2. */
int tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print untrusted bytes on `f`, escaped for a terminal. */
void tool_put_escaped(FILE *f, const void *s, size_t len);
/* Same for a NUL-terminated string (NULL prints "-"). */
void tool_puts_escaped(FILE *f, const char *s);

/* Write the JSON record in `j` (ends the line) to stdout and reset `j`.
 * Returns false (after a message) when the writer failed. */
bool tool_json_emit(kmsdiag_json_t *j);

/* Route library log messages to stderr at the given level (-v flags). */
void tool_log_to_stderr(int verbosity);

/* Parse a decimal in [min,max]; false on garbage or out of range. */
bool tool_parse_long(const char *s, long min, long max, long *out);

#endif
