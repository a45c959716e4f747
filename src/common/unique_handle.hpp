// An open file, pipe or other kernel object owned by one object: closed exactly once, whatever
// path leaves scope. Shared headers name such objects by NativeHandle, so that they read the same
// on every platform; only the *_posix / *_win32 files know what the number means.
#pragma once

#include <utility>

namespace gw {

/// A file descriptor on POSIX; on Windows a HANDLE, stored as HandleToLong gives it. Windows
/// documents that only the low 32 bits of a kernel handle are significant (which is what lets
/// 32- and 64-bit processes share handles), so an int holds any handle that names an object.
using NativeHandle = int;

/// No object: -1 is neither a descriptor nor a handle that a successful call returns.
inline constexpr NativeHandle kNoHandle = -1;

class UniqueHandle {
public:
    UniqueHandle() = default;
    explicit UniqueHandle(NativeHandle handle) : handle_(handle) {}
    ~UniqueHandle() { reset(); }
    UniqueHandle(UniqueHandle&& other) noexcept
        : handle_(std::exchange(other.handle_, kNoHandle)) {}
    UniqueHandle& operator=(UniqueHandle&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, kNoHandle);
        }
        return *this;
    }
    UniqueHandle(const UniqueHandle&) = delete;
    UniqueHandle& operator=(const UniqueHandle&) = delete;

    [[nodiscard]] NativeHandle get() const { return handle_; }
    [[nodiscard]] bool valid() const { return handle_ >= 0; }
    [[nodiscard]] NativeHandle release() { return std::exchange(handle_, kNoHandle); }
    /// Closes the object held (close / CloseHandle) and takes `handle` instead.
    void reset(NativeHandle handle = kNoHandle);

private:
    NativeHandle handle_ = kNoHandle;
};

}  // namespace gw
