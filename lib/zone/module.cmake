# zone: KMS SRV records in DNS master files, offline and live (ldns).
target_sources(kmsdiag_obj PRIVATE ${CMAKE_CURRENT_LIST_DIR}/zonecheck.c)
target_link_libraries(kmsdiag_obj PUBLIC PkgConfig::LDNS)
