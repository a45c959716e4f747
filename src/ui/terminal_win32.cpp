#include "common/win32.hpp"
#include "ui/reporter.hpp"
#include "ui/terminal.hpp"

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

namespace {

HANDLE handle_of(Stream stream) {
    return GetStdHandle(stream == Stream::out ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
}

}  // namespace

bool is_terminal(Stream stream) {
    if (stream == Stream::err) return stderr_is_terminal();
    DWORD mode = 0;
    HANDLE h = handle_of(stream);
    return h != nullptr && h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode);
}

std::optional<std::size_t> terminal_columns(Stream stream) {
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (!is_terminal(stream) || !GetConsoleScreenBufferInfo(handle_of(stream), &info)) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(info.srWindow.Right - info.srWindow.Left + 1);
}

}  // namespace gw
