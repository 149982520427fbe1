/* cap_layers.c: link, IPv4, IPv6, TCP and UDP headers of one frame.
 *
 * Every field is read through kd_reader_t; lengths announced by headers are
 * checked against what was captured. Damage is reported with a static
 * description and the frame offset where it was found. */
#include <string.h>

#include "capture/cap_int.h"
#include "internal/reader.h"

#define MAX_VLAN_TAGS 4
#define MAX_V6_EXT 8

/* Fixed-size headers are taken from the reader as one bounds-checked span
 * (kd_rd_ptr / kd_rd_peek of the header's size), and their fields read
 * from that span at constant offsets below its size: one check per
 * header instead of one call per field, on the per-packet hot path. */
static inline uint16_t be16(const uint8_t *p) {
  return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static int fail(kd_pkt_t *p, int st, const char *what, size_t off) {
  p->err = what;
  p->err_off = off;
  return st;
}

static int decode_l4(kd_reader_t *r, size_t base, uint8_t proto,
                     size_t wire_len, kd_pkt_t *p) {
  /* r holds the captured part of the transport segment; wire_len is what
   * the IP header announces. */
  if (proto == 6) {
    size_t start = kd_rd_offset(r);
    const uint8_t *h = kd_rd_ptr(r, 14);
    if (!h)
      return fail(p, KMSDIAG_ETRUNC, "TCP header truncated", base + start);
    p->sport = be16(h);
    p->dport = be16(h + 2);
    p->seq = be32(h + 4);
    p->ack = be32(h + 8);
    uint8_t off = h[12];
    uint8_t flags = h[13];
    size_t hlen = (size_t)(off >> 4) * 4;
    if (hlen < 20)
      return fail(p, KMSDIAG_EMALFORMED, "TCP data offset below 20 bytes",
                  base + start + 12);
    if (hlen > wire_len)
      return fail(p, KMSDIAG_EMALFORMED,
                  "TCP header longer than the IP payload", base + start + 12);
    if (hlen > 14)
      kd_rd_skip(r, hlen - 14);
    if (!kd_rd_ok(r)) {
      p->truncated = true;
      return fail(p, KMSDIAG_ETRUNC, "TCP options cut by the snapshot length",
                  base + start + 20);
    }
    p->proto = KD_PKT_TCP;
    p->tcp_flags = flags;
    p->wire_paylen = wire_len - hlen;
  } else if (proto == 17) {
    size_t start = kd_rd_offset(r);
    const uint8_t *h = kd_rd_ptr(r, 8);
    if (!h)
      return fail(p, KMSDIAG_ETRUNC, "UDP header truncated", base + start);
    p->sport = be16(h);
    p->dport = be16(h + 2);
    uint16_t ulen = be16(h + 4);
    if (ulen < 8 || ulen > wire_len)
      return fail(p, KMSDIAG_EMALFORMED,
                  "UDP length outside 8..IP payload length", base + start + 4);
    p->proto = KD_PKT_UDP;
    p->wire_paylen = (size_t)ulen - 8;
  } else {
    p->proto = KD_PKT_OTHER;
    return KMSDIAG_OK;
  }
  size_t have = kd_rd_remaining(r);
  if (have > p->wire_paylen)
    have = p->wire_paylen; /* Ethernet padding after the segment */
  if (have < p->wire_paylen)
    p->truncated = true;
  p->payload = kd_rd_ptr(r, have);
  p->paylen = have;
  return KMSDIAG_OK;
}

static int decode_ipv4(kd_reader_t *r, size_t base, kd_pkt_t *p) {
  size_t start = kd_rd_offset(r);
  const uint8_t *h = kd_rd_ptr(r, 20);
  if (!h)
    return fail(p, KMSDIAG_ETRUNC, "IPv4 header truncated", base + start);
  uint8_t vihl = h[0];
  uint16_t tot = be16(h + 2);
  uint16_t ident = be16(h + 4);
  uint16_t frag = be16(h + 6);
  uint8_t proto = h[9];
  memcpy(p->src, h + 12, 4);
  memcpy(p->dst, h + 16, 4);
  if ((vihl >> 4) != 4)
    return fail(p, KMSDIAG_EMALFORMED, "IPv4 version is not 4", base + start);
  size_t ihl = (size_t)(vihl & 0x0f) * 4;
  if (ihl < 20)
    return fail(p, KMSDIAG_EMALFORMED, "IPv4 header length below 20 bytes",
                base + start);
  size_t avail = kd_rd_remaining(r);
  size_t caplen = avail + 20;
  if (tot == 0 && caplen >= ihl)
    tot = (uint16_t)(caplen > 65535 ? 65535 : caplen); /* TSO: length 0 */
  if (tot < ihl)
    return fail(p, KMSDIAG_EMALFORMED, "IPv4 total length below header length",
                base + start + 2);
  p->family = 4;
  if (ihl > 20) {
    kd_rd_skip(r, ihl - 20);
    if (!kd_rd_ok(r))
      return fail(p, KMSDIAG_ETRUNC, "IPv4 options truncated",
                  base + start + 20);
    avail = kd_rd_remaining(r);
  }
  size_t wire = (size_t)tot - ihl;
  if ((frag & 0x3fff) != 0) { /* MF set or offset non-zero */
    p->fragment = true;
    p->proto = KD_PKT_OTHER;
    p->frag_id = ident;
    p->frag_proto = proto;
    p->frag_more = (frag & 0x2000) != 0;
    p->frag_off = (size_t)(frag & 0x1fff) * 8;
    p->frag_len = avail < wire ? avail : wire;
    p->frag_cut = avail < wire;
    p->frag_data = kd_rd_ptr(r, p->frag_len);
    return KMSDIAG_OK;
  }
  kd_reader_t l4;
  kd_rd_sub(r, avail < wire ? avail : wire, &l4);
  return decode_l4(&l4, base + start + ihl, proto, wire, p);
}

static int decode_ipv6(kd_reader_t *r, size_t base, kd_pkt_t *p) {
  size_t start = kd_rd_offset(r);
  const uint8_t *h = kd_rd_ptr(r, 40);
  if (!h)
    return fail(p, KMSDIAG_ETRUNC, "IPv6 header truncated", base + start);
  uint32_t vtf = be32(h);
  uint16_t plen = be16(h + 4);
  uint8_t nh = h[6];
  memcpy(p->src, h + 8, 16);
  memcpy(p->dst, h + 24, 16);
  if ((vtf >> 28) != 6)
    return fail(p, KMSDIAG_EMALFORMED, "IPv6 version is not 6", base + start);
  p->family = 6;
  size_t wire = plen;
  if (wire == 0) /* jumbogram or TSO: take what was captured */
    wire = kd_rd_remaining(r);
  kd_reader_t body;
  size_t avail = kd_rd_remaining(r);
  kd_rd_sub(r, avail < wire ? avail : wire, &body);
  size_t hdrs = 0;
  for (int i = 0; i < MAX_V6_EXT; i++) {
    size_t eo = kd_rd_offset(&body);
    switch (nh) {
    case 0:   /* hop-by-hop */
    case 43:  /* routing */
    case 60:  /* destination options */
    case 135: /* mobility */
    {
      uint8_t next = kd_rd_u8(&body);
      uint8_t elen = kd_rd_u8(&body);
      size_t len = ((size_t)elen + 1) * 8;
      kd_rd_seek(&body, eo + len);
      if (!kd_rd_ok(&body))
        return fail(p, KMSDIAG_ETRUNC, "IPv6 extension header truncated",
                    base + start + 40 + eo);
      hdrs += len;
      nh = next;
      continue;
    }
    case 51: { /* AH: length in 4-byte units minus 2 */
      uint8_t next = kd_rd_u8(&body);
      uint8_t elen = kd_rd_u8(&body);
      size_t len = ((size_t)elen + 2) * 4;
      kd_rd_seek(&body, eo + len);
      if (!kd_rd_ok(&body))
        return fail(p, KMSDIAG_ETRUNC, "IPv6 AH header truncated",
                    base + start + 40 + eo);
      hdrs += len;
      nh = next;
      continue;
    }
    case 44: { /* fragment */
      uint8_t next = kd_rd_u8(&body);
      (void)kd_rd_u8(&body);
      uint16_t fo = kd_rd_be16(&body);
      (void)kd_rd_be32(&body);
      if (!kd_rd_ok(&body))
        return fail(p, KMSDIAG_ETRUNC, "IPv6 fragment header truncated",
                    base + start + 40 + eo);
      hdrs += 8;
      if ((fo & 0xfff9) != 0) { /* offset or M flag: a real fragment */
        p->fragment = true;
        p->proto = KD_PKT_OTHER;
        return KMSDIAG_OK;
      }
      nh = next; /* atomic fragment */
      continue;
    }
    default:
      break;
    }
    break;
  }
  if (hdrs > wire)
    return fail(p, KMSDIAG_EMALFORMED, "IPv6 extension headers exceed payload",
                base + start + 4);
  if (nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51 || nh == 135)
    return fail(p, KMSDIAG_ELIMIT, "too many IPv6 extension headers",
                base + start + 40);
  kd_reader_t l4;
  kd_rd_sub(&body, kd_rd_remaining(&body), &l4);
  return decode_l4(&l4, base + start + 40 + hdrs, nh, wire - hdrs, p);
}

static int decode_ethertype(kd_reader_t *r, uint16_t et, kd_pkt_t *p) {
  /* the IP decoders use the frame's reader: their offsets are frame
   * offsets already (base 0) */
  if (et == 0x0800)
    return decode_ipv4(r, 0, p);
  if (et == 0x86DD)
    return decode_ipv6(r, 0, p);
  p->family = 0;
  p->proto = KD_PKT_OTHER;
  return KMSDIAG_OK;
}

static int decode_raw(kd_reader_t *r, kd_pkt_t *p) {
  const uint8_t *v = kd_rd_peek(r, 1);
  if (!v)
    return fail(p, KMSDIAG_ETRUNC, "empty raw IP frame", kd_rd_offset(r));
  if ((*v >> 4) == 4)
    return decode_ethertype(r, 0x0800, p);
  if ((*v >> 4) == 6)
    return decode_ethertype(r, 0x86DD, p);
  return fail(p, KMSDIAG_EMALFORMED, "raw IP frame with IP version not 4 or 6",
              kd_rd_offset(r));
}

int kd_cap_decode(int linktype, const uint8_t *data, size_t caplen,
                  kd_pkt_t *p) {
  kd_reader_t r;
  /* a copy of a zero packet, not memset: compilers turn a memset of this
   * size into "rep stos", whose start-up cost showed in the profile of
   * the per-frame path */
  static const kd_pkt_t zero;
  *p = zero;
  kd_rd_init(&r, data, caplen);
  switch (linktype) {
  case 1: { /* Ethernet, with 802.1Q / 802.1ad / QinQ tags */
    const uint8_t *h = kd_rd_ptr(&r, 14);
    if (!h)
      return fail(p, KMSDIAG_ETRUNC, "Ethernet header truncated", 0);
    uint16_t et = be16(h + 12);
    for (int i = 0; i < MAX_VLAN_TAGS &&
                    (et == 0x8100 || et == 0x88A8 || et == 0x9100);
         i++) {
      const uint8_t *t = kd_rd_ptr(&r, 4); /* TCI, then the next type */
      if (!t)
        return fail(p, KMSDIAG_ETRUNC, "Ethernet header truncated",
                    kd_rd_offset(&r));
      et = be16(t + 2);
    }
    if (et == 0x8100 || et == 0x88A8 || et == 0x9100)
      return fail(p, KMSDIAG_ELIMIT, "more than 4 VLAN tags",
                  kd_rd_offset(&r) - 2);
    return decode_ethertype(&r, et, p);
  }
  case 0:   /* BSD null: address family in the capturing host's order */
  case 108: /* OpenBSD loop: network order */
  {
    const uint8_t *h = kd_rd_ptr(&r, 4);
    if (!h)
      return fail(p, KMSDIAG_ETRUNC, "loopback header truncated", 0);
    uint32_t le = (uint32_t)h[0] | (uint32_t)h[1] << 8 |
                  (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    uint32_t be = (uint32_t)h[3] | (uint32_t)h[2] << 8 |
                  (uint32_t)h[1] << 16 | (uint32_t)h[0] << 24;
    uint32_t af = linktype == 108 ? be : (le < 256 ? le : be);
    if (af == 2)
      return decode_ethertype(&r, 0x0800, p);
    if (af == 10 || af == 24 || af == 28 || af == 30)
      return decode_ethertype(&r, 0x86DD, p);
    p->proto = KD_PKT_OTHER;
    return KMSDIAG_OK;
  }
  case 12:  /* DLT_RAW (Linux) */
  case 14:  /* DLT_RAW (BSD) */
  case 101: /* LINKTYPE_RAW */
    return decode_raw(&r, p);
  case 228: /* LINKTYPE_IPV4 */
    return decode_ethertype(&r, 0x0800, p);
  case 229: /* LINKTYPE_IPV6 */
    return decode_ethertype(&r, 0x86DD, p);
  case 113: { /* Linux cooked SLL: 16 bytes, protocol last */
    kd_rd_skip(&r, 14);
    uint16_t et = kd_rd_be16(&r);
    if (!kd_rd_ok(&r))
      return fail(p, KMSDIAG_ETRUNC, "Linux SLL header truncated", r.err_off);
    return decode_ethertype(&r, et, p);
  }
  case 276: { /* Linux cooked SLL2: 20 bytes, protocol first */
    uint16_t et = kd_rd_be16(&r);
    kd_rd_skip(&r, 18);
    if (!kd_rd_ok(&r))
      return fail(p, KMSDIAG_ETRUNC, "Linux SLL2 header truncated", r.err_off);
    return decode_ethertype(&r, et, p);
  }
  default:
    return fail(p, KMSDIAG_EUNSUPPORTED, "unsupported link type", 0);
  }
}
