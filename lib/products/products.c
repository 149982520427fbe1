/* products.c: lookups over the product tables, partial name matching, and
 * the JSON form of a product. */
#include <string.h>

#include <kmsdiag/kmsdiag_products.h>

#include "tables.h"

/* Longest text kmsdiag_product_find() looks at. */
#define FIND_MAX_TEXT 256
/* Most words in a query or a product name. */
#define FIND_MAX_WORDS 16
#define WORD_MAX 24
/* Bound of the product table (checked by a test). */
#define FIND_MAX_PRODUCTS 256

const char *kmsdiag_confidence_name(kmsdiag_confidence_t c) {
  switch (c) {
  case KMSDIAG_CONF_MS: return "ms";
  case KMSDIAG_CONF_RE: return "re";
  case KMSDIAG_CONF_UNVERIFIED: return "unverified";
  }
  return "unverified";
}

const char *kmsdiag_family_name(kmsdiag_family_t f) {
  switch (f) {
  case KMSDIAG_FAMILY_WINDOWS_CLIENT: return "windows_client";
  case KMSDIAG_FAMILY_WINDOWS_SERVER: return "windows_server";
  case KMSDIAG_FAMILY_OFFICE: return "office";
  }
  return "unknown";
}

const char *kmsdiag_line_name(kmsdiag_line_t l) {
  if ((unsigned)l >= KMSDIAG_LINE_COUNT_)
    return "unknown";
  return kd_line_names[l];
}

/* ---- tables --------------------------------------------------------------- */

size_t kmsdiag_app_count(void) { return kd_apps_n; }
const kmsdiag_app_t *kmsdiag_app_at(size_t i) {
  return i < kd_apps_n ? &kd_apps[i] : NULL;
}
const kmsdiag_app_t *kmsdiag_app_by_id(const kmsdiag_guid_t *id) {
  if (!id)
    return NULL;
  for (size_t i = 0; i < kd_apps_n; i++)
    if (kmsdiag_guid_equal(&kd_apps[i].id, id))
      return &kd_apps[i];
  return NULL;
}

size_t kmsdiag_kms_group_count(void) { return kd_groups_n; }
const kmsdiag_kms_group_t *kmsdiag_kms_group_at(size_t i) {
  return i < kd_groups_n ? &kd_groups[i] : NULL;
}
const kmsdiag_kms_group_t *kmsdiag_kms_group_by_id(const kmsdiag_guid_t *id) {
  if (!id)
    return NULL;
  for (size_t i = 0; i < kd_groups_n; i++)
    if (kmsdiag_guid_equal(&kd_groups[i].id, id))
      return &kd_groups[i];
  return NULL;
}

size_t kmsdiag_product_count(void) { return kd_products_n; }
const kmsdiag_product_t *kmsdiag_product_at(size_t i) {
  return i < kd_products_n ? &kd_products[i] : NULL;
}
const kmsdiag_product_t *kmsdiag_product_by_sku(const kmsdiag_guid_t *sku) {
  if (!sku || kmsdiag_guid_is_null(sku))
    return NULL;
  for (size_t i = 0; i < kd_products_n; i++)
    if (kd_products[i].has_sku_id &&
        kmsdiag_guid_equal(&kd_products[i].sku_id, sku))
      return &kd_products[i];
  return NULL;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }
static int is_blank(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

static void trim(const char **p, size_t *len) {
  while (*len && is_blank((unsigned char)(*p)[0])) {
    (*p)++;
    (*len)--;
  }
  while (*len && is_blank((unsigned char)(*p)[*len - 1]))
    (*len)--;
}

const kmsdiag_product_t *kmsdiag_product_by_gvlk(const char *key, size_t len) {
  if (!key)
    return NULL;
  trim(&key, &len);
  if (len != 29)
    return NULL;
  for (size_t i = 0; i < kd_products_n; i++) {
    const char *g = kd_products[i].gvlk;
    size_t k;
    if (!g)
      continue;
    for (k = 0; k < 29; k++)
      if (lower((unsigned char)key[k]) != lower((unsigned char)g[k]))
        break;
    if (k == 29)
      return &kd_products[i];
  }
  return NULL;
}

const kmsdiag_product_t *kmsdiag_product_default(void) {
  for (size_t i = 0; i < kd_products_n; i++)
    if (strcmp(kd_products[i].name, "Windows Server 2019 Standard") == 0)
      return &kd_products[i];
  return NULL; /* not reached: tests check the row exists */
}

/* ---- name matching -------------------------------------------------------- */

typedef struct words {
  size_t n;
  char w[FIND_MAX_WORDS][WORD_MAX];
  /* words joined by '/' ("10/11") are alternatives: one group */
  uint8_t grp[FIND_MAX_WORDS];
  uint8_t ngrp;
  bool overflow; /* too many words or a word too long */
} words_t;

static bool word_char(int c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
}

static void words_add(words_t *ws, const char *s, size_t n) {
  if (n == 0)
    return;
  if (ws->n >= FIND_MAX_WORDS || n >= WORD_MAX) {
    ws->overflow = true;
    return;
  }
  memcpy(ws->w[ws->n], s, n);
  ws->w[ws->n][n] = '\0';
  ws->grp[ws->n] = ws->ngrp;
  ws->n++;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* Add one query word, expanding shorthands: "ws2019" -> "server 2019",
 * "win11" -> "windows 11", "2012r2" -> "2012 r2", "dc" -> "datacenter",
 * "std" -> "standard", "ws" -> "server". */
static void query_word(words_t *ws, const char *s, size_t n) {
  size_t a = 0;
  while (a < n && !is_digit((unsigned char)s[a]) && s[a] != '.')
    a++;
  if (a > 0 && a < n) {
    /* letters then digits: split when the letters are a known prefix */
    static const char *const pre[] = {"win", "windows", "w", "ws",
                                      "server", "office", "o"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
      if (strlen(pre[i]) == a && memcmp(pre[i], s, a) == 0) {
        query_word(ws, s, a);
        query_word(ws, s + a, n - a);
        return;
      }
  }
  if (n > 2 && s[n - 2] == 'r' && s[n - 1] == '2' &&
      is_digit((unsigned char)s[n - 3])) {
    words_add(ws, s, n - 2);
    words_add(ws, "r2", 2);
    return;
  }
  if (n == 2 && memcmp(s, "ws", 2) == 0)
    words_add(ws, "server", 6);
  else if (n == 2 && memcmp(s, "dc", 2) == 0)
    words_add(ws, "datacenter", 10);
  else if (n == 3 && memcmp(s, "std", 3) == 0)
    words_add(ws, "standard", 8);
  else if ((n == 1 && s[0] == 'w') || (n == 3 && memcmp(s, "win", 3) == 0))
    words_add(ws, "windows", 7);
  else if (n == 1 && s[0] == 'o')
    words_add(ws, "office", 6);
  else
    words_add(ws, s, n);
}

/* Split lower-cased text into words of [a-z0-9.]; query words get the
 * shorthand expansion. */
static void split_words(const char *text, size_t len, bool query,
                        words_t *ws) {
  char buf[WORD_MAX * 2];
  size_t n = 0;
  bool too_long = false;
  memset(ws, 0, sizeof *ws);
  for (size_t i = 0; i <= len; i++) {
    int c = i < len ? lower((unsigned char)text[i]) : ' ';
    if (word_char(c)) {
      if (n < sizeof buf)
        buf[n++] = (char)c;
      else
        too_long = true;
      continue;
    }
    if (too_long) {
      ws->overflow = true;
    } else if (n) {
      if (query)
        query_word(ws, buf, n);
      else
        words_add(ws, buf, n);
      if (c != '/' && ws->ngrp < UINT8_MAX)
        ws->ngrp++;
    }
    n = 0;
    too_long = false;
  }
}

static bool has_prefix(const char *word, const char *pre) {
  size_t n = strlen(pre);
  return strncmp(word, pre, n) == 0;
}

/* Whether product name words `nw` contain every query word of `qw` (at a
 * word start, or else inside a word: *loose is then set). *used receives
 * the name word groups some query word matched at their start. */
static bool match_words(const words_t *nw, const words_t *qw, uint32_t *used,
                        bool *loose) {
  *used = 0;
  *loose = false;
  for (size_t q = 0; q < qw->n; q++) {
    bool prefix = false, inside = false;
    for (size_t k = 0; k < nw->n; k++) {
      if (has_prefix(nw->w[k], qw->w[q])) {
        prefix = true;
        if (nw->grp[k] < 32)
          *used |= UINT32_C(1) << nw->grp[k];
      } else if (strstr(nw->w[k], qw->w[q])) {
        inside = true;
      }
    }
    if (!prefix && !inside)
      return false;
    if (!prefix)
      *loose = true;
  }
  return true;
}

/* Name word groups no query word matched ("extra" words). */
static size_t count_extra(const words_t *nw, uint32_t used) {
  size_t n = 0;
  for (size_t k = 0; k < nw->n; k++) {
    bool first_of_group = k == 0 || nw->grp[k - 1] != nw->grp[k];
    if (first_of_group && !(nw->grp[k] < 32 && (used >> nw->grp[k]) & 1u))
      n++;
  }
  return n;
}

/* Whether word group `ga` of `a` spells the same words as group `gb` of
 * `b` ("10/11" == "10/11"). */
static bool same_group(const words_t *a, unsigned ga, const words_t *b,
                       unsigned gb) {
  size_t i = 0, k = 0;
  while (i < a->n && a->grp[i] != ga)
    i++;
  while (k < b->n && b->grp[k] != gb)
    k++;
  for (;;) { /* at most FIND_MAX_WORDS rounds */
    bool end_a = i >= a->n || a->grp[i] != ga;
    bool end_b = k >= b->n || b->grp[k] != gb;
    if (end_a || end_b)
      return end_a && end_b;
    if (strcmp(a->w[i], b->w[k]) != 0)
      return false;
    i++;
    k++;
  }
}

/* Whether every extra word group of `a` (not in `ua`) is also an extra
 * word group of `b` (not in `ub`): `b` is `a` plus more words, a variant
 * of it ("Windows 7 Enterprise" -> "Windows 7 Enterprise N"). */
static bool extras_within(const words_t *a, uint32_t ua, const words_t *b,
                          uint32_t ub) {
  for (size_t i = 0; i < a->n; i++) {
    unsigned ga = a->grp[i];
    bool found = false;
    if ((i > 0 && a->grp[i - 1] == ga) || (ga < 32 && (ua >> ga) & 1u))
      continue; /* not the first word of its group, or matched */
    for (size_t k = 0; k < b->n && !found; k++) {
      unsigned gb = b->grp[k];
      if ((k > 0 && b->grp[k - 1] == gb) || (gb < 32 && (ub >> gb) & 1u))
        continue;
      found = same_group(a, ga, b, gb);
    }
    if (!found)
      return false;
  }
  return true;
}

static bool same_words(const words_t *a, const words_t *b) {
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->w[i], b->w[i]) != 0)
      return false;
  return true;
}

kmsdiag_status_t kmsdiag_product_find(const char *text,
                                      const kmsdiag_product_t **out,
                                      size_t max, size_t *n) {
  size_t len;
  words_t qw, nw;
  const kmsdiag_product_t *exact = NULL;
  size_t exact_n = 0;

  if (!n)
    return KMSDIAG_EINVAL;
  *n = 0;
  if (!text || (max && !out))
    return KMSDIAG_EINVAL;
  len = strnlen(text, FIND_MAX_TEXT + 1);
  if (len > FIND_MAX_TEXT)
    return KMSDIAG_ETOOBIG;
  trim(&text, &len);
  if (len == 0)
    return KMSDIAG_ENOTFOUND;

  /* A SKU ID or a GVLK names one product or none. */
  if (len == 36 || len == 38) {
    char g[39];
    kmsdiag_guid_t id;
    memcpy(g, text, len);
    g[len] = '\0';
    if (kmsdiag_guid_parse(&id, g) == KMSDIAG_OK) {
      const kmsdiag_product_t *p = kmsdiag_product_by_sku(&id);
      if (!p)
        return KMSDIAG_ENOTFOUND;
      *n = 1;
      if (max)
        out[0] = p;
      return KMSDIAG_OK;
    }
  }
  if (len == 29 && text[5] == '-' && text[11] == '-' && text[17] == '-' &&
      text[23] == '-') {
    const kmsdiag_product_t *p = kmsdiag_product_by_gvlk(text, len);
    if (!p)
      return KMSDIAG_ENOTFOUND;
    *n = 1;
    if (max)
      out[0] = p;
    return KMSDIAG_OK;
  }

  split_words(text, len, true, &qw);
  if (qw.n == 0 || qw.overflow)
    return KMSDIAG_ENOTFOUND;

  /* An exact name (as words) wins. */
  for (size_t i = 0; i < kd_products_n; i++) {
    split_words(kd_products[i].name, strlen(kd_products[i].name), false, &nw);
    if (same_words(&nw, &qw)) {
      if (!exact)
        exact = &kd_products[i];
      exact_n++;
    }
  }
  if (exact_n == 1) {
    *n = 1;
    if (max)
      out[0] = exact;
    return KMSDIAG_OK;
  }

  /* Otherwise partial matches. The query picks one product only when
   * that product's unmatched name words are unmatched in every other match
   * too, i.e. each other match is a variant of it ("8.1 pro": Windows 8.1
   * Pro, not Pro N). Matches that differ in other words ("2019": Office
   * 2019 and the Windows Server 2019 editions) are ambiguous, however few
   * words each leaves unmatched: every match is a candidate, matches at
   * word starts first, fewest unmatched words first. */
  {
    /* per product: -1 no match, else unmatched word groups, plus
     * FIND_MAX_WORDS + 1 when a query word is only inside a name word */
    int score[FIND_MAX_PRODUCTS];
    uint32_t used[FIND_MAX_PRODUCTS];
    size_t total = 0, stored = 0, at_best = 0, winner = 0;
    int best = -1;
    for (size_t i = 0; i < kd_products_n && i < FIND_MAX_PRODUCTS; i++) {
      bool loose;
      split_words(kd_products[i].name, strlen(kd_products[i].name), false,
                  &nw);
      score[i] = -1;
      if (!match_words(&nw, &qw, &used[i], &loose))
        continue;
      score[i] = (int)count_extra(&nw, used[i]) +
                 (loose ? FIND_MAX_WORDS + 1 : 0);
      total++;
      if (best < 0 || score[i] < best) {
        best = score[i];
        at_best = 0;
        winner = i;
      }
      if (score[i] == best)
        at_best++;
    }
    if (total == 0)
      return KMSDIAG_ENOTFOUND;
    if (at_best == 1) {
      /* the closest match wins only if every other match at word starts
       * (or every match, when all are loose) is a variant of it */
      words_t ow;
      bool wins = true;
      split_words(kd_products[winner].name,
                  strlen(kd_products[winner].name), false, &nw);
      for (size_t i = 0; i < kd_products_n && i < FIND_MAX_PRODUCTS && wins;
           i++) {
        if (i == winner || score[i] < 0 ||
            (best <= FIND_MAX_WORDS && score[i] > FIND_MAX_WORDS))
          continue;
        split_words(kd_products[i].name, strlen(kd_products[i].name), false,
                    &ow);
        wins = extras_within(&nw, used[winner], &ow, used[i]);
      }
      if (wins) {
        *n = 1;
        if (max)
          out[0] = &kd_products[winner];
        return KMSDIAG_OK;
      }
    }
    /* list by score, table order within a score */
    for (int s = best; stored < total && s <= 2 * (FIND_MAX_WORDS + 1); s++)
      for (size_t i = 0; i < kd_products_n && i < FIND_MAX_PRODUCTS; i++)
        if (score[i] == s) {
          if (stored < max)
            out[stored] = &kd_products[i];
          stored++;
        }
    *n = total;
    return KMSDIAG_EAMBIGUOUS;
  }
}

static bool all_digits(const char *w) {
  if (!*w)
    return false;
  for (; *w; w++)
    if (!is_digit((unsigned char)*w))
      return false;
  return true;
}

static bool words_has(const words_t *ws, const char *w) {
  for (size_t i = 0; i < ws->n; i++)
    if (strcmp(ws->w[i], w) == 0)
      return true;
  return false;
}

kmsdiag_line_mask_t kmsdiag_product_query_lines(const kmsdiag_product_t *p,
                                                const char *text) {
  words_t qw, pw, lw;
  kmsdiag_line_mask_t m = 0;
  size_t len;
  if (!p)
    return 0;
  if (!text)
    return p->lines;
  len = strnlen(text, FIND_MAX_TEXT + 1);
  if (len > FIND_MAX_TEXT)
    return p->lines;
  split_words(text, len, true, &qw);
  split_words(p->name, strlen(p->name), false, &pw);
  for (unsigned l = 0; l < KMSDIAG_LINE_COUNT_; l++) {
    bool keep = true;
    if (!(p->lines & KMSDIAG_LINE_BIT(l)))
      continue;
    split_words(kd_line_names[l], strlen(kd_line_names[l]), false, &lw);
    /* every number the query shares with the product name must be in the
     * line's name too */
    for (size_t q = 0; q < qw.n; q++)
      if (all_digits(qw.w[q]) && words_has(&pw, qw.w[q]) &&
          !words_has(&lw, qw.w[q]))
        keep = false;
    if (keep)
      m |= KMSDIAG_LINE_BIT(l);
  }
  return m ? m : p->lines;
}

/* ---- CSVLKs, host OS ------------------------------------------------------ */

size_t kmsdiag_csvlk_count(void) { return kd_csvlks_n; }
const kmsdiag_csvlk_t *kmsdiag_csvlk_at(size_t i) {
  return i < kd_csvlks_n ? &kd_csvlks[i] : NULL;
}

const kmsdiag_csvlk_t *kmsdiag_csvlk_by_group_id(uint32_t group_id,
                                                 size_t index) {
  for (size_t i = 0; i < kd_csvlks_n; i++)
    if (kd_csvlks[i].group_id == group_id && index-- == 0)
      return &kd_csvlks[i];
  return NULL;
}

const kmsdiag_csvlk_t *kmsdiag_csvlk_identify(uint32_t group_id,
                                              uint32_t key_id) {
  const kmsdiag_csvlk_t *hit = NULL, *only = NULL;
  size_t hits = 0, in_group = 0;
  for (size_t i = 0; i < kd_csvlks_n; i++) {
    const kmsdiag_csvlk_t *c = &kd_csvlks[i];
    if (c->group_id != group_id)
      continue;
    in_group++;
    only = c;
    if (c->has_key_range && key_id >= c->key_id_min &&
        key_id <= c->key_id_max) {
      hit = c;
      hits++;
    }
  }
  if (hits == 1)
    return hit;
  if (hits == 0 && in_group == 1 && !only->has_key_range)
    return only;
  return NULL;
}

bool kmsdiag_csvlk_group_has_unlisted(uint32_t group_id) {
  for (size_t i = 0; i < kd_csvlks_n; i++)
    if (kd_csvlks[i].group_id == group_id && !kd_csvlks[i].has_key_range)
      return true;
  return false;
}

size_t kmsdiag_host_os_count(void) { return kd_host_os_n; }
const kmsdiag_host_os_t *kmsdiag_host_os_at(size_t i) {
  return i < kd_host_os_n ? &kd_host_os[i] : NULL;
}
const kmsdiag_host_os_t *kmsdiag_host_os_by_build(uint32_t build) {
  for (size_t i = 0; i < kd_host_os_n; i++)
    if (kd_host_os[i].build == build)
      return &kd_host_os[i];
  return NULL;
}

uint32_t kmsdiag_platform_id_for_build(uint32_t build) {
  if (build >= 6000 && build <= 7601)
    return 55041;
  if (build == 9200)
    return 5426;
  if (build == 9600)
    return 6401;
  if (build >= 10240)
    return 3612;
  return 0;
}

const char *kmsdiag_platform_name(uint32_t platform_id) {
  for (size_t i = 0; i < kd_platforms_n; i++)
    if (kd_platforms[i].id == platform_id)
      return kd_platforms[i].name;
  return NULL;
}

/* ---- JSON ----------------------------------------------------------------- */

static void json_guid(kmsdiag_json_t *j, const char *key,
                      const kmsdiag_guid_t *g) {
  char s[KMSDIAG_GUID_STRLEN];
  kmsdiag_json_str(j, key, kmsdiag_guid_to_str(g, s));
}

void kd_json_lines(kmsdiag_json_t *j, const char *key,
                       kmsdiag_line_mask_t m) {
  kmsdiag_json_array_begin(j, key);
  for (unsigned l = 0; l < KMSDIAG_LINE_COUNT_; l++)
    if (m & KMSDIAG_LINE_BIT(l))
      kmsdiag_json_str(j, NULL, kd_line_names[l]);
  kmsdiag_json_array_end(j);
}

void kmsdiag_kms_group_write_json(kmsdiag_json_t *j, const char *key,
                                  const kmsdiag_kms_group_t *g) {
  if (!g) {
    kmsdiag_json_null(j, key);
    return;
  }
  kmsdiag_json_object_begin(j, key);
  json_guid(j, "kms_id", &g->id);
  kmsdiag_json_str(j, "name", g->name);
  kmsdiag_json_str(j, "family", kmsdiag_family_name(g->family));
  json_guid(j, "app_id", &g->app->id);
  kmsdiag_json_str(j, "app", g->app->name);
  kmsdiag_json_uint(j, "n_policy", g->n_policy);
  kmsdiag_json_strf(j, "protocol", "%u.%u", (unsigned)g->protocol_major,
                    (unsigned)g->protocol_minor);
  kmsdiag_json_bool(j, "verified", g->confidence != KMSDIAG_CONF_UNVERIFIED);
  kmsdiag_json_str(j, "confidence", kmsdiag_confidence_name(g->confidence));
  kmsdiag_json_str(j, "note", g->note);
  kmsdiag_json_object_end(j);
}

void kmsdiag_product_write_json(kmsdiag_json_t *j, const char *key,
                                const kmsdiag_product_t *p) {
  if (!p) {
    kmsdiag_json_null(j, key);
    return;
  }
  kmsdiag_json_object_begin(j, key);
  kmsdiag_json_str(j, "name", p->name);
  kmsdiag_json_str(j, "family", kmsdiag_family_name(p->family));
  json_guid(j, "app_id", &p->app->id);
  kmsdiag_json_str(j, "app", p->app->name);
  if (p->has_sku_id)
    json_guid(j, "sku_id", &p->sku_id);
  else
    kmsdiag_json_null(j, "sku_id");
  json_guid(j, "kms_id", &p->kms_group->id);
  kmsdiag_json_str(j, "kms_group", p->kms_group->name);
  kmsdiag_json_uint(j, "n_policy", p->kms_group->n_policy);
  kmsdiag_json_strf(j, "protocol", "%u.%u",
                    (unsigned)p->kms_group->protocol_major,
                    (unsigned)p->kms_group->protocol_minor);
  kmsdiag_json_str(j, "gvlk", p->gvlk);
  kd_json_lines(j, "lines", p->lines);
  kmsdiag_json_bool(j, "verified", p->confidence != KMSDIAG_CONF_UNVERIFIED);
  kmsdiag_json_str(j, "confidence", kmsdiag_confidence_name(p->confidence));
  kmsdiag_json_str(j, "note", p->note);
  kmsdiag_json_object_end(j);
}
