#include <unistd.h>

#include "ui/reporter.hpp"

namespace gw {

bool stderr_is_terminal() {
    return ::isatty(STDERR_FILENO) == 1;
}

}  // namespace gw
