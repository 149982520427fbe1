# dns: KMS discovery through DNS SRV records (c-ares transport, ldns parsing).
target_sources(kmsdiag_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/dns_parse.c
  ${CMAKE_CURRENT_LIST_DIR}/dns_resolv.c
  ${CMAKE_CURRENT_LIST_DIR}/dns_lookup.c
  ${CMAKE_CURRENT_LIST_DIR}/dns_json.c)
target_link_libraries(kmsdiag_obj PUBLIC PkgConfig::CARES PkgConfig::LDNS)
