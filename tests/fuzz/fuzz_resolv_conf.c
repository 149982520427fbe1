/* fuzz_resolv_conf.c: the resolv.conf reader (nameserver/domain/search)
 * and the "ADDR[:PORT]" server parser. */
#include <stdint.h>
#include <string.h>

#include "dns/dns_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kd_resolv_t rc;
  kd_server_t sv;
  if (kd_resolv_parse(data, size, &rc) == KMSDIAG_OK) {
    if (rc.nservers > KD_RESOLV_MAX_SERVERS || rc.nsearch > KD_RESOLV_MAX_SEARCH)
      __builtin_trap();
    kd_resolv_free(&rc);
  }
  (void)kd_server_parse((const char *)data, size < 100 ? size : 100, &sv);
  return 0;
}
