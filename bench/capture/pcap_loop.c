/* pcap_loop.c: the practical limit: a bare libpcap read loop that touches
 * every frame (sums its bytes) and does nothing else.
 *
 *   pcap_loop FILE */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv) {
  char eb[PCAP_ERRBUF_SIZE];
  if (argc != 2) {
    fprintf(stderr, "usage: pcap_loop FILE\n");
    return 2;
  }
  pcap_t *p = pcap_open_offline(argv[1], eb);
  if (!p) {
    fprintf(stderr, "pcap_loop: %s\n", eb);
    return 2;
  }
  struct pcap_pkthdr *h;
  const u_char *d;
  uint64_t n = 0, bytes = 0, sum = 0;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
    n++;
    bytes += h->caplen;
    if (h->caplen)
      sum += d[h->caplen - 1];
  }
  printf("%llu frames, %llu bytes (checksum %llu)\n", (unsigned long long)n,
         (unsigned long long)bytes, (unsigned long long)sum);
  pcap_close(p);
  return rc == PCAP_ERROR ? 1 : 0;
}
