/* pcap_pdus.h (test only): pull the DCE/RPC PDUs out of a small pcap file
 * of one or more TCP connections (Ethernet/IPv4 or Linux cooked, in-order
 * segments as on loopback). Until the capture module lands this is the
 * tests' own minimal walker; every byte goes through kd_reader_t. */
#ifndef KMSDIAG_TEST_PCAP_PDUS_H
#define KMSDIAG_TEST_PCAP_PDUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct test_pdu {
  uint32_t frame;   /* 1-based frame number of the segment that completed it */
  bool to_server;   /* destination port is the server port */
  uint8_t *data;    /* the whole PDU (malloc'd) */
  size_t len;
} test_pdu_t;

typedef struct test_pdu_list {
  test_pdu_t *pdus;
  size_t n;
  uint32_t frames;      /* frames in the file */
  uint32_t rst_frames;  /* TCP segments with RST set */
} test_pdu_list_t;

/* Returns 0 on success, else prints why on stderr and returns -1. */
int test_pcap_pdus(const char *path, uint16_t server_port, test_pdu_list_t *out);
void test_pdu_list_free(test_pdu_list_t *l);

#endif
