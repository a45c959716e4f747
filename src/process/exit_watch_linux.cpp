// Linux: a pidfd (pidfd_open, Linux 5.3) becomes readable when its process ends.
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process/exit_watch.hpp"

namespace gw {
namespace {

int open_pidfd(long pid) {
#ifdef SYS_pidfd_open
    return static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
#else
    (void)pid;
    return -1;  // headers older than the call: poll as before
#endif
}

bool ended(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

}  // namespace

ExitWatch::ExitWatch() = default;
ExitWatch::~ExitWatch() = default;

bool ExitWatch::watch(long pid) {
    if (pid <= 0) return false;
    if (watched_.contains(pid)) return true;
    UniqueHandle fd(open_pidfd(pid));
    if (!fd.valid()) return false;
    watched_.emplace(pid, std::move(fd));
    return true;
}

std::vector<long> ExitWatch::take_exited() {
    std::vector<long> out;
    for (auto it = watched_.begin(); it != watched_.end();) {
        if (ended(it->second.get())) {
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
    for (const auto& [pid, fd] : watched_) out.push_back(fd.get());
    return out;
}

void ExitWatch::keep_only(const std::set<long>& pids) {
    std::erase_if(watched_, [&](const auto& w) { return !pids.contains(w.first); });
}

}  // namespace gw
