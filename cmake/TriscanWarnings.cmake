# Warning flags for the project's own targets (an INTERFACE target linked privately).
add_library(triscan_warnings INTERFACE)
target_compile_options(triscan_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${TRISCAN_WERROR}>>:-Werror>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${TRISCAN_WERROR}>>:-Werror=all-warnings>)

if(TRISCAN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  # Line tables and function names are all the reports use; -g1 (after the build type's
  # -g) compiles the heaviest TU in 31 s instead of 39 (validation/mpfr/study.cpp, 2 cores
  # of the EPYC) and keeps CI within its 30 minutes. Same code as with -g. -O1 (after the
  # build type's -O2; the level the sanitizers' documentation suggests) halves that TU
  # again (41 -> 21 s on a slower hour of the same machine, session 13, when the whole CI
  # took 1797 s with -O2); the tests run somewhat slower, the checks are the same.
  add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-g1> $<$<COMPILE_LANGUAGE:C,CXX>:-O1>)
  add_link_options(-fsanitize=address,undefined)
endif()
