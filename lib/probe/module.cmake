# probe: probe KMS hosts stage by stage (tcp, rpc, kms) from one event loop
# driving non-blocking sockets and c-ares; the stable CMID state file.
target_sources(kmsdiag_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/probe.c
  ${CMAKE_CURRENT_LIST_DIR}/probe_run.c
  ${CMAKE_CURRENT_LIST_DIR}/probe_rpc.c
  ${CMAKE_CURRENT_LIST_DIR}/probe_kms.c
  ${CMAKE_CURRENT_LIST_DIR}/cmid.c)
target_link_libraries(kmsdiag_obj PUBLIC PkgConfig::CARES)
