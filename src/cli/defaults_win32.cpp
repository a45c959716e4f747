#include "cli/options.hpp"

namespace gw {

std::string default_lock_dir(EnvLookup env) {
    // %ProgramData% is the one machine-wide directory every user may create entries in; %TEMP%
    // is per user, so waiters of different users would not see each other there. It is the
    // fallback only for environments that lack ProgramData (a bare service, wine).
    for (const char* base : {"ProgramData", "TEMP"}) {
        if (auto dir = env(base); dir && !dir->empty()) return *dir + "\\gpu-waiter";
    }
    return "C:\\ProgramData\\gpu-waiter";
}

}  // namespace gw

namespace gw {

std::string default_log_dir(EnvLookup env) {
    for (const char* base : {"LOCALAPPDATA", "TEMP"}) {
        if (auto dir = env(base); dir && !dir->empty()) return *dir + "\\gpu-waiter";
    }
    return "C:\\ProgramData\\gpu-waiter\\logs";
}

}  // namespace gw
