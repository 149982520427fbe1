/* dns_json.c: one SRV lookup result as a JSON object (kms-find --json, and
 * kms-doctor). Key names are stable; names from answers go through the
 * writer's escaping. */
#include <string.h>
#include <sys/socket.h>

#include <kmsdiag/kmsdiag_dns.h>

static void str_or_null(kmsdiag_json_t *j, const char *key, const char *s) {
  if (s)
    kmsdiag_json_strn(j, key, s, strlen(s));
  else
    kmsdiag_json_null(j, key);
}

void kmsdiag_dns_result_write_json(kmsdiag_json_t *j,
                                   const kmsdiag_dns_result_t *r) {
  if (!j || !r)
    return;
  kmsdiag_json_object_begin(j, NULL);
  kmsdiag_json_str(j, "type", "srv_lookup");
  str_or_null(j, "domain", r->domain);
  kmsdiag_json_str(j, "source", r->source ? r->source : "argument");
  str_or_null(j, "qname", r->qname);
  kmsdiag_json_str(j, "status", kmsdiag_status_name(r->status));
  str_or_null(j, "error", r->error);
  if (r->rcode >= 0)
    kmsdiag_json_str(j, "rcode", kmsdiag_dns_rcode_name(r->rcode));
  else
    kmsdiag_json_null(j, "rcode");
  kmsdiag_json_hex32(j, "hresult", r->hresult);
  kmsdiag_json_str(j, "hresult_message",
                   kmsdiag_dns_hresult_message(r->hresult));
  str_or_null(j, "server", r->server[0] ? r->server : NULL);
  if (r->answered)
    kmsdiag_json_str(j, "transport", r->via_tcp ? "tcp" : "udp");
  else
    kmsdiag_json_null(j, "transport");
  kmsdiag_json_bool(j, "truncated_udp", r->truncated_udp);
  kmsdiag_json_object_begin(j, "flags");
  kmsdiag_json_bool(j, "aa", r->aa);
  kmsdiag_json_bool(j, "tc", r->tc);
  kmsdiag_json_bool(j, "ad", r->ad);
  kmsdiag_json_bool(j, "ra", r->ra);
  kmsdiag_json_object_end(j);
  kmsdiag_json_object_begin(j, "counts");
  kmsdiag_json_uint(j, "answer", r->answer_count);
  kmsdiag_json_uint(j, "authority", r->authority_count);
  kmsdiag_json_uint(j, "additional", r->additional_count);
  kmsdiag_json_object_end(j);
  if (r->has_soa) {
    kmsdiag_json_object_begin(j, "soa");
    str_or_null(j, "zone", r->soa_zone);
    kmsdiag_json_uint(j, "ttl", r->soa_ttl);
    kmsdiag_json_uint(j, "minimum", r->soa_minimum);
    kmsdiag_json_uint(j, "negative_ttl",
                      r->soa_ttl < r->soa_minimum ? r->soa_ttl
                                                  : r->soa_minimum);
    kmsdiag_json_object_end(j);
  } else {
    kmsdiag_json_null(j, "soa");
  }
  kmsdiag_json_array_begin(j, "records");
  for (size_t i = 0; i < r->nrecords; i++) {
    const kmsdiag_dns_srv_t *s = &r->records[i];
    kmsdiag_json_object_begin(j, NULL);
    kmsdiag_json_uint(j, "order", i + 1);
    str_or_null(j, "target", s->target);
    kmsdiag_json_uint(j, "port", s->port);
    kmsdiag_json_uint(j, "priority", s->priority);
    kmsdiag_json_uint(j, "weight", s->weight);
    kmsdiag_json_uint(j, "ttl", s->ttl);
    str_or_null(j, "cname", s->cname);
    if (s->addrs_from_additional && s->addrs_queried)
      kmsdiag_json_str(j, "addresses_from", "additional+query");
    else if (s->addrs_from_additional)
      kmsdiag_json_str(j, "addresses_from", "additional");
    else if (s->addrs_queried)
      kmsdiag_json_str(j, "addresses_from", "query");
    else
      kmsdiag_json_null(j, "addresses_from");
    kmsdiag_json_array_begin(j, "addresses");
    for (size_t k = 0; k < s->naddrs; k++) {
      kmsdiag_json_object_begin(j, NULL);
      kmsdiag_json_str(j, "address", s->addrs[k].text);
      kmsdiag_json_str(j, "family",
                       s->addrs[k].family == AF_INET6 ? "ipv6" : "ipv4");
      kmsdiag_json_uint(j, "ttl", s->addrs[k].ttl);
      kmsdiag_json_object_end(j);
    }
    kmsdiag_json_array_end(j);
    kmsdiag_json_object_end(j);
  }
  kmsdiag_json_array_end(j);
  kmsdiag_json_uint(j, "usable_hosts", r->usable);
  kmsdiag_json_array_begin(j, "problems");
  for (size_t i = 0; i < r->nproblems; i++) {
    const kmsdiag_dns_problem_t *p = &r->problems[i];
    kmsdiag_json_object_begin(j, NULL);
    kmsdiag_json_str(j, "severity", kmsdiag_dns_severity_name(p->severity));
    kmsdiag_json_str(j, "rule", p->rule);
    str_or_null(j, "message", p->message);
    kmsdiag_json_object_end(j);
  }
  kmsdiag_json_array_end(j);
  kmsdiag_json_uint(j, "mismatched_replies", r->mismatched_replies);
  kmsdiag_json_uint(j, "elapsed_ms", r->elapsed_ms);
  kmsdiag_json_object_end(j);
}
