# Notifier tests: a real HTTP receiver on loopback started by the tests themselves.
# Include from tests/CMakeLists.txt after the understudy_unit_test() function is defined:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/notify_tests.cmake)
# (understudy_unit_test globs tests/unit/notify/*.cc into unit_notify, labelled "unit".)
if(NOT TARGET unit_notify)
  understudy_unit_test(notify understudy_notify)
endif()
# The payload and webhook headers are private to the module (src/notify/); the tests include
# them by file name.
target_include_directories(unit_notify PRIVATE ${PROJECT_SOURCE_DIR}/src/notify)
target_link_libraries(unit_notify PRIVATE nlohmann_json::nlohmann_json spdlog::spdlog
  Boost::headers Threads::Threads)
