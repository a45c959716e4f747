#include "common/win32.hpp"
#include "ui/reporter.hpp"

namespace gw {

bool stderr_is_terminal() {
    // The status line and colours are ANSI escapes, which a console shows only with virtual
    // terminal processing on (Windows 10 and later). A console that refuses it is treated like a
    // log file: one plain line per change, rather than escapes printed as text.
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD mode = 0;
    if (err == nullptr || err == INVALID_HANDLE_VALUE || !GetConsoleMode(err, &mode)) return false;
    if ((mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0) return true;
    return SetConsoleMode(err, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
}

}  // namespace gw
