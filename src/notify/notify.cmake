# Webhook notifications (issue 5 "Notifications"): health transitions, answer changes and failed
# reloads POSTed as JSON (generic or PagerDuty Events v2) through understudy_http's CurlMulti.
# Include from the top-level CMakeLists.txt after understudy_http and understudy_config exist:
#   include(src/notify/notify.cmake)
# It calls no failover code, but its public header includes failover/events.h (a plain header the
# sink implements), so it links understudy_failover PUBLIC like any module whose header it includes.
find_package(CURL 7.88 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
add_library(understudy_notify STATIC
  ${CMAKE_CURRENT_LIST_DIR}/notifier.cc
  ${CMAKE_CURRENT_LIST_DIR}/webhook.cc
  ${CMAKE_CURRENT_LIST_DIR}/payload.cc)
target_include_directories(understudy_notify PUBLIC ${PROJECT_SOURCE_DIR}/include/notify)
target_link_libraries(understudy_notify
  PUBLIC understudy_config understudy_failover Boost::headers
  PRIVATE understudy_http nlohmann_json::nlohmann_json spdlog::spdlog CURL::libcurl)
