# Per-sample cost of the rapl-powercap, rapl-msr and hwmon sources on fixture
# trees, against the bare pread floor. Included from bench/CMakeLists.txt.
if(NOT TARGET benchmark::benchmark)
  find_package(benchmark REQUIRED)  # Debian: libbenchmark-dev
endif()
add_executable(bench_sources_rapl ${CMAKE_CURRENT_LIST_DIR}/bench_sources_rapl.cc)
target_link_libraries(bench_sources_rapl PRIVATE wattlab::meter wattlab::platform benchmark::benchmark)
target_compile_definitions(bench_sources_rapl PRIVATE
  WATTLAB_RAPL_FIXTURES_DIR="${CMAKE_CURRENT_LIST_DIR}/../tests/fixtures")
