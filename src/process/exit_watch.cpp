// ExitWatch over one handle per process (Linux, Windows); the BSDs and macOS have their own
// file, around one kqueue.
#include "process/exit_watch.hpp"
#include "process/exit_watch_platform.hpp"

namespace gw {

ExitWatch::ExitWatch() = default;
ExitWatch::~ExitWatch() = default;

bool ExitWatch::watch(long pid) {
    if (pid <= 0) return false;
    if (watched_.contains(pid)) return true;
    UniqueHandle handle = open_exit_handle(pid);
    if (!handle.valid()) return false;
    watched_.emplace(pid, std::move(handle));
    return true;
}

std::vector<long> ExitWatch::take_exited() {
    std::vector<long> out;
    for (auto it = watched_.begin(); it != watched_.end();) {
        if (exit_signalled(it->second.get())) {
            out.push_back(it->first);
            it = watched_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

std::vector<NativeHandle> ExitWatch::handles() const {
    std::vector<NativeHandle> out;
    for (const auto& [pid, handle] : watched_) out.push_back(handle.get());
    return out;
}

void ExitWatch::keep_only(const std::set<long>& pids) {
    std::erase_if(watched_, [&](const auto& w) { return !pids.contains(w.first); });
}

}  // namespace gw
