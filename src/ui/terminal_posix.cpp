#include <sys/ioctl.h>
#include <unistd.h>

#include "ui/reporter.hpp"
#include "ui/terminal.hpp"

namespace gw {
namespace {

int fd_of(Stream stream) {
    return stream == Stream::out ? STDOUT_FILENO : STDERR_FILENO;
}

}  // namespace

bool stderr_is_terminal() {
    return is_terminal(Stream::err);
}

bool is_terminal(Stream stream) {
    return ::isatty(fd_of(stream)) == 1;
}

std::optional<std::size_t> terminal_columns(Stream stream) {
    struct winsize size {};
    if (!is_terminal(stream) || ::ioctl(fd_of(stream), TIOCGWINSZ, &size) != 0 || size.ws_col == 0)
        return std::nullopt;
    return size.ws_col;
}

}  // namespace gw
