#include "common/error.hpp"

#include <cstring>

namespace gw {

Error::Error(std::string message, std::string hint, ExitCode code)
    : std::runtime_error(std::move(message)), hint_(std::move(hint)), code_(code) {}

std::string system_error_text(const std::string& call, int errnum) {
    return call + ": " + std::strerror(errnum);
}

void throw_system_error(const std::string& call, int errnum, std::string hint) {
    throw Error(system_error_text(call, errnum), std::move(hint));
}

}  // namespace gw
