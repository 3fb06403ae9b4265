# Every dependency is a Debian package found on the system; nothing is vendored.
# Each is wrapped in an imported target triscan::<name>.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

function(triscan_require_pkg target module debian_package)
  pkg_check_modules(_TRISCAN_${target} IMPORTED_TARGET GLOBAL ${module})
  if(NOT _TRISCAN_${target}_FOUND)
    message(FATAL_ERROR "triscan: '${module}' not found. Install it with: apt-get install ${debian_package}")
  endif()
  add_library(triscan::${target} INTERFACE IMPORTED GLOBAL)
  target_link_libraries(triscan::${target} INTERFACE PkgConfig::_TRISCAN_${target})
endfunction()

triscan_require_pkg(blas openblas libopenblas-dev)
triscan_require_pkg(lapacke lapacke liblapacke-dev)
if(TRISCAN_WITH_MPFR)
  triscan_require_pkg(mpfr "mpfr;gmp" "libmpfr-dev libgmp-dev")
  find_package(Boost 1.74 REQUIRED)  # Boost.Multiprecision (headers only)
  target_link_libraries(triscan::mpfr INTERFACE Boost::headers)
endif()
