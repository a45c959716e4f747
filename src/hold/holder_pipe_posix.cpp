#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"
#include "hold/holder_pipe.hpp"

namespace gw {
namespace {

struct Ends {
    UniqueHandle read_end, write_end;
};

Ends make_pipe() {
    int fds[2];
    // Close-on-exec: only the holder gets an end, as its standard input or output.
#ifdef __APPLE__
    // macOS has no pipe2. gpu-waiter has one thread, so no fork can come between pipe and fcntl.
    if (::pipe(fds) != 0) throw_system_error("pipe", errno);
    Ends ends{UniqueHandle(fds[0]), UniqueHandle(fds[1])};
    for (int fd : fds) {
        if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) throw_system_error("fcntl", errno);
    }
    return ends;
#else
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_system_error("pipe2", errno);
    return Ends{UniqueHandle(fds[0]), UniqueHandle(fds[1])};
#endif
}

}  // namespace

struct ReplyReader::State {
    UniqueHandle pipe;  // non-blocking: it needs nothing more
};

ReplyReader::ReplyReader(UniqueHandle pipe) : state_(std::make_unique<State>()) {
    state_->pipe = std::move(pipe);
    if (::fcntl(state_->pipe.get(), F_SETFL, O_NONBLOCK) != 0) throw_system_error("fcntl", errno);
}

ReplyReader::~ReplyReader() = default;

NativeHandle ReplyReader::ready() const {
    return state_->pipe.get();
}

bool ReplyReader::read(std::string& received) {
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(state_->pipe.get(), buf, sizeof buf);
        if (n <= 0) return n != 0;
        received.append(buf, static_cast<std::size_t>(n));
    }
}

RequestPipe request_pipe() {
    Ends ends = make_pipe();
    return RequestPipe{std::move(ends.read_end), std::move(ends.write_end)};
}

ReplyPipe reply_pipe() {
    Ends ends = make_pipe();
    return ReplyPipe{std::move(ends.write_end),
                     std::make_unique<ReplyReader>(std::move(ends.read_end))};
}

void write_request(NativeHandle pipe, const std::string& line) {
    // Requests are a few dozen bytes, far below the pipe's buffer: one write never blocks long.
    if (::write(pipe, line.data(), line.size()) < 0 && errno != EPIPE) {
        throw_system_error("write to holder", errno);
    }
}

}  // namespace gw
