#include "common/unique_handle.hpp"
#include "common/win32.hpp"

namespace gw {

void UniqueHandle::reset(NativeHandle handle) {
    if (handle_ >= 0) CloseHandle(win32::handle(handle_));
    handle_ = handle;
}

}  // namespace gw
