/* dns_parse.c: DNS answers (RFC 1035) for KMS discovery: SRV records
 * (RFC 2782) and their target addresses, parsed with ldns; the RFC 2782
 * client order; the problems of a record set; the HRESULT mapping.
 *
 * ldns does the wire parsing (names, compression, RDATA layouts). We read
 * the 12-byte header ourselves through kd_reader_t to name counts in error
 * messages, and on a failure walk the sections with ldns_wire2rr() to say
 * which record at which offset is broken. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "dns/dns_internal.h"
#include "internal/reader.h"

/* ---- small helpers ------------------------------------------------------ */

kmsdiag_dns_result_t *kd_dns_result_new(void) {
  kmsdiag_dns_result_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->rcode = -1;
  r->qtype = KD_DNS_TYPE_SRV;
  r->source = "argument";
  return r;
}

static void srv_clear(kmsdiag_dns_srv_t *s) {
  free(s->target);
  free(s->addrs);
  free(s->cname);
}

void kmsdiag_dns_result_free(kmsdiag_dns_result_t *r) {
  if (!r)
    return;
  free(r->domain);
  free(r->qname);
  free(r->error);
  free(r->soa_zone);
  for (size_t i = 0; i < r->nrecords; i++)
    srv_clear(&r->records[i]);
  free(r->records);
  for (size_t i = 0; i < r->nproblems; i++)
    free(r->problems[i].message);
  free(r->problems);
  free(r);
}

void kmsdiag_dns_results_free(kmsdiag_dns_results_t *rs) {
  if (!rs)
    return;
  for (size_t i = 0; i < rs->count; i++)
    kmsdiag_dns_result_free(rs->items[i]);
  free(rs->items);
  free(rs);
}

const char *kmsdiag_dns_severity_name(kmsdiag_dns_severity_t s) {
  switch (s) {
  case KMSDIAG_DNS_INFO: return "info";
  case KMSDIAG_DNS_WARNING: return "warning";
  case KMSDIAG_DNS_ERROR: return "error";
  }
  return "unknown";
}

bool kd_dns_problem(kmsdiag_dns_result_t *r, kmsdiag_dns_severity_t sev,
                    const char *rule, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  kmsdiag_dns_problem_t *np;
  if (r->nproblems >= KD_DNS_MAX_PROBLEMS)
    return true;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  np = realloc(r->problems, (r->nproblems + 1) * sizeof *np);
  if (!np)
    return false;
  r->problems = np;
  np[r->nproblems].severity = sev;
  np[r->nproblems].rule = rule;
  np[r->nproblems].message = strdup(msg);
  if (!np[r->nproblems].message)
    return false;
  r->nproblems++;
  return true;
}

void kd_dns_fail(kmsdiag_dns_result_t *r, kmsdiag_status_t st,
                 const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  r->status = st;
  free(r->error);
  r->error = strdup(msg);
}

const char *kmsdiag_dns_rcode_name(int rcode) {
  static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
                                      "NXDOMAIN", "NOTIMP", "REFUSED",
                                      "YXDOMAIN", "YXRRSET", "NXRRSET",
                                      "NOTAUTH", "NOTZONE"};
  static const char *const other[16] = {
      "RCODE0",  "RCODE1",  "RCODE2",  "RCODE3",  "RCODE4",  "RCODE5",
      "RCODE6",  "RCODE7",  "RCODE8",  "RCODE9",  "RCODE10", "RCODE11",
      "RCODE12", "RCODE13", "RCODE14", "RCODE15"};
  if (rcode < 0)
    return "none";
  if ((size_t)rcode < sizeof names / sizeof names[0])
    return names[rcode];
  if (rcode < 16)
    return other[rcode];
  return "RCODE>15";
}

uint32_t kmsdiag_dns_hresult(kmsdiag_status_t status, int rcode,
                             size_t nsrv) {
  if (status == KMSDIAG_EINVAL)
    return KMSDIAG_HR_DNS_INVALID_NAME;
  if (status != KMSDIAG_OK)
    return KMSDIAG_HR_DNS_SERVER_FAILURE;
  if (rcode == 0)
    return nsrv ? KMSDIAG_HR_OK : KMSDIAG_HR_DNS_NO_RECORDS;
  if (rcode > 0 && rcode < 4096)
    return 0x80070000u | (uint32_t)(9000 + rcode);
  return KMSDIAG_HR_DNS_SERVER_FAILURE;
}

const char *kmsdiag_dns_hresult_message(uint32_t hr) {
  switch (hr) {
  case KMSDIAG_HR_OK: return "SRV records found";
  case KMSDIAG_HR_DNS_INVALID_NAME:
    return "no valid DNS name to query (ERROR_INVALID_NAME): the client "
           "sends no query";
  case KMSDIAG_HR_DNS_NAME_ERROR:
    return "DNS name does not exist (DNS_ERROR_RCODE_NAME_ERROR)";
  case KMSDIAG_HR_DNS_NO_RECORDS:
    return "no records found for DNS query (DNS_INFO_NO_RECORDS)";
  case KMSDIAG_HR_DNS_SERVER_FAILURE:
    return "DNS server failure (DNS_ERROR_RCODE_SERVER_FAILURE)";
  case 0x80072329u: return "DNS server reported a format error (FORMERR)";
  case 0x8007232Cu: return "DNS server does not implement the query (NOTIMP)";
  case 0x8007232Du: return "DNS server refused the query (REFUSED)";
  case KMSDIAG_HR_DNS_NO_USABLE_HOST:
    return "SRV records found, but none names a host a client can connect "
           "to: no KMS host to contact (SL_E_VL_BINDING_SERVICE_UNAVAILABLE)";
  default: return "DNS error";
  }
}

/* Names: ldns rdf to a malloc'd presentation string. */
static char *rdf_text(const ldns_rdf *rdf) {
  char *s = ldns_rdf2str(rdf);
  if (!s)
    return NULL;
  /* ldns already writes an absolute name with the trailing dot; the root
   * is "." */
  return s;
}

bool kd_dns_normalize_name(const char *in, char *buf, size_t bufsz) {
  ldns_rdf *d = NULL;
  char *s;
  size_t n;
  if (!in || !*in || strlen(in) > 1024)
    return false;
  if (ldns_str2rdf_dname(&d, in) != LDNS_STATUS_OK || !d)
    return false;
  if (!ldns_dname_str_absolute(in)) {
    /* ldns makes "a.b" into "a.b." already; nothing to add */
  }
  ldns_dname2canonical(d);
  s = ldns_rdf2str(d);
  ldns_rdf_deep_free(d);
  if (!s)
    return false;
  n = strlen(s);
  if (n + 1 > bufsz || n < 1) {
    free(s);
    return false;
  }
  memcpy(buf, s, n + 1);
  free(s);
  return true;
}

static bool dname_eq(const ldns_rdf *a, const ldns_rdf *b) {
  return a && b && ldns_rdf_get_type(a) == LDNS_RDF_TYPE_DNAME &&
         ldns_rdf_get_type(b) == LDNS_RDF_TYPE_DNAME &&
         ldns_dname_compare(a, b) == 0;
}

static bool rdf_u16(const ldns_rdf *rdf, uint16_t *out) {
  if (!rdf || ldns_rdf_size(rdf) != 2)
    return false;
  *out = ldns_rdf2native_int16(rdf);
  return true;
}

/* Read the header through the reader for the error text. */
typedef struct hdr {
  uint16_t id, flags, qd, an, ns, ar;
} hdr_t;

static bool read_header(const uint8_t *wire, size_t len, hdr_t *h) {
  kd_reader_t rd;
  kd_rd_init(&rd, wire, len);
  h->id = kd_rd_be16(&rd);
  h->flags = kd_rd_be16(&rd);
  h->qd = kd_rd_be16(&rd);
  h->an = kd_rd_be16(&rd);
  h->ns = kd_rd_be16(&rd);
  h->ar = kd_rd_be16(&rd);
  return kd_rd_ok(&rd);
}

/* After ldns_wire2pkt failed: find the first record it cannot read. */
static void locate_error(const uint8_t *wire, size_t len, const hdr_t *h,
                         ldns_status whole, char *buf, size_t bufsz) {
  static const char *const secname[] = {"question", "answer", "authority",
                                        "additional"};
  const uint16_t counts[4] = {h->qd, h->an, h->ns, h->ar};
  const ldns_pkt_section secs[4] = {LDNS_SECTION_QUESTION,
                                    LDNS_SECTION_ANSWER,
                                    LDNS_SECTION_AUTHORITY,
                                    LDNS_SECTION_ADDITIONAL};
  size_t pos = 12;
  for (int s = 0; s < 4; s++) {
    for (unsigned i = 0; i < counts[s]; i++) {
      ldns_rr *rr = NULL;
      size_t at = pos;
      ldns_status st;
      if (pos >= len) {
        snprintf(buf, bufsz,
                 "message ends at offset %zu inside the %s section: header "
                 "announces %u records there, only %u present",
                 len, secname[s], counts[s], i);
        return;
      }
      st = ldns_wire2rr(&rr, wire, len, &pos, secs[s]);
      if (st != LDNS_STATUS_OK) {
        snprintf(buf, bufsz, "%s record %u of %u at offset %zu: %s",
                 secname[s], i + 1, counts[s], at,
                 ldns_get_errorstr_by_id(st));
        if (rr)
          ldns_rr_free(rr);
        return;
      }
      ldns_rr_free(rr);
      if (pos <= at) { /* cannot happen with ldns, but never loop */
        snprintf(buf, bufsz, "%s record %u makes no progress at offset %zu",
                 secname[s], i + 1, at);
        return;
      }
    }
  }
  snprintf(buf, bufsz, "%s", ldns_get_errorstr_by_id(whole));
}

/* Wire -> ldns_pkt with a located error message. */
static kmsdiag_status_t wire_to_pkt(const uint8_t *wire, size_t len,
                                    ldns_pkt **pkt, char *err,
                                    size_t errsz) {
  hdr_t h;
  ldns_status st;
  char where[256];
  *pkt = NULL;
  if (!read_header(wire, len, &h)) {
    snprintf(err, errsz,
             "DNS message of %zu bytes is shorter than the 12-byte header",
             len);
    return KMSDIAG_ETRUNC;
  }
  st = ldns_wire2pkt(pkt, wire, len);
  if (st == LDNS_STATUS_OK && *pkt)
    return KMSDIAG_OK;
  if (*pkt) {
    ldns_pkt_free(*pkt);
    *pkt = NULL;
  }
  locate_error(wire, len, &h, st, where, sizeof where);
  snprintf(err, errsz,
           "malformed DNS message (%zu bytes, id %u, qd=%u an=%u ns=%u "
           "ar=%u): %s",
           len, h.id, h.qd, h.an, h.ns, h.ar, where);
  return (st == LDNS_STATUS_PACKET_OVERFLOW ||
          st == LDNS_STATUS_WIRE_INCOMPLETE_HEADER ||
          st == LDNS_STATUS_WIRE_INCOMPLETE_QUESTION ||
          st == LDNS_STATUS_WIRE_INCOMPLETE_ANSWER ||
          st == LDNS_STATUS_WIRE_INCOMPLETE_AUTHORITY ||
          st == LDNS_STATUS_WIRE_INCOMPLETE_ADDITIONAL)
             ? KMSDIAG_ETRUNC
             : KMSDIAG_EMALFORMED;
}

/* Follow CNAMEs for `name` inside `list`; returns the final owner (a
 * pointer into the list or `name`) and the number of hops. */
static const ldns_rdf *chase_cname(const ldns_rr_list *list,
                                   const ldns_rdf *name, unsigned *hops) {
  const ldns_rdf *cur = name;
  size_t n = ldns_rr_list_rr_count(list);
  *hops = 0;
  for (unsigned hop = 0; hop < KD_DNS_MAX_CNAME_HOPS; hop++) {
    const ldns_rdf *next = NULL;
    for (size_t i = 0; i < n; i++) {
      const ldns_rr *rr = ldns_rr_list_rr(list, i);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
          ldns_rr_rd_count(rr) == 1 && dname_eq(ldns_rr_owner(rr), cur) &&
          ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) == LDNS_RDF_TYPE_DNAME) {
        next = ldns_rr_rdf(rr, 0);
        break;
      }
    }
    if (!next)
      break;
    cur = next;
    (*hops)++;
  }
  return cur;
}

static bool add_addr(kmsdiag_dns_srv_t *s, const ldns_rr *rr) {
  const ldns_rdf *rd;
  kmsdiag_dns_addr_t a;
  kmsdiag_dns_addr_t *na;
  if (ldns_rr_rd_count(rr) != 1)
    return true;
  rd = ldns_rr_rdf(rr, 0);
  memset(&a, 0, sizeof a);
  if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A && ldns_rdf_size(rd) == 4) {
    a.family = AF_INET;
    memcpy(a.addr, ldns_rdf_data(rd), 4);
  } else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA &&
             ldns_rdf_size(rd) == 16) {
    a.family = AF_INET6;
    memcpy(a.addr, ldns_rdf_data(rd), 16);
  } else {
    return true;
  }
  a.ttl = ldns_rr_ttl(rr);
  if (!inet_ntop(a.family, a.addr, a.text, sizeof a.text))
    snprintf(a.text, sizeof a.text, "?");
  for (size_t i = 0; i < s->naddrs; i++)
    if (s->addrs[i].family == a.family &&
        memcmp(s->addrs[i].addr, a.addr, 16) == 0)
      return true;
  if (s->naddrs >= KD_DNS_MAX_ADDRS)
    return true;
  na = realloc(s->addrs, (s->naddrs + 1) * sizeof *na);
  if (!na)
    return false;
  s->addrs = na;
  na[s->naddrs++] = a;
  return true;
}

/* Addresses for `target` found in `list` (following CNAMEs in the list). */
static bool collect_addrs(kmsdiag_dns_srv_t *s, const ldns_rr_list *list,
                          const ldns_rdf *target, bool *cname_seen) {
  unsigned hops = 0;
  const ldns_rdf *owner = chase_cname(list, target, &hops);
  size_t n = ldns_rr_list_rr_count(list);
  if (hops && cname_seen) {
    *cname_seen = true;
    if (!s->cname) {
      /* the first hop's target is what the CNAME points at */
      for (size_t i = 0; i < n; i++) {
        const ldns_rr *rr = ldns_rr_list_rr(list, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
            ldns_rr_rd_count(rr) == 1 && dname_eq(ldns_rr_owner(rr), target)) {
          s->cname = rdf_text(ldns_rr_rdf(rr, 0));
          break;
        }
      }
    }
  }
  for (size_t i = 0; i < n; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(list, i);
    ldns_rr_type t = ldns_rr_get_type(rr);
    if ((t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) &&
        dname_eq(ldns_rr_owner(rr), owner))
      if (!add_addr(s, rr))
        return false;
  }
  return true;
}

kmsdiag_status_t kd_dns_parse_srv(kmsdiag_dns_result_t *r,
                                  const uint8_t *wire, size_t len) {
  char err[400];
  ldns_pkt *pkt = NULL;
  kmsdiag_status_t st = wire_to_pkt(wire, len, &pkt, err, sizeof err);
  const ldns_rr_list *q, *an, *ns, *ar;
  const ldns_rdf *qname = NULL, *owner;
  ldns_rdf *want = NULL;
  unsigned hops = 0;
  if (st != KMSDIAG_OK) {
    kd_dns_fail(r, st, "%s", err);
    return st;
  }
  r->answered = true;
  r->is_response = ldns_pkt_qr(pkt);
  r->id = ldns_pkt_id(pkt);
  r->rcode = (int)ldns_pkt_get_rcode(pkt);
  r->aa = ldns_pkt_aa(pkt);
  r->tc = ldns_pkt_tc(pkt);
  r->ad = ldns_pkt_ad(pkt);
  r->ra = ldns_pkt_ra(pkt);
  q = ldns_pkt_question(pkt);
  an = ldns_pkt_answer(pkt);
  ns = ldns_pkt_authority(pkt);
  ar = ldns_pkt_additional(pkt);
  r->answer_count = (unsigned)ldns_rr_list_rr_count(an);
  r->authority_count = (unsigned)ldns_rr_list_rr_count(ns);
  r->additional_count = (unsigned)ldns_rr_list_rr_count(ar);

  if (ldns_rr_list_rr_count(q) >= 1) {
    const ldns_rr *qrr = ldns_rr_list_rr(q, 0);
    qname = ldns_rr_owner(qrr);
    if (!r->qname) {
      r->qname = rdf_text(qname);
      r->qtype = (uint16_t)ldns_rr_get_type(qrr);
    } else if (qname) {
      if (ldns_str2rdf_dname(&want, r->qname) != LDNS_STATUS_OK)
        want = NULL;
      if (want && !dname_eq(want, qname)) {
        char *got = rdf_text(qname);
        kd_dns_fail(r, KMSDIAG_EPROTO,
                    "answer is for a different name: asked %s, got %s",
                    r->qname, got ? got : "?");
        free(got);
        ldns_rdf_deep_free(want);
        ldns_pkt_free(pkt);
        return KMSDIAG_EPROTO;
      }
    }
  } else if (r->qname) {
    if (ldns_str2rdf_dname(&want, r->qname) == LDNS_STATUS_OK)
      qname = want;
  }

  /* authority SOA: negative caching time */
  for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(ns, i);
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
        ldns_rr_rd_count(rr) == 7) {
      const ldns_rdf *m = ldns_rr_rdf(rr, 6);
      r->has_soa = true;
      free(r->soa_zone);
      r->soa_zone = rdf_text(ldns_rr_owner(rr));
      r->soa_ttl = ldns_rr_ttl(rr);
      r->soa_minimum = ldns_rdf_size(m) == 4 ? ldns_rdf2native_int32(m) : 0;
      break;
    }
  }

  if (!r->is_response || !qname) {
    ldns_rdf_deep_free(want);
    ldns_pkt_free(pkt);
    return KMSDIAG_OK;
  }

  owner = chase_cname(an, qname, &hops);
  if (hops)
    kd_dns_problem(r, KMSDIAG_DNS_INFO, "srv-name-cname",
                   "the SRV name is an alias (%u CNAME hop%s); the records "
                   "were found at the alias target",
                   hops, hops == 1 ? "" : "s");
  for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(an, i);
    kmsdiag_dns_srv_t s, *ns2;
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SRV ||
        !dname_eq(ldns_rr_owner(rr), owner))
      continue;
    memset(&s, 0, sizeof s);
    if (ldns_rr_rd_count(rr) != 4 || !rdf_u16(ldns_rr_rdf(rr, 0), &s.priority) ||
        !rdf_u16(ldns_rr_rdf(rr, 1), &s.weight) ||
        !rdf_u16(ldns_rr_rdf(rr, 2), &s.port) ||
        ldns_rdf_get_type(ldns_rr_rdf(rr, 3)) != LDNS_RDF_TYPE_DNAME) {
      kd_dns_problem(r, KMSDIAG_DNS_ERROR, "srv-rdata",
                     "answer record %zu: SRV data does not have the four "
                     "fields priority, weight, port, target",
                     i + 1);
      continue;
    }
    if (r->nrecords >= KD_DNS_MAX_SRV) {
      kd_dns_problem(r, KMSDIAG_DNS_WARNING, "too-many-records",
                     "more than %d SRV records; the rest were ignored",
                     KD_DNS_MAX_SRV);
      break;
    }
    s.ttl = ldns_rr_ttl(rr);
    s.target = rdf_text(ldns_rr_rdf(rr, 3));
    if (!s.target)
      goto nomem;
    if (!collect_addrs(&s, ar, ldns_rr_rdf(rr, 3), NULL)) {
      srv_clear(&s);
      goto nomem;
    }
    s.addrs_from_additional = s.naddrs > 0;
    ns2 = realloc(r->records, (r->nrecords + 1) * sizeof *ns2);
    if (!ns2) {
      srv_clear(&s);
      goto nomem;
    }
    r->records = ns2;
    ns2[r->nrecords++] = s;
  }
  ldns_rdf_deep_free(want);
  ldns_pkt_free(pkt);
  return KMSDIAG_OK;
nomem:
  ldns_rdf_deep_free(want);
  ldns_pkt_free(pkt);
  kd_dns_fail(r, KMSDIAG_ENOMEM, "out of memory");
  return KMSDIAG_ENOMEM;
}

int kd_dns_parse_addr(kmsdiag_dns_srv_t *srv, const uint8_t *wire,
                      size_t len, char *err, size_t errsz) {
  ldns_pkt *pkt = NULL;
  ldns_rdf *target = NULL;
  bool cname = false;
  int rcode;
  if (wire_to_pkt(wire, len, &pkt, err, errsz) != KMSDIAG_OK)
    return -1;
  if (ldns_str2rdf_dname(&target, srv->target) != LDNS_STATUS_OK) {
    ldns_pkt_free(pkt);
    snprintf(err, errsz, "target name is not valid");
    return -1;
  }
  rcode = (int)ldns_pkt_get_rcode(pkt);
  if (!collect_addrs(srv, ldns_pkt_answer(pkt), target, &cname)) {
    snprintf(err, errsz, "out of memory");
    rcode = -1;
  }
  if (cname)
    srv->target_is_cname = true;
  ldns_rdf_deep_free(target);
  ldns_pkt_free(pkt);
  return rcode;
}

int kd_dns_count_srv(const uint8_t *wire, size_t len, const char *qname) {
  kmsdiag_dns_result_t *r = kd_dns_result_new();
  int n;
  if (!r)
    return -1;
  r->qname = strdup(qname);
  if (!r->qname || kd_dns_parse_srv(r, wire, len) != KMSDIAG_OK) {
    kmsdiag_dns_result_free(r);
    return -1;
  }
  n = r->rcode == 0 ? (int)r->nrecords : 0;
  kmsdiag_dns_result_free(r);
  return n;
}

/* ---- RFC 2782 order ----------------------------------------------------- */

static uint32_t fixed_rand(void *ud) {
  uint64_t *s = ud;
  uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static int cmp_priority(const void *a, const void *b) {
  const kmsdiag_dns_srv_t *x = a, *y = b;
  int c;
  if (x->priority != y->priority)
    return x->priority < y->priority ? -1 : 1;
  /* a canonical order first (by target, port, weight) so that the order
   * of the answer does not matter: the same random draws then give the
   * same client order */
  c = strcmp(x->target ? x->target : "", y->target ? y->target : "");
  if (c)
    return c;
  if (x->port != y->port)
    return x->port < y->port ? -1 : 1;
  if (x->weight != y->weight)
    return x->weight < y->weight ? -1 : 1;
  return 0;
}

static void srv_swap(kmsdiag_dns_srv_t *a, kmsdiag_dns_srv_t *b) {
  kmsdiag_dns_srv_t t = *a;
  *a = *b;
  *b = t;
}

void kmsdiag_dns_order_srv(kmsdiag_dns_srv_t *recs, size_t n,
                           kmsdiag_dns_rand_fn rnd, void *userdata) {
  uint64_t seed = UINT64_C(0x4B4D534449414721);
  size_t start = 0;
  if (!recs || n < 2)
    return;
  if (!rnd) {
    rnd = fixed_rand;
    userdata = &seed;
  }
  qsort(recs, n, sizeof *recs, cmp_priority);
  while (start < n) {
    size_t end = start, zeros = start;
    while (end < n && recs[end].priority == recs[start].priority)
      end++;
    /* RFC 2782: "arrange all SRV RRs (that have not been ordered yet) in
     * any order, except that all those with weight 0 are placed at the
     * beginning of the list". That "any order" is drawn at random here
     * (Fisher-Yates), so records of equal weight, and all records of a
     * set whose weights are all 0, come first equally often; a fixed
     * order would always send every client to the same host. */
    for (size_t i = end - 1; i > start; i--) {
      size_t k = start + (size_t)(rnd(userdata) % (uint32_t)(i - start + 1));
      if (k != i)
        srv_swap(&recs[i], &recs[k]);
    }
    /* weight-0 records to the front, keeping their shuffled order */
    for (size_t i = start; i < end; i++) {
      if (recs[i].weight != 0)
        continue;
      if (i != zeros) {
        kmsdiag_dns_srv_t tmp = recs[i];
        memmove(&recs[zeros + 1], &recs[zeros], (i - zeros) * sizeof *recs);
        recs[zeros] = tmp;
      }
      zeros++;
    }
    /* within [start,end): pick one by running weight sums, move it to the
     * front of the unordered part, repeat (the rest keeps its order, so
     * weight-0 records stay at the front) */
    for (size_t k = start; k + 1 < end; k++) {
      uint64_t sum = 0, pick, run = 0;
      size_t chosen = k;
      for (size_t i = k; i < end; i++)
        sum += recs[i].weight;
      /* uniform in [0, sum]; with all weights 0 the first (random) one */
      pick = sum ? (uint64_t)rnd(userdata) % (sum + 1) : 0;
      for (size_t i = k; i < end; i++) {
        run += recs[i].weight;
        if (run >= pick) {
          chosen = i;
          break;
        }
      }
      if (chosen != k) {
        kmsdiag_dns_srv_t tmp = recs[chosen];
        memmove(&recs[k + 1], &recs[k], (chosen - k) * sizeof *recs);
        recs[k] = tmp;
      }
    }
    start = end;
  }
}

/* ---- problems of a record set ------------------------------------------- */

static bool is_root(const char *t) { return t && strcmp(t, ".") == 0; }

static size_t label_count(const char *name) {
  size_t n = 0;
  bool in = false;
  for (const char *p = name; *p; p++) {
    if (*p == '\\' && p[1]) {
      p++;
      in = true;
      continue;
    }
    if (*p == '.') {
      if (in)
        n++;
      in = false;
    } else {
      in = true;
    }
  }
  return in ? n + 1 : n;
}

static bool ends_with_ci(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static void outcome_problem(kmsdiag_dns_result_t *r) {
  const char *srv = r->server[0] ? r->server : "the DNS server";
  if (r->status == KMSDIAG_EINVAL) {
    if (r->domain || r->qname ||
        (r->source && strcmp(r->source, "exact-name") == 0))
      kd_dns_problem(r, KMSDIAG_DNS_ERROR, "invalid-name",
                     "not a valid DNS name: %s",
                     r->error ? r->error : "invalid");
    else
      kd_dns_problem(r, KMSDIAG_DNS_ERROR, "no-domain",
                     "no DNS domain to search: with no primary DNS suffix "
                     "and no search list the client sends no query and "
                     "fails with 0x8007007B; set a primary suffix or search "
                     "list, or pin a host with slmgr /skms");
    return;
  }
  if (r->mismatched_replies > 0 && r->status == KMSDIAG_EPROTO) {
    kd_dns_problem(r, KMSDIAG_DNS_ERROR, "mismatched-reply",
                   "server %s sent %u repl%s that %s not match the query "
                   "(wrong id or question, or cut short) and no valid "
                   "answer: the client drops such replies and fails as on "
                   "a timeout; a broken server or middlebox, or spoofed "
                   "traffic",
                   r->server[0] ? r->server : "?", r->mismatched_replies,
                   r->mismatched_replies == 1 ? "y" : "ies",
                   r->mismatched_replies == 1 ? "does" : "do");
    return;
  }
  if (r->status == KMSDIAG_ETIMEOUT) {
    kd_dns_problem(r, KMSDIAG_DNS_ERROR, "timeout",
                   "no answer from any DNS server in time (%s)",
                   r->error ? r->error : "timeout");
    return;
  }
  if (r->status == KMSDIAG_ECONNREFUSED) {
    kd_dns_problem(r, KMSDIAG_DNS_ERROR, "connection-refused",
                   "the DNS server refused the connection (nothing listens "
                   "on that port): %s",
                   r->error ? r->error : "");
    return;
  }
  if (r->status != KMSDIAG_OK) {
    kd_dns_problem(r, KMSDIAG_DNS_ERROR,
                   (r->status == KMSDIAG_EMALFORMED ||
                    r->status == KMSDIAG_ETRUNC ||
                    r->status == KMSDIAG_EPROTO)
                       ? "malformed-answer"
                       : "query-failed",
                   "%s", r->error ? r->error : kmsdiag_strerror(r->status));
    return;
  }
  switch (r->rcode) {
  case 0:
    if (r->nrecords == 0)
      kd_dns_problem(r, KMSDIAG_DNS_ERROR, "no-srv-data",
                     "%s exists but has no SRV records (%s answered "
                     "NOERROR with no data)",
                     r->qname ? r->qname : "the name", srv);
    break;
  case 2:
    kd_dns_problem(r, KMSDIAG_DNS_ERROR, "servfail",
                   "%s answered SERVFAIL: the server could not resolve the "
                   "name (broken delegation, DNSSEC failure, unreachable "
                   "forwarder)",
                   srv);
    break;
  case 3:
    kd_dns_problem(r, KMSDIAG_DNS_ERROR, "nxdomain",
                   "%s does not exist (%s answered NXDOMAIN): no KMS SRV "
                   "record is published in this domain",
                   r->qname ? r->qname : "the name", srv);
    break;
  case 5:
    kd_dns_problem(r, KMSDIAG_DNS_ERROR, "refused",
                   "%s refused the query (REFUSED): it does not serve this "
                   "zone or does not allow recursion for this client",
                   srv);
    break;
  default:
    kd_dns_problem(r, KMSDIAG_DNS_ERROR, "rcode",
                   "%s answered %s", srv, kmsdiag_dns_rcode_name(r->rcode));
  }
}

/* Errors first, then warnings, then info; stable within a severity. */
static void sort_problems(kmsdiag_dns_result_t *r) {
  for (size_t i = 1; i < r->nproblems; i++) {
    kmsdiag_dns_problem_t p = r->problems[i];
    size_t k = i;
    while (k > 0 && r->problems[k - 1].severity < p.severity) {
      r->problems[k] = r->problems[k - 1];
      k--;
    }
    r->problems[k] = p;
  }
}

/* "kms.corp.example.corp.example." for domain corp.example: a relative
 * target written without its trailing dot in the zone file. */
static bool doubled_origin(const char *target, const char *domain) {
  char dom[300], twice[610];
  size_t n;
  if (!domain || !*domain)
    return false;
  n = strlen(domain);
  if (n >= sizeof dom - 1)
    return false;
  memcpy(dom, domain, n + 1);
  if (dom[n - 1] != '.') {
    dom[n] = '.';
    dom[n + 1] = '\0';
  }
  snprintf(twice, sizeof twice, ".%s%s", dom, dom);
  return ends_with_ci(target, twice + 1) &&
         (strlen(target) == strlen(twice + 1) ||
          ends_with_ci(target, twice));
}

void kd_dns_finish(kmsdiag_dns_result_t *r, bool resolved,
                   kmsdiag_dns_rand_fn rnd, void *ud) {
  bool any_pw = false;
  size_t roots = 0;
  kmsdiag_dns_order_srv(r->records, r->nrecords, rnd, ud);
  r->usable = 0;
  if (r->truncated_udp)
    kd_dns_problem(r, KMSDIAG_DNS_INFO, "truncated-udp",
                   "the UDP answer was truncated (TC flag); the query was "
                   "repeated over TCP%s",
                   r->via_tcp && r->status == KMSDIAG_OK
                       ? " and that answer is shown"
                       : ", which failed");
  outcome_problem(r);
  if (r->mismatched_replies > 0 && r->status == KMSDIAG_OK)
    kd_dns_problem(r, KMSDIAG_DNS_INFO, "mismatched-reply",
                   "%u repl%s that did not match the query (wrong id or "
                   "question, or cut short) arrived before the valid answer "
                   "and %s dropped",
                   r->mismatched_replies,
                   r->mismatched_replies == 1 ? "y" : "ies",
                   r->mismatched_replies == 1 ? "was" : "were");
  for (size_t i = 0; i < r->nrecords; i++) {
    kmsdiag_dns_srv_t *s = &r->records[i];
    const char *t = s->target ? s->target : "?";
    bool known;
    if (is_root(t)) {
      roots++;
      continue;
    }
    if (s->priority || s->weight)
      any_pw = true;
    if (s->port == 0)
      kd_dns_problem(r, KMSDIAG_DNS_ERROR, "port-zero",
                     "%s: port 0 cannot be connected to", t);
    else if (s->port != KMSDIAG_KMS_PORT)
      kd_dns_problem(r, KMSDIAG_DNS_WARNING, "port-not-1688",
                     "%s: port %u instead of the KMS default 1688; the host "
                     "must listen there (slmgr /sprt) and firewalls must "
                     "allow it",
                     t, s->port);
    if (s->target_is_cname)
      kd_dns_problem(r, KMSDIAG_DNS_WARNING, "target-cname",
                     "%s is an alias (CNAME to %s); RFC 2782 requires the "
                     "target to be a name with A/AAAA records",
                     t, s->cname ? s->cname : "?");
    if (doubled_origin(t, r->domain))
      kd_dns_problem(r, KMSDIAG_DNS_ERROR, "target-doubled-origin",
                     "%s repeats the domain: the zone file most likely has "
                     "a relative target without its trailing dot",
                     t);
    if (label_count(t) == 1)
      kd_dns_problem(r, KMSDIAG_DNS_WARNING, "target-single-label",
                     "%s is a single-label name; it resolves only where a "
                     "suffix is appended, often not at all",
                     t);
    if (ends_with_ci(t, ".local.") || strcasecmp(t, "local.") == 0)
      kd_dns_problem(r, KMSDIAG_DNS_WARNING, "target-local",
                     "%s is under .local, which is resolved by multicast "
                     "DNS, not by the unicast DNS the KMS client uses",
                     t);
    if (s->ttl == 0)
      kd_dns_problem(r, KMSDIAG_DNS_WARNING, "ttl-zero",
                     "%s: TTL 0, the record cannot be cached", t);
    known = resolved && (s->addrs_queried || s->addrs_from_additional);
    if (known && s->naddrs == 0)
      kd_dns_problem(r, KMSDIAG_DNS_ERROR, "target-no-address",
                     "%s has no A or AAAA address: the client cannot "
                     "connect to it (stale record?)",
                     t);
    /* usable: a client could try it. Port 0 cannot be connected to; a
     * target whose addresses were looked up and not found cannot be
     * reached. */
    if ((!known || s->naddrs > 0) && s->port != 0)
      r->usable++;
    for (size_t j = 0; j < i; j++) {
      const kmsdiag_dns_srv_t *o = &r->records[j];
      if (o->target && strcasecmp(o->target, t) == 0 && o->port == s->port) {
        if (o->priority == s->priority && o->weight == s->weight)
          kd_dns_problem(r, KMSDIAG_DNS_WARNING, "duplicate-record",
                         "%s port %u is listed twice with the same priority "
                         "and weight",
                         t, s->port);
        else
          kd_dns_problem(r, KMSDIAG_DNS_WARNING, "duplicate-target",
                         "%s port %u is listed twice with different priority "
                         "or weight",
                         t, s->port);
        break;
      }
    }
  }
  if (roots) {
    if (roots == r->nrecords)
      kd_dns_problem(r, KMSDIAG_DNS_ERROR, "target-root",
                     "the only target is \".\": the zone says the KMS "
                     "service is explicitly not available here");
    else
      kd_dns_problem(r, KMSDIAG_DNS_WARNING, "target-root",
                     "%zu record%s with target \".\" (service not "
                     "available) next to real targets; RFC 2782 allows \".\" "
                     "only as the single record",
                     roots, roots == 1 ? "" : "s");
  }
  if (any_pw)
    kd_dns_problem(r, KMSDIAG_DNS_INFO, "priority-weight",
                   "records use priority/weight: only Windows 7 / Server "
                   "2008 R2 and later clients honour them, Vista/2008 "
                   "ignore them, and with host caching on (slmgr /skhc, the "
                   "default) a client keeps using the host that worked");
  if (r->usable == 1 && r->nrecords - roots == 1)
    kd_dns_problem(r, KMSDIAG_DNS_INFO, "single-host",
                   "only one KMS host is published; two or more are "
                   "recommended above 50 clients");
  if (r->status == KMSDIAG_OK && r->rcode == 0 && r->nrecords > 0 &&
      r->usable == 0 && roots < r->nrecords)
    kd_dns_problem(r, KMSDIAG_DNS_ERROR, "no-usable-host",
                   "%zu SRV record%s but no host a client can connect to "
                   "(target \".\", port 0 or no address): discovery gives "
                   "the client nothing to try and activation fails with "
                   "0xC004F074",
                   r->nrecords, r->nrecords == 1 ? "" : "s");
  sort_problems(r);
  if (r->status == KMSDIAG_OK) {
    r->hresult = kmsdiag_dns_hresult(KMSDIAG_OK, r->rcode, r->nrecords);
    /* records, but none a client could try: the DNS step succeeds and the
     * client ends where every candidate host failed (facts 1.4) */
    if (r->hresult == KMSDIAG_HR_OK && r->nrecords > 0 && r->usable == 0)
      r->hresult = KMSDIAG_HR_DNS_NO_USABLE_HOST;
  } else {
    r->hresult = kmsdiag_dns_hresult(r->status, r->rcode, 0);
  }
}

kmsdiag_status_t kmsdiag_dns_parse_srv_answer(const uint8_t *wire,
                                              size_t len,
                                              kmsdiag_dns_rand_fn rnd,
                                              void *userdata,
                                              kmsdiag_dns_result_t **out) {
  kmsdiag_dns_result_t *r;
  kmsdiag_status_t st;
  if (!out)
    return KMSDIAG_EINVAL;
  *out = NULL;
  if (!wire && len)
    return KMSDIAG_EINVAL;
  r = kd_dns_result_new();
  if (!r)
    return KMSDIAG_ENOMEM;
  r->source = "wire";
  r->qtype = 0;
  st = kd_dns_parse_srv(r, wire ? wire : (const uint8_t *)"", len);
  if (st == KMSDIAG_ENOMEM) {
    kmsdiag_dns_result_free(r);
    return st;
  }
  if (st == KMSDIAG_OK && r->is_response && r->qtype == KD_DNS_TYPE_SRV) {
    /* a truncated message is still parsed as far as it goes */
    if (r->tc)
      kd_dns_problem(r, KMSDIAG_DNS_INFO, "truncated-udp",
                     "the message has the TC flag: the record set is "
                     "incomplete and a client retries over TCP");
    kd_dns_finish(r, false, rnd, userdata);
  } else if (st == KMSDIAG_OK && r->is_response) {
    /* another query type: only the rcode says something */
    r->hresult = kmsdiag_dns_hresult(KMSDIAG_OK, r->rcode, 1);
  } else if (st == KMSDIAG_OK) {
    r->hresult = KMSDIAG_HR_OK;
  } else {
    r->hresult = kmsdiag_dns_hresult(st, -1, 0);
  }
  *out = r;
  return st;
}
