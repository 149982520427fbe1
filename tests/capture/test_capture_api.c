/* test_capture_api.c: the public analyser API and its bounds: flow table
 * cap and eviction, idle and SYN-timeout expiry during reading, buffered
 * bytes per flow, state and argument errors, endpoint text. */
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_capture.h>

#include "check.h"

typedef struct counts {
  int connect[8];
  int notes;
  int diag_fail;
  int diag_undetermined;
  uint64_t last_wait_ms;
  const char *last_waiting_for;
  bool last_evicted;
} counts_t;

static void on_ev(const kmsdiag_capture_event_t *ev, void *ud) {
  counts_t *c = ud;
  if (ev->type == KMSDIAG_CAPEV_CONNECT) {
    if (ev->u.connect.state < 8)
      c->connect[ev->u.connect.state]++;
    if (ev->u.connect.state == KMSDIAG_CONN_UNDECIDED) {
      c->last_wait_ms = ev->u.connect.wait_ms;
      c->last_waiting_for = ev->u.connect.waiting_for;
      c->last_evicted = ev->u.connect.evicted;
    }
  } else if (ev->type == KMSDIAG_CAPEV_NOTE) {
    c->notes++;
  } else if (ev->type == KMSDIAG_CAPEV_DIAGNOSIS && ev->u.diagnosis.undetermined) {
    c->diag_undetermined++;
  } else if (ev->type == KMSDIAG_CAPEV_DIAGNOSIS && !ev->u.diagnosis.ok) {
    c->diag_fail++;
  }
}

/* Raw IPv4 + TCP (or UDP when udp) frame into f (>= 60 + n bytes). */
static size_t frame(uint8_t *f, uint8_t cli, uint16_t sport, uint16_t dport,
                    uint32_t seq, uint8_t flags, const uint8_t *pl, size_t n,
                    bool udp) {
  size_t l4 = udp ? 8 : 20, tot = 20 + l4 + n;
  memset(f, 0, 20 + l4);
  f[0] = 0x45;
  f[2] = (uint8_t)(tot >> 8);
  f[3] = (uint8_t)tot;
  f[8] = 64;
  f[9] = udp ? 17 : 6;
  f[12] = 10;
  f[15] = cli;
  f[16] = 10;
  f[19] = 200;
  uint8_t *t = f + 20;
  t[0] = (uint8_t)(sport >> 8);
  t[1] = (uint8_t)sport;
  t[2] = (uint8_t)(dport >> 8);
  t[3] = (uint8_t)dport;
  if (udp) {
    t[4] = (uint8_t)((8 + n) >> 8);
    t[5] = (uint8_t)(8 + n);
  } else {
    t[4] = (uint8_t)(seq >> 24);
    t[5] = (uint8_t)(seq >> 16);
    t[6] = (uint8_t)(seq >> 8);
    t[7] = (uint8_t)seq;
    t[12] = 0x50;
    t[13] = flags;
  }
  if (n)
    memcpy(t + l4, pl, n);
  return tot;
}

static void feed(kmsdiag_capture_t *cap, const uint8_t *f, size_t n,
                 int64_t sec) {
  kmsdiag_frame_t fr = {12, sec, 0, (uint32_t)n, (uint32_t)n, f};
  CHECK_EQ(kmsdiag_capture_feed(cap, &fr), KMSDIAG_OK);
}

static void test_flow_cap(void) {
  kmsdiag_capture_t *cap;
  counts_t c;
  memset(&c, 0, sizeof c);
  CHECK_EQ(kmsdiag_capture_new(&cap), KMSDIAG_OK);
  kmsdiag_capture_limits_t lim;
  memset(&lim, 0, sizeof lim);
  lim.max_flows = 8;
  CHECK_EQ(kmsdiag_capture_set_limits(cap, &lim), KMSDIAG_OK);
  kmsdiag_capture_set_callback(cap, on_ev, &c);
  uint8_t f[128];
  for (int i = 0; i < 100; i++)
    feed(cap, f, frame(f, 1, (uint16_t)(40000 + i), 1688, 1000, 0x02, NULL,
                       0, false),
         1000);
  kmsdiag_capture_stats_t st;
  kmsdiag_capture_get_stats(cap, &st);
  CHECK(st.flows_now <= 8);
  CHECK(st.peak_flows <= 8);
  CHECK_EQ(st.flows_evicted, 92);
  CHECK_EQ(st.flows_tracked, 100);
  /* an evicted flow still reports its SYN, but all 100 SYNs were sent in
   * the same second: no answer could be expected yet, so none is called
   * unanswered */
  CHECK_EQ(c.connect[KMSDIAG_CONN_NO_ANSWER], 0);
  CHECK_EQ(c.connect[KMSDIAG_CONN_UNDECIDED], 92);
  CHECK(c.last_evicted);
  CHECK(c.notes >= 1); /* "flow table full" */
  CHECK_EQ(kmsdiag_capture_finish(cap), KMSDIAG_OK);
  CHECK_EQ(c.connect[KMSDIAG_CONN_NO_ANSWER], 0);
  CHECK_EQ(c.connect[KMSDIAG_CONN_UNDECIDED], 100);
  CHECK(!c.last_evicted); /* the last 8 were still there at the end */
  CHECK_STR(c.last_waiting_for, "syn_ack");
  kmsdiag_capture_get_stats(cap, &st);
  CHECK_EQ(st.flows_now, 0);
  CHECK_EQ(c.diag_fail, 0);          /* not a failure ... */
  CHECK_EQ(c.diag_undetermined, 1);  /* ... the capture cannot tell */
  /* no frames after finish */
  kmsdiag_frame_t fr = {12, 0, 0, 0, 0, f};
  CHECK_EQ(kmsdiag_capture_feed(cap, &fr), KMSDIAG_ESTATE);
  CHECK_EQ(kmsdiag_capture_finish(cap), KMSDIAG_ESTATE);
  kmsdiag_capture_free(cap);
}

static void test_expiry_while_reading(void) {
  kmsdiag_capture_t *cap;
  counts_t c;
  memset(&c, 0, sizeof c);
  CHECK_EQ(kmsdiag_capture_new(&cap), KMSDIAG_OK);
  kmsdiag_capture_set_callback(cap, on_ev, &c);
  uint8_t f[128];
  feed(cap, f, frame(f, 2, 40000, 1688, 5, 0x02, NULL, 0, false), 1000);
  /* an established flow that goes idle */
  feed(cap, f, frame(f, 3, 40001, 1688, 5, 0x02, NULL, 0, false), 1000);
  uint8_t sa[128];
  size_t n = frame(sa, 3, 40001, 1688, 9, 0x12, NULL, 0, false);
  /* swap to server -> client */
  uint8_t tmp[4];
  memcpy(tmp, sa + 12, 4);
  memcpy(sa + 12, sa + 16, 4);
  memcpy(sa + 16, tmp, 4);
  sa[20] = 0x06;
  sa[21] = 0x98;
  sa[22] = 0x9c;
  sa[23] = 0x41;
  feed(cap, sa, n, 1000);
  CHECK_EQ(c.connect[KMSDIAG_CONN_ESTABLISHED], 1);
  /* 10 s later: nothing expired yet (SYN timeout 21 s) */
  for (int i = 0; i < 4096; i++)
    feed(cap, f, frame(f, 9, 5000, 6000, 0, 0, (const uint8_t *)"x", 1, true),
         1010);
  CHECK_EQ(c.connect[KMSDIAG_CONN_NO_ANSWER], 0);
  /* 30 s later: the unanswered SYN is reported while reading */
  for (int i = 0; i < 4096; i++)
    feed(cap, f, frame(f, 9, 5000, 6000, 0, 0, (const uint8_t *)"x", 1, true),
         1030);
  CHECK_EQ(c.connect[KMSDIAG_CONN_NO_ANSWER], 1);
  kmsdiag_capture_stats_t st;
  kmsdiag_capture_get_stats(cap, &st);
  CHECK_EQ(st.flows_now, 1); /* the established one is not idle long enough */
  for (int i = 0; i < 4096; i++)
    feed(cap, f, frame(f, 9, 5000, 6000, 0, 0, (const uint8_t *)"x", 1, true),
         1200);
  kmsdiag_capture_get_stats(cap, &st);
  CHECK_EQ(st.flows_now, 0);
  CHECK_EQ(st.flows_expired, 2);
  CHECK_EQ(kmsdiag_capture_finish(cap), KMSDIAG_OK);
  kmsdiag_capture_free(cap);
}

/* A SYN pending when the capture ends: never answered only when enough
 * capture time followed it (3 s). */
static void test_syn_at_end(void) {
  for (int late = 0; late < 2; late++) {
    kmsdiag_capture_t *cap;
    counts_t c;
    memset(&c, 0, sizeof c);
    CHECK_EQ(kmsdiag_capture_new(&cap), KMSDIAG_OK);
    kmsdiag_capture_set_callback(cap, on_ev, &c);
    uint8_t f[128];
    feed(cap, f, frame(f, 5, 40000, 1688, 5, 0x02, NULL, 0, false), 1000);
    /* some other traffic: 1 s or 4 s later */
    feed(cap, f, frame(f, 9, 5000, 6000, 0, 0, (const uint8_t *)"x", 1, true),
         late ? 1004 : 1001);
    CHECK_EQ(kmsdiag_capture_finish(cap), KMSDIAG_OK);
    if (late) {
      CHECK_EQ(c.connect[KMSDIAG_CONN_NO_ANSWER], 1);
      CHECK_EQ(c.connect[KMSDIAG_CONN_UNDECIDED], 0);
      CHECK_EQ(c.diag_fail, 1);
      CHECK_EQ(c.diag_undetermined, 0);
    } else {
      CHECK_EQ(c.connect[KMSDIAG_CONN_NO_ANSWER], 0);
      CHECK_EQ(c.connect[KMSDIAG_CONN_UNDECIDED], 1);
      CHECK_EQ(c.last_wait_ms, 1000);
      CHECK_EQ(c.diag_fail, 0);
      CHECK_EQ(c.diag_undetermined, 1);
    }
    kmsdiag_capture_free(cap);
  }
}

static void test_buffer_bound(void) {
  kmsdiag_capture_t *cap;
  counts_t c;
  memset(&c, 0, sizeof c);
  CHECK_EQ(kmsdiag_capture_new(&cap), KMSDIAG_OK);
  kmsdiag_capture_limits_t lim;
  memset(&lim, 0, sizeof lim);
  lim.max_flow_bytes = 4096;
  CHECK_EQ(kmsdiag_capture_set_limits(cap, &lim), KMSDIAG_OK);
  kmsdiag_capture_set_callback(cap, on_ev, &c);
  uint8_t f[1600], pl[1400];
  memset(pl, 0x05, sizeof pl);
  feed(cap, f, frame(f, 4, 40000, 1688, 99, 0x02, NULL, 0, false), 1000);
  /* 1000 segments, every one leaving a hole before it */
  for (uint32_t i = 0; i < 1000; i++)
    feed(cap, f,
         frame(f, 4, 40000, 1688, 100 + 1 + i * 1500, 0x18, pl, sizeof pl,
               false),
         1000);
  kmsdiag_capture_stats_t st;
  kmsdiag_capture_get_stats(cap, &st);
  CHECK(st.peak_buffered_bytes <= 2 * 4096 + 2048);
  CHECK_EQ(kmsdiag_capture_finish(cap), KMSDIAG_OK);
  kmsdiag_capture_get_stats(cap, &st);
  CHECK(st.gaps > 0);
  CHECK_EQ(st.buffered_bytes, 0);
  kmsdiag_capture_free(cap);
}

static void test_arguments(void) {
  kmsdiag_capture_t *cap;
  CHECK_EQ(kmsdiag_capture_new(NULL), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_capture_new(&cap), KMSDIAG_OK);
  CHECK_EQ(kmsdiag_capture_feed(cap, NULL), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_capture_add_port(cap, 0), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_capture_add_port(cap, 16888), KMSDIAG_OK);
  kmsdiag_capture_limits_t lim;
  memset(&lim, 0, sizeof lim);
  lim.max_flow_bytes = 10; /* below 1 KiB: refused */
  CHECK_EQ(kmsdiag_capture_set_limits(cap, &lim), KMSDIAG_EINVAL);
  CHECK_EQ(kmsdiag_capture_set_limits(cap, NULL), KMSDIAG_EINVAL);
  /* an unknown link type is a note, not an error */
  counts_t c;
  memset(&c, 0, sizeof c);
  kmsdiag_capture_set_callback(cap, on_ev, &c);
  uint8_t junk[4] = {1, 2, 3, 4};
  kmsdiag_frame_t fr = {4242, 1, 0, 4, 4, junk};
  CHECK_EQ(kmsdiag_capture_feed(cap, &fr), KMSDIAG_OK);
  CHECK_EQ(c.notes, 1);
  kmsdiag_capture_free(cap);
  kmsdiag_capture_free(NULL);

  char buf[KMSDIAG_ENDPOINT_STRLEN];
  kmsdiag_endpoint_t e;
  memset(&e, 0, sizeof e);
  e.family = 4;
  e.addr[0] = 192;
  e.addr[3] = 7;
  e.port = 1688;
  CHECK_STR(kmsdiag_endpoint_to_str(&e, true, buf, sizeof buf),
            "192.0.0.7:1688");
  CHECK_STR(kmsdiag_endpoint_to_str(&e, false, buf, sizeof buf), "192.0.0.7");
  e.family = 6;
  memset(e.addr, 0, 16);
  e.addr[15] = 1;
  CHECK_STR(kmsdiag_endpoint_to_str(&e, true, buf, sizeof buf), "[::1]:1688");
  e.family = 0;
  CHECK_STR(kmsdiag_endpoint_to_str(&e, true, buf, sizeof buf), "-");
  CHECK_STR(kmsdiag_capture_event_type_name(KMSDIAG_CAPEV_RPC_FAULT),
            "rpc_fault");
  CHECK_STR(kmsdiag_conn_state_name(KMSDIAG_CONN_CLOSED_EARLY), "closed_early");
}

int main(void) {
  test_flow_cap();
  test_expiry_while_reading();
  test_syn_at_end();
  test_buffer_bound();
  test_arguments();
  return check_finish();
}
