/* fuzz_capture_reasm.c: the TCP reassembler, the RPC consumer and the
 * diagnosis, fed a scripted TCP conversation on port 1688.
 *
 * Input: records of [flags u8][seq offset u16 BE][length u8][bytes].
 * flags bit 0: direction (1 = server to client); bits 1..5: TCP flags
 * FIN, SYN, RST, PSH, ACK (shifted left by 1). The sequence number is the
 * direction's base plus the offset, so segments can repeat, overlap, skip
 * and arrive out of order. */
#include <stdint.h>
#include <string.h>

#include <kmsdiag/kmsdiag_capture.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(const kmsdiag_capture_event_t *ev, void *ud) {
  (void)ud;
  /* touch what an event borrows */
  if (ev->type == KMSDIAG_CAPEV_EXCHANGE) {
    volatile uint8_t x = 0;
    for (size_t i = 0; i < ev->u.exchange.request_len; i++)
      x ^= ev->u.exchange.request[i];
    for (size_t i = 0; i < ev->u.exchange.response_len; i++)
      x ^= ev->u.exchange.response[i];
    (void)x;
  } else if (ev->type == KMSDIAG_CAPEV_DIAGNOSIS) {
    volatile size_t n = strlen(ev->u.diagnosis.message);
    (void)n;
  } else if (ev->type == KMSDIAG_CAPEV_NOTE) {
    volatile size_t n = strlen(ev->u.note.message);
    (void)n;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kmsdiag_capture_t *cap;
  if (kmsdiag_capture_new(&cap) != KMSDIAG_OK)
    return 0;
  kmsdiag_capture_limits_t lim = {0};
  lim.max_flow_bytes = 4096; /* small, so the limits are reached */
  (void)kmsdiag_capture_set_limits(cap, &lim);
  kmsdiag_capture_set_callback(cap, sink, NULL);
  uint8_t frame[40 + 255];
  size_t off = 0;
  int64_t t = 1700000000;
  for (int n = 0; off + 4 <= size && n < 4096; n++) {
    uint8_t fl = data[off];
    uint16_t so = (uint16_t)(data[off + 1] << 8 | data[off + 2]);
    uint8_t len = data[off + 3];
    off += 4;
    if (len > size - off)
      len = (uint8_t)(size - off);
    bool srv = fl & 1;
    uint32_t seq = (srv ? 0x80000000u : 0xFFFFF000u) + so;
    size_t tot = 40 + len;
    memset(frame, 0, 40);
    frame[0] = 0x45;
    frame[2] = (uint8_t)(tot >> 8);
    frame[3] = (uint8_t)tot;
    frame[8] = 64;
    frame[9] = 6;
    uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
    memcpy(frame + 12, srv ? b : a, 4);
    memcpy(frame + 16, srv ? a : b, 4);
    uint16_t sp = srv ? 1688 : 49152, dp = srv ? 49152 : 1688;
    frame[20] = (uint8_t)(sp >> 8);
    frame[21] = (uint8_t)sp;
    frame[22] = (uint8_t)(dp >> 8);
    frame[23] = (uint8_t)dp;
    frame[24] = (uint8_t)(seq >> 24);
    frame[25] = (uint8_t)(seq >> 16);
    frame[26] = (uint8_t)(seq >> 8);
    frame[27] = (uint8_t)seq;
    frame[32] = 0x50;
    frame[33] = (uint8_t)((fl >> 1) & 0x1F);
    memcpy(frame + 40, data + off, len);
    off += len;
    kmsdiag_frame_t f = {12, t, 0, (uint32_t)tot, (uint32_t)tot, frame};
    t += (fl & 0x80) ? 200 : 0; /* sometimes jump past the idle timeout */
    (void)kmsdiag_capture_feed(cap, &f);
  }
  (void)kmsdiag_capture_finish(cap);
  kmsdiag_capture_free(cap);
  return 0;
}
