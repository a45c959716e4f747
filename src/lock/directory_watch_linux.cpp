#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock/directory_watch.hpp"

namespace gw {

DirectoryWatch::DirectoryWatch(const std::vector<std::string>& directories) {
    fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd_.valid()) return;
    // IN_ATTRIB: a releasing gpu-waiter touches the lock file. IN_DELETE: a ticket left the
    // queue. Opening and closing lock files (every waiter's try-lock) raises neither, so waiters
    // do not wake each other in a loop.
    for (const std::string& dir : directories) {
        ::inotify_add_watch(fd_.get(), dir.c_str(), IN_ATTRIB | IN_DELETE | IN_ONLYDIR);
    }
}

void DirectoryWatch::drain() {
    if (!fd_.valid()) return;
    alignas(inotify_event) char buf[4096];
    while (::read(fd_.get(), buf, sizeof buf) > 0) {
    }
}

void announce_release(NativeHandle lock_fd) {
    ::futimens(lock_fd, nullptr);  // "now": an attribute change every watcher sees
}

}  // namespace gw
