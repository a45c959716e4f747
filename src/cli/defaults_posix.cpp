#include "cli/options.hpp"

namespace gw {

std::string default_lock_dir(EnvLookup) {
    // Not $TMPDIR: every user of the machine must find the same directory.
    return "/tmp/gpu-waiter";
}

}  // namespace gw

namespace gw {

std::string default_log_dir(EnvLookup env) {
    // The XDG base directory specification's place for state that outlives a run (logs).
    if (auto state = env("XDG_STATE_HOME"); state && state->starts_with("/")) {
        return *state + "/gpu-waiter";
    }
    return env("HOME").value_or("/tmp") + "/.local/state/gpu-waiter";
}

}  // namespace gw
