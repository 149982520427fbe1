# capture: pcap/pcapng and live input, link/IP/TCP layers, TCP reassembly,
# flow table, KMS/DNS event extraction and the per-client diagnosis.
target_sources(kmsdiag_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/cap_layers.c
  ${CMAKE_CURRENT_LIST_DIR}/cap_stream.c
  ${CMAKE_CURRENT_LIST_DIR}/cap_rpc.c
  ${CMAKE_CURRENT_LIST_DIR}/cap_dns.c
  ${CMAKE_CURRENT_LIST_DIR}/cap_diag.c
  ${CMAKE_CURRENT_LIST_DIR}/capture.c
  ${CMAKE_CURRENT_LIST_DIR}/cap_pcap.c)
target_link_libraries(kmsdiag_obj PUBLIC PkgConfig::PCAP)
