/* test_probe_api.c: the probe library API: targets, setters, the CMID
 * state file, the bind PDU (checked with the library's own RPC decoder),
 * bind answers, and a live run against the test KMS responder (spawned
 * here on loopback) for what only the API can set: our clock. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kmsdiag/kmsdiag.h>

#include "check.h"
#include "internal/buf.h"
#include "probe/probe_internal.h"

static void test_targets(void) {
  kmsdiag_probe_t *p;
  size_t idx = 99;
  CHECK_EQ(kmsdiag_probe_new(&p), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_probe_add_target_spec(p, "kms.example", &idx), KMSDIAG_OK);
  CHECK_EQ(idx, 0);
  CHECK_EQ(kmsdiag_probe_result_port(kmsdiag_probe_result(p, 0)), 1688);
  CHECK_EQ(kmsdiag_probe_set_default_port(p, 16888), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_probe_add_target_spec(p, "10.0.0.1", NULL), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_probe_result_port(kmsdiag_probe_result(p, 1)), 16888);
  CHECK_EQ(kmsdiag_probe_add_target_spec(p, "h:99", NULL), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_probe_result_port(kmsdiag_probe_result(p, 2)), 99);
  CHECK_EQ(kmsdiag_probe_add_target_spec(p, "[::1]:1700", NULL), KMSDIAG_OK);
  CHECK_STR(kmsdiag_probe_result_host(kmsdiag_probe_result(p, 3)), "::1");
  CHECK_EQ(kmsdiag_probe_result_port(kmsdiag_probe_result(p, 3)), 1700);
  CHECK_EQ(kmsdiag_probe_add_target_spec(p, "fe80::1", NULL), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_probe_result_port(kmsdiag_probe_result(p, 4)), 16888);
  static const char *bad[] = {"", ":1", "h:", "h:0", "h:65536", "h:1x",
                              "[::1", "[::1]x", "[zz]:1", "[]:1", "a b",
                              "1:2:3:zz", "h\x1b:1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_EQ(kmsdiag_probe_add_target_spec(p, bad[i], NULL), KMSDIAG_EPARSE);
  CHECK_EQ(kmsdiag_probe_target_count(p), 5);
  CHECK(kmsdiag_probe_result(p, 5) == NULL);
  const char *addrs[] = {"127.0.0.9", "::1"};
  CHECK_EQ(kmsdiag_probe_add_target_resolved(p, "x", 0, addrs, 2, &idx), KMSDIAG_OK);
  CHECK_EQ(idx, 5);
  const char *badaddr[] = {"kms.example"};
  CHECK_EQ(kmsdiag_probe_add_target_resolved(p, "x", 0, badaddr, 1, NULL),
           KMSDIAG_EPARSE);
  /* Not run yet. */
  CHECK(!kmsdiag_probe_result_done(kmsdiag_probe_result(p, 0)));
  CHECK(kmsdiag_probe_result_stage_ms(kmsdiag_probe_result(p, 0),
                                      KMSDIAG_PROBE_STAGE_TCP) < 0);
  /* Setters check their ranges. */
  CHECK_EQ(kmsdiag_probe_set_timeout_ms(p, 0), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_probe_set_concurrency(p, 0), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_probe_set_concurrency(p, 5000), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_probe_set_protocol(p, 3), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_probe_set_protocol(p, 0), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_probe_set_stage(p, KMSDIAG_PROBE_STAGE_NONE), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_probe_set_workstation(p, "0123456789012345678901234567890123456789012345678901234567890123"),
           KMSDIAG_ETOOBIG);
  CHECK_EQ(kmsdiag_probe_set_workstation(p, "bad\xff"), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_probe_set_workstation(p, "w\xc3\xa9"), KMSDIAG_OK);
  /* kms stage without product and CMID is refused. */
  CHECK_EQ(kmsdiag_probe_set_stage(p, KMSDIAG_PROBE_STAGE_KMS), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_probe_run(p), KMSDIAG_EINVAL);
  kmsdiag_probe_free(p);
  kmsdiag_probe_free(NULL);
  /* NULL-safe accessors. */
  CHECK(kmsdiag_probe_result_host(NULL) == NULL);
  CHECK(!kmsdiag_probe_result_ok(NULL));
  kmsdiag_probe_stage_t s;
  CHECK_EQ(kmsdiag_probe_stage_parse("kms", &s), KMSDIAG_OK);
  CHECK_EQ(s, KMSDIAG_PROBE_STAGE_KMS);
  CHECK_EQ(kmsdiag_probe_stage_parse("KMS", &s), KMSDIAG_EPARSE);
  CHECK_STR(kmsdiag_probe_stage_name(KMSDIAG_PROBE_STAGE_RPC), "rpc");
}

static void test_cmid(void) {
  char dir[] = "/tmp/kd-cmid-XXXXXX", path[256], text[512];
  kmsdiag_guid_t a, b;
  bool created = false;
  struct stat st;
  CHECK(mkdtemp(dir) != NULL);
  setenv("XDG_STATE_HOME", dir, 1);
  char *def = kmsdiag_probe_cmid_path();
  snprintf(path, sizeof path, "%s/kmsdiag/cmid", dir);
  CHECK_STR(def, path);
  free(def);
  CHECK_EQ(kmsdiag_probe_cmid_load(NULL, &a, &created), KMSDIAG_OK);
  CHECK(created);
  CHECK_EQ(a.data3 >> 12, 4);               /* version 4 */
  CHECK_EQ(a.data4[0] & 0xC0, 0x80);        /* RFC 4122 variant */
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  snprintf(text, sizeof text, "%s/kmsdiag", dir);
  CHECK(stat(text, &st) == 0 && (st.st_mode & 0777) == 0700);
  CHECK_EQ(kmsdiag_probe_cmid_load(NULL, &b, &created), KMSDIAG_OK);
  CHECK(!created);
  CHECK(kmsdiag_guid_equal(&a, &b));
  /* No temporary file is left behind. */
  snprintf(text, sizeof text, "%s.tmp.%ld", path, (long)getpid());
  CHECK(access(text, F_OK) != 0);
  /* A corrupt file is reported, not silently replaced. */
  FILE *f = fopen(path, "w");
  fputs("not a guid\n", f);
  fclose(f);
  CHECK_EQ(kmsdiag_probe_cmid_load(NULL, &b, NULL), KMSDIAG_EPARSE);
  f = fopen(path, "w");
  fputs("{11111111-2222-4333-8444-555555555555}\r\n", f);
  fclose(f);
  CHECK_EQ(kmsdiag_probe_cmid_load(path, &b, NULL), KMSDIAG_OK);
  CHECK_EQ(b.data1, 0x11111111u);
  /* HOME fallback; relative XDG_STATE_HOME is ignored. */
  setenv("XDG_STATE_HOME", "relative", 1);
  setenv("HOME", dir, 1);
  def = kmsdiag_probe_cmid_path();
  snprintf(path, sizeof path, "%s/.local/state/kmsdiag/cmid", dir);
  CHECK_STR(def, path);
  free(def);
  CHECK_EQ(kmsdiag_probe_cmid_load(NULL, &b, &created), KMSDIAG_OK);
  CHECK(created);
  unsetenv("XDG_STATE_HOME");
  snprintf(text, sizeof text, "rm -rf '%s'", dir);
  CHECK(system(text) == 0);
}

static void test_bind_pdu(void) {
  kd_buf_t b;
  kmsdiag_rpc_pdu_t pdu;
  kd_buf_init(&b);
  kd_probe_rpc_bind(&b);
  CHECK(kd_buf_ok(&b));
  CHECK_EQ(kmsdiag_rpc_decode(b.data, b.len, &pdu), KMSDIAG_OK);
  CHECK_EQ(pdu.hdr.ptype, KMSDIAG_RPC_BIND);
  CHECK_EQ(pdu.hdr.call_id, 2);
  CHECK_EQ(pdu.u.bind.n_items, 3);
  CHECK_EQ(kmsdiag_rpc_syntax_classify(&pdu.u.bind.items[0].abstract, NULL),
           KMSDIAG_RPC_SYNTAX_KMS);
  CHECK_EQ(kmsdiag_rpc_syntax_classify(&pdu.u.bind.items[0].transfer[0], NULL),
           KMSDIAG_RPC_SYNTAX_NDR32);
  CHECK_EQ(kmsdiag_rpc_syntax_classify(&pdu.u.bind.items[1].transfer[0], NULL),
           KMSDIAG_RPC_SYNTAX_NDR64);
  uint16_t feat = 0;
  CHECK_EQ(kmsdiag_rpc_syntax_classify(&pdu.u.bind.items[2].transfer[0], &feat),
           KMSDIAG_RPC_SYNTAX_BTFN);
  CHECK_EQ(feat, 3);
  /* The same bytes as the library's own encoder with Windows defaults. */
  kmsdiag_rpc_bind_params_t bp;
  uint8_t *enc = NULL;
  size_t enc_len = 0;
  kmsdiag_rpc_bind_params_default(&bp, 2, true, true, true);
  CHECK_EQ(kmsdiag_rpc_encode_bind(&bp, false, &enc, &enc_len), KMSDIAG_OK);
  CHECK_EQ(enc_len, b.len);
  if (enc && enc_len == b.len)
    CHECK_MEM(enc, b.data, enc_len);
  free(enc);
  kd_buf_free(&b);
}

static void test_headers(void) {
  uint8_t h[16] = {5, 0, 12, 3, 0x10, 0, 0, 0, 0x40, 0, 0, 0, 2, 0, 0, 0};
  size_t fl = 0;
  char msg[200];
  CHECK_EQ(kd_probe_rpc_header(h, 16, &fl, msg, sizeof msg), KMSDIAG_OK);
  CHECK_EQ(fl, 0x40);
  h[8] = 0xF0;
  h[9] = 0xFF;
  CHECK_EQ(kd_probe_rpc_header(h, 16, &fl, msg, sizeof msg), KMSDIAG_EPROTO);
  CHECK(strstr(msg, "frag_len") != NULL);
  h[8] = 8;
  h[9] = 0;
  CHECK_EQ(kd_probe_rpc_header(h, 16, &fl, msg, sizeof msg), KMSDIAG_EPROTO);
  h[8] = 0x40;
  h[10] = 1; /* auth_len */
  CHECK_EQ(kd_probe_rpc_header(h, 16, &fl, msg, sizeof msg), KMSDIAG_EPROTO);
  h[10] = 0;
  h[0] = 4;
  CHECK_EQ(kd_probe_rpc_header(h, 16, &fl, msg, sizeof msg), KMSDIAG_EPROTO);
  CHECK_EQ(kd_probe_rpc_header(h, 3, &fl, msg, sizeof msg), KMSDIAG_ETRUNC);
}

/* ---- live: our clock 5 hours off gives 0xC004F06C ---- */

static pid_t spawn_responder(const char *ready, const char *spec) {
  pid_t pid = fork();
  if (pid == 0) {
    const char *tb = getenv("KMSDIAG_TESTBIN");
    char path[512];
    snprintf(path, sizeof path, "%s/kms-test-responder", tb ? tb : "build/tests");
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execl(path, path, "--quiet", "--ready-file", ready, spec, (char *)NULL);
    _exit(127);
  }
  return pid;
}

static unsigned ready_port(const char *ready) {
  for (int i = 0; i < 500; i++) {
    FILE *f = fopen(ready, "r");
    if (f) {
      char a[64], beh[32];
      unsigned port = 0;
      int n = fscanf(f, "%63s %u %31s", a, &port, beh);
      fclose(f);
      if (n == 3)
        return port;
    }
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

static size_t cb_calls;
static void on_result(const kmsdiag_probe_result_t *r, size_t index, void *ud) {
  (void)ud;
  CHECK(kmsdiag_probe_result_done(r));
  CHECK(index < 3);
  cb_calls++;
}

static void test_live_clock(void) {
  char ready[] = "/tmp/kd-probe-ready-XXXXXX";
  int fd = mkstemp(ready);
  close(fd);
  unlink(ready);
  pid_t pid = spawn_responder(ready, "127.0.0.1:0=normal,count=50");
  unsigned port = ready_port(ready);
  CHECK(port != 0);
  if (!port) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return;
  }
  char spec[64];
  snprintf(spec, sizeof spec, "127.0.0.1:%u", port);
  for (unsigned ver = 4; ver <= 6; ver++) {
    kmsdiag_probe_t *p;
    kmsdiag_guid_t cmid;
    CHECK_EQ(kmsdiag_probe_new(&p), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_guid_parse(&cmid, "6f4c0b1e-2d3a-4b5c-8d6e-7f8091a2b3c4"),
             KMSDIAG_OK);
    CHECK_EQ(kmsdiag_probe_set_product(p, kmsdiag_product_default()), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_probe_set_protocol(p, ver), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_probe_set_cmid(p, &cmid), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_probe_set_stage(p, KMSDIAG_PROBE_STAGE_KMS), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_probe_set_client_time(p, (int64_t)time(NULL) - 5 * 3600),
             KMSDIAG_OK);
    CHECK_EQ(kmsdiag_probe_add_target_spec(p, spec, NULL), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_probe_add_target_spec(p, spec, NULL), KMSDIAG_OK);
    CHECK_EQ(kmsdiag_probe_add_target_spec(p, spec, NULL), KMSDIAG_OK);
    kmsdiag_probe_set_result_callback(p, on_result, NULL);
    cb_calls = 0;
    CHECK_EQ(kmsdiag_probe_run(p), KMSDIAG_OK);
    CHECK_EQ(cb_calls, 3);
    for (size_t i = 0; i < 3; i++) {
      const kmsdiag_probe_result_t *r = kmsdiag_probe_result(p, i);
      CHECK(kmsdiag_probe_result_verified(r));
      CHECK(!kmsdiag_probe_result_ok(r));
      CHECK_EQ(kmsdiag_probe_result_stage_reached(r), KMSDIAG_PROBE_STAGE_KMS);
      CHECK_EQ_U64(kmsdiag_probe_result_hresult(r), 0xC004F06Cu);
      CHECK(kmsdiag_probe_result_time_skew(r) <= -5 * 3600 + 5);
      CHECK_EQ(kmsdiag_probe_result_protocol(r), ver);
    }
    /* JSON of a result is one valid object with the documented keys. */
    kmsdiag_json_t *j;
    CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
    kmsdiag_probe_result_write_json(kmsdiag_probe_result(p, 0), j, NULL);
    kmsdiag_json_endline(j);
    CHECK_EQ(kmsdiag_json_status(j), KMSDIAG_OK);
    const char *t = kmsdiag_json_text(j, NULL);
    CHECK(strstr(t, "\"type\":\"probe\"") != NULL);
    CHECK(strstr(t, "\"hresult\":\"0xC004F06C\"") != NULL);
    CHECK(strstr(t, "\"time_skew_s\":") != NULL);
    kmsdiag_json_free(j);
    /* A second run probes nothing new. */
    CHECK_EQ(kmsdiag_probe_run(p), KMSDIAG_OK);
    CHECK_EQ(cb_calls, 3);
    kmsdiag_probe_free(p);
  }
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  unlink(ready);
}

/* ---- live: a target's addresses are tried in order, each reported ---- */

static void test_live_addresses(void) {
  char ready[] = "/tmp/kd-probe-ready-XXXXXX";
  int fd = mkstemp(ready);
  close(fd);
  unlink(ready);
  pid_t pid = spawn_responder(ready, "127.0.0.1:0=normal");
  unsigned port = ready_port(ready);
  CHECK(port != 0);
  if (!port) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return;
  }
  kmsdiag_probe_t *p;
  CHECK_EQ(kmsdiag_probe_new(&p), KMSDIAG_OK);
  /* Nothing listens on 127.0.0.253/254 at that port: refused at once. */
  const char *first_refused[] = {"127.0.0.254", "127.0.0.1"};
  const char *all_refused[] = {"127.0.0.253", "127.0.0.254"};
  size_t i0, i1;
  CHECK_EQ(kmsdiag_probe_add_target_resolved(p, "two", (uint16_t)port,
                                             first_refused, 2, &i0), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_probe_add_target_resolved(p, "none", (uint16_t)port,
                                             all_refused, 2, &i1), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_probe_result_attempt_count(kmsdiag_probe_result(p, i0)), 0);
  CHECK(!kmsdiag_probe_result_attempt(kmsdiag_probe_result(p, i0), 0, NULL,
                                      NULL, NULL));
  CHECK_EQ(kmsdiag_probe_run(p), KMSDIAG_OK);
  const kmsdiag_probe_result_t *r = kmsdiag_probe_result(p, i0);
  const char *a = NULL;
  kmsdiag_status_t st = KMSDIAG_EINVAL;
  double ms = -1;
  CHECK(kmsdiag_probe_result_ok(r));
  CHECK_STR(kmsdiag_probe_result_address(r), "127.0.0.1");
  CHECK_EQ(kmsdiag_probe_result_attempt_count(r), 2);
  CHECK(kmsdiag_probe_result_attempt(r, 0, &a, &st, &ms));
  CHECK_STR(a, "127.0.0.254");
  CHECK_EQ(st, KMSDIAG_ECONNREFUSED);
  CHECK(ms >= 0);
  CHECK(kmsdiag_probe_result_attempt(r, 1, &a, &st, NULL));
  CHECK_STR(a, "127.0.0.1");
  CHECK_EQ(st, KMSDIAG_OK);
  CHECK(!kmsdiag_probe_result_attempt(r, 2, &a, &st, &ms));
  CHECK(strstr(kmsdiag_probe_result_message(r), "127.0.0.254 (refused") != NULL);
  r = kmsdiag_probe_result(p, i1);
  CHECK(!kmsdiag_probe_result_ok(r));
  CHECK_EQ(kmsdiag_probe_result_status(r), KMSDIAG_ECONNREFUSED);
  CHECK_EQ(kmsdiag_probe_result_stage_failed(r), KMSDIAG_PROBE_STAGE_TCP);
  CHECK_EQ(kmsdiag_probe_result_attempt_count(r), 2);
  CHECK(strstr(kmsdiag_probe_result_message(r), "127.0.0.253") != NULL);
  CHECK(strstr(kmsdiag_probe_result_message(r), "127.0.0.254") != NULL);
  kmsdiag_json_t *j;
  CHECK_EQ(kmsdiag_json_new(&j), KMSDIAG_OK);
  kmsdiag_probe_result_write_json(r, j, NULL);
  kmsdiag_json_endline(j);
  CHECK(strstr(kmsdiag_json_text(j, NULL),
               "\"addresses_tried\":[{\"address\":\"127.0.0.253\","
               "\"status\":\"KMSDIAG_ECONNREFUSED\"") != NULL);
  kmsdiag_json_free(j);
  CHECK_EQ(kmsdiag_probe_result_attempt_count(NULL), 0);
  CHECK(!kmsdiag_probe_result_attempt(NULL, 0, &a, &st, &ms));
  kmsdiag_probe_free(p);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  unlink(ready);
}

int main(void) {
  test_targets();
  test_cmid();
  test_bind_pdu();
  test_headers();
  test_live_clock();
  test_live_addresses();
  return check_finish();
}
