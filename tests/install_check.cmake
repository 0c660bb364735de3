# ctest: `cmake --install` into a scratch prefix puts the binary, the systemd unit (pointing at
# that binary), the example config and the docs where an operator expects them.
set(prefix "${BUILD_DIR}/install-check")
file(REMOVE_RECURSE "${prefix}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc}): ${out}${err}")
endif()


foreach(f sbin/understudy lib/systemd/system/understudy.service share/doc/understudy/README.md
          share/doc/understudy/examples/understudy.yaml
          share/doc/understudy/examples/demo.yaml share/doc/understudy/configuration.md)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "missing after install: ${prefix}/${f}")
  endif()
endforeach()
file(READ "${prefix}/lib/systemd/system/understudy.service" unit)
string(FIND "${unit}" "ExecStart=${prefix}/sbin/understudy -c" found)
if(found EQUAL -1)
  message(FATAL_ERROR "the installed unit does not run the installed binary:\n${unit}")
endif()
execute_process(COMMAND "${prefix}/sbin/understudy" --version OUTPUT_VARIABLE version
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT version MATCHES "^understudy [0-9]+\\.[0-9]+\\.[0-9]+")
  message(FATAL_ERROR "installed binary: --version gave '${version}' (${rc})")
endif()
file(REMOVE_RECURSE "${prefix}")
message(STATUS "install layout OK")
