# ASan+UBSan for every target of the tree (the fake driver too, so its memory errors show).
if(GPU_WAITER_SANITIZE)
  if(MSVC)
    message(FATAL_ERROR "GPU_WAITER_SANITIZE is for GCC and Clang")
  endif()
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
