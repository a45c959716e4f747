# Installation of everything but the binary (src/CMakeLists.txt installs that), and CPack:
# a Debian package and a plain .tar.gz. Release packages are built by tools/test-package with
# -DCMAKE_BUILD_TYPE=Release -DGPU_WAITER_STATIC_RUNTIME=ON -DGPU_WAITER_TESTS=OFF, so that the
# binary needs nothing but the C library (and, at run time, the NVIDIA driver).
include(GNUInstallDirs)

set(GPU_WAITER_PACKAGE_MAINTAINER "gpu-waiter maintainers <maintainers@gpu-waiter.invalid>"
    CACHE STRING "The Maintainer field of the Debian package")

set(_gw_packaging ${PROJECT_SOURCE_DIR}/packaging)
set(_gw_generated ${PROJECT_BINARY_DIR}/packaging)

if(UNIX)
  # Debian policy (and lintian) wants manual pages and larger documents compressed with
  # gzip -9n: no file name or time stamp inside, so the package is reproducible.
  find_program(GZIP_EXECUTABLE gzip REQUIRED)
  function(gpu_waiter_gzip source name)
    add_custom_command(
      OUTPUT ${_gw_generated}/${name}.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_gw_generated}
      COMMAND ${CMAKE_COMMAND} -E copy ${source} ${_gw_generated}/${name}
      COMMAND ${GZIP_EXECUTABLE} -n -9 -f ${_gw_generated}/${name}
      DEPENDS ${source}
      COMMENT "Compressing ${name}"
      VERBATIM)
  endfunction()
  # A native Debian package carries a changelog.gz; the changes themselves are in the project's
  # history. SOURCE_DATE_EPOCH, when set, fixes its date (string(TIMESTAMP) honours it).
  string(TIMESTAMP GPU_WAITER_PACKAGE_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
  configure_file(${_gw_packaging}/changelog.in ${_gw_generated}/changelog.in @ONLY)

  gpu_waiter_gzip(${_gw_packaging}/gpu-waiter.1 gpu-waiter.1)
  gpu_waiter_gzip(${PROJECT_SOURCE_DIR}/README.md README.md)
  gpu_waiter_gzip(${_gw_generated}/changelog.in changelog)
  add_custom_target(gpu-waiter-docs ALL DEPENDS
    ${_gw_generated}/gpu-waiter.1.gz ${_gw_generated}/README.md.gz ${_gw_generated}/changelog.gz)

  install(FILES ${_gw_generated}/gpu-waiter.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES ${_gw_packaging}/completions/gpu-waiter.bash
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME gpu-waiter)
  install(FILES ${_gw_packaging}/completions/_gpu-waiter
          DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
  install(FILES ${_gw_packaging}/completions/gpu-waiter.fish
          DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
  # tmpfiles.d lives under /usr/lib whatever the prefix's lib dir is called.
  install(FILES ${_gw_packaging}/tmpfiles.conf DESTINATION lib/tmpfiles.d RENAME gpu-waiter.conf)
  install(FILES ${_gw_packaging}/copyright ${_gw_generated}/README.md.gz
                ${_gw_generated}/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()

set(CPACK_PACKAGE_NAME gpu-waiter)
set(CPACK_PACKAGE_VENDOR "the gpu-waiter authors")
set(CPACK_PACKAGE_CONTACT "${GPU_WAITER_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "wait for free NVIDIA GPUs, hold them, and run a command on them")
# Debian wants the extended description in lines of under 80 characters; CPack keeps the breaks.
set(CPACK_PACKAGE_DESCRIPTION [=[
gpu-waiter waits until enough NVIDIA GPUs are free on a shared machine
without a batch scheduler, locks them and holds some of their memory so
that nobody else takes them, and runs a command on them with
CUDA_VISIBLE_DEVICES set. Waiters on one machine are served first come,
first served, across all its users.

It needs the NVIDIA driver at run time (libnvidia-ml.so.1 and
libcuda.so.1), which it loads when it starts. The driver is not a
dependency of this package: on most GPU servers it is not installed from
Debian packages.]=])
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(CPACK_GENERATOR "DEB;TGZ")
elseif(WIN32)
  set(CPACK_GENERATOR ZIP)
else()
  set(CPACK_GENERATOR TGZ)
endif()

string(TOLOWER "${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR}" _gw_platform)
set(CPACK_PACKAGE_FILE_NAME "gpu-waiter-${PROJECT_VERSION}-${_gw_platform}")

set(CPACK_DEBIAN_PACKAGE_NAME gpu-waiter)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/postinst)
# No Recommends or Suggests: the NVIDIA driver is usually installed from NVIDIA's own packages or
# installer, so naming a Debian driver package would mislead.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  find_program(GPU_WAITER_DPKG_SHLIBDEPS dpkg-shlibdeps)
  if(GPU_WAITER_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  else()
    # Without dpkg-shlibdeps: the glibc the binary was built against, the newest whose symbols it
    # can use (on Debian 12, the static libstdc++ already uses arc4random of glibc 2.36). libm and
    # the loader come in the same package, libc6.
    execute_process(COMMAND getconf GNU_LIBC_VERSION OUTPUT_VARIABLE _gw_glibc
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_gw_glibc MATCHES "^glibc ([0-9]+\\.[0-9]+)")
      set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= ${CMAKE_MATCH_1})")
    else()
      message(WARNING "No dpkg-shlibdeps, no glibc version: the package depends on any libc6")
      set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6")
    endif()
    if(NOT GPU_WAITER_STATIC_RUNTIME)
      string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libgcc-s1, libstdc++6")
    endif()
  endif()
endif()

set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/\\\\.device/" "__pycache__")

include(CPack)
