# cmake --install: headers, the library, a CMake package (find_package(triscan CONFIG)
# -> triscan::triscan) and a pkg-config file (triscan.pc).
install(TARGETS triscan EXPORT triscanTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/triscan DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT triscanTargets NAMESPACE triscan:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/triscan)

set(TRISCAN_CONFIG_WITH_MPFR ${TRISCAN_WITH_MPFR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/triscanConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/triscanConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/triscan)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/triscanConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/triscanConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/triscanConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/triscan)

set(TRISCAN_PC_REQUIRES "")
if(TRISCAN_WITH_MPFR)
  set(TRISCAN_PC_REQUIRES "mpfr gmp")
  set(TRISCAN_PC_CFLAGS "-DTRISCAN_HAVE_MPFR=1")
endif()
# Relocatable: the prefix is found from the .pc file's own folder (${pcfiledir}).
file(RELATIVE_PATH TRISCAN_PC_UP /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" TRISCAN_PC_UP "${TRISCAN_PC_UP}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/triscan.pc.in ${CMAKE_CURRENT_BINARY_DIR}/triscan.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/triscan.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The C API (include/triscan/triscan.h, installed with the headers above): its CPU
# functions are in libtriscan (triscan::triscan, triscan.pc), its GPU functions in
# libtriscan_gpu, exported as triscan::gpu (DESIGN.md) and described by triscan-gpu.pc.
set_target_properties(triscan_gpu PROPERTIES EXPORT_NAME gpu)
configure_file(${CMAKE_CURRENT_LIST_DIR}/triscan-gpu.pc.in ${CMAKE_CURRENT_BINARY_DIR}/triscan-gpu.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/triscan-gpu.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
