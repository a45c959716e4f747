// What the fake driver asks of the operating system, behind one header so that it builds as
// shared objects on Linux and as DLLs on Windows (tools/test-windows runs gpu-waiter.exe against
// them under wine). process_alive, declared in fake_state.hpp, lives here too.
#pragma once

#include <cstdint>
#include <string>

namespace fake {

[[nodiscard]] unsigned current_pid();

/// The short name of a process ("python3"), or "" when unknown.
[[nodiscard]] std::string process_name(unsigned pid);

/// Appends `line` to the file at `path` (created if missing) in one write, so that the lines of
/// concurrent writers do not mix. Failures are ignored: this is a log.
void append_line(const char* path, const std::string& line);

/// Renames `from` over `to` in one step: readers see the old file or the new one, never none.
[[nodiscard]] bool replace_file(const std::string& from, const std::string& to);

/// An exclusive lock on the file at `path` (created if missing), waited for, held until the
/// object goes.
class FileLock {
public:
    explicit FileLock(const std::string& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    [[nodiscard]] bool held() const { return handle_ != -1; }

private:
    std::intptr_t handle_ = -1;  // a descriptor, or a HANDLE
};

}  // namespace fake
