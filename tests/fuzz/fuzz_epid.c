/* fuzz_epid.c: kmsdiag_epid_parse_at() on arbitrary bytes (as decoded from
 * a KMS response or pasted by a user), then everything downstream of a
 * parse: the can-activate check for several products, the JSON writer, and
 * the product name matcher on the same bytes. Invariants that must hold for
 * any input are checked with abort(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-11-22, fixed so runs are repeatable */
#define NOW INT64_C(1795315825)

static void check_epid(const kmsdiag_epid_t *e, kmsdiag_status_t st) {
  if ((st == KMSDIAG_OK) != e->syntax_ok)
    abort();
  if (st != KMSDIAG_OK && st != KMSDIAG_EPARSE && st != KMSDIAG_ETOOBIG)
    abort();
  if (e->text_len > KMSDIAG_EPID_MAX_LEN || e->text[e->text_len] != '\0')
    abort();
  if (e->n_problems > KMSDIAG_EPID_MAX_PROBLEMS)
    abort();
  if (st != KMSDIAG_OK && e->n_problems == 0)
    abort(); /* a failure always says why */
  for (size_t i = 0; i < e->n_problems; i++) {
    const char *m = e->problems[i].message;
    if (!e->problems[i].rule || memchr(m, 0, KMSDIAG_EPID_MSG_SIZE) == NULL)
      abort();
    for (; *m; m++) /* messages never carry raw input bytes */
      if (*m < 0x20 || *m > 0x7e)
        abort();
  }
  if (e->syntax_ok) {
    if (e->platform_id > 99999 || e->group_id > 99999 ||
        e->key_id > 999999999 || e->channel > 99 || e->lcid > 99999 ||
        e->build > 99999 || e->day_of_year > 999 || e->year > 9999)
      abort();
    if (e->date_ok && (e->month < 1 || e->month > 12 || e->mday < 1 ||
                       e->mday > 31 || e->day_of_year < 1 ||
                       e->day_of_year > 366))
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kmsdiag_epid_t e;
  kmsdiag_activation_verdict_t v;
  kmsdiag_status_t st;
  kmsdiag_json_t *j = NULL;

  st = kmsdiag_epid_parse_at((const char *)data, size, NOW, &e);
  check_epid(&e, st);

  /* can-activate for a spread of products */
  size_t np = kmsdiag_product_count();
  for (size_t i = 0; i < np; i += 7) {
    const kmsdiag_product_t *p = kmsdiag_product_at(i);
    if (kmsdiag_epid_can_activate(&e, p, &v) != KMSDIAG_OK)
      abort();
    if ((v.answer == KMSDIAG_ACTIVATE_NO ||
         v.answer == KMSDIAG_ACTIVATE_PARTLY) != (v.hresult == 0xC004F042u))
      abort();
    if (memchr(v.reason, 0, sizeof v.reason) == NULL)
      abort();
    if (!e.syntax_ok && v.answer != KMSDIAG_ACTIVATE_UNKNOWN)
      abort();
  }

  if (kmsdiag_json_new(&j) == KMSDIAG_OK) {
    kmsdiag_json_object_begin(j, NULL);
    kmsdiag_json_str(j, "type", "epid");
    kmsdiag_epid_write_json(j, "epid", &e);
    kmsdiag_activation_verdict_write_json(j, "verdict", &v);
    kmsdiag_json_object_end(j);
    kmsdiag_json_endline(j);
    if (kmsdiag_json_status(j) != KMSDIAG_OK)
      abort();
    size_t len;
    const char *t = kmsdiag_json_text(j, &len);
    for (size_t i = 0; i + 1 < len; i++) /* one line, no raw controls */
      if ((unsigned char)t[i] < 0x20)
        abort();
    kmsdiag_json_free(j);
  }

  /* the same bytes as a product query (a C string: cut at the first NUL) */
  {
    size_t n = size > 300 ? 300 : size;
    char *q = malloc(n + 1);
    const kmsdiag_product_t *out[8];
    size_t found = 0;
    if (!q)
      return 0;
    memcpy(q, data, n);
    q[n] = '\0';
    st = kmsdiag_product_find(q, out, 8, &found);
    if (st == KMSDIAG_OK) {
      if (found != 1)
        abort();
      kmsdiag_line_mask_t m = kmsdiag_product_query_lines(out[0], q);
      if (!m || (m & ~out[0]->lines))
        abort();
    } else if (st == KMSDIAG_EAMBIGUOUS) {
      if (found < 2)
        abort();
    } else if (st != KMSDIAG_ENOTFOUND && st != KMSDIAG_ETOOBIG) {
      abort();
    }
    free(q);
  }
  return 0;
}
