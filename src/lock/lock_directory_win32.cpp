#include <windows.h>
// After windows.h, whose types it uses.
#include <sddl.h>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/win32.hpp"
#include "lock/lock_directory.hpp"

namespace gw {
namespace {

// What mode 1777 and files of mode 0666 give on POSIX: every signed-in user may create, read
// and write files in the directory, and only a file's creator (and administrators) may delete
// or rename it. Files and the queue folder inherit this from the directory.
//   SY, BA: full control.  CO: full control of what one creates.
//   AU: list, create files and folders, read and write them; no delete.
constexpr const wchar_t* kSharedDirectory =
    L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICIIO;FA;;;CO)(A;OICI;FRFWFX;;;AU)";

/// The security descriptor above, freed with LocalFree.
class SharedSecurity {
public:
    SharedSecurity() {
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(kSharedDirectory, SDDL_REVISION_1,
                                                                  &descriptor_, nullptr)) {
            win32::throw_last_error("ConvertStringSecurityDescriptorToSecurityDescriptorW");
        }
    }
    ~SharedSecurity() { LocalFree(descriptor_); }
    SharedSecurity(const SharedSecurity&) = delete;
    SharedSecurity& operator=(const SharedSecurity&) = delete;

    [[nodiscard]] SECURITY_ATTRIBUTES attributes() const {
        return SECURITY_ATTRIBUTES{sizeof(SECURITY_ATTRIBUTES), descriptor_, FALSE};
    }

private:
    PSECURITY_DESCRIPTOR descriptor_ = nullptr;
};

void create(const std::string& path) {
    // Only the creator sets the permissions, so a directory an administrator set up
    // differently is left as it is.
    SharedSecurity security;
    SECURITY_ATTRIBUTES attributes = security.attributes();
    if (CreateDirectoryW(win32::widen(path).c_str(), &attributes)) return;
    DWORD code = GetLastError();
    if (code != ERROR_ALREADY_EXISTS) {
        win32::throw_error("CreateDirectoryW " + path, code,
                           "choose a writable place with --lock-dir or GPU_WAITER_LOCK_DIR");
    }
}

void check(const std::string& path) {
    DWORD attributes = GetFileAttributesW(win32::widen(path).c_str());
    if (attributes == INVALID_FILE_ATTRIBUTES) {
        win32::throw_last_error("GetFileAttributesW " + path);
    }
    const std::string fix = "remove it, or use another with --lock-dir / GPU_WAITER_LOCK_DIR";
    if ((attributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
        throw Error(fmt::format("lock directory {} is a symbolic link or junction, which anyone "
                                "could have planted",
                                path),
                    fix);
    }
    if ((attributes & FILE_ATTRIBUTE_DIRECTORY) == 0) {
        throw Error(fmt::format("lock directory {} is not a directory", path), fix);
    }
}

bool is_separator(char c) {
    return c == '/' || c == '\\';
}

}  // namespace

bool LockDirectory::exists(const std::string& path) {
    return GetFileAttributesW(win32::widen(path).c_str()) != INVALID_FILE_ATTRIBUTES;
}

LockDirectory::LockDirectory(std::string path) : path_(std::move(path)) {
    // Trailing separators go, but not the one of a drive's root ("C:\"), which means another
    // directory without it.
    while (path_.size() > 1 && is_separator(path_.back()) && path_[path_.size() - 2] != ':') {
        path_.pop_back();
    }
    create(path_);
    check(path_);
}

}  // namespace gw
