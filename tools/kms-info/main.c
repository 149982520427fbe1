/* kms-info: look up KMS product knowledge and decode KMS host ePIDs.
 *
 *   kms-info [--json] [--now DATE] epid EPID
 *   kms-info [--json] product NAME...|GUID|GVLK
 *   kms-info [--json] products
 *   kms-info [--json] [--now DATE] can-activate --epid EPID --product NAME
 *
 * Exit: 0 found (valid ePID / product found / host can activate), 1 not
 * found (unknown or ambiguous product, invalid ePID or one with errors, host
 * cannot or may not activate), 2 usage. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

#define MAX_CANDIDATES 64
/* Most bytes read from stdin for "-". */
#define STDIN_MAX (1u << 20)

static const char usage_text[] =
    "Usage: kms-info [OPTIONS] COMMAND [ARGS]\n"
    "Look up KMS product knowledge and decode KMS host ePIDs.\n"
    "\n"
    "Commands:\n"
    "  epid EPID             decode and check a KMS host extended PID\n"
    "                        (EPID '-' reads it from standard input)\n"
    "  product NAME...|GUID|GVLK\n"
    "                        show one product: edition, application ID, SKU\n"
    "                        ID, KMS counted ID, N policy, protocol, GVLK,\n"
    "                        the host keys that activate it; names may be\n"
    "                        partial, in any case, quoted or not; an\n"
    "                        ambiguous name lists the candidates; a GUID\n"
    "                        may also be a KMS counted ID or application ID\n"
    "  products              list every product in the table\n"
    "  can-activate --epid EPID --product NAME\n"
    "                        can the KMS host with this ePID activate that\n"
    "                        product, and which error does a client get?\n"
    "\n"
    "Options:\n"
    "  --json                write JSON Lines (one record per result)\n"
    "  --now DATE            take DATE (YYYY-MM-DD, UTC) as today for the\n"
    "                        ePID date checks\n"
    "  -h, --help            show this help and exit\n"
    "  --version             show the version and exit\n"
    "\n"
    "Entries marked [unverified] come from sources the project could not\n"
    "confirm; treat them as leads.\n"
    "\n"
    "Exit status:\n"
    "  0  found: a valid ePID without errors, a product, the host can\n"
    "     activate the product\n"
    "  1  not found: invalid ePID or one with errors, unknown or ambiguous\n"
    "     product, the host cannot (or may not) activate the product\n"
    "  2  usage error\n";

typedef struct opts {
  bool json;
  int64_t now;
  const char *cmd;
  const char *args[64];
  size_t nargs;
  const char *epid;
  const char *product;
} opts_t;

static kmsdiag_json_t *g_json;

/* ---- helpers -------------------------------------------------------------- */

static bool parse_date(const char *s, int64_t *out) {
  int y, m, d;
  char tail;
  struct tm tm;
  if (!s || strlen(s) != 10 ||
      sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
    return false;
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
    return false;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_hour = 12;
  time_t t = timegm(&tm);
  struct tm back;
  if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d ||
      back.tm_mon != m - 1)
    return false; /* no such day, e.g. 2026-02-31 */
  *out = (int64_t)t;
  return true;
}

static const char *family_text(kmsdiag_family_t f) {
  switch (f) {
  case KMSDIAG_FAMILY_WINDOWS_CLIENT: return "Windows client";
  case KMSDIAG_FAMILY_WINDOWS_SERVER: return "Windows Server";
  case KMSDIAG_FAMILY_OFFICE: return "Office";
  }
  return "unknown";
}

static const char *unv(kmsdiag_confidence_t c) {
  return c == KMSDIAG_CONF_UNVERIFIED ? "  [unverified]" : "";
}

static const char *conf_text(kmsdiag_confidence_t c) {
  switch (c) {
  case KMSDIAG_CONF_MS: return "Microsoft documentation";
  case KMSDIAG_CONF_RE: return "reverse-engineered data (py-kms, vlmcsd)";
  case KMSDIAG_CONF_UNVERIFIED: return "unverified";
  }
  return "unverified";
}

static void print_lines(kmsdiag_line_mask_t m) {
  bool first = true;
  for (unsigned l = 0; l < KMSDIAG_LINE_COUNT_; l++)
    if (m & KMSDIAG_LINE_BIT(l)) {
      printf("%s%s", first ? "" : ", ", kmsdiag_line_name((kmsdiag_line_t)l));
      first = false;
    }
  if (first)
    printf("-");
}

static bool emit(void) { return tool_json_emit(g_json); }

/* Read all of stdin (capped) for "-". */
static char *read_stdin(size_t *len) {
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  if (!b)
    return NULL;
  for (;;) {
    size_t r;
    if (n == cap) {
      char *nb;
      if (cap >= STDIN_MAX)
        break;
      cap *= 2;
      nb = realloc(b, cap);
      if (!nb) {
        free(b);
        return NULL;
      }
      b = nb;
    }
    r = fread(b + n, 1, cap - n, stdin);
    n += r;
    if (r == 0)
      break;
  }
  *len = n;
  return b;
}

/* ---- epid ----------------------------------------------------------------- */

static void print_epid_text(const kmsdiag_epid_t *e) {
  char date[16];
  printf("ePID:              ");
  tool_put_escaped(stdout, e->text, e->text_len);
  if (e->input_len > e->text_len && !e->syntax_ok)
    printf(" ... (%zu bytes in all)", e->input_len);
  printf("\n");
  if (e->syntax_ok) {
    printf("Platform ID:       %05u (%s)\n", (unsigned)e->platform_id,
           e->platform_name ? e->platform_name : "unknown");
    printf("CSVLK group ID:    %05u\n", (unsigned)e->group_id);
    printf("Key ID:            %03u-%06u\n", (unsigned)(e->key_id / 1000000u),
           (unsigned)(e->key_id % 1000000u));
    if (e->csvlk) {
      printf("Host key (CSVLK):  %s%s\n", e->csvlk->name,
             unv(e->csvlk->confidence));
      printf("  activates:       ");
      print_lines(e->csvlk->activates);
      printf("\n");
      if (e->csvlk->note)
        printf("  note:            %s\n", e->csvlk->note);
    } else {
      printf("Host key (CSVLK):  not identified\n");
    }
    printf("License channel:   %02u%s\n", (unsigned)e->channel,
           e->channel == 3 ? " (volume)" : "");
    printf("LCID:              %u%s%s%s\n", (unsigned)e->lcid,
           e->lcid_name ? " (" : "", e->lcid_name ? e->lcid_name : "",
           e->lcid_name ? ")" : "");
    printf("Host OS build:     %u (%s)\n", (unsigned)e->build,
           e->host_os ? e->host_os->name : "unknown build");
    if (e->date_ok)
      printf("Activation date:   %s (day %03u of %04u)\n",
             kmsdiag_epid_date_str(e, date, sizeof date),
             (unsigned)e->day_of_year, (unsigned)e->year);
    else
      printf("Activation date:   invalid (day %03u of %04u)\n",
             (unsigned)e->day_of_year, (unsigned)e->year);
  }
  if (e->n_problems == 0) {
    printf("Problems:          none\n");
    return;
  }
  printf("Problems:\n");
  for (size_t i = 0; i < e->n_problems; i++) {
    printf("  %-7s [%s] ", kmsdiag_epid_severity_name(e->problems[i].severity),
           e->problems[i].rule);
    tool_puts_escaped(stdout, e->problems[i].message);
    printf("\n");
  }
  if (e->n_problems_dropped)
    printf("  (%zu more not shown)\n", e->n_problems_dropped);
}

/* Parse an ePID argument ("-" reads stdin). Returns false on a read error
 * (reported). */
static bool get_epid(const opts_t *o, const char *arg, kmsdiag_epid_t *e,
                     kmsdiag_status_t *st) {
  if (strcmp(arg, "-") == 0) {
    size_t len = 0;
    char *b = read_stdin(&len);
    if (!b) {
      tool_err("out of memory reading standard input");
      return false;
    }
    *st = kmsdiag_epid_parse_at(b, len, o->now, e);
    free(b);
  } else {
    *st = kmsdiag_epid_parse_at(arg, strlen(arg), o->now, e);
  }
  return true;
}

static int cmd_epid(const opts_t *o) {
  kmsdiag_epid_t e;
  kmsdiag_status_t st;
  if (o->nargs != 1)
    return tool_usage_error("epid: expected one ePID argument");
  if (!get_epid(o, o->args[0], &e, &st))
    return TOOL_EXIT_USAGE;
  bool bad = st != KMSDIAG_OK || kmsdiag_epid_has_problem(&e, KMSDIAG_EPID_ERROR);
  if (o->json) {
    kmsdiag_json_object_begin(g_json, NULL);
    kmsdiag_json_str(g_json, "type", "epid");
    kmsdiag_json_str(g_json, "status", kmsdiag_status_name(st));
    kmsdiag_epid_write_json(g_json, "epid", &e);
    kmsdiag_json_object_end(g_json);
    if (!emit())
      return TOOL_EXIT_USAGE;
  } else {
    print_epid_text(&e);
  }
  if (st != KMSDIAG_OK)
    tool_err("not a valid ePID: %s", kmsdiag_strerror(st));
  return bad ? TOOL_EXIT_PROBLEM : TOOL_EXIT_OK;
}

/* ---- product -------------------------------------------------------------- */

/* Host keys (CSVLKs) that activate the `lines` of `p`, as
 * kmsdiag_csvlk_can_activate() (hence can-activate) answers: YES, then
 * PARTLY with the lines each covers, then UNKNOWN. */
static void print_activated_by(const kmsdiag_product_t *p,
                               kmsdiag_line_mask_t lines) {
  static const kmsdiag_activation_answer_t answers[] = {
      KMSDIAG_ACTIVATE_YES, KMSDIAG_ACTIVATE_PARTLY, KMSDIAG_ACTIVATE_UNKNOWN};
  static const char *const label[] = {"Host keys (CSVLK): ",
                                      "  partly:          ",
                                      "  not known for:   "};
  for (size_t a = 0; a < 3; a++) {
    const kmsdiag_csvlk_t *k[MAX_CANDIDATES];
    size_t n = kmsdiag_product_host_keys(p, lines, answers[a], k,
                                         MAX_CANDIDATES);
    if (n == 0 && a > 0)
      continue;
    printf("%s", label[a]);
    if (n == 0)
      printf("none known");
    for (size_t i = 0; i < n && i < MAX_CANDIDATES; i++) {
      kmsdiag_activation_verdict_t v;
      (void)kmsdiag_csvlk_can_activate(k[i], p, lines, &v);
      printf("%s%s", i ? ", " : "", k[i]->name);
      if (answers[a] == KMSDIAG_ACTIVATE_PARTLY) {
        printf(" (");
        print_lines(v.lines_yes);
        printf(" only)");
      }
      if (k[i]->confidence == KMSDIAG_CONF_UNVERIFIED)
        printf(" [unverified]");
    }
    if (answers[a] == KMSDIAG_ACTIVATE_UNKNOWN) {
      kmsdiag_activation_verdict_t v;
      (void)kmsdiag_csvlk_can_activate(k[0], p, lines, &v);
      printf(" (Microsoft's host key table does not list ");
      print_lines(v.lines_unknown);
      printf(")");
    }
    printf("\n");
  }
}

static void json_activated_by(const kmsdiag_product_t *p,
                              kmsdiag_line_mask_t lines) {
  static const kmsdiag_activation_answer_t answers[] = {
      KMSDIAG_ACTIVATE_YES, KMSDIAG_ACTIVATE_PARTLY, KMSDIAG_ACTIVATE_UNKNOWN};
  kmsdiag_json_array_begin(g_json, "asked_lines");
  for (unsigned l = 0; l < KMSDIAG_LINE_COUNT_; l++)
    if (lines & KMSDIAG_LINE_BIT(l))
      kmsdiag_json_str(g_json, NULL, kmsdiag_line_name((kmsdiag_line_t)l));
  kmsdiag_json_array_end(g_json);
  for (size_t a = 0; a < 3; a++) {
    const kmsdiag_csvlk_t *k[MAX_CANDIDATES];
    size_t n = kmsdiag_product_host_keys(p, lines, answers[a], k,
                                         MAX_CANDIDATES);
    if (a == 0)
      kmsdiag_json_array_begin(g_json, "activated_by");
    else if (a == 2)
      kmsdiag_json_array_begin(g_json, "activation_unknown");
    for (size_t i = 0; i < n && i < MAX_CANDIDATES; i++) {
      kmsdiag_activation_verdict_t v;
      (void)kmsdiag_csvlk_can_activate(k[i], p, lines, &v);
      kmsdiag_json_object_begin(g_json, NULL);
      kmsdiag_json_str(g_json, "csvlk", k[i]->name);
      kmsdiag_json_uint(g_json, "group_id", k[i]->group_id);
      kmsdiag_json_str(g_json, "answer",
                       kmsdiag_activation_answer_name(v.answer));
      kmsdiag_json_bool(g_json, "verified", v.verified);
      kmsdiag_json_array_begin(g_json, "lines");
      for (unsigned l = 0; l < KMSDIAG_LINE_COUNT_; l++)
        if ((a == 2 ? v.lines_unknown : v.lines_yes) & KMSDIAG_LINE_BIT(l))
          kmsdiag_json_str(g_json, NULL,
                           kmsdiag_line_name((kmsdiag_line_t)l));
      kmsdiag_json_array_end(g_json);
      kmsdiag_json_object_end(g_json);
    }
    if (a != 0) /* YES and PARTLY share "activated_by" */
      kmsdiag_json_array_end(g_json);
  }
}

static void print_product_text(const kmsdiag_product_t *p,
                               kmsdiag_line_mask_t lines) {
  char g[KMSDIAG_GUID_STRLEN];
  const kmsdiag_kms_group_t *k = p->kms_group;
  printf("Product:           %s%s\n", p->name, unv(p->confidence));
  printf("Family:            %s\n", family_text(p->family));
  printf("Application ID:    %s (%s)\n", kmsdiag_guid_to_str(&p->app->id, g),
         p->app->name);
  if (p->has_sku_id)
    printf("SKU ID:            %s\n", kmsdiag_guid_to_str(&p->sku_id, g));
  else
    printf("SKU ID:            unknown\n");
  printf("KMS counted ID:    %s (%s)%s\n", kmsdiag_guid_to_str(&k->id, g),
         k->name, unv(k->confidence));
  printf("N policy:          %u (KMS host count needed to activate it)\n",
         (unsigned)k->n_policy);
  printf("KMS protocol:      %u.%u\n", (unsigned)k->protocol_major,
         (unsigned)k->protocol_minor);
  printf("GVLK:              %s\n", p->gvlk ? p->gvlk : "not in our sources");
  printf("Product lines:     ");
  print_lines(p->lines);
  printf("\n");
  if (lines != p->lines) {
    printf("  asked about:     ");
    print_lines(lines);
    printf("\n");
  }
  print_activated_by(p, lines);
  printf("Source:            %s\n", conf_text(p->confidence));
  if (p->note)
    printf("Note:              %s\n", p->note);
}

static void product_record(const char *type, const char *query,
                           const kmsdiag_product_t *p) {
  kmsdiag_json_object_begin(g_json, NULL);
  kmsdiag_json_str(g_json, "type", type);
  if (query)
    kmsdiag_json_strn(g_json, "query", query, strlen(query));
  kmsdiag_product_write_json(g_json, "product", p);
  kmsdiag_json_object_end(g_json);
}

/* A GUID that is not a SKU ID: a KMS counted ID or an application ID. */
static int product_other_guid(const opts_t *o, const char *q,
                              const kmsdiag_guid_t *id) {
  const kmsdiag_kms_group_t *k = kmsdiag_kms_group_by_id(id);
  const kmsdiag_app_t *a = kmsdiag_app_by_id(id);
  char g[KMSDIAG_GUID_STRLEN];
  if (k) {
    if (o->json) {
      kmsdiag_json_object_begin(g_json, NULL);
      kmsdiag_json_str(g_json, "type", "kms_group");
      kmsdiag_json_strn(g_json, "query", q, strlen(q));
      kmsdiag_kms_group_write_json(g_json, "kms_group", k);
      kmsdiag_json_array_begin(g_json, "products");
      for (size_t i = 0; i < kmsdiag_product_count(); i++)
        if (kmsdiag_product_at(i)->kms_group == k)
          kmsdiag_json_str(g_json, NULL, kmsdiag_product_at(i)->name);
      kmsdiag_json_array_end(g_json);
      kmsdiag_json_object_end(g_json);
      return emit() ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
    }
    printf("KMS counted ID:    %s%s\n", kmsdiag_guid_to_str(&k->id, g),
           unv(k->confidence));
    printf("Product group:     %s\n", k->name);
    printf("Family:            %s\n", family_text(k->family));
    printf("Application ID:    %s (%s)\n",
           kmsdiag_guid_to_str(&k->app->id, g), k->app->name);
    printf("N policy:          %u\n", (unsigned)k->n_policy);
    printf("KMS protocol:      %u.%u\n", (unsigned)k->protocol_major,
           (unsigned)k->protocol_minor);
    printf("Source:            %s\n", conf_text(k->confidence));
    if (k->note)
      printf("Note:              %s\n", k->note);
    printf("Products:\n");
    for (size_t i = 0; i < kmsdiag_product_count(); i++)
      if (kmsdiag_product_at(i)->kms_group == k)
        printf("  %s\n", kmsdiag_product_at(i)->name);
    return TOOL_EXIT_OK;
  }
  if (a) {
    if (o->json) {
      kmsdiag_json_object_begin(g_json, NULL);
      kmsdiag_json_str(g_json, "type", "app");
      kmsdiag_json_strn(g_json, "query", q, strlen(q));
      kmsdiag_json_object_begin(g_json, "app");
      kmsdiag_json_str(g_json, "app_id", kmsdiag_guid_to_str(&a->id, g));
      kmsdiag_json_str(g_json, "name", a->name);
      kmsdiag_json_bool(g_json, "verified",
                        a->confidence != KMSDIAG_CONF_UNVERIFIED);
      kmsdiag_json_str(g_json, "confidence",
                       kmsdiag_confidence_name(a->confidence));
      kmsdiag_json_object_end(g_json);
      kmsdiag_json_object_end(g_json);
      return emit() ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
    }
    printf("Application ID:    %s\n", kmsdiag_guid_to_str(&a->id, g));
    printf("Application:       %s\n", a->name);
    printf("Source:            %s\n", conf_text(a->confidence));
    return TOOL_EXIT_OK;
  }
  return -1;
}

/* Find one product for `q`; prints candidates or "not found" itself.
 * Returns the product or NULL (then *rc is the exit code). */
static const kmsdiag_product_t *find_product(const opts_t *o, const char *q,
                                             int *rc) {
  const kmsdiag_product_t *c[MAX_CANDIDATES];
  size_t n = 0;
  kmsdiag_status_t st = kmsdiag_product_find(q, c, MAX_CANDIDATES, &n);
  if (st == KMSDIAG_OK)
    return c[0];
  *rc = TOOL_EXIT_PROBLEM;
  if (st == KMSDIAG_EAMBIGUOUS) {
    size_t shown = n < MAX_CANDIDATES ? n : MAX_CANDIDATES;
    if (o->json) {
      kmsdiag_json_object_begin(g_json, NULL);
      kmsdiag_json_str(g_json, "type", "ambiguous");
      kmsdiag_json_strn(g_json, "query", q, strlen(q));
      kmsdiag_json_uint(g_json, "matches", n);
      kmsdiag_json_array_begin(g_json, "candidates");
      for (size_t i = 0; i < shown; i++)
        kmsdiag_product_write_json(g_json, NULL, c[i]);
      kmsdiag_json_array_end(g_json);
      kmsdiag_json_object_end(g_json);
      if (!emit())
        *rc = TOOL_EXIT_USAGE;
    } else {
      printf("%zu products match \"", n);
      tool_puts_escaped(stdout, q);
      printf("\"; be more specific:\n");
      for (size_t i = 0; i < shown; i++)
        printf("  %s%s\n", c[i]->name, unv(c[i]->confidence));
    }
    tool_err("ambiguous product name (%zu matches)", n);
    return NULL;
  }
  if (o->json) {
    kmsdiag_json_object_begin(g_json, NULL);
    kmsdiag_json_str(g_json, "type", "not_found");
    kmsdiag_json_strn(g_json, "query", q, strlen(q));
    kmsdiag_json_str(g_json, "status", kmsdiag_status_name(st));
    kmsdiag_json_object_end(g_json);
    if (!emit())
      *rc = TOOL_EXIT_USAGE;
  }
  fprintf(stderr, "%s: no product matches \"", tool_name());
  tool_puts_escaped(stderr, q);
  fprintf(stderr, "\"%s\n",
          st == KMSDIAG_ETOOBIG ? " (too long)" : "");
  return NULL;
}

static int product_lookup(const opts_t *o, const char *q);

static int cmd_product(const opts_t *o) {
  int rc = TOOL_EXIT_PROBLEM;
  const char *q;
  char *joined = NULL;
  if (o->nargs == 0)
    return tool_usage_error("product: expected a NAME, GUID or GVLK");
  if (o->nargs == 1) {
    q = o->args[0];
  } else {
    /* product windows 10 pro: the words are one name, as if quoted */
    size_t total = 0, used = 0;
    for (size_t i = 0; i < o->nargs; i++)
      total += strlen(o->args[i]) + 1;
    joined = malloc(total);
    if (!joined) {
      tool_err("out of memory");
      return TOOL_EXIT_USAGE;
    }
    for (size_t i = 0; i < o->nargs; i++) {
      size_t l = strlen(o->args[i]);
      if (i)
        joined[used++] = ' ';
      memcpy(joined + used, o->args[i], l);
      used += l;
    }
    joined[used] = '\0';
    q = joined;
  }
  rc = product_lookup(o, q);
  free(joined);
  return rc;
}

static int product_lookup(const opts_t *o, const char *q) {
  const kmsdiag_product_t *p;
  kmsdiag_line_mask_t lines;
  kmsdiag_guid_t id;
  int rc = TOOL_EXIT_PROBLEM;
  /* a GUID that is no SKU ID may be a KMS counted ID or application ID */
  if (strlen(q) <= 40 && kmsdiag_guid_parse(&id, q) == KMSDIAG_OK &&
      !kmsdiag_product_by_sku(&id)) {
    int r = product_other_guid(o, q, &id);
    if (r >= 0)
      return r;
  }
  p = find_product(o, q, &rc);
  if (!p)
    return rc;
  lines = kmsdiag_product_query_lines(p, q);
  if (o->json) {
    kmsdiag_json_object_begin(g_json, NULL);
    kmsdiag_json_str(g_json, "type", "product");
    kmsdiag_json_strn(g_json, "query", q, strlen(q));
    kmsdiag_product_write_json(g_json, "product", p);
    json_activated_by(p, lines);
    kmsdiag_json_object_end(g_json);
    return emit() ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
  }
  print_product_text(p, lines);
  return TOOL_EXIT_OK;
}

static int cmd_products(const opts_t *o) {
  if (o->nargs != 0)
    return tool_usage_error("products: no arguments expected");
  int w = 7;
  for (size_t i = 0; i < kmsdiag_product_count(); i++) {
    size_t l = strlen(kmsdiag_product_at(i)->name);
    if (l > (size_t)w && l < 100)
      w = (int)l;
  }
  if (!o->json)
    printf("%-*s %-6s %2s %-5s %-29s %s\n", w, "PRODUCT", "FAMILY", "N",
           "PROTO", "GVLK", "SOURCE");
  for (size_t i = 0; i < kmsdiag_product_count(); i++) {
    const kmsdiag_product_t *p = kmsdiag_product_at(i);
    if (o->json) {
      product_record("product", NULL, p);
      if (!emit())
        return TOOL_EXIT_USAGE;
      continue;
    }
    printf("%-*s %-6s %2u %u.%-3u %-29s %s\n", w, p->name,
           p->family == KMSDIAG_FAMILY_WINDOWS_CLIENT   ? "client"
           : p->family == KMSDIAG_FAMILY_WINDOWS_SERVER ? "server"
                                                        : "office",
           (unsigned)p->kms_group->n_policy,
           (unsigned)p->kms_group->protocol_major,
           (unsigned)p->kms_group->protocol_minor, p->gvlk ? p->gvlk : "-",
           kmsdiag_confidence_name(p->confidence));
  }
  return TOOL_EXIT_OK;
}

/* ---- can-activate --------------------------------------------------------- */

static int cmd_can_activate(const opts_t *o) {
  kmsdiag_epid_t e;
  kmsdiag_status_t st;
  kmsdiag_activation_verdict_t v;
  const kmsdiag_product_t *p;
  kmsdiag_line_mask_t lines;
  int rc = TOOL_EXIT_PROBLEM;
  if (o->nargs != 0)
    return tool_usage_error("can-activate: unexpected argument; use --epid "
                            "EPID --product NAME");
  if (!o->epid || !o->product)
    return tool_usage_error("can-activate needs --epid EPID and --product "
                            "NAME");
  if (!get_epid(o, o->epid, &e, &st))
    return TOOL_EXIT_USAGE;
  p = find_product(o, o->product, &rc);
  if (!p)
    return rc;
  lines = kmsdiag_product_query_lines(p, o->product);
  if (kmsdiag_epid_can_activate_lines(&e, p, lines, &v) != KMSDIAG_OK) {
    tool_err("internal error");
    return TOOL_EXIT_USAGE;
  }
  if (o->json) {
    kmsdiag_json_object_begin(g_json, NULL);
    kmsdiag_json_str(g_json, "type", "can_activate");
    kmsdiag_json_str(g_json, "answer",
                     kmsdiag_activation_answer_name(v.answer));
    kmsdiag_activation_verdict_write_json(g_json, "verdict", &v);
    kmsdiag_epid_write_json(g_json, "epid", &e);
    kmsdiag_product_write_json(g_json, "product", p);
    kmsdiag_json_array_begin(g_json, "asked_lines");
    for (unsigned l = 0; l < KMSDIAG_LINE_COUNT_; l++)
      if (lines & KMSDIAG_LINE_BIT(l))
        kmsdiag_json_str(g_json, NULL, kmsdiag_line_name((kmsdiag_line_t)l));
    kmsdiag_json_array_end(g_json);
    kmsdiag_json_object_end(g_json);
    if (!emit())
      return TOOL_EXIT_USAGE;
  } else {
    const char *ans = v.answer == KMSDIAG_ACTIVATE_YES      ? "YES"
                      : v.answer == KMSDIAG_ACTIVATE_NO     ? "NO"
                      : v.answer == KMSDIAG_ACTIVATE_PARTLY ? "PARTLY"
                                                            : "UNKNOWN";
    printf("Can activate:      %s%s\n", ans,
           v.answer != KMSDIAG_ACTIVATE_UNKNOWN && !v.verified
               ? "  [unverified]"
               : "");
    printf("Product:           %s%s\n", p->name, unv(p->confidence));
    if (lines != p->lines) {
      printf("  asked about:     ");
      print_lines(lines);
      printf("\n");
    }
    printf("Host ePID:         ");
    tool_put_escaped(stdout, e.text, e.text_len);
    printf("\n");
    if (e.syntax_ok) {
      printf("Host key (CSVLK):  %s (group %05u)\n",
             e.csvlk ? e.csvlk->name : "not identified",
             (unsigned)e.group_id);
      printf("Host OS:           %s (build %u)\n",
             e.host_os ? e.host_os->name : "unknown", (unsigned)e.build);
    }
    if (v.hresult) {
      const kmsdiag_error_entry_t *er = kmsdiag_error_lookup(v.hresult);
      printf("Client error:      0x%08X", (unsigned)v.hresult);
      if (er && er->name)
        printf(" %s", er->name);
      if (er && er->message)
        printf(" (%s)", er->message);
      printf("\n");
    }
    printf("Why:               %s\n", v.reason);
    for (size_t i = 0; i < e.n_problems; i++)
      if (e.problems[i].severity >= KMSDIAG_EPID_WARN) {
        printf("ePID %-7s      [%s] ",
               kmsdiag_epid_severity_name(e.problems[i].severity),
               e.problems[i].rule);
        tool_puts_escaped(stdout, e.problems[i].message);
        printf("\n");
      }
  }
  return v.answer == KMSDIAG_ACTIVATE_YES ? TOOL_EXIT_OK : TOOL_EXIT_PROBLEM;
}

/* ---- main ----------------------------------------------------------------- */

/* The value of option `name` at argv[*i] ("--name VALUE" or "--name=VALUE"),
 * or NULL when argv[*i] is not that option. *err is set when the value is
 * missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *name,
                             bool *err) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0)
    return NULL;
  if (a[n] == '=')
    return a + n + 1;
  if (a[n] != '\0')
    return NULL;
  if (*i + 1 >= argc) {
    *err = true;
    return NULL;
  }
  return argv[++*i];
}

int main(int argc, char **argv) {
  opts_t o;
  bool dashdash = false;
  int rc;
  memset(&o, 0, sizeof o);
  o.now = (int64_t)time(NULL);
  tool_init("kms-info");

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    bool err = false;
    if (!dashdash && a[0] == '-' && a[1] != '\0') {
      if (strcmp(a, "--") == 0) {
        dashdash = true;
      } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
        fputs(usage_text, stdout);
        return TOOL_EXIT_OK;
      } else if (strcmp(a, "--version") == 0) {
        tool_print_version();
        return TOOL_EXIT_OK;
      } else if (strcmp(a, "--json") == 0) {
        o.json = true;
      } else if ((v = opt_value(argc, argv, &i, "--now", &err)) || err) {
        if (err)
          return tool_usage_error("--now needs a date (YYYY-MM-DD)");
        if (!parse_date(v, &o.now))
          return tool_usage_error("--now: not a date of the form YYYY-MM-DD");
      } else if ((v = opt_value(argc, argv, &i, "--epid", &err)) || err) {
        if (err)
          return tool_usage_error("--epid needs a value");
        o.epid = v;
      } else if ((v = opt_value(argc, argv, &i, "--product", &err)) || err) {
        if (err)
          return tool_usage_error("--product needs a value");
        o.product = v;
      } else {
        fprintf(stderr, "%s: unknown option '", tool_name());
        tool_puts_escaped(stderr, a);
        fprintf(stderr, "'\nTry '%s --help'.\n", tool_name());
        return TOOL_EXIT_USAGE;
      }
      continue;
    }
    if (!o.cmd) {
      o.cmd = a;
    } else if (o.nargs < sizeof o.args / sizeof o.args[0]) {
      o.args[o.nargs++] = a;
    } else {
      return tool_usage_error("too many arguments");
    }
  }
  if (!o.cmd)
    return tool_usage_error("no command given");
  if ((o.epid || o.product) && strcmp(o.cmd, "can-activate") != 0)
    return tool_usage_error("--epid and --product belong to can-activate");
  if (kmsdiag_json_new(&g_json) != KMSDIAG_OK) {
    tool_err("out of memory");
    return TOOL_EXIT_USAGE;
  }
  if (strcmp(o.cmd, "epid") == 0)
    rc = cmd_epid(&o);
  else if (strcmp(o.cmd, "product") == 0)
    rc = cmd_product(&o);
  else if (strcmp(o.cmd, "products") == 0)
    rc = cmd_products(&o);
  else if (strcmp(o.cmd, "can-activate") == 0)
    rc = cmd_can_activate(&o);
  else {
    fprintf(stderr, "%s: unknown command '", tool_name());
    tool_puts_escaped(stderr, o.cmd);
    fprintf(stderr, "'\nTry '%s --help'.\n", tool_name());
    rc = TOOL_EXIT_USAGE;
  }
  kmsdiag_json_free(g_json);
  if (fflush(stdout) != 0) {
    tool_err("error writing output");
    return TOOL_EXIT_USAGE;
  }
  return rc;
}
