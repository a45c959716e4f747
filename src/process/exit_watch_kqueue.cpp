// The BSDs and macOS: one kqueue reports every watched process's exit (EVFILT_PROC, NOTE_EXIT).
// Written for those systems; not built here (README, "Platforms").
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include "process/exit_watch.hpp"

namespace gw {

ExitWatch::ExitWatch() : queue_(::kqueue()) {}
ExitWatch::~ExitWatch() = default;

bool ExitWatch::watch(long pid) {
    if (pid <= 0 || !queue_.valid()) return false;
    if (watched_.contains(pid)) return true;
    struct kevent change {};
    EV_SET(&change, static_cast<uintptr_t>(pid), EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0,
           nullptr);
    if (::kevent(queue_.get(), &change, 1, nullptr, 0, nullptr) != 0) return false;
    watched_.emplace(pid, UniqueHandle());  // the kqueue is the one handle
    return true;
}

std::vector<long> ExitWatch::take_exited() {
    std::vector<long> out;
    struct kevent events[16];
    const struct timespec now {};
    int n = 0;
    while ((n = ::kevent(queue_.get(), nullptr, 0, events, 16, &now)) > 0) {
        for (int i = 0; i < n; ++i) {
            long pid = static_cast<long>(events[i].ident);
            if (watched_.erase(pid) > 0) out.push_back(pid);
        }
    }
    return out;
}

std::vector<NativeHandle> ExitWatch::handles() const {
    if (watched_.empty() || !queue_.valid()) return {};
    return {queue_.get()};
}

void ExitWatch::keep_only(const std::set<long>& pids) {
    // A oneshot event for a pid no longer wanted fires once more and is dropped then.
    std::erase_if(watched_, [&](const auto& w) { return !pids.contains(w.first); });
}

}  // namespace gw
