/* rsp_pdu.h: the PDUs the test responder sends. Each builder answers the
 * PDU `req` (whose call_id and contexts it echoes) and returns a malloc()'d
 * PDU of *len bytes, or NULL. */
#ifndef KMSDIAG_TEST_RSP_PDU_H
#define KMSDIAG_TEST_RSP_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "responder.h"

/* A bare 16-byte common header. */
void rsp_pdu_header(uint8_t h[16], uint8_t ptype, uint8_t flags,
                    uint16_t frag_len, uint32_t call_id);
/* bind_ack: ndr bit 1 accepts NDR32, bit 2 NDR64 (ndr 2 is what Windows
 * and vlmcsd do: NDR32 rejected, NDR64 accepted); 0 rejects every context
 * (reason: transfer syntaxes not supported). */
uint8_t *rsp_pdu_bind_ack(const uint8_t *req, size_t rlen, unsigned ndr,
                          int btfn, size_t *len);
uint8_t *rsp_pdu_alter_resp(const uint8_t *req, size_t rlen, size_t *len);
uint8_t *rsp_pdu_bind_nak(const uint8_t *req, size_t rlen, uint16_t reason,
                          size_t *len);
uint8_t *rsp_pdu_fault(const uint8_t *req, size_t rlen, uint32_t status,
                       size_t *len);
/* A response PDU whose stub is a refusal: size 0, NULL pointer, HRESULT. */
uint8_t *rsp_pdu_refusal(const uint8_t *req, size_t rlen, uint32_t hresult,
                         size_t *len);
/* A response PDU carrying a KMS response to the request inside `req`,
 * spoiled as cfg->behaviour says (badmac, badcmid, stale). */
uint8_t *rsp_pdu_kms_response(const uint8_t *req, size_t rlen,
                              const rsp_config_t *cfg, size_t *len);

#endif
