/* fuzz_errcode.c: kmsdiag_error_parse_code_ex() and kmsdiag_error_search()
 * on arbitrary bytes, and the lookup/decode/JSON path for every code that
 * parses. The input is cut at the first NUL, like a C string argument. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Longer than both limits, so the "too long" paths are reached. */
  if (size > KMSDIAG_ERROR_SEARCH_MAX_LEN + 64)
    size = KMSDIAG_ERROR_SEARCH_MAX_LEN + 64;
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';

  uint32_t code = 0;
  kmsdiag_error_input_form_t form;
  const char *why = NULL;
  kmsdiag_status_t st = kmsdiag_error_parse_code_ex(text, &code, &form, &why);
  if (st == KMSDIAG_OK) {
    if (why)
      abort(); /* no reason on success */
    const kmsdiag_error_entry_t *e = kmsdiag_error_lookup(code);
    if (e && e->code != code)
      abort();
    kmsdiag_error_info_t info;
    kmsdiag_error_decode(code, &info);
    if (!info.severity || !info.format_name)
      abort();
    char buf[64];
    for (size_t i = 0; kmsdiag_error_generic_remedy(code, i, buf, sizeof buf);
         i++)
      ;
    kmsdiag_json_t *j = NULL;
    if (kmsdiag_json_new(&j) == KMSDIAG_OK) {
      if (kmsdiag_error_write_json(j, NULL, code) != KMSDIAG_OK)
        abort();
      kmsdiag_json_endline(j);
      kmsdiag_json_free(j);
    }
  } else if (st != KMSDIAG_EPARSE || !why) {
    abort(); /* every failure is EPARSE with a reason */
  }

  const kmsdiag_error_entry_t *hits[8];
  size_t found = 0;
  st = kmsdiag_error_search(text, hits, 8, &found);
  if (st == KMSDIAG_OK) {
    for (size_t i = 0; i < found && i < 8; i++)
      if (kmsdiag_error_lookup(hits[i]->code) != hits[i])
        abort();
  } else if (st != KMSDIAG_EINVAL && st != KMSDIAG_ETOOBIG) {
    abort();
  }
  free(text);
  return 0;
}
