# Warnings for the project's own targets only: link `project_warnings` to them, never globally,
# so third-party headers and the fake driver's quick-and-dirty code don't decide what fails.
add_library(project_warnings INTERFACE)
if(MSVC)
  target_compile_options(project_warnings INTERFACE /W4 $<$<BOOL:${GPU_WAITER_WERROR}>:/WX>)
else()
  target_compile_options(project_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
    $<$<BOOL:${GPU_WAITER_WERROR}>:-Werror>)
endif()
