#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"
#include "hold/holder_client.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

struct Pipe {
    UniqueHandle read_end, write_end;
};

Pipe make_pipe() {
    int fds[2];
    // Close-on-exec: the command must not inherit the holder's pipes, or the holder would not
    // see end-of-file when gpu-waiter dies.
#ifdef __APPLE__
    // macOS has no pipe2. gpu-waiter has one thread, so no fork can come between pipe and fcntl.
    if (::pipe(fds) != 0) throw_system_error("pipe", errno);
    Pipe pipe{UniqueHandle(fds[0]), UniqueHandle(fds[1])};
    for (int fd : fds) {
        if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) throw_system_error("fcntl", errno);
    }
    return pipe;
#else
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_system_error("pipe2", errno);
    return Pipe{UniqueHandle(fds[0]), UniqueHandle(fds[1])};
#endif
}

}  // namespace

struct HolderProcess::Reader {};  // a non-blocking pipe needs nothing more

HolderProcess::HolderProcess(const SignalCatcher& signals) {
    Pipe to_holder = make_pipe();
    Pipe from_holder = make_pipe();
    LaunchRequest request = holder_launch_request();
    request.stdin_fd = to_holder.read_end.get();
    request.stdout_fd = from_holder.write_end.get();
    child_ = std::make_unique<Child>(request, signals);
    requests_ = std::move(to_holder.write_end);
    replies_ = std::move(from_holder.read_end);
    if (::fcntl(replies_.get(), F_SETFL, O_NONBLOCK) != 0) throw_system_error("fcntl", errno);
}

HolderProcess::~HolderProcess() {
    requests_.reset();
    child_->kill_and_wait();
}

NativeHandle HolderProcess::reply_fd() const {
    return replies_.get();
}

void HolderProcess::send(const hold::Request& request) {
    std::string line = hold::encode(request);
    // Requests are a few dozen bytes, far below the pipe's buffer: one write never blocks long.
    if (::write(requests_.get(), line.data(), line.size()) < 0 && errno != EPIPE) {
        throw_system_error("write to holder", errno);
    }
}

std::vector<hold::Reply> HolderProcess::take_replies() {
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(replies_.get(), buf, sizeof buf);
        if (n > 0) {
            partial_.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) eof_ = true;
        break;
    }
    return hold::take_replies(partial_);
}

}  // namespace gw
