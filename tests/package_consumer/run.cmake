# Installs the build tree into a fresh prefix, then configures, builds and
# runs the outside consumer project against it.
# Usage: cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -P run.cmake
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
foreach(header symgraph/symgraph.hpp symgraph/core/graph.hpp symgraph/ops/relu.hpp symgraph/tools/cli.hpp)
  if(NOT EXISTS ${WORK_DIR}/prefix/include/${header})
    message(FATAL_ERROR "installed tree lacks include/${header}")
  endif()
endforeach()
file(GLOB_RECURSE version_file ${WORK_DIR}/prefix/*/symgraphConfigVersion.cmake)
if(NOT version_file)
  message(FATAL_ERROR "installed tree lacks symgraphConfigVersion.cmake")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package_consumer -B ${WORK_DIR}/build
  -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()

# The project's op in the command: linked into its own copy, and loaded by
# the installed one.
set(want "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [], \"data\": 8.0}], \"grads\": {\"x\": {\"dtype\": \"float64\", \"shape\": [], \"data\": 12.0}}}\n")
foreach(command IN ITEMS "${WORK_DIR}/build/consumer_command"
                         "${WORK_DIR}/prefix/bin/symgraph;--load;${WORK_DIR}/build/libcube.so")
  list(POP_FRONT command program)
  execute_process(COMMAND ${program} eval ${command} -e "consumer_cube(x)" --input x=2 --grad x
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc OR NOT out STREQUAL want)
    message(FATAL_ERROR "${program} ${command}: status ${rc}, output '${out}', error '${err}'; want '${want}'")
  endif()
endforeach()

# The project's own copy of the command loads a module (symgraph::cli gives
# it the whole library with its symbols exported): consumer_square, whose
# pass rewrites cube(x) * cube(x); d/dx x^6 = 6 x^5.
execute_process(COMMAND ${WORK_DIR}/build/consumer_command eval --load ${WORK_DIR}/build/libsquare.so
  -e "consumer_cube(x) * consumer_cube(x)" --input x=2 --grad x --trace
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(want "{\"outputs\": [{\"dtype\": \"float64\", \"shape\": [], \"data\": 64.0}], \"grads\": {\"x\": {\"dtype\": \"float64\", \"shape\": [], \"data\": 192.0}}}\n")
if(rc OR NOT out STREQUAL want OR NOT err MATCHES "rewrite consumer-square mul-to-square")
  message(FATAL_ERROR "consumer_command --load libsquare.so: status ${rc}, output '${out}', error '${err}'; want '${want}'")
endif()
# A module whose op the program has already: one error line, status 1.
execute_process(COMMAND ${WORK_DIR}/build/consumer_command print --load ${WORK_DIR}/build/libcube.so -e x
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT out STREQUAL "" OR NOT err MATCHES "^error: extension '.*libcube.so': register_op: an op named 'consumer_cube' is already registered \\(RegisterOp at cube.cpp:[0-9]+\\)\n$")
  message(FATAL_ERROR "consumer_command --load libcube.so: status ${rc}, output '${out}', error '${err}'")
endif()
