# Helpers so that each component's CMakeLists.txt is a few lines.

set(IMGPIPE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
if(IMGPIPE_WERROR)
  list(APPEND IMGPIPE_WARNINGS -Werror)
  # GCC 13/14 (Debian 13) report -Wmaybe-uninitialized inside libstdc++'s
  # std::variant<std::function> copy at -O3, a known false positive; it stays
  # a warning there, every other warning stays an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 13)
    list(APPEND IMGPIPE_WARNINGS -Wno-error=maybe-uninitialized)
  endif()
endif()

if(IMGPIPE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "IMGPIPE_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  # Coverage feedback from every imgpipe library, not only from the harness.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
elseif(IMGPIPE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# imgpipe_component(<name> SOURCES ... [DEPS ...])
# Creates the static library imgpipe_<name>; headers are included as "<name>/x.h".
function(imgpipe_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(imgpipe_${name} STATIC ${ARG_SOURCES})
  target_include_directories(imgpipe_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(imgpipe_${name} PRIVATE ${IMGPIPE_WARNINGS})
  target_link_libraries(imgpipe_${name} PUBLIC ${ARG_DEPS})
endfunction()

# imgpipe_test(<name> SOURCES ... [DEPS ...] [LABELS ...])
# A GoogleTest binary; each TEST becomes one ctest case carrying LABELS
# ("unit" by default, "integration" for tests that need the local stack).
function(imgpipe_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_options(${name} PRIVATE ${IMGPIPE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  set(test_environment "")
  if(IMGPIPE_SANITIZE)
    set(test_environment "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp")
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 900
                       ENVIRONMENT "${test_environment}" DISCOVERY_TIMEOUT 30)
endfunction()

include(GoogleTest)

# imgpipe_fuzzer(<name> SOURCES ... [DEPS ...])
# A libFuzzer binary (IMGPIPE_FUZZ builds only), part of the `fuzzers` target.
function(imgpipe_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_options(${name} PRIVATE ${IMGPIPE_WARNINGS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  add_dependencies(fuzzers ${name})
endfunction()
