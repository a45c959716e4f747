// Windows' anonymous pipes cannot be waited on, so the replies come through a named pipe read
// with overlapped I/O: one read is always pending, and its event is what the sleep waits on
// (ReplyReader::ready). Requests go through a plain anonymous pipe: gpu-waiter only writes them.
#include <array>
#include <atomic>
#include <utility>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/win32.hpp"
#include "hold/holder_pipe.hpp"
#include "process/process_table.hpp"

namespace gw {

/// The pipe, the read kept pending on it, and what it reads into.
struct ReplyReader::State {
    UniqueHandle pipe;
    UniqueHandle event;  // manual-reset, signalled when the pending read completes
    OVERLAPPED overlapped{};
    std::array<char, 4096> buffer{};
    std::string received;  // read, not yet taken
    bool pending = false;
    bool eof = false;

    [[nodiscard]] HANDLE handle() const { return win32::handle(pipe.get()); }

    /// Reads until a read stays pending (or the holder has gone), keeping what completes at once.
    void read_more() {
        while (!eof && !pending) {
            overlapped = OVERLAPPED{};
            overlapped.hEvent = win32::handle(event.get());
            DWORD n = 0;
            if (ReadFile(handle(), buffer.data(), static_cast<DWORD>(buffer.size()), &n,
                         &overlapped)) {
                received.append(buffer.data(), n);
            } else if (GetLastError() == ERROR_IO_PENDING) {
                pending = true;
            } else {
                eof = true;  // broken pipe: the holder closed its output
            }
        }
    }

    /// Takes what the pending read got, if it is over, and starts the next. Never blocks.
    void collect() {
        if (!pending) return;
        DWORD n = 0;
        if (GetOverlappedResult(handle(), &overlapped, &n, FALSE)) {
            received.append(buffer.data(), n);
        } else if (GetLastError() != ERROR_IO_INCOMPLETE) {
            eof = true;
        } else {
            return;  // still waiting
        }
        pending = false;
        read_more();
    }

    /// Ends the pending read: it writes into this object, which must not go before it is over.
    void cancel() {
        if (!pending) return;
        CancelIoEx(handle(), &overlapped);
        DWORD n = 0;
        GetOverlappedResult(handle(), &overlapped, &n, TRUE);
        pending = false;
    }
};

ReplyReader::ReplyReader(UniqueHandle pipe) : state_(std::make_unique<State>()) {
    state_->pipe = std::move(pipe);
    state_->event = win32::adopt(CreateEventW(nullptr, TRUE, FALSE, nullptr));
    if (!state_->event.valid()) win32::throw_last_error("CreateEventW");
    state_->read_more();
}

ReplyReader::~ReplyReader() {
    state_->cancel();
}

NativeHandle ReplyReader::ready() const {
    return state_->event.get();
}

bool ReplyReader::read(std::string& received) {
    state_->collect();
    received += std::exchange(state_->received, {});
    return !state_->eof;
}

/// Neither end is inheritable: Child gives the holder its own copy of its end.
RequestPipe request_pipe() {
    HANDLE read_end = nullptr;
    HANDLE write_end = nullptr;
    if (!CreatePipe(&read_end, &write_end, nullptr, 0)) win32::throw_last_error("CreatePipe");
    return RequestPipe{win32::adopt(read_end), win32::adopt(write_end)};
}

/// Our end overlapped, the holder's end a plain synchronous write handle. The name is unique to
/// this process and attempt, and FILE_FLAG_FIRST_PIPE_INSTANCE fails rather than join a pipe
/// someone else created under it.
ReplyPipe reply_pipe() {
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
    return ReplyPipe{std::move(theirs), std::make_unique<ReplyReader>(std::move(ours))};
}

void write_request(NativeHandle pipe, const std::string& line) {
    // Requests are a few dozen bytes, far below the pipe's buffer: one write never blocks long.
    DWORD n = 0;
    if (!WriteFile(win32::handle(pipe), line.data(), static_cast<DWORD>(line.size()), &n,
                   nullptr)) {
        DWORD code = GetLastError();
        // A holder that died: its replies end, and collect_replies reports it.
        if (code != ERROR_BROKEN_PIPE && code != ERROR_NO_DATA) {
            win32::throw_error("write to holder", code);
        }
    }
}

}  // namespace gw
