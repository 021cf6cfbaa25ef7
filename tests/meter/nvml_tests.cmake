# NVML / estimate / procfs tests, folded into meter_test by tests/meter/CMakeLists.txt
# (owned by the meter core), which include()s this file and then:
#   - adds ${WATTLAB_NVML_TEST_SOURCES} to meter_test,
#   - target_compile_definitions(meter_test PRIVATE ${WATTLAB_FAKE_NVML_DEFINE}),
#   - add_dependencies(meter_test fake_nvml) so the fake is built first.
#
# fake_nvml: a stand-in libnvidia-ml exporting the real NVML symbol names,
# steered by FAKE_NVML_* environment variables (see fake_nvml.c). The tests
# load it through the same Env::DlOpen path as the real library. It links
# nothing of wattlab.
add_library(fake_nvml SHARED ${CMAKE_CURRENT_LIST_DIR}/fake_nvml.c)
set_target_properties(fake_nvml PROPERTIES OUTPUT_NAME nvidia-ml-fake C_VISIBILITY_PRESET default)

set(WATTLAB_NVML_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/nvml_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/estimate_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/procfs_test.cc
)
# Two definitions: the fake's path, and the fixtures folder these tests read
# (their own name, so it cannot clash with meter_test's other definitions).
set(WATTLAB_FAKE_NVML_DEFINE
  FAKE_NVML_PATH="$<TARGET_FILE:fake_nvml>"
  NVML_TEST_FIXTURES="${CMAKE_CURRENT_LIST_DIR}/../fixtures"
)
