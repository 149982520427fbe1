/* test_slmgr.c: the slmgr /dlv reader on the sample texts and on the ways
 * people paste them (CRLF, UTF-16 with and without BOM, hard wraps, junk). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

#include "check.h"

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static char *sample(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "tests/slmgr/samples/%s", name);
  return read_file(path, len);
}

/* LF -> CRLF */
static char *to_crlf(const char *s, size_t n, size_t *out_len) {
  char *o = malloc(2 * n + 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\n')
      o[k++] = '\r';
    o[k++] = s[i];
  }
  *out_len = k;
  return o;
}

/* ASCII/UTF-8 (BMP only) -> UTF-16, optional BOM */
static unsigned char *to_utf16(const char *s, size_t n, bool be, bool bom,
                               size_t *out_len) {
  unsigned char *o = malloc(2 * n + 2);
  size_t k = 0;
  if (bom) {
    o[k++] = be ? 0xFE : 0xFF;
    o[k++] = be ? 0xFF : 0xFE;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned c = (unsigned char)s[i];
    o[k++] = (unsigned char)(be ? 0 : c);
    o[k++] = (unsigned char)(be ? c : 0);
  }
  *out_len = k;
  return o;
}

/* Hard-wrap every line at `width` characters, as a console does. */
static char *hard_wrap(const char *s, size_t n, size_t width, size_t *out_len) {
  char *o = malloc(2 * n + 1);
  size_t k = 0, col = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\n') {
      col = 0;
    } else if (col == width) {
      o[k++] = '\n';
      col = 0;
    }
    if (s[i] != '\n')
      col++;
    o[k++] = s[i];
  }
  *out_len = k;
  return o;
}

static void expect_dns_sample(kmsdiag_slmgr_t *s, const char *how) {
  const kmsdiag_slmgr_product_t *p = kmsdiag_slmgr_primary(s);
  char g[KMSDIAG_GUID_STRLEN];
  fprintf(stderr, "  checking %s\n", how);
  CHECK(p != NULL);
  if (!p)
    return;
  CHECK_EQ(kmsdiag_slmgr_product_count(s), 1);
  CHECK_STR(p->name, "Windows(R), Enterprise edition");
  CHECK_EQ(p->channel, KMSDIAG_SLMGR_CHANNEL_KMSCLIENT);
  CHECK_STR(p->channel_text, "VOLUME_KMSCLIENT");
  CHECK_STR(p->key_channel, "Volume:GVLK");
  CHECK(p->has_activation_id);
  CHECK_STR(kmsdiag_guid_to_str(&p->activation_id, g),
            "73111121-5638-40f6-bc11-f1d7b0d64300");
  CHECK(p->has_application_id);
  CHECK_STR(p->partial_key, "2YT43");
  CHECK_EQ(p->license, KMSDIAG_SLMGR_LICENSE_LICENSED);
  CHECK(p->has_expiration);
  CHECK_EQ(p->expiration_minutes, 259200);
  CHECK(p->has_cmid);
  CHECK_STR(kmsdiag_guid_to_str(&p->cmid, g),
            "9b4c1a2e-7d3f-4e8a-b1c6-5f0d2e9a8b71");
  CHECK(p->pinned_host == NULL);
  CHECK_STR(p->dns_host, "kms01.lab.example");
  CHECK_EQ(p->dns_port, 1688);
  CHECK_STR(p->kms_ip, "127.0.0.1");
  CHECK_STR(p->kms_epid, "03612-00206-566-174993-03-1033-17763.0000-2802018");
  CHECK(p->has_activation_interval && p->activation_interval == 120);
  CHECK(p->has_renewal_interval && p->renewal_interval == 10080);
  CHECK_EQ(p->host_caching, 1);
  CHECK(!p->is_kms_host);
  CHECK_STR(kmsdiag_slmgr_service_version(s), "10.0.19041.3636");
  CHECK(!kmsdiag_slmgr_last_error(s, NULL));
  if (kmsdiag_slmgr_warning_count(s)) {
    unsigned line;
    const char *w = kmsdiag_slmgr_warning_at(s, 0, &line);
    fprintf(stderr, "  unexpected warning line %u: %s\n", line, w);
  }
  CHECK_EQ(kmsdiag_slmgr_warning_count(s), 0);
}

static void test_encodings(void) {
  kmsdiag_slmgr_t *s;
  size_t n, n2, n3;
  char *txt = sample("kmsclient-dns.txt", &n);
  CHECK_EQ(kmsdiag_slmgr_new(&s), KMSDIAG_OK);

  CHECK_EQ(kmsdiag_slmgr_parse(s, txt, n), KMSDIAG_OK);
  CHECK_STR(kmsdiag_slmgr_encoding(s), "utf-8");
  CHECK_EQ(kmsdiag_slmgr_line_count(s), 30);
  expect_dns_sample(s, "utf-8 LF");

  char *crlf = to_crlf(txt, n, &n2);
  CHECK_EQ(kmsdiag_slmgr_parse(s, crlf, n2), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_slmgr_line_count(s), 30);
  expect_dns_sample(s, "utf-8 CRLF");

  /* bare CR line ends (old Mac style clipboards) */
  char *cr = malloc(n);
  for (size_t i = 0; i < n; i++)
    cr[i] = txt[i] == '\n' ? '\r' : txt[i];
  CHECK_EQ(kmsdiag_slmgr_parse(s, cr, n), KMSDIAG_OK);
  expect_dns_sample(s, "utf-8 CR");
  free(cr);

  /* what Notepad / PowerShell Out-File write: UTF-16LE, BOM, CRLF */
  unsigned char *u16 = to_utf16(crlf, n2, false, true, &n3);
  CHECK_EQ(kmsdiag_slmgr_parse(s, u16, n3), KMSDIAG_OK);
  CHECK_STR(kmsdiag_slmgr_encoding(s), "utf-16le");
  expect_dns_sample(s, "utf-16le BOM CRLF");
  free(u16);

  u16 = to_utf16(crlf, n2, true, true, &n3);
  CHECK_EQ(kmsdiag_slmgr_parse(s, u16, n3), KMSDIAG_OK);
  CHECK_STR(kmsdiag_slmgr_encoding(s), "utf-16be");
  expect_dns_sample(s, "utf-16be BOM CRLF");
  free(u16);

  u16 = to_utf16(txt, n, false, false, &n3);
  CHECK_EQ(kmsdiag_slmgr_parse(s, u16, n3), KMSDIAG_OK);
  CHECK_STR(kmsdiag_slmgr_encoding(s), "utf-16le");
  expect_dns_sample(s, "utf-16le without BOM");
  /* odd length: last byte dropped with a warning, data still read */
  CHECK_EQ(kmsdiag_slmgr_parse(s, u16, n3 - 1), KMSDIAG_OK);
  CHECK(kmsdiag_slmgr_warning_count(s) >= 1);
  CHECK_STR(kmsdiag_slmgr_primary(s)->dns_host, "kms01.lab.example");
  free(u16);

  /* UTF-8 with BOM */
  char *bom = malloc(n + 3);
  memcpy(bom, "\xEF\xBB\xBF", 3);
  memcpy(bom + 3, txt, n);
  CHECK_EQ(kmsdiag_slmgr_parse(s, bom, n + 3), KMSDIAG_OK);
  CHECK_STR(kmsdiag_slmgr_encoding(s), "utf-8-bom");
  expect_dns_sample(s, "utf-8 BOM");
  free(bom);

  free(crlf);
  free(txt);
  kmsdiag_slmgr_free(s);
}

static void test_wrapped(void) {
  kmsdiag_slmgr_t *s;
  size_t n, n2;
  char *txt = sample("kmsclient-dns.txt", &n);
  CHECK_EQ(kmsdiag_slmgr_new(&s), KMSDIAG_OK);
  /* a narrow console: nearly every value is split */
  char *w = hard_wrap(txt, n, 40, &n2);
  CHECK_EQ(kmsdiag_slmgr_parse(s, w, n2), KMSDIAG_OK);
  CHECK(kmsdiag_slmgr_line_count(s) > 30);
  expect_dns_sample(s, "hard-wrapped at 40 columns");
  free(w);
  w = hard_wrap(txt, n, 64, &n2);
  CHECK_EQ(kmsdiag_slmgr_parse(s, w, n2), KMSDIAG_OK);
  expect_dns_sample(s, "hard-wrapped at 64 columns");
  free(w);

  /* a long pinned name wrapped at 80 columns inside the port */
  static const char pin[] =
      "Name: Windows(R), ServerDatacenter edition\r\n"
      "Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel\r\n"
      "    Registered KMS machine name: kms-primary-01.activation.emea.corp.ex"
      "ample:16\r\n"
      "88\r\n"
      "    KMS host caching is disabled\r\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, pin, sizeof pin - 1), KMSDIAG_OK);
  const kmsdiag_slmgr_product_t *p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->pinned_host &&
        strcmp(p->pinned_host,
               "kms-primary-01.activation.emea.corp.example") == 0);
  CHECK(p && p->pinned_port == 1688);
  CHECK(p && p->host_caching == 0);

  /* a wrap at a word: the blank at the end of the first part is kept */
  static const char word[] =
      "Name: Office 16, Office16ProPlusVL_KMS_Client edition\n"
      "Description: Office 16, VOLUME_KMSCLIENT channel with a very long tail \n"
      "that goes on\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, word, sizeof word - 1), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->description &&
        strcmp(p->description, "Office 16, VOLUME_KMSCLIENT channel with a "
                               "very long tail that goes on") == 0);
  CHECK(p && p->channel == KMSDIAG_SLMGR_CHANNEL_KMSCLIENT);

  /* a long value line followed by junk (a prompt pasted along) keeps its
   * value when longer lines show the text was not wrapped there */
  static const char prompt[] =
      "Installation ID: 4083175420513773640915362384607290134135688104512045303182123740\n"
      "    Registered KMS machine name: kms01.corp.example.com:1688\n"
      "C:\\Windows\\system32>\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, prompt, sizeof prompt - 1), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->pinned_host &&
        strcmp(p->pinned_host, "kms01.corp.example.com") == 0);

  /* short lines never swallow the next one */
  static const char shortl[] = "Name: X\nrandom junk line\nLicense Status: Licensed\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, shortl, sizeof shortl - 1), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->name && strcmp(p->name, "X") == 0);
  CHECK(p && p->license == KMSDIAG_SLMGR_LICENSE_LICENSED);
  free(txt);
  kmsdiag_slmgr_free(s);
}

static void test_channels(void) {
  kmsdiag_slmgr_t *s;
  size_t n;
  char *t;
  const kmsdiag_slmgr_product_t *p;
  uint32_t code = 0;
  CHECK_EQ(kmsdiag_slmgr_new(&s), KMSDIAG_OK);

  t = sample("kmsclient-pinned-stale.txt", &n);
  CHECK_EQ(kmsdiag_slmgr_parse(s, t, n), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->channel == KMSDIAG_SLMGR_CHANNEL_KMSCLIENT);
  CHECK(p && p->pinned_host && strcmp(p->pinned_host, "kms-old.lab.example") == 0);
  CHECK(p && p->pinned_port == 1688);
  CHECK(p && p->kms_ip == NULL); /* "not available" */
  CHECK(p && p->license == KMSDIAG_SLMGR_LICENSE_OOB_GRACE);
  CHECK(kmsdiag_slmgr_last_error(s, &code));
  CHECK_EQ_U64(code, 0xC004F074u);
  free(t);

  t = sample("mak-notification.txt", &n);
  CHECK_EQ(kmsdiag_slmgr_parse(s, t, n), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->channel == KMSDIAG_SLMGR_CHANNEL_MAK);
  CHECK(p && p->license == KMSDIAG_SLMGR_LICENSE_NOTIFICATION);
  CHECK(p && p->has_notification_reason);
  CHECK_EQ_U64(p ? p->notification_reason : 0, 0xC004F056u);
  CHECK(!kmsdiag_slmgr_last_error(s, NULL));
  free(t);

  t = sample("retail.txt", &n);
  CHECK_EQ(kmsdiag_slmgr_parse(s, t, n), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->channel == KMSDIAG_SLMGR_CHANNEL_RETAIL);
  CHECK_STR(kmsdiag_slmgr_channel_name(p ? p->channel : 0), "RETAIL");
  free(t);

  t = sample("oem.txt", &n);
  CHECK_EQ(kmsdiag_slmgr_parse(s, t, n), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->channel == KMSDIAG_SLMGR_CHANNEL_OEM);
  CHECK(p && p->channel_text && strcmp(p->channel_text, "OEM_DM") == 0);
  free(t);

  /* host key and host block */
  static const char host[] =
      "Name: Windows(R), ServerStandard edition\n"
      "Description: Windows(R) Operating System, VOLUME_KMS_WS19 channel\n"
      "Partial Product Key: ABCDE\n"
      "License Status: Licensed\n"
      "\n"
      "Key Management Service is enabled on this machine\n"
      "    Current count: 7\n"
      "    Listening on Port: 1688\n"
      "    DNS publishing enabled\n"
      "    KMS priority: Normal\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, host, sizeof host - 1), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->channel == KMSDIAG_SLMGR_CHANNEL_KMSHOST);
  CHECK(p && p->is_kms_host && p->has_current_count && p->current_count == 7);
  CHECK(p && p->has_listening_port && p->listening_port == 1688);

  /* only Product Key Channel tells the channel */
  static const char kc[] = "Name: Windows(R), Education edition\n"
                           "Product Key Channel: Volume:GVLK\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, kc, sizeof kc - 1), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->channel == KMSDIAG_SLMGR_CHANNEL_KMSCLIENT);
  kmsdiag_slmgr_free(s);
}

static void test_blocks_and_values(void) {
  kmsdiag_slmgr_t *s;
  const kmsdiag_slmgr_product_t *p;
  CHECK_EQ(kmsdiag_slmgr_new(&s), KMSDIAG_OK);
  /* /dlv all: an unlicensed SKU without key, Office with a key, then the
   * Windows product with a key: the Windows one is primary */
  static const char all[] =
      "Name: Windows(R), EnterpriseS edition\n"
      "License Status: Unlicensed\n\n"
      "Name: Office 16, Office16ProPlusVL_KMS_Client edition\n"
      "Description: Office 16, VOLUME_KMSCLIENT channel\n"
      "Partial Product Key: WFG99\n"
      "License Status: Licensed\n\n"
      "Name: Windows(R), Enterprise edition\n"
      "Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel\n"
      "Partial Product Key: 2YT43\n"
      "License Status: Licensed\n"
      "    Registered KMS machine name: [fd00::5]:1700\n"
      "    Registered KMS SRV record lookup domain: corp.example\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, all, sizeof all - 1), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_slmgr_product_count(s), 3);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p == kmsdiag_slmgr_product_at(s, 2));
  CHECK(p && p->pinned_host && strcmp(p->pinned_host, "fd00::5") == 0);
  CHECK(p && p->pinned_port == 1700);
  CHECK(p && p->skms_domain && strcmp(p->skms_domain, "corp.example") == 0);
  CHECK_EQ(kmsdiag_slmgr_product_at(s, 0)->license,
           KMSDIAG_SLMGR_LICENSE_UNLICENSED);
  CHECK_EQ(kmsdiag_slmgr_product_at(s, 0)->first_line, 1);
  CHECK_EQ(kmsdiag_slmgr_product_at(s, 2)->first_line, 9);
  CHECK(kmsdiag_slmgr_product_at(s, 3) == NULL);

  /* bare IPv6, Windows 7 label, thousands separator, case */
  static const char misc[] =
      "name: Windows(R) 7, Enterprise edition\n"
      "KMS machine registry override defined: fd00::7\n"
      "RENEWAL INTERVAL: 10,080 minutes\n"
      "Activation interval: 120 minutes\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, misc, sizeof misc - 1), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->pinned_host && strcmp(p->pinned_host, "fd00::7") == 0);
  CHECK(p && p->pinned_port == 1688);
  CHECK(p && p->has_renewal_interval && p->renewal_interval == 10080);

  /* bad values become warnings with their line, not failures */
  static const char bad[] =
      "Name: Windows(R), Enterprise edition\n"
      "Activation ID: not-a-guid\n"
      "Registered KMS machine name: kms.example:99999\n"
      "KMS machine name from DNS: bad host;rm -rf:1688\n"
      "Activation interval: soon\n"
      "License Status: Mostly fine\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, bad, sizeof bad - 1), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && !p->has_activation_id && p->pinned_host == NULL &&
        p->dns_host == NULL && !p->has_activation_interval);
  CHECK(p && p->license == KMSDIAG_SLMGR_LICENSE_UNKNOWN);
  CHECK_EQ(kmsdiag_slmgr_warning_count(s), 5);
  unsigned line = 0;
  const char *w = kmsdiag_slmgr_warning_at(s, 1, &line);
  CHECK_EQ(line, 3);
  CHECK(w && strstr(w, "port") != NULL);
  CHECK(kmsdiag_slmgr_warning_at(s, 5, NULL) == NULL);

  /* values are cut at a UTF-8 boundary */
  char longv[700];
  strcpy(longv, "Name: ");
  for (int i = 0; i < 300; i++)
    strcat(longv, "\xC3\xA9"); /* e-acute, 2 bytes */
  strcat(longv, "\n");
  CHECK_EQ(kmsdiag_slmgr_parse(s, longv, strlen(longv)), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->name && strlen(p->name) <= KMSDIAG_SLMGR_VALUE_MAX);
  CHECK(p && p->name && strlen(p->name) % 2 == 0);
  CHECK_EQ(kmsdiag_slmgr_warning_count(s), 1);

  /* a fragment without "Name:" still yields a block */
  static const char frag[] = "    Registered KMS machine name: 10.0.0.5:1688\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, frag, sizeof frag - 1), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->pinned_host && strcmp(p->pinned_host, "10.0.0.5") == 0);
  kmsdiag_slmgr_free(s);
}

/* Office's ospp.vbs /dstatus: other labels, same facts. */
static void test_ospp(void) {
  static const char txt[] =
      "---Processing--------------------------\r\n"
      "---------------------------------------\r\n"
      "PRODUCT ID: 00434-80000-00000-AA000\r\n"
      "SKU ID: d450596f-894d-49e0-966a-fd39ed4c4c64\r\n"
      "LICENSE NAME: Office 16, Office16ProPlusVL_KMS_Client edition\r\n"
      "LICENSE DESCRIPTION: Office 16, VOLUME_KMSCLIENT channel\r\n"
      "BETA EXPIRATION: 01/01/1601\r\n"
      "LICENSE STATUS:  ---OOB_GRACE--- \r\n"
      "ERROR CODE: 0xC004F074\r\n"
      "ERROR DESCRIPTION: The Software Licensing Service reported that the\r\n"
      "REMAINING GRACE: 29 days  (41760 minute(s) before expiring)\r\n"
      "Last 5 characters of installed product key: 6MWKP\r\n"
      "Activation Type Configuration: ALL\r\n"
      "\tKMS machine name from DNS: kms01.corp.example:1688\r\n"
      "\tActivation Interval: 120 minutes\r\n"
      "\tRenewal Interval: 10080 minutes\r\n"
      "\tKMS host caching: Disabled\r\n"
      "---------------------------------------\r\n"
      "---Exiting-----------------------------\r\n";
  kmsdiag_slmgr_t *s;
  const kmsdiag_slmgr_product_t *p;
  uint32_t code = 0;
  CHECK_EQ(kmsdiag_slmgr_new(&s), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_slmgr_parse(s, txt, sizeof txt - 1), KMSDIAG_OK);
  p = kmsdiag_slmgr_primary(s);
  CHECK(p && p->name && strstr(p->name, "Office16ProPlusVL_KMS_Client"));
  CHECK(p && p->channel == KMSDIAG_SLMGR_CHANNEL_KMSCLIENT);
  CHECK(p && p->has_activation_id);
  CHECK(p && p->license == KMSDIAG_SLMGR_LICENSE_OOB_GRACE);
  CHECK(p && p->partial_key && strcmp(p->partial_key, "6MWKP") == 0);
  CHECK(p && p->dns_host && strcmp(p->dns_host, "kms01.corp.example") == 0);
  CHECK(p && p->has_renewal_interval && p->renewal_interval == 10080);
  CHECK(p && p->host_caching == 0);
  CHECK(kmsdiag_slmgr_last_error(s, &code));
  CHECK_EQ_U64(code, 0xC004F074u);
  kmsdiag_slmgr_free(s);
}

static void test_errors(void) {
  kmsdiag_slmgr_t *s;
  CHECK_EQ(kmsdiag_slmgr_new(&s), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_slmgr_parse(s, "", 0), KMSDIAG_EPARSE);
  CHECK_STR(kmsdiag_slmgr_error_text(s), "empty input");
  CHECK_EQ(kmsdiag_slmgr_parse(s, NULL, 0), KMSDIAG_EPARSE);
  CHECK_EQ(kmsdiag_slmgr_parse(s, NULL, 5), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_slmgr_parse(NULL, "x", 1), KMSDIAG_EINVAL);
  static const char fr[] = "Nom : Windows(R), edition Enterprise\n"
                           "Etat de la licence : Avec licence\n";
  CHECK_EQ(kmsdiag_slmgr_parse(s, fr, sizeof fr - 1), KMSDIAG_EPARSE);
  CHECK(strstr(kmsdiag_slmgr_error_text(s), "English") != NULL);
  CHECK_EQ(kmsdiag_slmgr_product_count(s), 0);
  CHECK(kmsdiag_slmgr_primary(s) == NULL);
  /* binary junk */
  unsigned char junk[4096];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (unsigned char)(i * 131u + 7u);
  CHECK_EQ(kmsdiag_slmgr_parse(s, junk, sizeof junk), KMSDIAG_EPARSE);
  /* too big */
  size_t big = KMSDIAG_SLMGR_MAX_INPUT + 1;
  char *b = malloc(big);
  memset(b, '\n', big);
  CHECK_EQ(kmsdiag_slmgr_parse(s, b, big), KMSDIAG_ETOOBIG);
  CHECK_EQ(kmsdiag_slmgr_error_line(s), 0);
  /* too many lines */
  CHECK_EQ(kmsdiag_slmgr_parse(s, b, KMSDIAG_SLMGR_MAX_LINES + 5),
           KMSDIAG_ETOOBIG);
  CHECK_EQ(kmsdiag_slmgr_error_line(s), KMSDIAG_SLMGR_MAX_LINES + 1);
  free(b);
  /* success clears the error */
  CHECK_EQ(kmsdiag_slmgr_parse(s, "License Status: Licensed", 24), KMSDIAG_OK);
  CHECK_STR(kmsdiag_slmgr_error_text(s), "");
  kmsdiag_slmgr_free(s);
  kmsdiag_slmgr_free(NULL);
  CHECK_EQ(kmsdiag_slmgr_new(NULL), KMSDIAG_EINVAL);
  CHECK_STR(kmsdiag_slmgr_license_name(KMSDIAG_SLMGR_LICENSE_OOT_GRACE),
            "additional_grace");
}

static void test_json(void) {
  kmsdiag_slmgr_t *s;
  kmsdiag_json_t *j;
  size_t n;
  char *t = sample("kmsclient-pinned-stale.txt", &n);
  CHECK_EQ(kmsdiag_slmgr_new(&s), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_slmgr_parse(s, t, n), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_slmgr_write_json(s, j), KMSDIAG_OK);
  kmsdiag_json_endline(j);
  const char *out = kmsdiag_json_text(j, NULL);
  CHECK(strstr(out, "\"type\":\"slmgr\"") != NULL);
  CHECK(strstr(out, "\"pinned_host\":\"kms-old.lab.example\"") != NULL);
  CHECK(strstr(out, "\"last_error\":\"0xC004F074\"") != NULL);
  CHECK(strstr(out, "\"channel\":\"VOLUME_KMSCLIENT\"") != NULL);
  CHECK(strstr(out, "\"license_status\":\"initial_grace\"") != NULL);
  CHECK(strstr(out, "\"dns_host\":null") != NULL);
  CHECK_EQ(kmsdiag_slmgr_write_json(NULL, j), KMSDIAG_EINVAL);
  kmsdiag_json_free(j);
  kmsdiag_slmgr_free(s);
  free(t);
}

int main(void) {
  test_encodings();
  test_wrapped();
  test_channels();
  test_blocks_and_values();
  test_ospp();
  test_errors();
  test_json();
  return check_finish();
}
