# Dependencies of a cross build (cmake/toolchain-mingw64.cmake), taken from the build machine's
# Debian packages: CLI11, fmt and nlohmann-json are header-only, and GoogleTest is compiled from
# its sources for the target.
#
# The packages' CMake configs would add /usr/include to the include path, and with it glibc's
# headers, which must never reach a Windows build. So each library's own folder is linked into a
# staging folder of the build tree, and that folder alone is what the targets below point at.

set(GPU_WAITER_HOST_INCLUDE_DIR "/usr/include" CACHE PATH
    "Where the build machine keeps CLI/, fmt/ and nlohmann/ (libcli11-dev, libfmt-dev, nlohmann-json3-dev)")
set(GPU_WAITER_GOOGLETEST_SOURCE_DIR "/usr/src/googletest" CACHE PATH
    "GoogleTest's sources, built for the target (Debian package googletest)")

set(_staged "${CMAKE_BINARY_DIR}/host-headers")
file(MAKE_DIRECTORY "${_staged}")
foreach(_pair "CLI;libcli11-dev" "fmt;libfmt-dev" "nlohmann;nlohmann-json3-dev")
  list(GET _pair 0 _dir)
  list(GET _pair 1 _package)
  if(NOT IS_DIRECTORY "${GPU_WAITER_HOST_INCLUDE_DIR}/${_dir}")
    message(FATAL_ERROR "${GPU_WAITER_HOST_INCLUDE_DIR}/${_dir} is missing: install ${_package}")
  endif()
  file(CREATE_LINK "${GPU_WAITER_HOST_INCLUDE_DIR}/${_dir}" "${_staged}/${_dir}" SYMBOLIC)
endforeach()

# The same target names the packages' own configs define, so the rest of the build reads alike.
# Imported targets' include folders are system folders: their warnings are not ours.
add_library(CLI11::CLI11 INTERFACE IMPORTED)
set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_staged}")

add_library(fmt::fmt-header-only INTERFACE IMPORTED)
set_target_properties(fmt::fmt-header-only PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${_staged}"
  INTERFACE_COMPILE_DEFINITIONS "FMT_HEADER_ONLY=1")

add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_staged}")

if(GPU_WAITER_TESTS)
  if(NOT EXISTS "${GPU_WAITER_GOOGLETEST_SOURCE_DIR}/CMakeLists.txt")
    message(FATAL_ERROR "${GPU_WAITER_GOOGLETEST_SOURCE_DIR} is missing: install googletest")
  endif()
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  # Only what the tests link is built; GoogleTest defines GTest::gtest_main itself.
  add_subdirectory("${GPU_WAITER_GOOGLETEST_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/googletest" EXCLUDE_FROM_ALL)
endif()
