# products: application IDs, KMS counted IDs, editions with GVLKs, CSVLK
# host key groups, host OS builds; the ePID parser and the "can this host
# activate that product" check.
target_sources(kmsdiag_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/tables.c
  ${CMAKE_CURRENT_LIST_DIR}/products.c
  ${CMAKE_CURRENT_LIST_DIR}/epid.c)
