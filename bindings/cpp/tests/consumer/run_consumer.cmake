# ctest driver: configure, build and run the consumer project against the build-tree package.
# Variables: SOURCE_DIR BINARY_DIR PACKAGE_DIR HONEYHIVE_LIBRARY GENERATOR CXX_COMPILER
file(REMOVE_RECURSE "${BINARY_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
          "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
          "-Dhoneyhive_DIR=${PACKAGE_DIR}" "-DHONEYHIVE_LIBRARY=${HONEYHIVE_LIBRARY}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer failed (${rc})")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY_DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer failed (${rc})")
endif()
# No LD_LIBRARY_PATH: the executable must find libhoneyhive.so through its RPATH.
execute_process(COMMAND "${CMAKE_COMMAND}" -E env --unset=LD_LIBRARY_PATH "${BINARY_DIR}/consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "consumer: ${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer exited with ${rc}")
endif()
