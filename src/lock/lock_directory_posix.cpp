#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "common/error.hpp"
#include "lock/lock_directory.hpp"
#include "process/process_table_posix.hpp"

namespace gw {
namespace {

/// True when this call created the directory.
bool create(const std::string& path) {
    // mkdir applies the umask; chmod afterwards makes the mode exact. Only the creator chmods,
    // so a directory an administrator set up differently is left as it is.
    if (::mkdir(path.c_str(), 01777) == 0) {
        if (::chmod(path.c_str(), 01777) != 0) throw_system_error("chmod " + path, errno);
        return true;
    }
    if (errno != EEXIST) {
        throw_system_error("mkdir " + path, errno,
                           "choose a writable place with --lock-dir or GPU_WAITER_LOCK_DIR");
    }
    return false;
}

void check(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) throw_system_error("lstat " + path, errno);
    const std::string fix = "remove it, or use another with --lock-dir / GPU_WAITER_LOCK_DIR";
    if (S_ISLNK(st.st_mode)) {
        throw Error(fmt::format("lock directory {} is a symbolic link, which anyone could have "
                                "planted",
                                path),
                    fix);
    }
    if (!S_ISDIR(st.st_mode))
        throw Error(fmt::format("lock directory {} is not a directory", path), fix);
    if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
        // The fix must be one the refused user can apply: a directory of their own (sharing
        // with nobody), or asking the owner or root to hand it to root.
        std::string owner = user_name(st.st_uid);
        throw Error(fmt::format("lock directory {} belongs to another user, {} (uid {}), who could "
                                "tamper with every lock in it",
                                path, owner, st.st_uid),
                    fmt::format("ask {} or root to run 'sudo chown root: {}', or use a directory "
                                "of your own with --lock-dir or GPU_WAITER_LOCK_DIR (its waiters "
                                "then queue apart from {}'s)",
                                owner, path, owner));
    }
    if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0) {
        throw Error(fmt::format("lock directory {} is world-writable without the sticky bit, so "
                                "any user could delete others' locks",
                                path),
                    "chmod +t " + path);
    }
}

}  // namespace

bool LockDirectory::exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

LockDirectory::LockDirectory(std::string path) : path_(std::move(path)) {
    while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
    created_ = create(path_);
    check(path_);
}

}  // namespace gw
