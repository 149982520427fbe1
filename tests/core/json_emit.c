/* json_emit.c: writes hostile strings through kmsdiag_json_t, one JSON
 * Lines record per case with the raw input as hex; json_roundtrip.py parses
 * the output with python's json module and checks every value. */
#include <stdio.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

static const struct {
  const char *s;
  size_t n;
} cases[] = {
#define C(lit) {lit, sizeof(lit) - 1}
    C("plain"),
    C("quote\" backslash\\ slash/"),
    C("\n\r\t\b\f"),
    C("\x01\x02\x1f\x7f"),
    C("nul\0inside"),
    C("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91"),
    C("\xff\xfe invalid"),
    C("\xc0\xaf overlong"),
    C("\xed\xa0\x80 surrogate"),
    C("\xe2\x82 truncated"),
    C("\xf4\x90\x80\x80 above max"),
    C("\xe2\x80\xa8 line sep \xe2\x80\xa9"),
    C("\xc2\x85 NEL"),
    C("\x1b[2J\x1b]0;title\x07"),
    C(""),
#undef C
};

int main(void) {
  kmsdiag_json_t *j;
  if (kmsdiag_json_new(&j) != KMSDIAG_OK)
    return 2;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kmsdiag_json_object_begin(j, NULL);
    kmsdiag_json_str(j, "type", "case");
    kmsdiag_json_hexbytes(j, "input_hex", cases[i].s, cases[i].n);
    kmsdiag_json_strn(j, "value", cases[i].s, cases[i].n);
    kmsdiag_json_strn(j, "key\x01\"odd", "k", 1);
    kmsdiag_json_int(j, "neg", -9223372036854775807LL - 1);
    kmsdiag_json_uint(j, "big", UINT64_MAX);
    kmsdiag_json_array_begin(j, "nested");
    kmsdiag_json_bool(j, NULL, true);
    kmsdiag_json_null(j, NULL);
    kmsdiag_json_object_begin(j, NULL);
    kmsdiag_json_object_end(j);
    kmsdiag_json_array_end(j);
    kmsdiag_json_object_end(j);
    kmsdiag_json_endline(j);
  }
  if (kmsdiag_json_status(j) != KMSDIAG_OK)
    return 2;
  fputs(kmsdiag_json_text(j, NULL), stdout);
  kmsdiag_json_free(j);
  return 0;
}
