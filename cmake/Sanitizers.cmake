# KMSDIAG_SANITIZE=address,undefined applies to every target built here.
if(KMSDIAG_SANITIZE)
  set(_san "-fsanitize=${KMSDIAG_SANITIZE}")
  add_compile_options(${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(${_san})
endif()
