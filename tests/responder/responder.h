/* responder.h: the behaviours of the test KMS responder. */
#ifndef KMSDIAG_TEST_RESPONDER_H
#define KMSDIAG_TEST_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rsp_behaviour {
  RSP_NORMAL = 0,  /* bind_ack, then a valid KMS response */
  RSP_HRESULT,     /* bind_ack, then a refusal stub carrying hr= */
  RSP_BINDNAK,     /* bind_nak with reason= */
  RSP_BINDREJECT,  /* bind_ack rejecting every context */
  RSP_FAULT,       /* fault PDU status= at=bind|request */
  RSP_CLOSE,       /* close right after accept */
  RSP_SILENT,      /* accept, read, never answer */
  RSP_SLOW,        /* the bind_ack one byte every interval= ms */
  RSP_GARBAGE,     /* bytes that are not RPC */
  RSP_HUGEFRAG,    /* an RPC header announcing an absurd frag_len */
  RSP_BADMAC,      /* a response whose MAC/hash/HMAC does not verify */
  RSP_BADCMID,     /* a response echoing another CMID */
  RSP_STALE,       /* a response replayed from a request hours ago */
  RSP_STREAM       /* the bytes of file=, chunk= bytes every interval= ms */
} rsp_behaviour_t;

typedef struct rsp_config {
  rsp_behaviour_t behaviour;
  char epid[64];
  uint8_t hwid[8];
  uint32_t count;       /* 0: 2 x the request's N-policy, like a busy host */
  uint32_t act, renew;  /* minutes */
  uint32_t hresult;
  uint16_t nak_reason;
  uint32_t fault_status;
  bool at_request;      /* at=request: misbehave at the request, not the
                           bind (fault, close, silent, slow, garbage,
                           hugefrag) */
  unsigned delay_ms;    /* hold every answer this long */
  unsigned interval_ms; /* slow: pause between bytes */
  unsigned ndr;         /* 1 NDR32, 2 NDR64 (default, as Windows), 3 both */
  bool btfn;
  unsigned stale_s;     /* stale: how old the replayed response is */
  bool interval_set;    /* interval= given */
  /* stream: the bytes to send (loaded from file=, freed by
   * rsp_config_free_all()), bytes per send (0 all at once), and whether to
   * close after them (then=close) or stay silent */
  const uint8_t *stream;
  size_t stream_len, chunk;
  bool then_close;
} rsp_config_t;

typedef struct rsp_conn rsp_conn_t; /* opaque: a connection of main() */

const char *rsp_behaviour_name(rsp_behaviour_t b);
/* Parse "BEHAVIOUR[,KEY=VALUE...]"; false with a message in err. */
bool rsp_config_parse(const char *text, rsp_config_t *out, char *err,
                      size_t errsz);
/* Free what rsp_config_parse loaded (stream files), at exit. */
void rsp_config_free_all(void);
/* Whether b misbehaves at one PDU (the bind, or the request with
 * at=request). */
bool rsp_hostile(rsp_behaviour_t b);
/* Answer one whole PDU; false closes the connection. */
bool rsp_handle_pdu(rsp_conn_t *c, const rsp_config_t *cfg,
                    const uint8_t *pdu, size_t len);

/* From main(): queue output, pace it, close after it, stop answering. */
void rsp_queue(rsp_conn_t *c, const uint8_t *data, size_t len);
void rsp_pace(rsp_conn_t *c, unsigned delay_ms, size_t chunk,
              unsigned chunk_ms);
void rsp_close_after(rsp_conn_t *c);
void rsp_hold(rsp_conn_t *c);
/* Requests answered so far on this connection (post-increment). */
unsigned rsp_requests(rsp_conn_t *c);
uint64_t rsp_now_ms(void);
/* Append one line about a decoded request to the --log file, if any:
 * "request version=6 cmid=GUID workstation=NAME" (the name hex-escaped
 * outside printable ASCII). */
void rsp_log_request(unsigned major, const char *cmid, const char *ws);

#endif
