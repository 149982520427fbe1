/* fuzz_capture_layers.c: one frame through the link/IPv4/IPv6/TCP/UDP
 * decoder. The first input byte picks the link type. */
#include <stddef.h>
#include <stdint.h>

#include "capture/cap_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int links[] = {1, 0, 108, 12, 14, 101, 228, 229, 113, 276};
  if (size < 1)
    return 0;
  int lt = links[data[0] % (sizeof links / sizeof links[0])];
  kd_pkt_t p;
  int st = kd_cap_decode(lt, data + 1, size - 1, &p);
  if (st == 0 && p.paylen) {
    /* the payload lies inside the frame */
    if (p.payload < data + 1 || p.payload + p.paylen > data + size)
      __builtin_trap();
    volatile uint8_t x = p.payload[p.paylen - 1];
    (void)x;
  }
  return 0;
}
