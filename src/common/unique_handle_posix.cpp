#include <unistd.h>

#include "common/unique_handle.hpp"

namespace gw {

void UniqueHandle::reset(NativeHandle handle) {
    if (handle_ >= 0) ::close(handle_);
    handle_ = handle;
}

}  // namespace gw
