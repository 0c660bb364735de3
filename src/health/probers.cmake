# HTTP(S) and TCP probers for the health module (DESIGN.md "Health checks and failover").
# Include from the top-level CMakeLists.txt *after* `add_library(understudy_health ...)`:
#   include(src/health/probers.cmake)
find_package(CURL 7.88 REQUIRED)
target_sources(understudy_health PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/socket_error.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_prober.cc
  ${CMAKE_CURRENT_LIST_DIR}/tcp_prober.cc
  ${CMAKE_CURRENT_LIST_DIR}/asio_prober.cc)
# Boost is PUBLIC: the prober headers (include/health/understudy/health/) take a
# boost::asio::io_context&.
target_link_libraries(understudy_health PUBLIC Boost::headers Threads::Threads
  PRIVATE understudy_common understudy_http CURL::libcurl)
