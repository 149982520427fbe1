/* kms-error: explain Windows activation error codes.
 *
 *   kms-error [--json] CODE...
 *   kms-error [--json] --list
 *   kms-error [--json] --search WORDS...
 *
 * Exit status: 0 every code known (or --list, or --search found entries),
 * 1 a code is not in the catalogue (it is still decoded) or --search found
 * nothing, 2 usage error or an argument that is not a code. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

#include "tool.h"

static void usage(FILE *f) {
  fprintf(f,
          "Usage: kms-error [--json] CODE...\n"
          "       kms-error [--json] --list\n"
          "       kms-error [--json] --search WORDS...\n"
          "Explain Windows volume-activation error codes: meaning, where the\n"
          "code can be observed, likely causes and remedies.\n"
          "\n"
          "CODE may be written 0xC004F074, C004F074 (exactly 8 hex digits),\n"
          "3221549172 (decimal), -1073418124 (signed decimal, as PowerShell\n"
          "prints it) or as a Win32 error number such as 1722 or 9003 (any\n"
          "value from 1 to 65535 is read as Win32 and shown as HRESULT).\n"
          "\n"
          "Options:\n"
          "  -j, --json          print JSON Lines (one object per code)\n"
          "  -l, --list          print the whole catalogue\n"
          "  -s, --search WORDS  list entries containing every word\n"
          "                      (case-insensitive; further arguments are\n"
          "                      more words)\n"
          "  -h, --help          print this help and exit\n"
          "  -V, --version       print the version and exit\n"
          "\n"
          "Exit status: 0 all codes known, 1 a code is not in the catalogue\n"
          "(it is still decoded) or --search found nothing, 2 usage error or\n"
          "an argument that is not a code.\n");
}

/* ---- text output ------------------------------------------------------- */

static void print_layers(unsigned layers) {
  bool first = true;
  for (unsigned i = 0; i < KMSDIAG_ERRLAYER_COUNT; i++) {
    if (layers & (1u << i)) {
      printf("%s%s", first ? "" : ", ", kmsdiag_error_layer_name(1u << i));
      first = false;
    }
  }
  if (first)
    fputs("-", stdout);
}

static void print_decoded(const kmsdiag_error_info_t *d) {
  switch (d->format) {
  case KMSDIAG_ERRFMT_WIN32:
    printf("Win32 error %u", (unsigned)d->win32_code);
    if (d->win32_code == 0)
      fputs(" (success)", stdout);
    break;
  case KMSDIAG_ERRFMT_NCA:
    printf("DCE RPC fault status (nca), code 0x%04X", (unsigned)d->code_field);
    break;
  case KMSDIAG_ERRFMT_HRESULT_FROM_NT:
    printf("%s, HRESULT_FROM_NT of NTSTATUS 0x%08X", d->severity,
           (unsigned)d->ntstatus);
    break;
  case KMSDIAG_ERRFMT_NTSTATUS:
  case KMSDIAG_ERRFMT_HRESULT:
    printf("%s, %s", d->severity,
           d->format == KMSDIAG_ERRFMT_NTSTATUS ? "NTSTATUS" : "HRESULT");
    break;
  }
  if (d->format != KMSDIAG_ERRFMT_WIN32 && d->format != KMSDIAG_ERRFMT_NCA) {
    if (d->facility_name)
      printf(", facility %s (%u)", d->facility_name, (unsigned)d->facility);
    else
      printf(", facility %u", (unsigned)d->facility);
    if (d->is_win32)
      printf(", Win32 error %u", (unsigned)d->win32_code);
    else
      printf(", code 0x%04X", (unsigned)d->code_field);
  }
  if (d->is_sl)
    fputs(", Software Licensing", stdout);
  if (d->customer)
    fputs(", customer bit set", stdout);
}

static void print_list(const char *title, const char *const *list) {
  printf("  %s\n", title);
  for (size_t i = 0; list && list[i]; i++)
    printf("    - %s\n", list[i]);
}

static void print_block(uint32_t code, const char *input,
                        kmsdiag_error_input_form_t form) {
  const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(code);
  kmsdiag_error_info_t d;
  kmsdiag_error_decode(code, &d);

  printf("0x%08X  %s\n", (unsigned)code,
         e ? (e->name ? e->name : "(no symbolic name)")
           : "(not in the catalogue)");
  if (form != KMSDIAG_ERRIN_HEX_PREFIXED) {
    fputs("  Input:     ", stdout);
    tool_puts_escaped(stdout, input);
    if (form == KMSDIAG_ERRIN_WIN32)
      printf(" (Win32 error %u as HRESULT_FROM_WIN32)",
             (unsigned)(code & 0xFFFFu));
    fputc('\n', stdout);
  }
  if (e) {
    printf("  Message:   %s%s\n", e->message,
           (e->flags & KMSDIAG_ERRF_UNVERIFIED) ? " (message not verified)"
                                                : "");
    fputs("  Layer:     ", stdout);
    print_layers(e->layers);
    fputc('\n', stdout);
  }
  fputs("  Decoded:   ", stdout);
  print_decoded(&d);
  fputc('\n', stdout);
  if (e) {
    if (e->causes[0])
      print_list("Causes:", e->causes);
    else
      printf("  Causes:    not known\n");
    print_list("Remedies:", e->remedies);
    printf("  Source:    %s\n", e->source);
  } else {
    char buf[256];
    printf("  Remedies:\n");
    for (size_t i = 0; kmsdiag_error_generic_remedy(code, i, buf, sizeof buf);
         i++)
      printf("    - %s\n", buf);
  }
}

static void print_line(const kmsdiag_error_entry_t *e) {
  printf("0x%08X  %-47s  %s%s\n", (unsigned)e->code, e->name ? e->name : "-",
         e->message,
         (e->flags & KMSDIAG_ERRF_UNVERIFIED) ? " (not verified)" : "");
}

/* ---- modes -------------------------------------------------------------- */

static int emit_entry(kmsdiag_json_t *j, const kmsdiag_error_entry_t *e) {
  if (!j) {
    print_line(e);
    return TOOL_EXIT_OK;
  }
  kmsdiag_error_write_json(j, NULL, e->code);
  return tool_json_emit(j) ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
}

static int do_list(kmsdiag_json_t *j) {
  for (size_t i = 0; i < kmsdiag_error_count(); i++)
    if (emit_entry(j, kmsdiag_error_at(i)) != TOOL_EXIT_OK)
      return TOOL_EXIT_USAGE;
  return TOOL_EXIT_OK;
}

static int do_search(kmsdiag_json_t *j, const char *first, char **more,
                     int nmore) {
  char query[KMSDIAG_ERROR_SEARCH_MAX_LEN + 1];
  size_t len = 0;
  for (int i = -1; i < nmore; i++) {
    const char *w = i < 0 ? first : more[i];
    size_t wl = strlen(w);
    if (len + wl + 1 > KMSDIAG_ERROR_SEARCH_MAX_LEN)
      return tool_usage_error("search text is longer than %d characters",
                              KMSDIAG_ERROR_SEARCH_MAX_LEN);
    if (len)
      query[len++] = ' ';
    memcpy(query + len, w, wl);
    len += wl;
  }
  query[len] = '\0';

  size_t n = kmsdiag_error_count(), found = 0;
  const kmsdiag_error_entry_t **hits = calloc(n ? n : 1, sizeof *hits);
  if (!hits) {
    tool_err("out of memory");
    return TOOL_EXIT_USAGE;
  }
  kmsdiag_status_t st = kmsdiag_error_search(query, hits, n, &found);
  int rc = TOOL_EXIT_OK;
  if (st == KMSDIAG_EINVAL) {
    rc = tool_usage_error("--search needs at least one word");
  } else if (st == KMSDIAG_ETOOBIG) {
    rc = tool_usage_error("search text has more than %d words",
                          KMSDIAG_ERROR_SEARCH_MAX_WORDS);
  } else if (st != KMSDIAG_OK) {
    tool_err("search failed: %s", kmsdiag_strerror(st));
    rc = TOOL_EXIT_USAGE;
  } else if (found == 0) {
    fprintf(stderr, "%s: no entry matches \"", tool_name());
    tool_puts_escaped(stderr, query);
    fputs("\"\n", stderr);
    rc = TOOL_EXIT_PROBLEM;
  } else {
    for (size_t i = 0; i < found && i < n && rc == TOOL_EXIT_OK; i++)
      rc = emit_entry(j, hits[i]);
  }
  free(hits);
  return rc;
}

static int do_codes(kmsdiag_json_t *j, char **args, int nargs) {
  uint32_t *codes = calloc((size_t)nargs, sizeof *codes);
  kmsdiag_error_input_form_t *forms = calloc((size_t)nargs, sizeof *forms);
  int rc = TOOL_EXIT_OK;
  if (!codes || !forms) {
    free(codes);
    free(forms);
    tool_err("out of memory");
    return TOOL_EXIT_USAGE;
  }
  /* Validate every argument first: a bad one means no results at all. */
  for (int i = 0; i < nargs; i++) {
    const char *why = NULL;
    if (kmsdiag_error_parse_code_ex(args[i], &codes[i], &forms[i], &why) !=
        KMSDIAG_OK) {
      char *shown = kmsdiag_text_escape_dup(args[i], strlen(args[i]));
      tool_err("'%s' is not an error code: %s (expected e.g. 0xC004F074, "
               "C004F074, 3221549172, -1073418124 or 1722)",
               shown ? shown : "?", why ? why : "invalid");
      free(shown);
      rc = TOOL_EXIT_USAGE;
    }
  }
  if (rc != TOOL_EXIT_OK) {
    fprintf(stderr, "Try '%s --help'.\n", tool_name());
    goto out;
  }
  for (int i = 0; i < nargs; i++) {
    bool known = kmsdiag_error_lookup(codes[i]) != NULL;
    if (!known)
      rc = TOOL_EXIT_PROBLEM;
    if (j) {
      kmsdiag_json_object_begin(j, NULL);
      kmsdiag_error_json_members(j, codes[i]);
      kmsdiag_json_strn(j, "input", args[i], strlen(args[i]));
      kmsdiag_json_object_end(j);
      if (!tool_json_emit(j)) {
        rc = TOOL_EXIT_USAGE;
        goto out;
      }
    } else {
      if (i > 0)
        fputc('\n', stdout);
      print_block(codes[i], args[i], forms[i]);
    }
  }
out:
  free(codes);
  free(forms);
  return rc;
}

/* A negative decimal ("-1073418124") is a code, not an option. */
static bool is_negative_number(const char *s) {
  return s[0] == '-' && s[1] >= '0' && s[1] <= '9';
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"json", no_argument, NULL, 'j'},
      {"list", no_argument, NULL, 'l'},
      {"search", required_argument, NULL, 's'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  bool json = false, list = false;
  const char *search = NULL;
  int rc;

  tool_init("kms-error");
  if (argc < 1)
    return TOOL_EXIT_USAGE;

  /* getopt would read "-1073418124" as options: hide negative numbers from
   * it (except as the value of -s/--search) and merge them back into the
   * operands in their original order. */
  char **opts = calloc((size_t)argc + 1, sizeof *opts);
  char **operands = calloc((size_t)argc + 1, sizeof *operands);
  bool *is_operand = calloc((size_t)argc + 1, sizeof *is_operand);
  if (!opts || !operands || !is_operand) {
    tool_err("out of memory");
    free(opts);
    free(operands);
    free(is_operand);
    return TOOL_EXIT_USAGE;
  }
  int nopts = 0;
  bool after_dashdash = false;
  for (int i = 0; i < argc; i++) {
    const char *prev = i > 0 ? argv[i - 1] : "";
    bool value_of_search =
        strcmp(prev, "-s") == 0 || strcmp(prev, "--search") == 0;
    if (i > 0 && !after_dashdash && !value_of_search &&
        is_negative_number(argv[i]))
      is_operand[i] = true;
    else
      opts[nopts++] = argv[i];
    if (strcmp(argv[i], "--") == 0 && !value_of_search)
      after_dashdash = true;
  }

  int c;
  opterr = 0;
  while ((c = getopt_long(nopts, opts, ":jls:hV", longopts, NULL)) != -1) {
    switch (c) {
    case 'j':
      json = true;
      break;
    case 'l':
      list = true;
      break;
    case 's':
      search = optarg;
      break;
    case 'h':
      usage(stdout);
      rc = TOOL_EXIT_OK;
      goto done;
    case 'V':
      tool_print_version();
      rc = TOOL_EXIT_OK;
      goto done;
    case ':':
    default: {
      /* Name the option as the user wrote it, escaped (it is user text). */
      char shortopt[3] = {'-', (char)optopt, '\0'};
      const char *elem = opts[optind - 1];
      const char *what = (strncmp(elem, "--", 2) == 0 || optopt <= 0 ||
                          optopt >= 256)
                             ? elem
                             : shortopt;
      char *shown = kmsdiag_text_escape_dup(what, strlen(what));
      if (c == ':')
        rc = tool_usage_error("option '%s' needs a value", shown ? shown : "?");
      else
        rc = tool_usage_error("unknown option '%s'", shown ? shown : "?");
      free(shown);
      goto done;
    }
    }
  }
  /* Operands: getopt's leftovers plus the hidden negative numbers, in the
   * order they had on the command line (matched by pointer). */
  for (int k = optind; k < nopts; k++)
    for (int i = 1; i < argc; i++)
      if (argv[i] == opts[k])
        is_operand[i] = true;
  int noperands = 0;
  for (int i = 1; i < argc; i++)
    if (is_operand[i])
      operands[noperands++] = argv[i];

  if (list && search) {
    rc = tool_usage_error("--list and --search cannot be combined");
  } else if (list && noperands > 0) {
    rc = tool_usage_error("--list takes no codes");
  } else if (!list && !search && noperands == 0) {
    rc = tool_usage_error("no error code given");
  } else {
    kmsdiag_json_t *j = NULL;
    if (json && kmsdiag_json_new(&j) != KMSDIAG_OK) {
      tool_err("out of memory");
      rc = TOOL_EXIT_USAGE;
      goto done;
    }
    if (list)
      rc = do_list(j);
    else if (search)
      rc = do_search(j, search, operands, noperands);
    else
      rc = do_codes(j, operands, noperands);
    kmsdiag_json_free(j);
  }
done:
  free(opts);
  free(operands);
  free(is_operand);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    tool_err("cannot write output");
    return TOOL_EXIT_USAGE;
  }
  return rc;
}
