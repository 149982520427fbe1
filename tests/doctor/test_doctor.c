/* test_doctor.c: the doctor's API contract (arguments, ownership, JSON)
 * and two runs whose peers are fixed facts of this machine: a loopback
 * port where nothing listens, and pasted slmgr text of a retail client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kmsdiag/kmsdiag.h>

#include "check.h"
#include "doctor/doctor_internal.h"

static const kmsdiag_doctor_check_t *find_check(const kmsdiag_doctor_t *d,
                                                const char *name,
                                                kmsdiag_doctor_status_t st) {
  for (size_t i = 0; i < kmsdiag_doctor_check_count(d); i++) {
    const kmsdiag_doctor_check_t *c = kmsdiag_doctor_check_at(d, i);
    if (strcmp(c->name, name) == 0 && c->status == st)
      return c;
  }
  return NULL;
}

static void test_arguments(void) {
  kmsdiag_doctor_t *d;
  CHECK_EQ(kmsdiag_doctor_new(NULL), KMSDIAG_EINVAL);
  kmsdiag_doctor_free(NULL);
  CHECK_EQ(kmsdiag_doctor_new(&d), KMSDIAG_OK);
  CHECK(kmsdiag_doctor_verdict(d) == NULL);
  CHECK_EQ(kmsdiag_doctor_check_count(d), 0);
  CHECK(kmsdiag_doctor_check_at(d, 0) == NULL);
  CHECK_EQ(kmsdiag_doctor_set_stage(d, 0), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_doctor_set_stage(d, 4), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_doctor_set_stage(d, KMSDIAG_PROBE_STAGE_KMS), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_timeout_ms(d, 5), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_doctor_set_timeout_ms(d, 600001), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_doctor_set_timeout_ms(d, 500), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_domain(d, ""), KMSDIAG_EPARSE);
  CHECK_EQ(kmsdiag_doctor_set_domain(d, "corp.example"), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_domain(d, NULL), KMSDIAG_OK);
  char longname[400];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK_EQ(kmsdiag_doctor_set_domain(d, longname), KMSDIAG_ETOOBIG);
  CHECK_EQ(kmsdiag_doctor_set_host(d, "[::1]:1700"), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_host(d, "kms.example:99999"), KMSDIAG_EPARSE);
  CHECK_EQ(kmsdiag_doctor_set_host(d, NULL), KMSDIAG_OK);
  CHECK(kmsdiag_doctor_set_dns_servers(d, "not an address!") != KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_dns_servers(d, "127.0.0.1:5353"), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_dns_servers(d, NULL), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_cmid(d, NULL), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_slmgr(d, NULL), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_product(NULL, "x"), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_doctor_run(NULL), KMSDIAG_EINVAL);
  CHECK_STR(kmsdiag_doctor_status_name(KMSDIAG_DOCTOR_WARN), "WARN");
  kmsdiag_doctor_free(d);
}

/* A pinned host on a loopback port nothing listens on: the tcp check fails
 * with RPC_S_SERVER_UNAVAILABLE and the verdict is 0xC004F074. */
static void test_dead_host(void) {
  kmsdiag_doctor_t *d;
  kmsdiag_json_t *j;
  const kmsdiag_doctor_verdict_t *v;
  CHECK_EQ(kmsdiag_doctor_new(&d), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_host(d, "127.0.7.250:9"), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_timeout_ms(d, 1000), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_run(d), KMSDIAG_OK);
  v = kmsdiag_doctor_verdict(d);
  CHECK(v != NULL);
  if (!v) {
    kmsdiag_doctor_free(d);
    return;
  }
  CHECK(!v->healthy);
  CHECK_EQ_U64(v->hresult, 0xC004F074u);
  CHECK(v->name && strcmp(v->name, "SL_E_VL_BINDING_SERVICE_UNAVAILABLE") == 0);
  CHECK(v->cause && strstr(v->cause, "127.0.7.250") != NULL);
  CHECK(v->nfixes >= 2);
  CHECK(find_check(d, "pinned_host", KMSDIAG_DOCTOR_INFO) != NULL);
  const kmsdiag_doctor_check_t *c = find_check(d, "tcp", KMSDIAG_DOCTOR_FAIL);
  CHECK(c != NULL);
  CHECK_EQ_U64(c ? c->hresult : 0, 0x800706BAu);
  /* no DNS step when a host is given */
  CHECK(find_check(d, "srv_lookup", KMSDIAG_DOCTOR_OK) == NULL);
  CHECK(find_check(d, "srv_lookup", KMSDIAG_DOCTOR_FAIL) == NULL);

  CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_check_write_json(c, j), KMSDIAG_OK);
  kmsdiag_json_endline(j);
  CHECK_EQ(kmsdiag_doctor_verdict_write_json(v, j), KMSDIAG_OK);
  kmsdiag_json_endline(j);
  const char *t = kmsdiag_json_text(j, NULL);
  CHECK(strstr(t, "{\"type\":\"check\",\"name\":\"tcp\",\"status\":\"fail\"") == t);
  CHECK(strstr(t, "\"hresult\":\"0x800706BA\"") != NULL);
  CHECK(strstr(t, "{\"type\":\"verdict\",\"healthy\":false") != NULL);
  CHECK(strstr(t, "\"hresult\":\"0xC004F074\"") != NULL);
  CHECK_EQ(kmsdiag_doctor_check_write_json(NULL, j), KMSDIAG_EINVAL);
  kmsdiag_json_free(j);

  /* a second run replaces the results */
  size_t n = kmsdiag_doctor_check_count(d);
  CHECK_EQ(kmsdiag_doctor_run(d), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_check_count(d), n);
  kmsdiag_doctor_free(d);
}

/* Retail key: the verdict is about the channel, whatever the network. */
static void test_retail(void) {
  static const char text[] =
      "Name: Windows(R), Professional edition\r\n"
      "Description: Windows(R) Operating System, RETAIL channel\r\n"
      "Partial Product Key: 3V66T\r\n"
      "License Status: Licensed\r\n";
  kmsdiag_slmgr_t *s;
  kmsdiag_doctor_t *d;
  const kmsdiag_doctor_verdict_t *v;
  CHECK_EQ(kmsdiag_slmgr_new(&s), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_slmgr_parse(s, text, sizeof text - 1), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_new(&d), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_slmgr(d, s), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_host(d, "127.0.7.250:9"), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_timeout_ms(d, 500), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_set_product(d, "Windows 11 Pro"), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_doctor_run(d), KMSDIAG_OK);
  v = kmsdiag_doctor_verdict(d);
  CHECK(v && !v->healthy && v->hresult == 0);
  CHECK(v && v->check && strcmp(v->check, "license_channel") == 0);
  CHECK(v && v->cause && strstr(v->cause, "RETAIL") != NULL);
  bool ipk = false;
  for (size_t i = 0; v && i < v->nfixes; i++)
    if (strstr(v->fixes[i], "slmgr /ipk"))
      ipk = true;
  CHECK(ipk);
  CHECK(find_check(d, "license_channel", KMSDIAG_DOCTOR_FAIL) != NULL);
  kmsdiag_doctor_free(d);
  kmsdiag_slmgr_free(s);
}

static void test_nameservers(void) {
  static const char conf[] = "# lab\r\ndomain corp.example\r\n"
                             "nameserver 127.0.0.1:5353 # NSD\r\n"
                             "  nameserver\t::1\n"
                             "nameserver evil;rm -rf\n"
                             "nameserverX 10.0.0.9\n"
                             "nameserver [fd00::53]:53";
  char *csv = kd_doctor_nameservers_csv((const uint8_t *)conf, sizeof conf - 1);
  CHECK_STR(csv, "127.0.0.1:5353,::1,[fd00::53]:53");
  free(csv);
  CHECK(kd_doctor_nameservers_csv((const uint8_t *)"domain x\n", 9) == NULL);
  CHECK(kd_doctor_nameservers_csv(NULL, 0) == NULL);
  /* an endless file of entries is capped, not grown without bound */
  size_t n = 200000;
  char *big = malloc(n);
  for (size_t i = 0; i < n; i++)
    big[i] = "nameserver 1.2.3.4\n"[i % 19];
  csv = kd_doctor_nameservers_csv((const uint8_t *)big, n);
  CHECK(csv == NULL || strlen(csv) <= 4096);
  free(csv);
  free(big);
}

int main(void) {
  test_nameservers();
  test_arguments();
  test_dead_host();
  test_retail();
  return check_finish();
}
