// Tells when processes that are not our children end: the processes that keep a GPU busy. A
// waiter sleeps on these handles instead of looking at the GPU every poll, and looks the moment
// one of them ends.
#pragma once

#include <map>
#include <set>
#include <vector>

#include "common/unique_handle.hpp"

namespace gw {

class ExitWatch {
public:
    ExitWatch();
    ~ExitWatch();
    ExitWatch(const ExitWatch&) = delete;
    ExitWatch& operator=(const ExitWatch&) = delete;

    /// Watches `pid` (if not yet). False when it cannot be watched: not visible to us (another
    /// PID namespace), gone already, or no support on this system.
    [[nodiscard]] bool watch(long pid);
    /// Stops watching every pid not in `pids`.
    void keep_only(const std::set<long>& pids);
    [[nodiscard]] bool watching(long pid) const { return watched_.contains(pid); }
    /// What to sleep on: readable (signalled, on Windows) when a watched process has ended.
    [[nodiscard]] std::vector<NativeHandle> handles() const;
    /// The watched processes that have ended since; they are no longer watched.
    [[nodiscard]] std::vector<long> take_exited();

private:
    std::map<long, UniqueHandle> watched_;  // pid -> its pidfd (a process handle on Windows)
    UniqueHandle queue_;                    // BSD/macOS: the kqueue that reports every exit
};

}  // namespace gw
