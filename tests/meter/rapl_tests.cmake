# Tests of the rapl-powercap, rapl-perf, rapl-msr and hwmon sources.
#
# meter-core's tests/meter/CMakeLists.txt folds these files into meter_test
# (by name, or through WATTLAB_RAPL_TEST_SOURCES). A standalone `rapl_test`
# binary is made only when WATTLAB_RAPL_STANDALONE is set (the RAPL helper's
# private build), so the same tests are never registered twice.
set(WATTLAB_RAPL_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/powercap_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/perf_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/msr_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hwmon_test.cc
)
if(WATTLAB_RAPL_STANDALONE)
  add_executable(rapl_test ${WATTLAB_RAPL_TEST_SOURCES})
  target_link_libraries(rapl_test PRIVATE wattlab::meter GTest::gtest_main)
  gtest_discover_tests(rapl_test)
endif()
