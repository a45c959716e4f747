#include "common/error.hpp"
#include "common/win32.hpp"
#include "lock/file_lock_win32.hpp"
#include "lock/shared_file.hpp"

namespace gw {
namespace {

// Every waiter of every user opens the same files; the queue renames and deletes tickets that
// others may have open at that moment.
constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

/// A symbolic link or junction planted in the file's place is opened itself, never followed,
/// and then refused by check_regular. The handle is not inherited by child processes.
HANDLE open(const std::wstring& path, DWORD access, DWORD disposition) {
    return CreateFileW(path.c_str(), access, kShareAll, nullptr, disposition,
                       FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
}

/// Why an open entry is not one gpu-waiter may use; empty when it is.
std::string check_entry(HANDLE file) {
    BY_HANDLE_FILE_INFORMATION info{};
    if (!GetFileInformationByHandle(file, &info)) return "cannot be inspected";
    if ((info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
        return "a symbolic link or junction";
    }
    if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0) return "a directory";
    if (info.nNumberOfLinks != 1) return "a hard link";
    if (info.nFileSizeHigh != 0 || info.nFileSizeLow > kMaxSharedFileSize) {
        return "too long to be one of gpu-waiter's files";
    }
    return {};
}

}  // namespace

UniqueHandle open_shared_file(const std::string& path, std::string& unusable) {
    unusable.clear();
    // OPEN_ALWAYS creates or opens in one step, so no other waiter can slip in between. Files
    // created here take their permissions from the lock directory (lock_directory_win32.cpp).
    std::wstring wide = win32::widen(path);
    UniqueHandle file = win32::adopt(open(wide, GENERIC_READ | GENERIC_WRITE, OPEN_ALWAYS));
    if (!file.valid() && GetLastError() == ERROR_ACCESS_DENIED) {
        // Another user's file that we may not write: locking needs read access only.
        file = win32::adopt(open(wide, GENERIC_READ, OPEN_EXISTING));
    }
    if (!file.valid()) {
        unusable = win32::error_text("CreateFileW", GetLastError());
        return {};
    }
    unusable = check_entry(win32::handle(file.get()));
    if (!unusable.empty()) return {};
    return file;
}

UniqueHandle open_shared_for_reading(const std::string& path, std::string& unusable) {
    unusable.clear();
    UniqueHandle file = win32::adopt(win32::open_for_reading(path));
    if (!file.valid()) return {};  // gone, or being deleted by its owner
    unusable = check_entry(win32::handle(file.get()));
    if (!unusable.empty()) return {};
    return file;
}

std::string read_shared_file(NativeHandle file) {
    std::string text = win32::read_file(win32::handle(file));
    if (text.size() > kMaxSharedFileSize) text.resize(kMaxSharedFileSize);
    return text;
}

}  // namespace gw
