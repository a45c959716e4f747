// Windows: a process handle opened for SYNCHRONIZE is signalled when the process ends.
#include <windows.h>

#include "common/win32.hpp"
#include "process/exit_watch_platform.hpp"

namespace gw {

UniqueHandle open_exit_handle(long pid) {
    // Another user's process may refuse to be opened: it is polled then.
    return win32::adopt(OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid)));
}

bool exit_signalled(NativeHandle handle) {
    return WaitForSingleObject(win32::handle(handle), 0) == WAIT_OBJECT_0;
}

}  // namespace gw
