/* fuzz_dns_answer.c: the DNS answer parser (kmsdiag_dns_parse_srv_answer,
 * the A/AAAA follow-up parser, the near-miss counter) and the JSON writer
 * on whatever it returns. Seeds: real NSD answers and hostile messages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_internal.h"
#include <kmsdiag/kmsdiag.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kmsdiag_dns_result_t *r = NULL;
  kmsdiag_status_t st = kmsdiag_dns_parse_srv_answer(data, size, NULL, NULL, &r);
  if (r) {
    kmsdiag_json_t *j = NULL;
    if (kmsdiag_json_new(&j) == KMSDIAG_OK) {
      kmsdiag_dns_result_write_json(j, r);
      kmsdiag_json_endline(j);
      kmsdiag_json_free(j);
    }
    if (st != KMSDIAG_OK && !r->error)
      abort(); /* a failure must say what went wrong */
    kmsdiag_dns_result_free(r);
  }
  {
    static const char target[] = "kms1.corp.example.";
    kmsdiag_dns_srv_t s;
    char err[256];
    memset(&s, 0, sizeof s);
    s.target = malloc(sizeof target);
    if (s.target)
      memcpy(s.target, target, sizeof target);
    if (s.target)
      (void)kd_dns_parse_addr(&s, data, size, err, sizeof err);
    free(s.target);
    free(s.addrs);
    free(s.cname);
  }
  (void)kd_dns_count_srv(data, size, "_vmlcs._tcp.corp.example.");
  return 0;
}
