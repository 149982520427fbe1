/* gen_bench.c: writes a large pcap for the kms-pcap benchmark.
 *
 *   gen_bench OUT.pcap SIZE_MIB TEMPLATE.pcap...
 *
 * Ordinary traffic (TCP on 443/80/8080, UDP on 123/5353/4500, random
 * sizes, some new connections with SYNs) with, every few thousand packets,
 * one KMS or DNS session copied from a template capture (an Ethernet pcap
 * from captures/generated/), its client address rewritten so that every
 * copy is a different client. KMS and DNS stay under 1% of the packets.
 * Records are written directly (no checksums): fast, and deterministic. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TPL 16
#define MAX_TPL_FRAMES 256

typedef struct frame {
  uint32_t len;
  uint8_t *d;
} frame_t;

typedef struct tpl {
  size_t n;
  frame_t f[MAX_TPL_FRAMES];
  uint8_t client[4]; /* first frame's source address */
} tpl_t;

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void) {
  rs ^= rs >> 12;
  rs ^= rs << 25;
  rs ^= rs >> 27;
  return (uint32_t)((rs * 2685821657736338717ull) >> 32);
}

static int load(const char *path, tpl_t *t) {
  FILE *f = fopen(path, "rb");
  uint8_t gh[24], rh[16];
  if (!f || fread(gh, 1, 24, f) != 24) {
    perror(path);
    return -1;
  }
  uint32_t link = (uint32_t)(gh[20] | gh[21] << 8 | gh[22] << 16 | gh[23] << 24);
  if (link != 1) {
    fprintf(stderr, "%s: not Ethernet, skipped\n", path);
    fclose(f);
    return -1;
  }
  t->n = 0;
  while (t->n < MAX_TPL_FRAMES && fread(rh, 1, 16, f) == 16) {
    uint32_t cl = (uint32_t)(rh[8] | rh[9] << 8 | rh[10] << 16 | rh[11] << 24);
    if (cl > 65535)
      break;
    frame_t *fr = &t->f[t->n];
    fr->d = malloc(cl);
    fr->len = cl;
    if (!fr->d || fread(fr->d, 1, cl, f) != cl)
      break;
    t->n++;
  }
  fclose(f);
  if (t->n == 0 || t->f[0].len < 34 || t->f[0].d[12] != 0x08)
    return -1; /* IPv4 templates only */
  memcpy(t->client, t->f[0].d + 26, 4);
  return 0;
}

static uint8_t payload[2048];
static uint64_t g_us = UINT64_C(1795341600000000);
static uint64_t written, packets, kms_packets;

static void rec(FILE *o, const uint8_t *d, uint32_t len) {
  uint32_t h[4] = {(uint32_t)(g_us / 1000000), (uint32_t)(g_us % 1000000),
                   len, len};
  fwrite(h, 4, 4, o);
  fwrite(d, 1, len, o);
  written += 16 + len;
  packets++;
  g_us += 20 + rnd() % 40;
}

static void background(FILE *o) {
  uint8_t f[1600];
  bool tcp = rnd() % 4 != 0;
  uint32_t pl = tcp ? 40 + rnd() % 1420 : 30 + rnd() % 1200;
  uint32_t l4 = tcp ? 20 : 8;
  uint32_t iplen = 20 + l4 + pl;
  uint32_t host = rnd() % 4096, srv = rnd() % 64;
  memset(f, 0, 14 + 20 + l4);
  f[0] = 0x02; f[5] = (uint8_t)srv; f[6] = 0x02; f[11] = (uint8_t)host;
  f[12] = 0x08; f[13] = 0x00;
  uint8_t *ip = f + 14;
  ip[0] = 0x45;
  ip[2] = (uint8_t)(iplen >> 8);
  ip[3] = (uint8_t)iplen;
  ip[8] = 64;
  ip[9] = tcp ? 6 : 17;
  uint8_t a[4] = {172, 16, (uint8_t)(host >> 8), (uint8_t)host};
  uint8_t b[4] = {192, 168, 50, (uint8_t)srv};
  bool up = rnd() & 1;
  memcpy(ip + 12, up ? a : b, 4);
  memcpy(ip + 16, up ? b : a, 4);
  uint8_t *t = ip + 20;
  static const uint16_t tports[] = {443, 443, 443, 80, 8080, 22};
  static const uint16_t uports[] = {123, 5353, 4500, 3478};
  uint16_t sp = (uint16_t)(40000 + host % 20000);
  uint16_t dp = tcp ? tports[rnd() % 6] : uports[rnd() % 4];
  if (!up) {
    uint16_t x = sp;
    sp = dp;
    dp = x;
  }
  t[0] = (uint8_t)(sp >> 8); t[1] = (uint8_t)sp;
  t[2] = (uint8_t)(dp >> 8); t[3] = (uint8_t)dp;
  if (tcp) {
    uint32_t seq = rnd();
    memcpy(t + 4, &seq, 4);
    t[12] = 0x50;
    t[13] = rnd() % 200 == 0 ? 0x02 : 0x18; /* some SYNs */
    if (t[13] == 0x02) {
      pl = 0;
      iplen = 40;
      ip[2] = 0;
      ip[3] = 40;
    }
  } else {
    t[4] = (uint8_t)((8 + pl) >> 8);
    t[5] = (uint8_t)(8 + pl);
  }
  memcpy(t + l4, payload + (rnd() % 512), pl);
  rec(o, f, 14 + iplen);
}

static void session(FILE *o, const tpl_t *t, uint32_t id) {
  uint8_t c[4] = {10, 100 + (uint8_t)(id >> 16), (uint8_t)(id >> 8),
                  (uint8_t)id};
  uint8_t buf[65536];
  for (size_t i = 0; i < t->n; i++) {
    const frame_t *fr = &t->f[i];
    memcpy(buf, fr->d, fr->len);
    if (fr->len >= 34 && buf[12] == 0x08 && buf[13] == 0x00) {
      if (memcmp(buf + 26, t->client, 4) == 0)
        memcpy(buf + 26, c, 4);
      if (memcmp(buf + 30, t->client, 4) == 0)
        memcpy(buf + 30, c, 4);
    }
    rec(o, buf, fr->len);
    kms_packets++;
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: gen_bench OUT.pcap SIZE_MIB TEMPLATE.pcap...\n");
    return 2;
  }
  uint64_t want = (uint64_t)strtoull(argv[2], NULL, 10) << 20;
  static tpl_t tpl[MAX_TPL];
  size_t nt = 0;
  for (int i = 3; i < argc && nt < MAX_TPL; i++)
    if (load(argv[i], &tpl[nt]) == 0)
      nt++;
  if (!nt) {
    fprintf(stderr, "gen_bench: no usable template\n");
    return 2;
  }
  for (size_t i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)rnd();
  FILE *o = fopen(argv[1], "wb");
  if (!o) {
    perror(argv[1]);
    return 2;
  }
  static char vbuf[1 << 20];
  setvbuf(o, vbuf, _IOFBF, sizeof vbuf);
  uint32_t gh[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 262144, 1};
  fwrite(gh, 4, 6, o);
  written = 24;
  uint32_t id = 0;
  while (written < want) {
    for (int i = 0; i < 3000 && written < want; i++)
      background(o);
    session(o, &tpl[id % nt], id);
    id++;
  }
  if (fclose(o) != 0) {
    perror(argv[1]);
    return 2;
  }
  printf("%s: %llu bytes, %llu packets, %llu KMS/DNS packets (%.3f%%), %u "
         "sessions\n",
         argv[1], (unsigned long long)written, (unsigned long long)packets,
         (unsigned long long)kms_packets, 100.0 * (double)kms_packets / (double)packets, id);
  return 0;
}
