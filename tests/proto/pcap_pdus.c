/* pcap_pdus.c (test only): see pcap_pdus.h. */
#include "pcap_pdus.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmsdiag/kmsdiag_rpc.h>

#include "internal/reader.h"

#define MAX_STREAM 65536u
#define MAX_PDUS 1024u

typedef struct stream {
  uint8_t buf[MAX_STREAM];
  size_t len;
  bool have_seq;
  uint32_t next_seq;
} stream_t;

static int push_pdus(stream_t *s, bool to_server, uint32_t frame,
                     test_pdu_list_t *out) {
  for (int guard = 0; guard < 1000; guard++) {
    size_t fl = 0;
    kmsdiag_status_t st = kmsdiag_rpc_pdu_length(s->buf, s->len, &fl);
    if (st == KMSDIAG_ETRUNC || (st == KMSDIAG_OK && fl > s->len))
      return 0; /* wait for more */
    if (st != KMSDIAG_OK) {
      fprintf(stderr, "frame %u: not an RPC PDU boundary (%s)\n", frame,
              kmsdiag_status_name(st));
      return -1;
    }
    if (out->n >= MAX_PDUS)
      return -1;
    test_pdu_t *nn = realloc(out->pdus, (out->n + 1) * sizeof *nn);
    if (!nn)
      return -1;
    out->pdus = nn;
    test_pdu_t *p = &out->pdus[out->n++];
    p->frame = frame;
    p->to_server = to_server;
    p->len = fl;
    p->data = malloc(fl);
    if (!p->data)
      return -1;
    memcpy(p->data, s->buf, fl);
    memmove(s->buf, s->buf + fl, s->len - fl);
    s->len -= fl;
  }
  return -1;
}

int test_pcap_pdus(const char *path, uint16_t server_port, test_pdu_list_t *out) {
  char errbuf[PCAP_ERRBUF_SIZE];
  struct pcap_pkthdr *h;
  const u_char *pkt;
  int rc, ret = 0;
  memset(out, 0, sizeof *out);
  pcap_t *pc = pcap_open_offline(path, errbuf);
  if (!pc) {
    fprintf(stderr, "%s: %s\n", path, errbuf);
    return -1;
  }
  int dlt = pcap_datalink(pc);
  stream_t *st = calloc(2, sizeof *st); /* [0] to client, [1] to server */
  if (!st) {
    pcap_close(pc);
    return -1;
  }
  while ((rc = pcap_next_ex(pc, &h, &pkt)) == 1) {
    kd_reader_t r;
    out->frames++;
    kd_rd_init(&r, pkt, h->caplen);
    uint16_t ethertype;
    if (dlt == DLT_EN10MB) {
      kd_rd_skip(&r, 12);
      ethertype = kd_rd_be16(&r);
    } else if (dlt == DLT_LINUX_SLL) {
      kd_rd_skip(&r, 14);
      ethertype = kd_rd_be16(&r);
    } else {
      fprintf(stderr, "%s: unsupported link type %d\n", path, dlt);
      ret = -1;
      break;
    }
    if (!kd_rd_ok(&r) || ethertype != 0x0800)
      continue;
    size_t ip_off = kd_rd_offset(&r);
    uint8_t vihl = kd_rd_u8(&r);
    kd_rd_skip(&r, 1);
    uint16_t tot = kd_rd_be16(&r);
    kd_rd_skip(&r, 5);
    uint8_t proto = kd_rd_u8(&r);
    size_t ihl = (size_t)(vihl & 0x0F) * 4;
    if (!kd_rd_ok(&r) || (vihl >> 4) != 4 || proto != 6 || ihl < 20 ||
        tot < ihl || ip_off + tot > h->caplen)
      continue;
    kd_rd_seek(&r, ip_off + ihl);
    uint16_t sport = kd_rd_be16(&r), dport = kd_rd_be16(&r);
    uint32_t seq = kd_rd_be32(&r);
    kd_rd_skip(&r, 4);
    uint8_t doff = kd_rd_u8(&r);
    uint8_t flags = kd_rd_u8(&r);
    size_t thl = (size_t)(doff >> 4) * 4;
    if (!kd_rd_ok(&r) || thl < 20 || ihl + thl > tot)
      continue;
    if (flags & 0x04)
      out->rst_frames++;
    size_t plen = tot - ihl - thl;
    kd_rd_seek(&r, ip_off + ihl + thl);
    const uint8_t *payload = kd_rd_ptr(&r, plen);
    bool to_server = dport == server_port;
    if (!to_server && sport != server_port)
      continue;
    stream_t *s = &st[to_server ? 1 : 0];
    if (flags & 0x02) { /* SYN: a new connection */
      s->len = 0;
      s->have_seq = true;
      s->next_seq = seq + 1;
      continue;
    }
    if (!payload || plen == 0)
      continue;
    if (s->have_seq && seq != s->next_seq)
      continue; /* retransmission or gap: not expected on loopback */
    s->next_seq = seq + (uint32_t)plen;
    s->have_seq = true;
    if (plen > MAX_STREAM - s->len) {
      ret = -1;
      break;
    }
    memcpy(s->buf + s->len, payload, plen);
    s->len += plen;
    if (push_pdus(s, to_server, out->frames, out) != 0) {
      ret = -1;
      break;
    }
  }
  if (rc == -1) {
    fprintf(stderr, "%s: %s\n", path, pcap_geterr(pc));
    ret = -1;
  }
  free(st);
  pcap_close(pc);
  if (ret != 0)
    test_pdu_list_free(out);
  return ret;
}

void test_pdu_list_free(test_pdu_list_t *l) {
  if (!l)
    return;
  for (size_t i = 0; i < l->n; i++)
    free(l->pdus[i].data);
  free(l->pdus);
  memset(l, 0, sizeof *l);
}
