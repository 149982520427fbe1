# slmgr: reader of pasted `slmgr /dlv` text (kmsdiag_slmgr.h).
target_sources(kmsdiag_obj PRIVATE ${CMAKE_CURRENT_LIST_DIR}/slmgr.c)
