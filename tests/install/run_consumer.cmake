# cmake -P script: install triscan into WORK_DIR/prefix, then configure, build and run
# the consumer project with find_package(triscan CONFIG), and compile it again with
# the flags pkg-config gives; the same for the C consumer (the C API) with
# triscan-gpu.pc. Fails on the first step that fails.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix})
step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step(${WORK_DIR}/build/consumer)
message(STATUS "consumer (CMake package): ${step_output}")
step(${WORK_DIR}/build/consumer_c)
message(STATUS "C consumer (CMake package): ${step_output}")

set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
execute_process(COMMAND pkg-config --cflags --libs triscan OUTPUT_VARIABLE flags RESULT_VARIABLE rc
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not find triscan.pc under ${prefix}/lib/pkgconfig")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
step(${CXX} -std=c++17 ${SOURCE_DIR}/consumer.cpp ${flags} -Wl,-rpath,${prefix}/lib -o ${WORK_DIR}/consumer_pc)
step(${WORK_DIR}/consumer_pc)
message(STATUS "consumer (pkg-config): ${step_output}")

# The C API through pkg-config: triscan-gpu.pc requires triscan.pc.
execute_process(COMMAND pkg-config --cflags --libs triscan-gpu OUTPUT_VARIABLE cflags RESULT_VARIABLE rc
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not find triscan-gpu.pc under ${prefix}/lib/pkgconfig")
endif()
separate_arguments(cflags UNIX_COMMAND "${cflags}")
step(${CC} -std=c99 -Wall -Wextra -pedantic ${SOURCE_DIR}/consumer_c.c ${cflags} -Wl,-rpath,${prefix}/lib
     -o ${WORK_DIR}/consumer_c_pc)
step(${WORK_DIR}/consumer_c_pc)
message(STATUS "C consumer (pkg-config): ${step_output}")
