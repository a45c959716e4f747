#include "cli/options.hpp"

namespace gw {

std::string default_lock_dir(EnvLookup) {
    // Not $TMPDIR: every user of the machine must find the same directory.
    return "/tmp/gpu-waiter";
}

}  // namespace gw
