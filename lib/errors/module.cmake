# errors: the error-code catalogue (one table), code decoding and parsing.
target_sources(kmsdiag_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/catalogue.c
  ${CMAKE_CURRENT_LIST_DIR}/errors.c)
