# Cross build for 64-bit Windows with Debian's mingw-w64 (package mingw-w64):
#   cmake -S . -B build-win -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake
# tools/test-windows builds this way and runs the unit tests under wine.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(_mingw x86_64-w64-mingw32)
# The "posix" thread model: GCC 12's "win32" one lacks std::mutex and std::thread.
set(CMAKE_C_COMPILER ${_mingw}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_mingw}-g++-posix)
set(CMAKE_RC_COMPILER ${_mingw}-windres)

# Libraries and headers come from the mingw sysroot only, never from the build machine's
# /usr/include (cmake/CrossDependencies.cmake stages the header-only libraries on its own).
set(CMAKE_FIND_ROOT_PATH /usr/${_mingw})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained executables and DLLs: no libstdc++, libgcc or winpthread DLLs to ship with them.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")

# Lets CTest (and anything else that runs a built program) go through wine when it is installed.
find_program(GPU_WAITER_WINE NAMES wine wine64)
if(GPU_WAITER_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${GPU_WAITER_WINE})
endif()
