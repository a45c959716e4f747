// The pipes between gpu-waiter and its holder: the one thing each platform supplies
// (holder_pipe_posix.cpp, holder_pipe_win32.cpp). holder_client.cpp starts the holder on them.
#pragma once

#include <memory>
#include <string>

#include "common/unique_handle.hpp"

namespace gw {

/// gpu-waiter's end of the replies' pipe, read without ever blocking.
class ReplyReader {
public:
    explicit ReplyReader(UniqueHandle pipe);
    /// Ends any read still pending (Windows), then closes the pipe.
    ~ReplyReader();
    ReplyReader(const ReplyReader&) = delete;
    ReplyReader& operator=(const ReplyReader&) = delete;

    /// Ready (readable, or signalled on Windows) when replies are waiting: for the sleep.
    [[nodiscard]] NativeHandle ready() const;
    /// Appends what arrived since the last call to `received`; false once the holder has closed
    /// its end (it died, or ended).
    [[nodiscard]] bool read(std::string& received);

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// Neither pipe's ends are inherited by anyone but the holder, which gets its own end as its
/// standard input or output: were the command to inherit one, the holder would not see
/// end-of-file when gpu-waiter dies.
struct RequestPipe {
    UniqueHandle holder_end;  // the holder's standard input
    UniqueHandle ours;
};
struct ReplyPipe {
    UniqueHandle holder_end;  // the holder's standard output
    std::unique_ptr<ReplyReader> ours;
};

[[nodiscard]] RequestPipe request_pipe();
[[nodiscard]] ReplyPipe reply_pipe();

/// Writes one request. A holder that has gone is no error here: its replies end, which says so.
void write_request(NativeHandle pipe, const std::string& line);

}  // namespace gw
