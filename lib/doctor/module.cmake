# doctor: the check engine of kms-doctor (kmsdiag_doctor.h): slmgr text,
# resolver, SRV discovery, probes, product rules -> checks and a verdict.
target_sources(kmsdiag_obj PRIVATE ${CMAKE_CURRENT_LIST_DIR}/doctor.c)
