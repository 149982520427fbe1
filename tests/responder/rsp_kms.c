/* rsp_kms.c: KMS responses of the test responder (placeholder until the
 * test response builder is in the tree). */
#include <stdlib.h>

#include "rsp_kms.h"

uint8_t *rsp_kms_answer(const uint8_t *req, size_t len,
                        const rsp_config_t *cfg, size_t *out_len) {
  (void)req;
  (void)len;
  (void)cfg;
  (void)out_len;
  return NULL;
}
