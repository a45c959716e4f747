#include "lock/file_lock_win32.hpp"

#include <cstdint>

#include "common/error.hpp"
#include "common/win32.hpp"

namespace gw::win32 {
namespace {

// The locked byte: far beyond any record, below the largest offset NTFS accepts.
constexpr std::uint64_t kLockOffset = std::uint64_t{1} << 62;

OVERLAPPED at(std::uint64_t offset) {
    OVERLAPPED o{};
    o.Offset = static_cast<DWORD>(offset & 0xffffffffu);
    o.OffsetHigh = static_cast<DWORD>(offset >> 32);
    return o;
}

}  // namespace

bool lock_file(HANDLE file, LockWait wait, const std::string& path) {
    DWORD flags = LOCKFILE_EXCLUSIVE_LOCK;
    if (wait == LockWait::no) flags |= LOCKFILE_FAIL_IMMEDIATELY;
    OVERLAPPED where = at(kLockOffset);
    if (LockFileEx(file, flags, 0, 1, 0, &where)) return true;
    DWORD code = GetLastError();
    if (code == ERROR_LOCK_VIOLATION && wait == LockWait::no) return false;
    throw_error("LockFileEx " + path, code);
}

void unlock_file(HANDLE file) {
    OVERLAPPED where = at(kLockOffset);
    UnlockFileEx(file, 0, 1, 0, &where);
}

std::string read_file(HANDLE file) {
    std::string out;
    char buf[2048];
    for (;;) {
        // An explicit offset on a synchronous handle: ReadFile reads there, whatever the
        // position another user of the handle left.
        OVERLAPPED where = at(out.size());
        DWORD n = 0;
        if (!ReadFile(file, buf, sizeof buf, &n, &where) || n == 0) break;
        out.append(buf, n);
    }
    return out;
}

bool replace_content(HANDLE file, const std::string& text) {
    FILE_END_OF_FILE_INFO end{};
    if (!SetFileInformationByHandle(file, FileEndOfFileInfo, &end, sizeof end)) return false;
    if (text.empty()) return true;
    OVERLAPPED where = at(0);
    DWORD n = 0;
    return WriteFile(file, text.data(), static_cast<DWORD>(text.size()), &n, &where) &&
           n == text.size();
}

HANDLE open_for_reading(const std::string& path) {
    return CreateFileW(widen(path).c_str(), GENERIC_READ,
                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                       OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
}

}  // namespace gw::win32
