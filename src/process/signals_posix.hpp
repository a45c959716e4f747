// The POSIX side of SignalCatcher, shared with the launcher (children get the saved mask).
#pragma once

#include <signal.h>

#include <array>

#include "process/signals.hpp"

namespace gw {

inline constexpr std::array<int, 7> kCaughtSignals{SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
                                                   SIGUSR1, SIGUSR2, SIGCHLD};

struct SignalCatcher::Saved {
    sigset_t mask;
    std::array<struct sigaction, kCaughtSignals.size()> actions;
    struct sigaction pipe_action;  // SIGPIPE is ignored while gpu-waiter runs, not in children
};

}  // namespace gw
