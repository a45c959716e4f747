#include "common/win32.hpp"
#include "lock/directory_watch.hpp"

namespace gw {

DirectoryWatch::DirectoryWatch(const std::vector<std::string>& directories) {
    // One change notification covers the lock directory and, with its subtree, the queue inside
    // it. A released lock touches its file's write time; a ticket leaving renames or deletes a
    // file. Opening and closing lock files (every waiter's try-lock) changes neither.
    if (directories.empty()) return;
    // The notification is a handle to the directory: UniqueHandle's CloseHandle closes it, which
    // is all FindCloseChangeNotification does.
    constexpr DWORD kChanges = FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_LAST_WRITE;
    fd_ = win32::adopt(
        FindFirstChangeNotificationW(win32::widen(directories.front()).c_str(), TRUE, kChanges));
}

void DirectoryWatch::drain() {
    if (fd_.valid()) FindNextChangeNotification(win32::handle(fd_.get()));
}

void announce_release(NativeHandle lock_file) {
    FILETIME now{};
    GetSystemTimeAsFileTime(&now);
    SetFileTime(win32::handle(lock_file), nullptr, nullptr, &now);
}

}  // namespace gw
