#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "common/error.hpp"
#include "lock/shared_file.hpp"

namespace gw {
namespace {

// O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; gpu-waiter never reads
// or writes anything but regular files, where the flag changes nothing.
constexpr int kFlags = O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

int open_existing(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | kFlags);
    if (fd < 0 && (errno == EACCES || errno == EISDIR)) fd = ::open(path.c_str(), O_RDONLY | kFlags);
    return fd;
}

std::string kind_of(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

/// Why an open entry is not one gpu-waiter may use; empty when it is.
std::string check_entry(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return system_error_text("fstat", errno);
    if (!S_ISREG(st.st_mode)) return kind_of(st.st_mode);
    // Another name for some other file (fs.protected_hardlinks=0): writing would change that.
    if (st.st_nlink != 1) return fmt::format("a hard link ({} names for one file)", st.st_nlink);
    if (static_cast<std::size_t>(st.st_size) > kMaxSharedFileSize) {
        return fmt::format("{} bytes long, not one of gpu-waiter's files", st.st_size);
    }
    return {};
}

/// Why opening failed, in words; throws when the failure is the system's, not the entry's.
std::string open_failure(const std::string& path, int error) {
    if (error == EMFILE || error == ENFILE || error == ENOMEM) {
        throw_system_error("open " + path, error);
    }
    if (error == ELOOP) return "a symbolic link";
    return system_error_text("open", error);
}

}  // namespace

UniqueHandle open_shared_file(const std::string& path, std::string& unusable) {
    unusable.clear();
    for (int attempt = 0; attempt < 100; ++attempt) {
        UniqueHandle fd(open_existing(path));
        if (!fd.valid() && errno == ENOENT) {
            fd.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | kFlags, 0666));
            if (fd.valid()) {
                ::fchmod(fd.get(), 0666);  // undo the umask: other users must open it too
            } else if (errno == EEXIST) {
                continue;  // another waiter created it first: open theirs
            }
        }
        if (!fd.valid()) {
            unusable = open_failure(path, errno);
            return {};
        }
        unusable = check_entry(fd.get());
        if (!unusable.empty()) return {};
        return fd;
    }
    unusable = "it keeps appearing and disappearing";
    return {};
}

UniqueHandle open_shared_for_reading(const std::string& path, std::string& unusable) {
    unusable.clear();
    UniqueHandle fd(::open(path.c_str(), O_RDONLY | kFlags));
    if (!fd.valid()) {
        if (errno != ENOENT) unusable = open_failure(path, errno);
        return {};
    }
    unusable = check_entry(fd.get());
    if (!unusable.empty()) return {};
    return fd;
}

std::string read_shared_file(NativeHandle fd) {
    std::string out;
    char buf[4096];
    for (off_t offset = 0; out.size() < kMaxSharedFileSize;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, offset);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        offset += n;
    }
    if (out.size() > kMaxSharedFileSize) out.resize(kMaxSharedFileSize);
    return out;
}

}  // namespace gw
