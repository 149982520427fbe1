/* dns_internal.h: private helpers shared by the files of lib/dns/ (and
 * lib/zone/, which reuses the result model). Never installed. */
#ifndef KMSDIAG_DNS_INTERNAL_H
#define KMSDIAG_DNS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmsdiag/kmsdiag_dns.h>

/* Caps on what one answer may make us hold or do. */
#define KD_DNS_MAX_SRV 256       /* SRV records kept per answer */
#define KD_DNS_MAX_ADDRS 32      /* addresses kept per target */
#define KD_DNS_MAX_PROBLEMS 128  /* problems kept per result */
#define KD_DNS_MAX_RESOLVE 32    /* targets resolved by A/AAAA queries */
#define KD_DNS_MAX_CNAME_HOPS 8
#define KD_DNS_TYPE_A 1
#define KD_DNS_TYPE_CNAME 5
#define KD_DNS_TYPE_SOA 6
#define KD_DNS_TYPE_AAAA 28
#define KD_DNS_TYPE_SRV 33

/* Internal flag of kmsdiag_dns_start() (lib/zone's live check): query A
 * and AAAA of `name` itself. The result has one record whose target is
 * the name and whose addresses are what the server answered (CNAMEs in
 * the answer followed); rcode is the A answer's, or 0 when either family
 * answered NOERROR; no record-set problems, hresult 0 when an answer came.
 * Runs whatever kmsdiag_dns_set_follow_up() says. */
#define KD_DNS_ADDR_QUERY 0x100u

kmsdiag_dns_result_t *kd_dns_result_new(void);
/* Add a problem (message formatted); silently capped. Returns false on
 * out of memory. */
bool kd_dns_problem(kmsdiag_dns_result_t *r, kmsdiag_dns_severity_t sev,
                    const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Set r->status and r->error (formatted). */
void kd_dns_fail(kmsdiag_dns_result_t *r, kmsdiag_status_t st,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parse an SRV answer into `r` (which has qname set or NULL to take the
 * question). Fills header fields, records, additional addresses, SOA.
 * On a parse failure sets r->status/error and returns the status. */
kmsdiag_status_t kd_dns_parse_srv(kmsdiag_dns_result_t *r,
                                  const uint8_t *wire, size_t len);
/* Parse an A or AAAA answer for `srv->target`: addresses (following a
 * CNAME chain inside the answer) are appended, a CNAME is noted. Returns
 * the rcode, or -1 when the message is unusable (`err` gets a message). */
int kd_dns_parse_addr(kmsdiag_dns_srv_t *srv, const uint8_t *wire,
                      size_t len, char *err, size_t errsz);
/* Count SRV records in an answer for `qname` (for near-miss probes):
 * returns the count, 0 when none, -1 on a parse failure. */
int kd_dns_count_srv(const uint8_t *wire, size_t len, const char *qname);

/* Order the records, count usable ones, add the record-set problems and
 * the outcome problem, set the HRESULT. `resolved`: A/AAAA queries were
 * made for targets that lacked addresses. */
void kd_dns_finish(kmsdiag_dns_result_t *r, bool resolved,
                   kmsdiag_dns_rand_fn rnd, void *ud);

/* Lower-case absolute presentation form of a name, in `buf`. Returns
 * false when the name is not valid (too long, empty label...). */
bool kd_dns_normalize_name(const char *in, char *buf, size_t bufsz);

/* The resolver configuration we read ourselves. */
#define KD_RESOLV_MAX_SERVERS 16
#define KD_RESOLV_MAX_SEARCH 32
typedef struct kd_resolv {
  char *domain;                          /* "domain" line or NULL */
  char *search[KD_RESOLV_MAX_SEARCH];    /* "search" entries */
  size_t nsearch;
  char *servers[KD_RESOLV_MAX_SERVERS];  /* "nameserver" addresses */
  size_t nservers;
  unsigned lines;                        /* lines read */
  unsigned bad_lines;                    /* lines ignored as invalid */
} kd_resolv_t;

/* Parse resolv.conf text (hostile: capped lengths and counts). A later
 * "domain" line replaces an earlier one, a later "search" line an earlier
 * one; the two are kept apart (primary suffix and search list). */
kmsdiag_status_t kd_resolv_parse(const uint8_t *data, size_t len,
                                 kd_resolv_t *out);
void kd_resolv_free(kd_resolv_t *rc);

/* Parse one "ADDR[:PORT]" / "[ADDR6]:PORT" / "ADDR6" server string. */
typedef struct kd_server {
  int family;
  uint8_t addr[16];
  uint16_t port;
} kd_server_t;
bool kd_server_parse(const char *s, size_t len, kd_server_t *out);
/* "1.2.3.4:53" or "[::1]:53". */
void kd_server_text(int family, const void *addr, uint16_t port, char *buf,
                    size_t bufsz);

#endif
