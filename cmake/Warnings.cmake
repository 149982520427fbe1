# Compiler warnings for kmsdiag's own targets (not for imported ones).
set(KMSDIAG_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes
    -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings
    -Wundef -Wnull-dereference -Wimplicit-fallthrough
    # snprintf into fixed buffers is how messages are bounded on purpose
    -Wno-format-truncation)
if(KMSDIAG_WERROR)
  list(APPEND KMSDIAG_WARNINGS -Werror)
endif()

# kmsdiag_target_setup(TARGET): warnings and the common definitions.
function(kmsdiag_target_setup tgt)
  target_compile_options(${tgt} PRIVATE ${KMSDIAG_WARNINGS})
  target_compile_definitions(${tgt} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
endfunction()
