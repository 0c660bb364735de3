# Prober tests: real HTTP/HTTPS/TCP servers on loopback started by the tests themselves.
# Include from tests/CMakeLists.txt after `understudy_unit_test(health understudy_health)` (which
# globs tests/unit/health/*.cc, so prober_*_test.cc join unit_health):
#   include(${CMAKE_CURRENT_SOURCE_DIR}/health_probers.cmake)
find_package(OpenSSL REQUIRED)  # the HTTPS test server (boost::asio::ssl)
if(NOT TARGET unit_health)
  understudy_unit_test(health understudy_health)
endif()
target_link_libraries(unit_health PRIVATE OpenSSL::SSL OpenSSL::Crypto Boost::headers
  Threads::Threads)
