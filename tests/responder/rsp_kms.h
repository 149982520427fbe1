/* rsp_kms.h: the KMS message the test responder answers with. */
#ifndef KMSDIAG_TEST_RSP_KMS_H
#define KMSDIAG_TEST_RSP_KMS_H

#include <stddef.h>
#include <stdint.h>

#include "responder.h"

/* Decode the KMS request `req` and build the response cfg asks for
 * (malloc()'d, *len bytes), or NULL when the request does not decode. */
uint8_t *rsp_kms_answer(const uint8_t *req, size_t len,
                        const rsp_config_t *cfg, size_t *out_len);

#endif
