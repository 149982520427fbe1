/* fuzz_capture_pcap.c: a whole capture file (pcap or pcapng) in memory
 * through libpcap and the analyser, as kms-pcap reads it. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen (libFuzzer builds do not
                                   get the project's definitions) */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <kmsdiag/kmsdiag_capture.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(const kmsdiag_capture_event_t *ev, void *ud) {
  (void)ev;
  (void)ud;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[] = "/tmp/fuzz-capture-pcap-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return 0;
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    close(fd);
    unlink(path);
    return 0;
  }
  fwrite(data, 1, size, f);
  fclose(f);
  kmsdiag_pcap_source_t *src = NULL;
  char err[256];
  if (kmsdiag_pcap_open_file(path, NULL, &src, err, sizeof err) ==
      KMSDIAG_OK) {
    kmsdiag_capture_t *cap;
    if (kmsdiag_capture_new(&cap) == KMSDIAG_OK) {
      (void)kmsdiag_capture_add_port(cap, 16888);
      kmsdiag_capture_set_callback(cap, sink, NULL);
      (void)kmsdiag_pcap_run(src, cap, 100000, NULL, NULL, err, sizeof err);
      (void)kmsdiag_capture_finish(cap);
      kmsdiag_capture_free(cap);
    }
    kmsdiag_pcap_source_close(src);
  }
  unlink(path);
  return 0;
}
