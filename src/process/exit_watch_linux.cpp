// Linux: a pidfd (pidfd_open, Linux 5.3) becomes readable when its process ends.
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process/exit_watch_platform.hpp"

namespace gw {

UniqueHandle open_exit_handle(long pid) {
#ifdef SYS_pidfd_open
    return UniqueHandle(static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)));
#else
    (void)pid;
    return {};  // headers older than the call: such GPUs are polled
#endif
}

bool exit_signalled(NativeHandle fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

}  // namespace gw
