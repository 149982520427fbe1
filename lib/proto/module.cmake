# proto: the KMS wire format: DCE/RPC PDUs, NDR stubs of opnum 0, KMS
# requests and responses V4/V5/V6 and their crypto (own Rijndael core for
# the non-standard V4/V6 variants, OpenSSL for AES-128, SHA-256, HMAC).
target_sources(kmsdiag_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/rpc.c
  ${CMAKE_CURRENT_LIST_DIR}/rpc_json.c
  ${CMAKE_CURRENT_LIST_DIR}/rijndael.c
  ${CMAKE_CURRENT_LIST_DIR}/kms_crypto.c
  ${CMAKE_CURRENT_LIST_DIR}/kms.c
  ${CMAKE_CURRENT_LIST_DIR}/kms_json.c)
target_link_libraries(kmsdiag_obj PUBLIC PkgConfig::CRYPTO)
