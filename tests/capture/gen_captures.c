/* gen_captures.c: writes the captures in captures/generated/ from scripted
 * exchanges, one file per diagnosis kms-pcap must give.
 *
 *   gen_captures OUTDIR
 *   gen_captures --caps OUTDIR   (test-only: table-cap-stress.pcap, not
 *                                 bundled; see tests/capture/table_caps.py)
 *
 * Client side: our own encoders (kmsdiag_kms_encode_request,
 * kmsdiag_rpc_encode_bind / _request). Host side: the test-only builders
 * the test responder uses (tests/common/kms_test_build.h). Around them:
 * hand-made DNS messages and TCP segments (handshakes, refusals, silence,
 * resets, out-of-order delivery). Everything is deterministic (fixed
 * clock, fixed random seed), so the files are reproducible byte for byte
 * and a test checks that the committed copies match this program. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag.h>

#include "internal/buf.h"
#include "kms_test_build.h"

/* ---- pcap writer -------------------------------------------------------------- */

static FILE *g_out;
static int g_link;      /* 1 Ethernet, 276 SLL2 */
static int g_vlan;      /* 802.1Q tag or 0 */
static uint64_t g_us;   /* capture clock, microseconds since 1970 */
static uint64_t g_seed; /* randomness of the encoders */
static int g_fail;
static size_t g_mtu;    /* IP packets above this are fragmented; 0 none */
static uint32_t g_snaplen; /* bytes kept per frame; 0: all (set after
                              pcap_open, which writes 262144) */

#define T0 UINT64_C(1795341600000000) /* 2026-11-22T10:00:00Z */

static void must(kmsdiag_status_t st, const char *what) {
  if (st != KMSDIAG_OK) {
    fprintf(stderr, "gen_captures: %s: %s\n", what, kmsdiag_strerror(st));
    g_fail = 1;
  }
}

static void put32(uint32_t v) { fwrite(&v, 4, 1, g_out); }

static bool pcap_open(const char *dir, const char *name, int link) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.pcap", dir, name);
  g_out = fopen(path, "w+b");
  if (!g_out) {
    fprintf(stderr, "gen_captures: %s: %s\n", path, strerror(errno));
    g_fail = 1;
    return false;
  }
  g_link = link;
  g_vlan = 0;
  g_mtu = 0;
  g_snaplen = 0;
  g_us = T0;
  g_seed = 0x9E3779B97F4A7C15ull; /* per file, so CMIDs differ */
  for (const char *c = name; *c; c++)
    g_seed = (g_seed ^ (uint8_t)*c) * 0x100000001B3ull;
  if (!g_seed)
    g_seed = 1;
  /* little-endian pcap, microseconds, version 2.4 */
  put32(0xa1b2c3d4u);
  uint16_t v[2] = {2, 4};
  fwrite(v, 2, 2, g_out);
  put32(0);
  put32(0);
  put32(262144);
  put32((uint32_t)link);
  return true;
}

static void pcap_close(void) {
  if (g_out && fclose(g_out) != 0)
    g_fail = 1;
  g_out = NULL;
}

static void record(const uint8_t *d, size_t n) {
  size_t keep = g_snaplen && n > g_snaplen ? g_snaplen : n;
  put32((uint32_t)(g_us / 1000000));
  put32((uint32_t)(g_us % 1000000));
  put32((uint32_t)keep);
  put32((uint32_t)n);
  fwrite(d, 1, keep, g_out);
}

/* Cut every later frame to n bytes, as tcpdump -s n does (and say so in
 * the file header). */
static void set_snaplen(uint32_t n) {
  long at = ftell(g_out);
  g_snaplen = n;
  fseek(g_out, 16, SEEK_SET);
  put32(n);
  fseek(g_out, at, SEEK_SET);
}

static void tick(uint64_t us) { g_us += us; }

/* ---- hosts, frames ------------------------------------------------------------- */

typedef struct host {
  uint8_t fam; /* 4 or 6 */
  uint8_t a[16];
  uint8_t mac[6];
} host_t;

static host_t v4(uint8_t x, uint8_t y, uint8_t z, uint8_t w) {
  host_t h;
  memset(&h, 0, sizeof h);
  h.fam = 4;
  h.a[0] = x;
  h.a[1] = y;
  h.a[2] = z;
  h.a[3] = w;
  uint8_t mac[6] = {0x02, 0x00, x, y, z, w};
  memcpy(h.mac, mac, 6);
  return h;
}

static host_t v6(uint16_t last) {
  host_t h;
  memset(&h, 0, sizeof h);
  h.fam = 6;
  h.a[0] = 0x20;
  h.a[1] = 0x01;
  h.a[2] = 0x0d;
  h.a[3] = 0xb8;
  h.a[14] = (uint8_t)(last >> 8);
  h.a[15] = (uint8_t)last;
  uint8_t mac[6] = {0x02, 0x66, 0, 0, (uint8_t)(last >> 8), (uint8_t)last};
  memcpy(h.mac, mac, 6);
  return h;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2)
    s += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1)
    s += (uint32_t)(p[n - 1] << 8);
  return s;
}

static uint16_t csum_fold(uint32_t s) {
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

/* One IP packet carrying the L4 segment l4 (checksum field at csum_off is
 * filled in), framed for the current link type. */
static void emit_ip(const host_t *src, const host_t *dst, uint8_t proto,
                    uint8_t *l4, size_t l4len, size_t csum_off) {
  kd_buf_t b;
  kd_buf_init(&b);
  size_t alen = src->fam == 4 ? 4 : 16;
  uint32_t s = 0;
  s = csum_add(s, src->a, alen);
  s = csum_add(s, dst->a, alen);
  s += proto;
  s += (uint32_t)l4len;
  l4[csum_off] = l4[csum_off + 1] = 0;
  uint16_t c = csum_fold(csum_add(s, l4, l4len));
  if (proto == 17 && c == 0)
    c = 0xffff;
  l4[csum_off] = (uint8_t)(c >> 8);
  l4[csum_off + 1] = (uint8_t)c;
  uint16_t et = src->fam == 4 ? 0x0800 : 0x86DD;
  if (src->fam == 4 && g_mtu && 20 + l4len > g_mtu) {
    /* IPv4 fragments of at most g_mtu bytes (data a multiple of 8) */
    size_t step = (g_mtu - 20) & ~(size_t)7;
    for (size_t off = 0; off < l4len; off += step) {
      size_t n = l4len - off < step ? l4len - off : step;
      bool more = off + n < l4len;
      kd_buf_reset(&b);
      kd_buf_put(&b, dst->mac, 6);
      kd_buf_put(&b, src->mac, 6);
      kd_buf_be16(&b, 0x0800);
      kd_buf_u8(&b, 0x45);
      kd_buf_u8(&b, 0);
      kd_buf_be16(&b, (uint16_t)(20 + n));
      kd_buf_be16(&b, 0x4242);
      kd_buf_be16(&b, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
      kd_buf_u8(&b, 128);
      kd_buf_u8(&b, proto);
      kd_buf_be16(&b, 0);
      kd_buf_put(&b, src->a, 4);
      kd_buf_put(&b, dst->a, 4);
      uint16_t hc = csum_fold(csum_add(0, b.data + 14, 20));
      b.data[24] = (uint8_t)(hc >> 8);
      b.data[25] = (uint8_t)hc;
      kd_buf_put(&b, l4 + off, n);
      record(b.data, b.len);
      tick(10);
    }
    kd_buf_free(&b);
    return;
  }
  if (src->fam == 6 && g_mtu && 40 + l4len > g_mtu && g_link == 1) {
    /* IPv6 fragments (fragment header, next header 44) */
    size_t step = (g_mtu - 48) & ~(size_t)7;
    for (size_t off = 0; off < l4len; off += step) {
      size_t n = l4len - off < step ? l4len - off : step;
      bool more = off + n < l4len;
      kd_buf_reset(&b);
      kd_buf_put(&b, dst->mac, 6);
      kd_buf_put(&b, src->mac, 6);
      kd_buf_be16(&b, 0x86DD);
      kd_buf_be32(&b, 0x60000000u);
      kd_buf_be16(&b, (uint16_t)(8 + n));
      kd_buf_u8(&b, 44);
      kd_buf_u8(&b, 64);
      kd_buf_put(&b, src->a, 16);
      kd_buf_put(&b, dst->a, 16);
      kd_buf_u8(&b, proto);
      kd_buf_u8(&b, 0);
      kd_buf_be16(&b, (uint16_t)(off | (more ? 1 : 0)));
      kd_buf_be32(&b, 0x6c6c6c6cu);
      kd_buf_put(&b, l4 + off, n);
      record(b.data, b.len);
      tick(10);
    }
    kd_buf_free(&b);
    return;
  }
  if (g_link == 1) {
    kd_buf_put(&b, dst->mac, 6);
    kd_buf_put(&b, src->mac, 6);
    if (g_vlan) {
      kd_buf_be16(&b, 0x8100);
      kd_buf_be16(&b, (uint16_t)g_vlan);
    }
    kd_buf_be16(&b, et);
  } else { /* SLL2 */
    kd_buf_be16(&b, et);
    kd_buf_be16(&b, 0);
    kd_buf_be32(&b, 2); /* interface index */
    kd_buf_be16(&b, 1); /* ARPHRD_ETHER */
    kd_buf_u8(&b, 0);   /* to us */
    kd_buf_u8(&b, 6);
    kd_buf_put(&b, src->mac, 6);
    kd_buf_zeros(&b, 2);
  }
  size_t ip0 = b.len;
  if (src->fam == 4) {
    kd_buf_u8(&b, 0x45);
    kd_buf_u8(&b, 0);
    kd_buf_be16(&b, (uint16_t)(20 + l4len));
    kd_buf_be16(&b, (uint16_t)(g_us & 0xffff));
    kd_buf_be16(&b, 0x4000);
    kd_buf_u8(&b, 128);
    kd_buf_u8(&b, proto);
    kd_buf_be16(&b, 0);
    kd_buf_put(&b, src->a, 4);
    kd_buf_put(&b, dst->a, 4);
    uint16_t hc = csum_fold(csum_add(0, b.data + ip0, 20));
    b.data[ip0 + 10] = (uint8_t)(hc >> 8);
    b.data[ip0 + 11] = (uint8_t)hc;
  } else {
    kd_buf_be32(&b, 0x60000000u);
    kd_buf_be16(&b, (uint16_t)l4len);
    kd_buf_u8(&b, proto);
    kd_buf_u8(&b, 64);
    kd_buf_put(&b, src->a, 16);
    kd_buf_put(&b, dst->a, 16);
  }
  kd_buf_put(&b, l4, l4len);
  if (kd_buf_ok(&b))
    record(b.data, b.len);
  else
    g_fail = 1;
  kd_buf_free(&b);
}

static void udp(const host_t *src, uint16_t sp, const host_t *dst, uint16_t dp,
                const uint8_t *pl, size_t n) {
  uint8_t *l4 = malloc(8 + n);
  l4[0] = (uint8_t)(sp >> 8);
  l4[1] = (uint8_t)sp;
  l4[2] = (uint8_t)(dp >> 8);
  l4[3] = (uint8_t)dp;
  l4[4] = (uint8_t)((8 + n) >> 8);
  l4[5] = (uint8_t)(8 + n);
  memcpy(l4 + 8, pl, n);
  emit_ip(src, dst, 17, l4, 8 + n, 6);
  free(l4);
}

/* ---- TCP ---------------------------------------------------------------------- */

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16 };

typedef struct conn {
  host_t c, s;
  uint16_t cp, sp;
  uint32_t cseq, sseq; /* next sequence number of each side */
} conn_t;

static void seg_at(conn_t *k, bool from_client, uint8_t flags, uint32_t seq,
                   const uint8_t *d, size_t n) {
  uint8_t *l4 = malloc(20 + n);
  const host_t *src = from_client ? &k->c : &k->s;
  const host_t *dst = from_client ? &k->s : &k->c;
  uint16_t sp = from_client ? k->cp : k->sp, dp = from_client ? k->sp : k->cp;
  uint32_t ack = from_client ? k->sseq : k->cseq;
  memset(l4, 0, 20);
  l4[0] = (uint8_t)(sp >> 8);
  l4[1] = (uint8_t)sp;
  l4[2] = (uint8_t)(dp >> 8);
  l4[3] = (uint8_t)dp;
  for (int i = 0; i < 4; i++) {
    l4[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
    l4[8 + i] = (flags & ACK) ? (uint8_t)(ack >> (24 - 8 * i)) : 0;
  }
  l4[12] = 0x50;
  l4[13] = flags;
  l4[14] = 0xfa;
  l4[15] = 0xf0;
  if (n)
    memcpy(l4 + 20, d, n);
  emit_ip(src, dst, 6, l4, 20 + n, 16);
  free(l4);
}

static void seg(conn_t *k, bool from_client, uint8_t flags, const uint8_t *d,
                size_t n) {
  uint32_t *seq = from_client ? &k->cseq : &k->sseq;
  seg_at(k, from_client, flags, *seq, d, n);
  *seq += (uint32_t)n + ((flags & (SYN | FIN)) ? 1u : 0u);
}

static conn_t conn(host_t c, uint16_t cp, host_t s, uint16_t sp) {
  conn_t k;
  k.c = c;
  k.s = s;
  k.cp = cp;
  k.sp = sp;
  k.cseq = 0x10000000u + cp * 7919u;
  k.sseq = 0x60000000u + cp * 104729u;
  return k;
}

static void handshake(conn_t *k) {
  seg(k, true, SYN, NULL, 0);
  tick(300);
  seg(k, false, SYN | ACK, NULL, 0);
  tick(100);
  seg(k, true, ACK, NULL, 0);
  tick(200);
}

static void close_both(conn_t *k) {
  tick(500);
  seg(k, true, FIN | ACK, NULL, 0);
  tick(100);
  seg(k, false, FIN | ACK, NULL, 0);
  tick(100);
  seg(k, true, ACK, NULL, 0);
}

static void data(conn_t *k, bool from_client, const uint8_t *d, size_t n) {
  seg(k, from_client, PSH | ACK, d, n);
  tick(from_client ? 400 : 900);
}

/* ---- DNS ------------------------------------------------------------------------ */

static void dns_name(kd_buf_t *b, const char *name) {
  const char *p = name;
  while (*p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    kd_buf_u8(b, (uint8_t)n);
    kd_buf_put(b, p, n);
    p += n;
    if (*p == '.')
      p++;
  }
  kd_buf_u8(b, 0);
}

typedef struct rr {
  uint16_t type;
  uint16_t prio, weight, port; /* SRV */
  const char *target;          /* SRV */
  host_t addr;                 /* A / AAAA */
} rr_t;

/* A DNS message: query (nrr < 0) or response with rcode and answers, and
 * address records for SRV targets in the additional section (ar[i].target
 * is the owner name). */
static void dns_msg_ar(kd_buf_t *b, uint16_t id, const char *qname,
                       uint16_t qtype, int rcode, const rr_t *rr, int nrr,
                       bool tc, const rr_t *ar, int nar) {
  kd_buf_be16(b, id);
  uint16_t flags = rcode < 0 ? 0x0100 : (uint16_t)(0x8180 | rcode);
  if (tc)
    flags |= 0x0200;
  kd_buf_be16(b, flags);
  kd_buf_be16(b, 1);
  kd_buf_be16(b, (uint16_t)(nrr > 0 ? nrr : 0));
  kd_buf_be16(b, 0);
  kd_buf_be16(b, (uint16_t)nar);
  dns_name(b, qname);
  kd_buf_be16(b, qtype);
  kd_buf_be16(b, 1);
  for (int i = 0; i < nrr; i++) {
    kd_buf_be16(b, 0xC00C); /* the question's name */
    kd_buf_be16(b, rr[i].type);
    kd_buf_be16(b, 1);
    kd_buf_be32(b, 3600);
    size_t lenpos = b->len;
    kd_buf_be16(b, 0);
    size_t start = b->len;
    if (rr[i].type == 33) {
      kd_buf_be16(b, rr[i].prio);
      kd_buf_be16(b, rr[i].weight);
      kd_buf_be16(b, rr[i].port);
      dns_name(b, rr[i].target);
    } else {
      kd_buf_put(b, rr[i].addr.a, rr[i].addr.fam == 4 ? 4 : 16);
    }
    size_t len = b->len - start;
    b->data[lenpos] = (uint8_t)(len >> 8);
    b->data[lenpos + 1] = (uint8_t)len;
  }
  for (int i = 0; i < nar; i++) {
    dns_name(b, ar[i].target);
    kd_buf_be16(b, ar[i].type);
    kd_buf_be16(b, 1);
    kd_buf_be32(b, 3600);
    kd_buf_be16(b, ar[i].addr.fam == 4 ? 4 : 16);
    kd_buf_put(b, ar[i].addr.a, ar[i].addr.fam == 4 ? 4 : 16);
  }
}

static void dns_msg(kd_buf_t *b, uint16_t id, const char *qname,
                    uint16_t qtype, int rcode, const rr_t *rr, int nrr,
                    bool tc) {
  dns_msg_ar(b, id, qname, qtype, rcode, rr, nrr, tc, NULL, 0);
}

static void dns_udp(const host_t *cl, const host_t *srv, uint16_t id,
                    const char *qname, uint16_t qtype, int rcode,
                    const rr_t *rr, int nrr) {
  kd_buf_t b;
  kd_buf_init(&b);
  dns_msg(&b, id, qname, qtype, -1, NULL, 0, false);
  udp(cl, (uint16_t)(50000 + id % 1000), srv, 53, b.data, b.len);
  tick(2500);
  if (rcode >= -1 && rcode != -2) {
    kd_buf_reset(&b);
    if (rcode >= 0) {
      dns_msg(&b, id, qname, qtype, rcode, rr, nrr, false);
      udp(srv, 53, cl, (uint16_t)(50000 + id % 1000), b.data, b.len);
    }
  }
  tick(1000);
  kd_buf_free(&b);
}

/* ---- KMS exchange ------------------------------------------------------------------ */

typedef struct scenario {
  uint16_t version;            /* 4, 5, 6 */
  const char *sku, *kms_id;    /* GUID text */
  uint32_t n_policy;
  const char *workstation;
  const char *cmid;            /* NULL: random */
  int64_t skew_s;              /* client clock minus capture clock */
  uint32_t refuse;             /* HRESULT refusal instead of a response */
  const char *epid;
  uint32_t count;
  int answer;                  /* 0 normal, 1 bind_nak, 2 bind all rejected,
                                  3 fault, 4 reset after request,
                                  5 silence after request, 6 the host
                                  closes (FIN) after the request */
  bool split;                  /* request over 3 segments, out of order */
  bool rpc_fragments;          /* request as two RPC fragments */
} scenario_t;

static const char *APP_WINDOWS = "55c92734-d682-4d71-983e-d6ec3f16059f";
static const char *SKU_WIN10_ENT = "73111121-5638-40f6-bc11-f1d7b0d64300";
static const char *KMS_WIN10 = "58e2134f-8e11-4d17-9cb2-91069c151148";
static const char *SKU_WS2019_DC = "34e1ae55-27f8-4950-8877-7a03be5fb181";
static const char *KMS_WS2019 = "8449b1fb-f0ea-497a-99ab-66ca96e9a0f5";
static const char *EPID_WS2019 =
    "06401-00206-558-040878-03-1033-9600.0000-1912021";

static void guid(const char *s, kmsdiag_guid_t *g) {
  must(kmsdiag_guid_parse(g, s), s);
}

static void kms_exchange(conn_t *k, const scenario_t *sc) {
  uint8_t *pdu = NULL, *req = NULL, *kms = NULL;
  size_t plen = 0, rlen = 0, klen = 0;
  kmsdiag_rpc_bind_params_t bp;
  kmsdiag_rpc_bind_params_default(&bp, 2, true, true, true);
  must(kmsdiag_rpc_encode_bind(&bp, false, &pdu, &plen), "bind");
  data(k, true, pdu, plen);
  kmsdiag_rpc_pdu_t bind;
  if (kmsdiag_rpc_decode(pdu, plen, &bind) != KMSDIAG_OK)
    g_fail = 1;
  free(pdu);
  pdu = NULL;
  bool ndr64 = true;
  uint16_t ctx = 1;
  if (sc->answer == 1) {
    must(kt_build_bind_nak(2, 4 /* protocol version not supported */, &pdu,
                           &plen),
         "bind_nak");
    data(k, false, pdu, plen);
    free(pdu);
    close_both(k);
    return;
  }
  if (sc->answer == 2) {
    kmsdiag_rpc_ctx_result_t res[3];
    memset(res, 0, sizeof res);
    for (int i = 0; i < 3; i++) {
      res[i].result = KMSDIAG_RPC_ACK_PROVIDER_REJECTION;
      res[i].reason = KMSDIAG_RPC_REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED;
    }
    must(kt_build_bind_ack(2, false, 3, 5840, 5840, 0x1234, "1688", 3, res,
                           &pdu, &plen),
         "bind_ack");
    data(k, false, pdu, plen);
    free(pdu);
    close_both(k);
    return;
  }
  kt_bind_policy_t pol = {true, true, "1688", 0x00012345};
  must(kt_answer_bind(&bind, &pol, &pdu, &plen), "answer bind");
  data(k, false, pdu, plen);
  free(pdu);
  pdu = NULL;

  kmsdiag_kms_request_params_t rp;
  memset(&rp, 0, sizeof rp);
  rp.version_major = sc->version;
  rp.license_status = 2;
  rp.binding_expiration = 43200;
  guid(APP_WINDOWS, &rp.app_id);
  guid(sc->sku, &rp.sku_id);
  guid(sc->kms_id, &rp.kms_id);
  if (sc->cmid)
    guid(sc->cmid, &rp.cmid);
  else
    rp.random_cmid = true;
  rp.n_policy = sc->n_policy;
  rp.client_time = kmsdiag_filetime_from_unix(
      (int64_t)(g_us / 1000000) + sc->skew_s, (uint32_t)(g_us % 1000000) * 1000);
  rp.workstation = sc->workstation;
  must(kmsdiag_kms_encode_request(&rp, kt_rand_xorshift, &g_seed, &req, &rlen),
       "encode request");
  must(kmsdiag_rpc_encode_request(2, ctx, ndr64, req, rlen, &pdu, &plen),
       "encode request pdu");
  if (sc->rpc_fragments && plen > 64) {
    /* the same call as two fragments: FIRST with the first half of the
     * stub, LAST with the rest (24-byte request header each) */
    size_t stub = plen - 24, half = stub / 2;
    for (int part = 0; part < 2; part++) {
      size_t off = part ? 24 + half : 24, n = part ? stub - half : half;
      uint8_t *fr = malloc(24 + n);
      memcpy(fr, pdu, 24);
      fr[3] = (uint8_t)((pdu[3] & ~3u) | (part ? 2u : 1u));
      fr[8] = (uint8_t)((24 + n) & 0xff);
      fr[9] = (uint8_t)((24 + n) >> 8);
      memcpy(fr + 24, pdu + off, n);
      data(k, true, fr, 24 + n);
      free(fr);
    }
  } else if (sc->split && plen > 200) {
    /* three segments delivered 2, 1, 1 again (retransmission), 3 */
    size_t a = 100, b = 200;
    uint32_t base = k->cseq;
    seg_at(k, true, ACK, base + (uint32_t)a, pdu + a, b - a);
    tick(150);
    seg_at(k, true, ACK, base, pdu, a);
    tick(150);
    seg_at(k, true, ACK, base, pdu, a);
    tick(150);
    seg_at(k, true, PSH | ACK, base + (uint32_t)b, pdu + b, plen - b);
    k->cseq = base + (uint32_t)plen;
    tick(400);
  } else {
    data(k, true, pdu, plen);
  }
  free(pdu);
  pdu = NULL;
  if (sc->answer == 3) {
    must(kt_build_fault(2, 0, ctx, 0x1C010002 /* nca_op_rng_error */, 0, 0,
                        &pdu, &plen),
         "fault");
    data(k, false, pdu, plen);
    free(pdu);
    free(req);
    close_both(k);
    return;
  }
  if (sc->answer == 4) {
    tick(5000);
    seg(k, false, RST | ACK, NULL, 0);
    free(req);
    return;
  }
  if (sc->answer == 6) {
    tick(3000);
    seg(k, false, FIN | ACK, NULL, 0);
    tick(200);
    seg(k, true, FIN | ACK, NULL, 0);
    tick(100);
    seg(k, false, ACK, NULL, 0);
    free(req);
    return;
  }
  if (sc->answer == 5) {
    tick(30000000); /* the client gives up after 30 s */
    seg(k, true, RST | ACK, NULL, 0);
    free(req);
    return;
  }
  if (sc->refuse) {
    must(kt_build_response_pdu(2, ctx, ndr64, NULL, 0, sc->refuse, false, &pdu,
                               &plen),
         "refusal");
  } else {
    kt_response_params_t resp;
    memset(&resp, 0, sizeof resp);
    resp.epid = sc->epid;
    resp.count = sc->count;
    resp.activation_interval = 120;
    resp.renewal_interval = 10080;
    uint8_t hw[8] = {0x5C, 0x10, 0x3E, 0x42, 0x00, 0x9A, 0x00, 0x21};
    memcpy(resp.hwid, hw, 8);
    must(kt_build_kms_response(req, rlen, &resp, kt_rand_xorshift, &g_seed,
                               &kms, &klen),
         "build response");
    must(kt_build_response_pdu(2, ctx, ndr64, kms, klen, 0, false, &pdu,
                               &plen),
         "response pdu");
  }
  if (sc->split && plen > 100) {
    size_t a = plen / 2;
    seg(k, false, ACK, pdu, a);
    tick(200);
    seg(k, false, PSH | ACK, pdu + a, plen - a);
    tick(400);
  } else {
    data(k, false, pdu, plen);
  }
  free(pdu);
  free(kms);
  free(req);
  close_both(k);
}

/* One connection, two requests (call ids 2 and 3); the middle segment of
 * the first request is missing from the capture (it was delivered: the
 * host acknowledges it and answers). */
static void kms_missing_segment(conn_t *k, const scenario_t *sc) {
  uint8_t *pdu = NULL;
  size_t plen = 0;
  kmsdiag_rpc_bind_params_t bp;
  kmsdiag_rpc_bind_params_default(&bp, 2, true, true, true);
  must(kmsdiag_rpc_encode_bind(&bp, false, &pdu, &plen), "bind");
  data(k, true, pdu, plen);
  kmsdiag_rpc_pdu_t bind;
  if (kmsdiag_rpc_decode(pdu, plen, &bind) != KMSDIAG_OK)
    g_fail = 1;
  free(pdu);
  kt_bind_policy_t pol = {true, true, "1688", 0x00012345};
  must(kt_answer_bind(&bind, &pol, &pdu, &plen), "answer bind");
  data(k, false, pdu, plen);
  free(pdu);
  for (uint32_t call = 2; call <= 3; call++) {
    kmsdiag_kms_request_params_t rp;
    uint8_t *req = NULL, *kms = NULL;
    size_t rlen = 0, klen = 0;
    memset(&rp, 0, sizeof rp);
    rp.version_major = sc->version;
    rp.license_status = 2;
    rp.binding_expiration = 43200;
    guid(APP_WINDOWS, &rp.app_id);
    guid(sc->sku, &rp.sku_id);
    guid(sc->kms_id, &rp.kms_id);
    rp.random_cmid = true;
    rp.n_policy = sc->n_policy;
    rp.client_time = kmsdiag_filetime_from_unix((int64_t)(g_us / 1000000), 0);
    rp.workstation = sc->workstation;
    must(kmsdiag_kms_encode_request(&rp, kt_rand_xorshift, &g_seed, &req,
                                    &rlen),
         "encode request");
    must(kmsdiag_rpc_encode_request(call, 1, true, req, rlen, &pdu, &plen),
         "request pdu");
    if (call == 2) {
      uint32_t base = k->cseq;
      seg_at(k, true, ACK, base, pdu, 120);
      tick(200);
      /* bytes 120..239 were sent but are not in the capture */
      seg_at(k, true, PSH | ACK, base + 240, pdu + 240, plen - 240);
      k->cseq = base + (uint32_t)plen;
      tick(300);
    } else {
      data(k, true, pdu, plen);
    }
    free(pdu);
    kt_response_params_t resp;
    memset(&resp, 0, sizeof resp);
    resp.epid = sc->epid;
    resp.count = sc->count;
    resp.activation_interval = 120;
    resp.renewal_interval = 10080;
    must(kt_build_kms_response(req, rlen, &resp, kt_rand_xorshift, &g_seed,
                               &kms, &klen),
         "build response");
    must(kt_build_response_pdu(call, 1, true, kms, klen, 0, false, &pdu,
                               &plen),
         "response pdu");
    data(k, false, pdu, plen);
    free(pdu);
    free(kms);
    free(req);
  }
  close_both(k);
}

/* One connection, bind, then two requests (call ids 2 and 3) in one TCP
 * segment, and the two responses in one segment. */
static void kms_two_in_one(conn_t *k, const scenario_t *sc) {
  uint8_t *pdu = NULL;
  size_t plen = 0;
  kmsdiag_rpc_bind_params_t bp;
  kmsdiag_rpc_bind_params_default(&bp, 2, true, true, true);
  must(kmsdiag_rpc_encode_bind(&bp, false, &pdu, &plen), "bind");
  data(k, true, pdu, plen);
  kmsdiag_rpc_pdu_t bind;
  if (kmsdiag_rpc_decode(pdu, plen, &bind) != KMSDIAG_OK)
    g_fail = 1;
  free(pdu);
  kt_bind_policy_t pol = {true, true, "1688", 0x00012345};
  must(kt_answer_bind(&bind, &pol, &pdu, &plen), "answer bind");
  data(k, false, pdu, plen);
  free(pdu);
  kd_buf_t up, down;
  kd_buf_init(&up);
  kd_buf_init(&down);
  for (uint32_t call = 2; call <= 3; call++) {
    kmsdiag_kms_request_params_t rp;
    uint8_t *req = NULL, *kms = NULL;
    size_t rlen = 0, klen = 0;
    memset(&rp, 0, sizeof rp);
    rp.version_major = sc->version;
    rp.license_status = 2;
    rp.binding_expiration = 43200;
    guid(APP_WINDOWS, &rp.app_id);
    guid(sc->sku, &rp.sku_id);
    guid(sc->kms_id, &rp.kms_id);
    rp.random_cmid = true;
    rp.n_policy = sc->n_policy;
    rp.client_time = kmsdiag_filetime_from_unix((int64_t)(g_us / 1000000), 0);
    rp.workstation = sc->workstation;
    must(kmsdiag_kms_encode_request(&rp, kt_rand_xorshift, &g_seed, &req,
                                    &rlen),
         "encode request");
    must(kmsdiag_rpc_encode_request(call, 1, true, req, rlen, &pdu, &plen),
         "request pdu");
    kd_buf_put(&up, pdu, plen);
    free(pdu);
    kt_response_params_t resp;
    memset(&resp, 0, sizeof resp);
    resp.epid = sc->epid;
    resp.count = sc->count;
    resp.activation_interval = 120;
    resp.renewal_interval = 10080;
    must(kt_build_kms_response(req, rlen, &resp, kt_rand_xorshift, &g_seed,
                               &kms, &klen),
         "build response");
    must(kt_build_response_pdu(call, 1, true, kms, klen, 0, false, &pdu,
                               &plen),
         "response pdu");
    kd_buf_put(&down, pdu, plen);
    free(pdu);
    free(kms);
    free(req);
  }
  data(k, true, up.data, up.len);
  data(k, false, down.data, down.len);
  kd_buf_free(&up);
  kd_buf_free(&down);
  close_both(k);
}

/* A TLS-looking connection (not KMS) from cl to web:port. */
static void https_conn(const host_t *cl, uint16_t cp, const host_t *web,
                       uint16_t port) {
  static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0x2a, 0x01, 0x00,
                                  0x00, 0x26, 0x03, 0x03, 'n',  'o',  't',
                                  ' ',  'k',  'm',  's',  0,    0,    0};
  static const uint8_t reply[] = {0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00,
                                  0x00, 0x00};
  conn_t k = conn(*cl, cp, *web, port);
  handshake(&k);
  data(&k, true, hello, sizeof hello);
  data(&k, false, reply, sizeof reply);
  close_both(&k);
}

static scenario_t base_scenario(const char *ws) {
  scenario_t s;
  memset(&s, 0, sizeof s);
  s.version = 6;
  s.sku = SKU_WIN10_ENT;
  s.kms_id = KMS_WIN10;
  s.n_policy = 25;
  s.workstation = ws;
  s.epid = EPID_WS2019;
  s.count = 50;
  return s;
}

/* ---- the captures -------------------------------------------------------------------- */

static const host_t *dns_server(void) {
  static host_t h;
  h = v4(10, 20, 0, 2);
  return &h;
}

/* Past every table cap of the diagnosis and of --summary: 6200 clients
 * (distinct addresses and CMIDs) talking to 1030 hosts that all report a
 * low count (one low_count finding per host), the first 12 of them
 * sharing one CMID. */
static int caps_stress(const char *dir) {
  if (!pcap_open(dir, "table-cap-stress", 1))
    return 1;
  for (int i = 0; i < 6200; i++) {
    host_t cl = v4(10, 40, (uint8_t)(i >> 8), (uint8_t)i);
    host_t srv = v4(10, 41, (uint8_t)((i % 1030) >> 8), (uint8_t)(i % 1030));
    conn_t k = conn(cl, (uint16_t)(50000 + i % 10000), srv, 1688);
    handshake(&k);
    char ws[40];
    snprintf(ws, sizeof ws, "pc-%04d.corp.example", i);
    scenario_t s = base_scenario(ws);
    s.count = 3;
    if (i < 12)
      s.cmid = "0badc0de-1111-4222-8333-444455556666";
    kms_exchange(&k, &s);
  }
  pcap_close();
  return g_fail;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--caps") == 0)
    return caps_stress(argv[2]);
  if (argc != 2) {
    fprintf(stderr, "usage: gen_captures [--caps] OUTDIR\n");
    return 2;
  }
  const char *dir = argv[1];
  host_t kmshost = v4(10, 20, 0, 5);

  /* 1. SRV lookup answered NXDOMAIN: 0x8007232B */
  if (pcap_open(dir, "dns-nxdomain", 1)) {
    host_t cl = v4(10, 20, 1, 21);
    dns_udp(&cl, dns_server(), 0x1a01, "_vlmcs._tcp.corp.example", 33, 3,
            NULL, 0);
    pcap_close();
  }
  /* 2. name exists, no SRV records: 0x8007251D */
  if (pcap_open(dir, "dns-no-records", 1)) {
    host_t cl = v4(10, 20, 1, 22);
    dns_udp(&cl, dns_server(), 0x1a02, "_vlmcs._tcp.branch.corp.example", 33,
            0, NULL, 0);
    pcap_close();
  }
  /* 3. DNS server never answers: 0x8007232A */
  if (pcap_open(dir, "dns-no-answer", 1)) {
    host_t cl = v4(10, 20, 1, 23);
    dns_udp(&cl, dns_server(), 0x1a03, "_vlmcs._tcp.corp.example", 33, -2,
            NULL, 0);
    tick(10000000);
    udp(&cl, 123, dns_server(), 123, (const uint8_t *)"ntp-ish", 7);
    pcap_close();
  }
  /* 4. SRV found, target resolved, V6 activation succeeds */
  if (pcap_open(dir, "dns-srv-v6-success", 1)) {
    host_t cl = v4(10, 20, 1, 24);
    rr_t srv = {33, 0, 100, 1688, "kms1.corp.example", kmshost};
    dns_udp(&cl, dns_server(), 0x1a04, "_vlmcs._tcp.corp.example", 33, 0,
            &srv, 1);
    rr_t a = {1, 0, 0, 0, NULL, kmshost};
    dns_udp(&cl, dns_server(), 0x1a05, "kms1.corp.example", 1, 0, &a, 1);
    conn_t k = conn(cl, 49801, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-024.corp.example");
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 5. connection refused: 0xC004F074 */
  if (pcap_open(dir, "tcp-refused", 1)) {
    host_t cl = v4(10, 20, 1, 25);
    conn_t k = conn(cl, 49802, kmshost, 1688);
    seg(&k, true, SYN, NULL, 0);
    tick(200);
    k.sseq = 0;
    seg(&k, false, RST | ACK, NULL, 0);
    pcap_close();
  }
  /* 6. SYN never answered (filtered): 0xC004F074 */
  if (pcap_open(dir, "tcp-syn-timeout", 1)) {
    host_t cl = v4(10, 20, 1, 26);
    conn_t k = conn(cl, 49803, kmshost, 1688);
    uint32_t isn = k.cseq;
    seg_at(&k, true, SYN, isn, NULL, 0);
    tick(1000000);
    seg_at(&k, true, SYN, isn, NULL, 0);
    tick(2000000);
    seg_at(&k, true, SYN, isn, NULL, 0);
    tick(40000000);
    udp(&cl, 123, dns_server(), 123, (const uint8_t *)"ntp-ish", 7);
    pcap_close();
  }
  /* 7. bind rejected with bind_nak */
  if (pcap_open(dir, "rpc-bind-nak", 1)) {
    host_t cl = v4(10, 20, 1, 27);
    conn_t k = conn(cl, 49804, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-027.corp.example");
    s.answer = 1;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 8. bind_ack rejecting every context (not a KMS host) */
  if (pcap_open(dir, "rpc-bind-rejected", 1)) {
    host_t cl = v4(10, 20, 1, 28);
    conn_t k = conn(cl, 49805, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-028.corp.example");
    s.answer = 2;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 9. request answered by an RPC fault */
  if (pcap_open(dir, "rpc-fault", 1)) {
    host_t cl = v4(10, 20, 1, 29);
    conn_t k = conn(cl, 49806, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-029.corp.example");
    s.answer = 3;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 10. host reset the connection after the request */
  if (pcap_open(dir, "tcp-reset-mid-exchange", 1)) {
    host_t cl = v4(10, 20, 1, 30);
    conn_t k = conn(cl, 49807, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-030.corp.example");
    s.answer = 4;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 11. request never answered */
  if (pcap_open(dir, "kms-no-response", 1)) {
    host_t cl = v4(10, 20, 1, 31);
    conn_t k = conn(cl, 49808, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-031.corp.example");
    s.answer = 5;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 12. count below the threshold: 0xC004F038 */
  if (pcap_open(dir, "kms-low-count", 1)) {
    host_t cl = v4(10, 20, 1, 32);
    conn_t k = conn(cl, 49809, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-032.corp.example");
    s.count = 7;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 13. host refuses the product: 0xC004F042 */
  if (pcap_open(dir, "kms-refused-c004f042", 1)) {
    host_t cl = v4(10, 20, 1, 33);
    conn_t k = conn(cl, 49810, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("srv-033.corp.example");
    s.version = 5;
    s.sku = SKU_WS2019_DC;
    s.kms_id = KMS_WS2019;
    s.n_policy = 5;
    s.refuse = 0xC004F042u;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 14. client clock 5 h ahead; host refuses 0xC004F06C */
  if (pcap_open(dir, "kms-clock-skew", 1)) {
    host_t cl = v4(10, 20, 1, 34);
    conn_t k = conn(cl, 49811, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-034.corp.example");
    s.skew_s = 5 * 3600 + 17 * 60;
    s.refuse = 0xC004F06Cu;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 15. three cloned machines share one CMID; the count stays at 1 */
  if (pcap_open(dir, "kms-duplicate-cmid", 1)) {
    static const char *ws[] = {"lab-pc-01.corp.example",
                               "lab-pc-02.corp.example",
                               "lab-pc-03.corp.example"};
    for (int i = 0; i < 3; i++) {
      host_t cl = v4(10, 20, 2, (uint8_t)(41 + i));
      conn_t k = conn(cl, (uint16_t)(49820 + i), kmshost, 1688);
      handshake(&k);
      scenario_t s = base_scenario(ws[i]);
      s.cmid = "d1c3a7e0-5b2f-4c81-9e6d-0a4b7c2f9e15";
      s.count = 1;
      kms_exchange(&k, &s);
      tick(60000000);
    }
    pcap_close();
  }
  /* 16. V4 over IPv6 and an 802.1Q VLAN, the request split into three
   *     segments delivered out of order with a retransmission */
  if (pcap_open(dir, "kms-v4-ipv6-vlan-reordered", 1)) {
    g_vlan = 42;
    host_t cl = v6(0x51), srv = v6(0x05);
    conn_t k = conn(cl, 49830, srv, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-051.corp.example");
    s.version = 4;
    s.split = true;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 17. V5 on a Linux cooked (SLL2) capture, non-standard port 16888 */
  if (pcap_open(dir, "kms-v5-sll2-port16888", 276)) {
    host_t cl = v4(10, 20, 1, 52);
    conn_t k = conn(cl, 49831, kmshost, 16888);
    handshake(&k);
    scenario_t s = base_scenario("pc-052.corp.example");
    s.version = 5;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 18. a host whose ePID names a Windows 10 host key answers a Windows
   *     Server 2019 request (an emulator would): that key cannot activate
   *     servers, a real host refuses with 0xC004F042 */
  if (pcap_open(dir, "kms-epid-cannot-activate", 1)) {
    host_t cl = v4(10, 20, 1, 53);
    conn_t k = conn(cl, 49832, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("srv-053.corp.example");
    s.sku = SKU_WS2019_DC;
    s.kms_id = KMS_WS2019;
    s.n_policy = 5;
    s.count = 10;
    s.epid = "03612-00206-535-123456-03-1033-14393.0000-1202018";
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 19. hostile names: control characters and a bidi override in the
   *     workstation name and in the DNS names; must come out escaped */
  if (pcap_open(dir, "kms-hostile-names", 1)) {
    host_t cl = v4(10, 20, 1, 54);
    rr_t srv = {33, 0, 0, 1688, "kms\x1b[2J.corp.example", kmshost};
    dns_udp(&cl, dns_server(), 0x1a06, "_vlmcs._tcp.evil\x1b]0;pwned\x07.example", 33,
            0, &srv, 1);
    conn_t k = conn(cl, 49833, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-\x1b[31mred\xe2\x80\xae.corp");
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 22. the request as two RPC fragments (FIRST, then LAST) */
  if (pcap_open(dir, "kms-rpc-fragmented", 1)) {
    host_t cl = v4(10, 20, 1, 57);
    conn_t k = conn(cl, 49836, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-057.corp.example");
    s.rpc_fragments = true;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 23. a big SRV answer (24 hosts) in two IPv4 fragments; the second
   *     fragment arrives first */
  if (pcap_open(dir, "dns-fragmented-answer", 1)) {
    host_t cl = v4(10, 20, 1, 58);
    static char names[24][40];
    rr_t srv[24];
    for (int i = 0; i < 24; i++) {
      snprintf(names[i], sizeof names[i], "kms-host-%02d.branch%02d.corp.example",
               i, i);
      srv[i] = (rr_t){33, (uint16_t)(i / 8), 10, 1688, names[i], kmshost};
    }
    kd_buf_t b;
    kd_buf_init(&b);
    dns_msg(&b, 0x1a09, "_vlmcs._tcp.corp.example", 33, -1, NULL, 0, false);
    udp(&cl, 50909, dns_server(), 53, b.data, b.len);
    tick(2000);
    kd_buf_reset(&b);
    dns_msg(&b, 0x1a09, "_vlmcs._tcp.corp.example", 33, 0, srv, 24, false);
    /* write the fragments to a scratch capture, then swap their order */
    long at = ftell(g_out);
    g_mtu = 1000;
    udp(dns_server(), 53, &cl, 50909, b.data, b.len);
    g_mtu = 0;
    long end = ftell(g_out);
    size_t n = (size_t)(end - at);
    uint8_t *raw = malloc(n);
    fseek(g_out, at, SEEK_SET);
    if (raw && fread(raw, 1, n, g_out) == n) {
      /* records: [16-byte header][len]... the first has caplen at 8 */
      uint32_t l1 = (uint32_t)(raw[8] | raw[9] << 8 | raw[10] << 16 |
                               (uint32_t)raw[11] << 24);
      size_t r1 = 16 + l1;
      fseek(g_out, at, SEEK_SET);
      /* keep the timestamps in file order: swap the packet bytes only */
      uint8_t *t = malloc(n);
      if (t) {
        memcpy(t, raw + r1, n - r1);        /* second record first */
        memcpy(t + (n - r1), raw, r1);
        memcpy(t, raw, 8);                  /* time of the first slot */
        memcpy(t + (n - r1), raw + r1, 8);  /* time of the second slot */
        fwrite(t, 1, n, g_out);
        free(t);
      }
    }
    free(raw);
    fseek(g_out, 0, SEEK_END);
    kd_buf_free(&b);
    pcap_close();
  }
  /* 20. a segment missing from the capture: noted, the first exchange
   *     is lost, decoding resumes with the second */
  if (pcap_open(dir, "kms-missing-segment", 1)) {
    host_t cl = v4(10, 20, 1, 55);
    conn_t k = conn(cl, 49834, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-055.corp.example");
    kms_missing_segment(&k, &s);
    pcap_close();
  }
  /* 21. SRV answer too big for UDP (TC bit), the client retries over TCP */
  if (pcap_open(dir, "dns-tcp-fallback", 1)) {
    host_t cl = v4(10, 20, 1, 56);
    kd_buf_t b;
    kd_buf_init(&b);
    dns_msg(&b, 0x1a07, "_vlmcs._tcp.corp.example", 33, -1, NULL, 0, false);
    udp(&cl, 50907, dns_server(), 53, b.data, b.len);
    tick(2000);
    kd_buf_reset(&b);
    dns_msg(&b, 0x1a07, "_vlmcs._tcp.corp.example", 33, 0, NULL, 0, true);
    udp(dns_server(), 53, &cl, 50907, b.data, b.len);
    tick(1000);
    conn_t k = conn(cl, 49835, *dns_server(), 53);
    handshake(&k);
    rr_t srv[2] = {{33, 0, 50, 1688, "kms1.corp.example", kmshost},
                   {33, 10, 50, 1688, "kms2.corp.example", kmshost}};
    for (int dir2 = 0; dir2 < 2; dir2++) {
      kd_buf_reset(&b);
      kd_buf_be16(&b, 0); /* length, filled below */
      if (dir2 == 0)
        dns_msg(&b, 0x1a08, "_vlmcs._tcp.corp.example", 33, -1, NULL, 0,
                false);
      else
        dns_msg(&b, 0x1a08, "_vlmcs._tcp.corp.example", 33, 0, srv, 2,
                false);
      b.data[0] = (uint8_t)((b.len - 2) >> 8);
      b.data[1] = (uint8_t)(b.len - 2);
      data(&k, dir2 == 0, b.data, b.len);
    }
    close_both(&k);
    kd_buf_free(&b);
    pcap_close();
  }
  /* 24. SRV records name port 443: kms1 (address in the additional
   *     section) refuses, kms2 (address from a later A lookup) activates.
   *     TLS connections to another host on 443, from this client and
   *     another one, are not KMS and must not be diagnosed. */
  if (pcap_open(dir, "kms-srv-port443", 1)) {
    host_t cl = v4(10, 20, 1, 60), other = v4(10, 20, 1, 61);
    host_t kms1 = kmshost, kms2 = v4(10, 20, 0, 6), web = v4(10, 20, 0, 80);
    rr_t srv[2] = {{33, 0, 50, 443, "kms1.corp.example", kms1},
                   {33, 10, 50, 443, "kms2.corp.example", kms2}};
    rr_t ar = {1, 0, 0, 0, "kms1.corp.example", kms1};
    kd_buf_t b;
    kd_buf_init(&b);
    dns_msg(&b, 0x1a10, "_vlmcs._tcp.corp.example", 33, -1, NULL, 0, false);
    udp(&cl, 50910, dns_server(), 53, b.data, b.len);
    tick(2000);
    kd_buf_reset(&b);
    dns_msg_ar(&b, 0x1a10, "_vlmcs._tcp.corp.example", 33, 0, srv, 2, false,
               &ar, 1);
    udp(dns_server(), 53, &cl, 50910, b.data, b.len);
    tick(1000);
    kd_buf_free(&b);
    https_conn(&other, 51000, &web, 443);
    conn_t k1 = conn(cl, 49840, kms1, 443);
    seg(&k1, true, SYN, NULL, 0);
    tick(200);
    k1.sseq = 0;
    seg(&k1, false, RST | ACK, NULL, 0);
    tick(1000);
    rr_t a2 = {1, 0, 0, 0, NULL, kms2};
    dns_udp(&cl, dns_server(), 0x1a11, "kms2.corp.example", 1, 0, &a2, 1);
    https_conn(&cl, 51001, &web, 443);
    conn_t k2 = conn(cl, 49841, kms2, 443);
    handshake(&k2);
    scenario_t s = base_scenario("pc-060.corp.example");
    kms_exchange(&k2, &s);
    https_conn(&other, 51002, &web, 443);
    pcap_close();
  }
  /* 25. the host closes the connection (FIN) after the request */
  if (pcap_open(dir, "tcp-host-fin-mid-exchange", 1)) {
    host_t cl = v4(10, 20, 1, 62);
    conn_t k = conn(cl, 49842, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-062.corp.example");
    s.answer = 6;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 26. two requests in one TCP segment, two responses in one */
  if (pcap_open(dir, "kms-pdus-one-segment", 1)) {
    host_t cl = v4(10, 20, 1, 63);
    conn_t k = conn(cl, 49843, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-063.corp.example");
    kms_two_in_one(&k, &s);
    pcap_close();
  }
  /* 27. the low-count exchange captured with a snapshot length of 120
   *     bytes (tcpdump -s 120): nothing past the handshake decodes */
  if (pcap_open(dir, "kms-snaplen-cut", 1)) {
    host_t cl = v4(10, 20, 1, 64);
    set_snaplen(120);
    conn_t k = conn(cl, 49844, kmshost, 1688);
    handshake(&k);
    scenario_t s = base_scenario("pc-064.corp.example");
    s.count = 7;
    kms_exchange(&k, &s);
    pcap_close();
  }
  /* 28. over IPv6 with a small MTU: every KMS PDU in IPv6 fragments */
  if (pcap_open(dir, "kms-ipv6-fragmented", 1)) {
    host_t cl = v6(0x65), srv = v6(0x05);
    conn_t k = conn(cl, 49845, srv, 1688);
    handshake(&k);
    g_mtu = 128;
    scenario_t s = base_scenario("pc-065.corp.example");
    kms_exchange(&k, &s);
    pcap_close();
  }
  return g_fail;
}
