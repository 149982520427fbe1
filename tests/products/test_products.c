/* test_products.c: integrity of the product tables and every lookup.
 * Expected values are typed in from the facts file (text GUIDs), so the
 * hex-group GUID encoding of the tables is checked too. */
#include <ctype.h>
#include <stdlib.h>

#include <kmsdiag/kmsdiag.h>

#include "check.h"

static kmsdiag_guid_t G(const char *text) {
  kmsdiag_guid_t g;
  memset(&g, 0, sizeof g);
  CHECK_EQ(kmsdiag_guid_parse(&g, text), KMSDIAG_OK);
  return g;
}

static bool guid_roundtrips(const kmsdiag_guid_t *g) {
  char s[KMSDIAG_GUID_STRLEN];
  kmsdiag_guid_t back;
  kmsdiag_guid_to_str(g, s);
  return kmsdiag_guid_parse(&back, s) == KMSDIAG_OK &&
         kmsdiag_guid_equal(&back, g) && strlen(s) == 36;
}

static bool gvlk_form(const char *k) {
  if (strlen(k) != 29)
    return false;
  for (size_t i = 0; i < 29; i++) {
    if (i % 6 == 5) {
      if (k[i] != '-')
        return false;
    } else if (!(isupper((unsigned char)k[i]) || isdigit((unsigned char)k[i]))) {
      return false;
    }
  }
  return true;
}

static void test_integrity(void) {
  size_t np = kmsdiag_product_count(), ng = kmsdiag_kms_group_count();
  CHECK(np >= 80);
  CHECK(np <= 256); /* bound used by kmsdiag_product_find() */
  CHECK(ng >= 30);
  CHECK_EQ(kmsdiag_app_count(), 3);
  CHECK(kmsdiag_product_at(np) == NULL);
  CHECK(kmsdiag_kms_group_at(ng) == NULL);
  CHECK(kmsdiag_app_at(3) == NULL);
  CHECK(kmsdiag_csvlk_at(kmsdiag_csvlk_count()) == NULL);
  CHECK(kmsdiag_host_os_at(kmsdiag_host_os_count()) == NULL);

  for (size_t i = 0; i < np; i++) {
    const kmsdiag_product_t *p = kmsdiag_product_at(i);
    CHECK(p->name && *p->name);
    CHECK(p->app != NULL && p->kms_group != NULL);
    /* the product's counted ID is in the group table, and agrees with it */
    CHECK(kmsdiag_kms_group_by_id(&p->kms_group->id) == p->kms_group);
    CHECK(p->app == p->kms_group->app);
    CHECK(kmsdiag_app_by_id(&p->app->id) == p->app);
    CHECK_EQ(p->family, p->kms_group->family);
    CHECK(p->lines != 0);
    CHECK(p->lines < KMSDIAG_LINE_BIT(KMSDIAG_LINE_COUNT_));
    CHECK(p->confidence <= KMSDIAG_CONF_UNVERIFIED);
    /* a row whose counted ID is unverified is unverified itself */
    if (p->kms_group->confidence == KMSDIAG_CONF_UNVERIFIED)
      CHECK_EQ(p->confidence, KMSDIAG_CONF_UNVERIFIED);
    if (p->confidence == KMSDIAG_CONF_UNVERIFIED)
      CHECK(p->note != NULL);
    if (p->has_sku_id) {
      CHECK(!kmsdiag_guid_is_null(&p->sku_id));
      CHECK(guid_roundtrips(&p->sku_id));
      CHECK(kmsdiag_product_by_sku(&p->sku_id) == p);
      CHECK(kmsdiag_kms_group_by_id(&p->sku_id) == NULL);
      CHECK(kmsdiag_app_by_id(&p->sku_id) == NULL);
    } else {
      CHECK(kmsdiag_guid_is_null(&p->sku_id));
    }
    if (p->gvlk) {
      if (!gvlk_form(p->gvlk))
        fprintf(stderr, "bad GVLK form: %s\n", p->name);
      CHECK(gvlk_form(p->gvlk));
      CHECK(kmsdiag_product_by_gvlk(p->gvlk, strlen(p->gvlk)) == p);
    } else {
      CHECK_EQ(p->family, KMSDIAG_FAMILY_OFFICE);
    }
    for (size_t k = i + 1; k < np; k++) {
      const kmsdiag_product_t *q = kmsdiag_product_at(k);
      CHECK(strcmp(p->name, q->name) != 0);
      if (p->has_sku_id && q->has_sku_id)
        CHECK(!kmsdiag_guid_equal(&p->sku_id, &q->sku_id));
      if (p->gvlk && q->gvlk)
        CHECK(strcmp(p->gvlk, q->gvlk) != 0);
    }
    /* every product can be found by its exact name */
    const kmsdiag_product_t *f[4];
    size_t n = 0;
    CHECK_EQ(kmsdiag_product_find(p->name, f, 4, &n), KMSDIAG_OK);
    CHECK(n == 1 && f[0] == p);
  }
  for (size_t i = 0; i < ng; i++) {
    const kmsdiag_kms_group_t *g = kmsdiag_kms_group_at(i);
    CHECK(guid_roundtrips(&g->id));
    CHECK(!kmsdiag_guid_is_null(&g->id));
    CHECK(g->protocol_major >= 4 && g->protocol_major <= 6);
    CHECK_EQ(g->protocol_minor, 0);
    /* N policy: 25 for Windows client groups, 5 for servers and Office;
     * the multi-session group counts like a server. */
    if (g->family == KMSDIAG_FAMILY_WINDOWS_CLIENT &&
        !strstr(g->name, "ServerRdsh"))
      CHECK_EQ(g->n_policy, 25);
    else
      CHECK_EQ(g->n_policy, 5);
    if (g->confidence == KMSDIAG_CONF_UNVERIFIED)
      CHECK(g->note != NULL);
    for (size_t k = i + 1; k < ng; k++)
      CHECK(!kmsdiag_guid_equal(&g->id, &kmsdiag_kms_group_at(k)->id));
    CHECK(kmsdiag_app_by_id(&g->id) == NULL);
  }
  for (size_t i = 0; i < kmsdiag_csvlk_count(); i++) {
    const kmsdiag_csvlk_t *c = kmsdiag_csvlk_at(i);
    CHECK(c->name && c->activates != 0);
    if (c->has_key_range) {
      CHECK(c->key_id_min <= c->key_id_max);
      CHECK(c->key_id_max <= 999999999u);
      /* ranges in one group never overlap, so a key ID names one key */
      for (size_t k = i + 1; k < kmsdiag_csvlk_count(); k++) {
        const kmsdiag_csvlk_t *d = kmsdiag_csvlk_at(k);
        if (d->group_id == c->group_id && d->has_key_range)
          CHECK(d->key_id_max < c->key_id_min || d->key_id_min > c->key_id_max);
      }
      CHECK(kmsdiag_csvlk_identify(c->group_id, c->key_id_min) == c);
      CHECK(kmsdiag_csvlk_identify(c->group_id, c->key_id_max) == c);
    }
    if (c->has_sku_id)
      CHECK(guid_roundtrips(&c->sku_id));
    if (c->confidence == KMSDIAG_CONF_UNVERIFIED)
      CHECK(c->note != NULL);
  }
}

/* Values typed in from the facts file. */
static void test_known_values(void) {
  kmsdiag_guid_t g;
  const kmsdiag_app_t *a;
  const kmsdiag_kms_group_t *k;
  const kmsdiag_product_t *p;

  g = G("55c92734-d682-4d71-983e-d6ec3f16059f");
  a = kmsdiag_app_by_id(&g);
  CHECK(a && strcmp(a->name, "Windows") == 0);
  CHECK(a && a->confidence == KMSDIAG_CONF_MS);
  g = G("0FF1CE15-A989-479D-AF46-F275C6370663");
  a = kmsdiag_app_by_id(&g);
  CHECK(a && strstr(a->name, "Office 2013"));
  g = G("59a52881-a989-479d-af46-f275c6370663");
  a = kmsdiag_app_by_id(&g);
  CHECK(a && strcmp(a->name, "Office 2010") == 0);
  CHECK(kmsdiag_app_by_id(NULL) == NULL);

  /* interop ground truth: Windows 10 Enterprise request */
  g = G("73111121-5638-40f6-bc11-f1d7b0d64300");
  p = kmsdiag_product_by_sku(&g);
  CHECK(p && strcmp(p->name, "Windows 10/11 Enterprise") == 0);
  CHECK(p && strcmp(p->gvlk, "NPPR9-FWDCX-D2C8J-H872K-2YT43") == 0);
  g = G("58e2134f-8e11-4d17-9cb2-91069c151148");
  k = kmsdiag_kms_group_by_id(&g);
  CHECK(k && p && p->kms_group == k);
  CHECK(k && k->n_policy == 25 && k->protocol_major == 6);
  CHECK(k && k->family == KMSDIAG_FAMILY_WINDOWS_CLIENT);
  /* the unknown counted ID the interop host refused */
  g = G("11111111-2222-4333-8444-555555555555");
  CHECK(kmsdiag_kms_group_by_id(&g) == NULL);
  CHECK(kmsdiag_product_by_sku(&g) == NULL);
  CHECK(kmsdiag_kms_group_by_id(NULL) == NULL);
  CHECK(kmsdiag_product_by_sku(NULL) == NULL);
  memset(&g, 0, sizeof g);
  CHECK(kmsdiag_product_by_sku(&g) == NULL); /* NOSKU rows are not found */

  /* SKU of the Microsoft example event: WS2008 R2 Standard, group B */
  g = G("68531fb9-5511-4989-97be-d11a0f55633f");
  p = kmsdiag_product_by_sku(&g);
  CHECK(p && strcmp(p->name, "Windows Server 2008 R2 Standard") == 0);
  CHECK(p && p->kms_group->protocol_major == 4 && p->kms_group->n_policy == 5);
  g = G("ca87f5b6-cd46-40c0-b06d-8ecd57a4373f");
  CHECK(p && kmsdiag_kms_group_by_id(&g) == p->kms_group);

  g = G("8449b1fb-f0ea-497a-99ab-66ca96e9a0f5");
  k = kmsdiag_kms_group_by_id(&g);
  CHECK(k && strcmp(k->name, "Windows Server 2019") == 0);
  CHECK(k && k->n_policy == 5 && k->confidence == KMSDIAG_CONF_RE);
  g = G("8665cb71-468c-4aa3-a337-cb9bc9d5eaac"); /* WS2012: protocol 5 */
  k = kmsdiag_kms_group_by_id(&g);
  CHECK(k && k->protocol_major == 5);

  /* flagged in the facts file: placeholders */
  static const char *const flagged[] = {
      "4b83307d-7788-50ff-8d1f-1861915bdb9d", /* WS2025 */
      "b74263e4-0f92-46c6-bcf8-c11d5efe2959", /* WS2022 */
      "1b4db7eb-4057-5ddf-91e0-36dec72071f5", /* Office LTSC 2024 */
  };
  size_t unverified_groups = 0;
  for (size_t i = 0; i < 3; i++) {
    g = G(flagged[i]);
    k = kmsdiag_kms_group_by_id(&g);
    CHECK(k && k->confidence == KMSDIAG_CONF_UNVERIFIED);
  }
  for (size_t i = 0; i < kmsdiag_kms_group_count(); i++)
    if (kmsdiag_kms_group_at(i)->confidence == KMSDIAG_CONF_UNVERIFIED)
      unverified_groups++;
  CHECK_EQ(unverified_groups, 3);

  g = G("9bd77860-9b31-4b7b-96ad-2564017315bf");
  p = kmsdiag_product_by_sku(&g);
  CHECK(p && strcmp(p->name, "Windows Server 2022 Standard") == 0);
  CHECK(p && p->confidence == KMSDIAG_CONF_UNVERIFIED);
  CHECK(p && strcmp(p->gvlk, "VDYBN-27WPP-V4HQT-9VMD4-VMK7H") == 0);

  /* GVLK lookups: case and blanks do not matter */
  p = kmsdiag_product_by_gvlk("  n69g4-b89j2-4g8f4-wwycc-j464c\n", 32);
  CHECK(p && strcmp(p->name, "Windows Server 2019 Standard") == 0);
  CHECK(kmsdiag_product_by_gvlk("N69G4-B89J2-4G8F4-WWYCC-J464", 28) == NULL);
  CHECK(kmsdiag_product_by_gvlk("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", 29) == NULL);
  CHECK(kmsdiag_product_by_gvlk(NULL, 29) == NULL);

  /* the probe default: a server edition whose counted ID is not flagged */
  p = kmsdiag_product_default();
  CHECK(p && strcmp(p->name, "Windows Server 2019 Standard") == 0);
  CHECK(p && p->family == KMSDIAG_FAMILY_WINDOWS_SERVER);
  CHECK(p && p->has_sku_id && p->confidence != KMSDIAG_CONF_UNVERIFIED);
  CHECK(p && p->kms_group->confidence != KMSDIAG_CONF_UNVERIFIED);

  CHECK_STR(kmsdiag_family_name(KMSDIAG_FAMILY_OFFICE), "office");
  CHECK_STR(kmsdiag_family_name((kmsdiag_family_t)99), "unknown");
  CHECK_STR(kmsdiag_confidence_name(KMSDIAG_CONF_UNVERIFIED), "unverified");
  CHECK_STR(kmsdiag_line_name(KMSDIAG_LINE_WIN11), "Windows 11");
  CHECK_STR(kmsdiag_line_name(KMSDIAG_LINE_COUNT_), "unknown");
  CHECK_STR(kmsdiag_line_name((kmsdiag_line_t)-1), "unknown");
}

static const char *find1(const char *q) {
  const kmsdiag_product_t *f[2];
  size_t n = 9;
  kmsdiag_status_t st = kmsdiag_product_find(q, f, 2, &n);
  if (st != KMSDIAG_OK || n != 1)
    return "(not one)";
  return f[0]->name;
}

static bool in_list(const kmsdiag_product_t **f, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(f[i]->name, name) == 0)
      return true;
  return false;
}

static void test_find(void) {
  const kmsdiag_product_t *f[64];
  size_t n = 0;
  char big[400];

  CHECK_STR(find1("Windows Server 2022 Datacenter"),
            "Windows Server 2022 Datacenter");
  CHECK_STR(find1("windows server 2022 datacenter"),
            "Windows Server 2022 Datacenter");
  CHECK_STR(find1("  2022   DATACENTER "), "Windows Server 2022 Datacenter");
  CHECK_STR(find1("datacenter 2022"), "Windows Server 2022 Datacenter");
  CHECK_STR(find1("2022 azure edition"),
            "Windows Server 2022 Datacenter: Azure Edition");
  CHECK_STR(find1("win 11 pro"), "Windows 10/11 Pro");
  CHECK_STR(find1("Windows 11 Enterprise"), "Windows 10/11 Enterprise");
  CHECK_STR(find1("win10 enterprise n"), "Windows 10/11 Enterprise N");
  CHECK_STR(find1("ws2019 std"), "Windows Server 2019 Standard");
  CHECK_STR(find1("2012r2 dc"), "Windows Server 2012 R2 Datacenter");
  CHECK_STR(find1("8.1 pro"), "Windows 8.1 Pro");
  CHECK_STR(find1("windows 7 enterprise"), "Windows 7 Enterprise");
  CHECK_STR(find1("office 2019"), "Office 2019 (volume)");
  CHECK_STR(find1("LTSB 2016"), "Windows 10 Enterprise LTSB 2016");
  /* by SKU ID (with braces, upper case) and by GVLK */
  CHECK_STR(find1("{DE32EAFD-AAEE-4662-9444-C1BEFB41BDE2}"),
            "Windows Server 2019 Standard");
  CHECK_STR(find1("wx4nm-kywyw-qjjr4-xv3qb-6vm33"),
            "Windows Server 2022 Datacenter");

  /* ambiguous: every candidate listed, n counts them all */
  CHECK_EQ(kmsdiag_product_find("datacenter", f, 64, &n), KMSDIAG_EAMBIGUOUS);
  CHECK(n >= 10);
  CHECK(in_list(f, n, "Windows Server 2025 Datacenter"));
  CHECK(in_list(f, n, "Windows Server 2008 R2 Datacenter"));
  CHECK(!in_list(f, n, "Windows Server 2019 Standard"));
  CHECK_EQ(kmsdiag_product_find("Windows Server 2019", f, 64, &n),
           KMSDIAG_EAMBIGUOUS);
  CHECK_EQ(n, 3);
  CHECK(in_list(f, n, "Windows Server 2019 Essentials"));
  /* A bare year or "ltsc 2024" names products of different families: never
   * resolved to the one with the fewest extra words (Office), always
   * ambiguous, with the candidates of each family listed. */
  static const struct {
    const char *q;
    const char *must[3];
  } amb[] = {
      {"2019",
       {"Office 2019 (volume)", "Windows Server 2019 Standard",
        "Windows 10/11 Enterprise LTSC 2019/2021/2024"}},
      {"2016",
       {"Office 2016 (volume)", "Windows Server 2016 Datacenter",
        "Windows 10 Enterprise LTSB 2016"}},
      {"2021",
       {"Office LTSC 2021 (volume)", "Windows IoT Enterprise LTSC 2021/2024",
        "Windows 10/11 Enterprise LTSC 2019/2021/2024"}},
      {"ltsc 2024",
       {"Office LTSC 2024 (volume)", "Windows IoT Enterprise LTSC 2021/2024",
        "Windows 10/11 Enterprise LTSC 2019/2021/2024"}},
      {"LTSC 2021",
       {"Office LTSC 2021 (volume)",
        "Windows 10/11 Enterprise N LTSC 2019/2021/2024", NULL}},
      {"2024", {"Office LTSC 2024 (volume)", NULL, NULL}},
      {"2022", {"Windows Server 2022 Standard", NULL, NULL}},
  };
  for (size_t i = 0; i < sizeof amb / sizeof amb[0]; i++) {
    n = 0;
    kmsdiag_status_t st = kmsdiag_product_find(amb[i].q, f, 64, &n);
    if (st != KMSDIAG_EAMBIGUOUS)
      fprintf(stderr, "\"%s\" not ambiguous: %s\n", amb[i].q,
              n ? f[0]->name : "-");
    CHECK_EQ(st, KMSDIAG_EAMBIGUOUS);
    CHECK(n >= 2 && n <= 64);
    for (size_t k = 0; k < 3 && amb[i].must[k]; k++) {
      if (!in_list(f, n, amb[i].must[k]))
        fprintf(stderr, "\"%s\": %s not a candidate\n", amb[i].q,
                amb[i].must[k]);
      CHECK(in_list(f, n, amb[i].must[k]));
    }
  }
  /* a name that every other match only extends still wins */
  CHECK_STR(find1("windows 10 pro"), "Windows 10/11 Pro");
  CHECK_STR(find1("8.1 pro"), "Windows 8.1 Pro");
  CHECK_STR(find1("office ltsc 2024"), "Office LTSC 2024 (volume)");
  CHECK_STR(find1("windows server 2019 standard"),
            "Windows Server 2019 Standard");
  CHECK_STR(find1("2008 r2 datacenter"), "Windows Server 2008 R2 Datacenter");
  CHECK_EQ(kmsdiag_product_find("vista", f, 64, &n), KMSDIAG_EAMBIGUOUS);
  CHECK_EQ(n, 4);

  CHECK_EQ(kmsdiag_product_find("enterprise", f, 2, &n), KMSDIAG_EAMBIGUOUS);
  CHECK(n > 10); /* more than fit: n still counts all */
  CHECK_EQ(kmsdiag_product_find("enterprise", NULL, 0, &n),
           KMSDIAG_EAMBIGUOUS);
  CHECK(n > 10);

  /* not found */
  CHECK_EQ(kmsdiag_product_find("Windows 12 Home", f, 64, &n),
           KMSDIAG_ENOTFOUND);
  CHECK_EQ(n, 0);
  CHECK_EQ(kmsdiag_product_find("", f, 64, &n), KMSDIAG_ENOTFOUND);
  CHECK_EQ(kmsdiag_product_find(" \t ", f, 64, &n), KMSDIAG_ENOTFOUND);
  CHECK_EQ(kmsdiag_product_find("-- // ::", f, 64, &n), KMSDIAG_ENOTFOUND);
  CHECK_EQ(kmsdiag_product_find("\x1b[31m\xff", f, 64, &n), KMSDIAG_ENOTFOUND);
  CHECK_EQ(kmsdiag_product_find("11111111-2222-4333-8444-555555555555", f, 64,
                                &n),
           KMSDIAG_ENOTFOUND);
  CHECK_EQ(kmsdiag_product_find("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", f, 64, &n),
           KMSDIAG_ENOTFOUND);
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  CHECK_EQ(kmsdiag_product_find(big, f, 64, &n), KMSDIAG_ETOOBIG);
  /* many words, or an over-long word: no match, no overflow */
  CHECK_EQ(kmsdiag_product_find("a b c d e f g h i j k l m n o p q r s", f, 64,
                                &n),
           KMSDIAG_ENOTFOUND);
  memset(big, 'w', 200);
  big[200] = '\0';
  CHECK_EQ(kmsdiag_product_find(big, f, 64, &n), KMSDIAG_ENOTFOUND);
  CHECK_EQ(kmsdiag_product_find(NULL, f, 64, &n), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_product_find("pro", f, 64, NULL), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_product_find("pro", NULL, 3, &n), KMSDIAG_EINVAL);
}

static void test_query_lines(void) {
  const kmsdiag_product_t *p[2];
  size_t n;
  CHECK_EQ(kmsdiag_product_find("Windows 10/11 Enterprise", p, 2, &n),
           KMSDIAG_OK);
  const kmsdiag_product_t *ent = p[0];
  CHECK_EQ(kmsdiag_product_query_lines(ent, "windows 11 enterprise"),
           KMSDIAG_LINE_BIT(KMSDIAG_LINE_WIN11));
  CHECK_EQ(kmsdiag_product_query_lines(ent, "win10 ent"),
           KMSDIAG_LINE_BIT(KMSDIAG_LINE_WIN10));
  CHECK_EQ(kmsdiag_product_query_lines(ent, "enterprise"), ent->lines);
  CHECK_EQ(kmsdiag_product_query_lines(ent, NULL), ent->lines);
  CHECK_EQ(kmsdiag_product_query_lines(ent, "NPPR9-FWDCX-D2C8J-H872K-2YT43"),
           ent->lines);
  CHECK_EQ(kmsdiag_product_query_lines(NULL, "x"), 0);
  /* Windows and IoT Enterprise LTSC are equally close */
  CHECK_EQ(kmsdiag_product_find("enterprise ltsc 2024", p, 2, &n),
           KMSDIAG_EAMBIGUOUS);
  CHECK_EQ(kmsdiag_product_find("windows 11 enterprise ltsc", p, 2, &n),
           KMSDIAG_OK);
  CHECK_STR(p[0]->name, "Windows 10/11 Enterprise LTSC 2019/2021/2024");
  CHECK_EQ(kmsdiag_product_query_lines(p[0], "windows 11 enterprise ltsc"),
           KMSDIAG_LINE_BIT(KMSDIAG_LINE_WIN11_LTSC2024));
  CHECK_EQ(kmsdiag_product_query_lines(p[0], "enterprise ltsc 2024"),
           KMSDIAG_LINE_BIT(KMSDIAG_LINE_WIN11_LTSC2024));
  CHECK_EQ(kmsdiag_product_query_lines(p[0], "enterprise ltsc 2021"),
           KMSDIAG_LINE_BIT(KMSDIAG_LINE_WIN10_LTSC));
}

static void test_csvlk_hostos(void) {
  const kmsdiag_csvlk_t *c;
  c = kmsdiag_csvlk_identify(206, 558040878);
  CHECK(c && strcmp(c->name, "Windows Server 2019") == 0);
  CHECK(c && c->confidence == KMSDIAG_CONF_MS);
  CHECK(kmsdiag_csvlk_identify(206, 550999999) == NULL);
  c = kmsdiag_csvlk_identify(206, 571000000);
  CHECK(c == NULL);
  c = kmsdiag_csvlk_identify(4918, 30000);
  CHECK(c && strcmp(c->name, "Windows Server 2025") == 0);
  CHECK(kmsdiag_csvlk_identify(4918, 29999) == NULL);
  c = kmsdiag_csvlk_identify(4573, 0);
  CHECK(c && strcmp(c->name, "Windows Server 2022") == 0);
  c = kmsdiag_csvlk_identify(96, 204917321); /* no range: one key in group */
  CHECK(c && strcmp(c->name, "Office 2010") == 0);
  c = kmsdiag_csvlk_identify(3858, 975674745);
  CHECK(c && strstr(c->name, "China"));
  c = kmsdiag_csvlk_identify(206, 395000000);
  CHECK(c && c->client_os_host);
  CHECK(kmsdiag_csvlk_identify(12345, 1) == NULL);
  CHECK(kmsdiag_csvlk_group_has_unlisted(206));
  CHECK(!kmsdiag_csvlk_group_has_unlisted(4918));
  CHECK(!kmsdiag_csvlk_group_has_unlisted(12345));
  size_t n206 = 0;
  while (kmsdiag_csvlk_by_group_id(206, n206))
    n206++;
  CHECK(n206 >= 8);
  CHECK(kmsdiag_csvlk_by_group_id(4573, 0) != NULL);
  CHECK(kmsdiag_csvlk_by_group_id(4573, 1) == NULL);
  CHECK(kmsdiag_csvlk_by_group_id(99999, 0) == NULL);
  /* Microsoft's table: only the 2022 and 2025 keys activate Windows 11 */
  for (size_t i = 0; i < kmsdiag_csvlk_count(); i++) {
    c = kmsdiag_csvlk_at(i);
    bool w11 = (c->activates & KMSDIAG_LINE_BIT(KMSDIAG_LINE_WIN11)) != 0;
    CHECK_EQ(w11, strcmp(c->name, "Windows Server 2025") == 0 ||
                      strcmp(c->name, "Windows Server 2022") == 0);
    /* client-OS host keys never activate servers */
    if (c->client_os_host)
      CHECK((c->activates & KMSDIAG_LINE_BIT(KMSDIAG_LINE_WS2008)) == 0);
  }

  static const struct {
    uint32_t build, platform;
    const char *has;
  } os[] = {{6002, 55041, "2008"},  {7601, 55041, "2008 R2"},
            {9200, 5426, "2012"},   {9600, 6401, "2012 R2"},
            {10240, 3612, "10"},    {14393, 3612, "Server 2016"},
            {17763, 3612, "Server 2019"}, {20348, 3612, "Server 2022"},
            {26100, 3612, "Server 2025"}};
  for (size_t i = 0; i < sizeof os / sizeof os[0]; i++) {
    const kmsdiag_host_os_t *h = kmsdiag_host_os_by_build(os[i].build);
    CHECK(h && strstr(h->name, os[i].has));
    CHECK(h && h->platform_id == os[i].platform);
    CHECK_EQ(kmsdiag_platform_id_for_build(os[i].build), os[i].platform);
    CHECK(kmsdiag_platform_name(os[i].platform) != NULL);
  }
  CHECK(kmsdiag_host_os_by_build(19045) == NULL);
  CHECK_EQ(kmsdiag_platform_id_for_build(19045), 3612);
  CHECK_EQ(kmsdiag_platform_id_for_build(3790), 0);
  CHECK_EQ(kmsdiag_platform_id_for_build(9300), 0);
  CHECK(kmsdiag_platform_name(1) == NULL);
}

static void test_json(void) {
  kmsdiag_json_t *j;
  const char *t;
  const kmsdiag_product_t *p[1];
  size_t n;
  CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_product_find("Windows 8 Pro", p, 1, &n), KMSDIAG_OK);
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_product_write_json(j, "product", p[0]);
  kmsdiag_kms_group_write_json(j, "group", p[0]->kms_group);
  kmsdiag_product_write_json(j, "none", NULL);
  kmsdiag_json_object_end(j);
  kmsdiag_json_endline(j);
  CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_OK);
  t = kmsdiag_json_text(j, NULL);
  CHECK(strstr(t, "\"name\":\"Windows 8 Pro\"") != NULL);
  CHECK(strstr(t, "\"sku_id\":null") != NULL);
  CHECK(strstr(t, "\"gvlk\":\"NG4HW-VH26C-733KW-K6F98-J8CK4\"") != NULL);
  CHECK(strstr(t, "\"kms_id\":\"3c40b358-5948-45af-923b-53d21fcc7e79\"") !=
        NULL);
  CHECK(strstr(t, "\"protocol\":\"5.0\"") != NULL);
  CHECK(strstr(t, "\"n_policy\":25") != NULL);
  CHECK(strstr(t, "\"family\":\"windows_client\"") != NULL);
  CHECK(strstr(t, "\"lines\":[\"Windows 8\"]") != NULL);
  CHECK(strstr(t, "\"none\":null") != NULL);
  kmsdiag_json_free(j);
}

/* Every GVLK of the facts file's section 4 is in the table; the keys the
 * facts have only from py-kms are marked unverified. The list is bundled
 * (tests/products/facts-gvlks.tsv, see its header), so this holds without
 * the facts file; kms_info_cli.py compares the list with the facts file
 * when that is present. */
static void test_facts_gvlks(void) {
  FILE *f = fopen("tests/products/facts-gvlks.tsv", "r");
  char line[512];
  size_t rows = 0, re_rows = 0;
  CHECK(f != NULL);
  if (!f)
    return;
  while (fgets(line, sizeof line, f)) {
    char *tab, *src;
    const kmsdiag_product_t *p;
    if (line[0] == '#' || line[0] == '\n')
      continue;
    tab = strchr(line, '\t');
    CHECK(tab != NULL);
    if (!tab)
      continue;
    *tab = '\0';
    src = tab + 1;
    rows++;
    CHECK(gvlk_form(line));
    p = kmsdiag_product_by_gvlk(line, strlen(line));
    if (!p)
      fprintf(stderr, "GVLK %s of the facts is not in the table\n", line);
    CHECK(p != NULL);
    if (strncmp(src, "re\t", 3) == 0) {
      re_rows++;
      if (p && p->confidence != KMSDIAG_CONF_UNVERIFIED)
        fprintf(stderr, "%s (%s): only in py-kms, not marked unverified\n",
                line, p->name);
      CHECK(p && p->confidence == KMSDIAG_CONF_UNVERIFIED);
    } else {
      CHECK(strncmp(src, "ms\t", 3) == 0);
    }
  }
  fclose(f);
  CHECK_EQ(rows, 82);
  CHECK_EQ(re_rows, 4);
  /* the key the audit found missing */
  const kmsdiag_product_t *se =
      kmsdiag_product_by_gvlk("37D7F-N49CB-WQR8W-TBJ73-FM8RX", 29);
  CHECK(se && strcmp(se->name, "Windows 11 SE") == 0 &&
        se->lines == KMSDIAG_LINE_BIT(KMSDIAG_LINE_WIN11));
  CHECK_STR(find1("windows 11 se"), "Windows 11 SE");
}

int main(void) {
  test_integrity();
  test_known_values();
  test_find();
  test_query_lines();
  test_csvlk_hostos();
  test_json();
  test_facts_gvlks();
  return check_finish();
}
