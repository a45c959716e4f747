#include "common/error.hpp"
#include "common/win32.hpp"
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

void check_regular(HANDLE file, const std::string& path) {
    BY_HANDLE_FILE_INFORMATION info{};
    if (!GetFileInformationByHandle(file, &info)) {
        win32::throw_last_error("GetFileInformationByHandle " + path);
    }
    if ((info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
        throw Error(path + " is a symbolic link or junction, which gpu-waiter never follows",
                    "remove it; someone may have planted it");
    }
    if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
        throw Error(path + " is not a regular file", "remove it from the lock directory");
    }
}

}  // namespace

UniqueHandle open_shared_file(const std::string& path) {
    // OPEN_ALWAYS creates or opens in one step, so no other waiter can slip in between. Files
    // created here take their permissions from the lock directory (lock_directory_win32.cpp).
    std::wstring wide = win32::widen(path);
    UniqueHandle file = win32::adopt(open(wide, GENERIC_READ | GENERIC_WRITE, OPEN_ALWAYS));
    if (!file.valid() && GetLastError() == ERROR_ACCESS_DENIED) {
        // Another user's file that we may not write: locking needs read access only.
        file = win32::adopt(open(wide, GENERIC_READ, OPEN_EXISTING));
    }
    if (!file.valid()) win32::throw_last_error("CreateFileW " + path);
    check_regular(win32::handle(file.get()), path);
    return file;
}

}  // namespace gw
