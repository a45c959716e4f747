// Windows: a process handle opened for SYNCHRONIZE is signalled when the process ends.
#include <windows.h>

#include "common/win32.hpp"
#include "process/exit_watch.hpp"

namespace gw {

ExitWatch::ExitWatch() = default;
ExitWatch::~ExitWatch() = default;

bool ExitWatch::watch(long pid) {
    if (pid <= 0) return false;
    if (watched_.contains(pid)) return true;
    UniqueHandle process = win32::adopt(OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid)));
    if (!process.valid()) return false;  // another user's, or gone
    watched_.emplace(pid, std::move(process));
    return true;
}

std::vector<long> ExitWatch::take_exited() {
    std::vector<long> out;
    for (auto it = watched_.begin(); it != watched_.end();) {
        if (WaitForSingleObject(win32::handle(it->second.get()), 0) == WAIT_OBJECT_0) {
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
    for (const auto& [pid, process] : watched_) out.push_back(process.get());
    return out;
}

void ExitWatch::keep_only(const std::set<long>& pids) {
    std::erase_if(watched_, [&](const auto& w) { return !pids.contains(w.first); });
}

}  // namespace gw
