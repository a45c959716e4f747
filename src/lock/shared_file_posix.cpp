#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"
#include "lock/shared_file.hpp"

namespace gw {
namespace {

constexpr int kFlags = O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;

int open_existing(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | kFlags);
    if (fd < 0 && errno == EACCES) fd = ::open(path.c_str(), O_RDONLY | kFlags);
    return fd;
}

void check_regular(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_system_error("fstat " + path, errno);
    if (!S_ISREG(st.st_mode)) {
        throw Error(path + " is not a regular file", "remove it from the lock directory");
    }
}

}  // namespace

UniqueHandle open_shared_file(const std::string& path) {
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
            if (errno == ELOOP) {
                throw Error(path + " is a symbolic link, which gpu-waiter never follows",
                            "remove it; someone may have planted it");
            }
            throw_system_error("open " + path, errno);
        }
        check_regular(fd.get(), path);
        return fd;
    }
    throw Error("open " + path + ": it keeps appearing and disappearing");
}

}  // namespace gw
