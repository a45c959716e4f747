// Windows' anonymous pipes cannot be waited on, so the replies come through a named pipe read
// with overlapped I/O: one read is always pending, and its event is what the wait loop's sleep
// waits on (reply_fd). Requests go through a plain anonymous pipe: gpu-waiter only writes them.
#include <array>
#include <atomic>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/win32.hpp"
#include "hold/holder_client.hpp"
#include "process/process_table.hpp"

namespace gw {

/// The read kept pending on the replies' pipe, and what it reads into.
struct HolderProcess::Reader {
    UniqueHandle event;  // manual-reset, signalled when the pending read completes
    OVERLAPPED overlapped{};
    std::array<char, 4096> buffer{};
    bool pending = false;

    /// Reads until a read stays pending (or the holder has gone), keeping what completes at once.
    void read_more(HANDLE pipe, std::string& received, bool& eof) {
        while (!eof && !pending) {
            overlapped = OVERLAPPED{};
            overlapped.hEvent = win32::handle(event.get());
            DWORD n = 0;
            if (ReadFile(pipe, buffer.data(), static_cast<DWORD>(buffer.size()), &n, &overlapped)) {
                received.append(buffer.data(), n);
            } else if (GetLastError() == ERROR_IO_PENDING) {
                pending = true;
            } else {
                eof = true;  // broken pipe: the holder closed its output
            }
        }
    }

    /// Takes what the pending read got, if it is over, and starts the next. Never blocks.
    void collect(HANDLE pipe, std::string& received, bool& eof) {
        if (!pending) return;
        DWORD n = 0;
        if (GetOverlappedResult(pipe, &overlapped, &n, FALSE)) {
            received.append(buffer.data(), n);
        } else if (GetLastError() != ERROR_IO_INCOMPLETE) {
            eof = true;
        } else {
            return;  // still waiting
        }
        pending = false;
        read_more(pipe, received, eof);
    }

    /// Ends the pending read: it writes into this object, which must not go before it is over.
    void cancel(HANDLE pipe) {
        if (!pending) return;
        CancelIoEx(pipe, &overlapped);
        DWORD n = 0;
        GetOverlappedResult(pipe, &overlapped, &n, TRUE);
        pending = false;
    }
};

namespace {

struct Pipe {
    UniqueHandle read_end, write_end;
};

/// The requests' pipe. Neither end is inheritable: the child gets its own copy of one end
/// (Child), and the command none, or the holder would not see end-of-file when gpu-waiter dies.
Pipe request_pipe() {
    HANDLE read_end = nullptr;
    HANDLE write_end = nullptr;
    if (!CreatePipe(&read_end, &write_end, nullptr, 0)) win32::throw_last_error("CreatePipe");
    return Pipe{win32::adopt(read_end), win32::adopt(write_end)};
}

/// The replies' pipe: our end overlapped, the holder's end a plain synchronous write handle.
/// The name is unique to this process and attempt, and FILE_FLAG_FIRST_PIPE_INSTANCE fails
/// rather than join a pipe someone else created under it.
Pipe reply_pipe() {
    static std::atomic<unsigned> serial{0};
    std::wstring name = win32::widen(
        fmt::format("\\\\.\\pipe\\gpu-waiter-{}-{}-{}", current_pid(), serial++, GetTickCount64()));
    UniqueHandle ours = win32::adopt(CreateNamedPipeW(
        name.c_str(), PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, 4096, 4096,
        0, nullptr));
    if (!ours.valid()) win32::throw_last_error("CreateNamedPipeW");
    UniqueHandle theirs = win32::adopt(
        CreateFileW(name.c_str(), GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr));
    if (!theirs.valid()) win32::throw_last_error("CreateFileW (holder pipe)");
    return Pipe{std::move(ours), std::move(theirs)};
}

}  // namespace

HolderProcess::HolderProcess(const SignalCatcher& signals) : reader_(std::make_unique<Reader>()) {
    Pipe to_holder = request_pipe();
    Pipe from_holder = reply_pipe();
    LaunchRequest request = holder_launch_request();
    request.stdin_fd = to_holder.read_end.get();
    request.stdout_fd = from_holder.write_end.get();
    child_ = std::make_unique<Child>(request, signals);
    requests_ = std::move(to_holder.write_end);
    replies_ = std::move(from_holder.read_end);
    reader_->event = win32::adopt(CreateEventW(nullptr, TRUE, FALSE, nullptr));
    if (!reader_->event.valid()) win32::throw_last_error("CreateEventW");
    reader_->read_more(win32::handle(replies_.get()), partial_, eof_);
}

HolderProcess::~HolderProcess() {
    requests_.reset();
    child_->kill_and_wait();
    reader_->cancel(win32::handle(replies_.get()));
}

NativeHandle HolderProcess::reply_fd() const {
    return reader_->event.get();
}

void HolderProcess::send(const hold::Request& request) {
    std::string line = hold::encode(request);
    // Requests are a few dozen bytes, far below the pipe's buffer: one write never blocks long.
    DWORD n = 0;
    if (!WriteFile(win32::handle(requests_.get()), line.data(), static_cast<DWORD>(line.size()), &n,
                   nullptr)) {
        DWORD code = GetLastError();
        // A holder that died: collect_replies reports it.
        if (code != ERROR_BROKEN_PIPE && code != ERROR_NO_DATA) {
            win32::throw_error("write to holder", code);
        }
    }
}

std::vector<hold::Reply> HolderProcess::take_replies() {
    reader_->collect(win32::handle(replies_.get()), partial_, eof_);
    return hold::take_replies(partial_);
}

}  // namespace gw
