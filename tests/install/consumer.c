/* consumer.c: an outside program using only the installed public API. */
#include <stdio.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

int main(void) {
  kmsdiag_json_t *j;
  if (strcmp(kmsdiag_version(), KMSDIAG_VERSION_STR) != 0)
    return 1;
  if (kmsdiag_json_new(&j) != KMSDIAG_OK)
    return 1;
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", "consumer");
  kmsdiag_json_str(j, "status", kmsdiag_strerror(KMSDIAG_ETRUNC));
  kmsdiag_json_object_end(j);
  kmsdiag_json_endline(j);
  fputs(kmsdiag_json_text(j, NULL), stdout);
  kmsdiag_json_free(j);
  return 0;
}
