# ASan+UBSan for the project's own code: link `project_sanitizers` to its targets. The fake driver
# stays uninstrumented so that tests can load it into any process (Python's ctypes included).
add_library(project_sanitizers INTERFACE)
if(GPU_WAITER_SANITIZE)
  if(MSVC)
    message(FATAL_ERROR "GPU_WAITER_SANITIZE is for GCC and Clang")
  endif()
  target_compile_options(project_sanitizers INTERFACE
    -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(project_sanitizers INTERFACE -fsanitize=address,undefined,float-cast-overflow)
endif()
