# Shared code of the rapl-powercap, rapl-perf, rapl-msr and hwmon sources,
# folded into wattlab_meter by src/meter/CMakeLists.txt.
list(APPEND WATTLAB_METER_EXTRA_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/rapl_common.cc)
