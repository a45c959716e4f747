#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"
#include "lock/gpu_lock.hpp"
#include "lock/shared_file.hpp"
#include "process/process_table.hpp"

namespace gw {

std::unique_ptr<GpuLock> GpuLock::try_acquire(const LockDirectory& dir, const std::string& uuid,
                                              const LockOwner& owner, std::string* unusable) {
    std::string path = dir.entry(lock_file_name(uuid));
    std::string why;
    UniqueHandle fd = open_shared_file(path, why);
    if (!fd.valid()) {
        if (unusable != nullptr) *unusable = why;
        return nullptr;
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return nullptr;
        throw_system_error("flock " + path, errno);
    }
    std::unique_ptr<GpuLock> lock(new GpuLock(uuid, path, fd.release()));
    lock->record(owner);
    return lock;
}

void GpuLock::record(const LockOwner& owner) {
    // Best effort: the record is for people reading --status; the flock is what protects.
    std::string text = encode_owner(owner);
    if (::ftruncate(file_, 0) == 0) {
        [[maybe_unused]] ssize_t n = ::pwrite(file_, text.data(), text.size(), 0);
    }
}

GpuLock::~GpuLock() {
    // Empty the record first so a reader never sees a stale owner on a free lock. Closing, not
    // LOCK_UN: an unlock would also take the lock from the command, which shares this open
    // file; closing ends only our part, and the lock with it once the command's processes are
    // gone too. Announce after that, so that a waiter woken by it finds the lock free.
    [[maybe_unused]] int rc = ::ftruncate(file_, 0);
    ::close(file_);
    // "Now", by name: an attribute change every watcher sees. Never through a symlink planted
    // there meanwhile, and harmlessly refused on a file that is no longer ours to touch.
    ::utimensat(AT_FDCWD, path_.c_str(), nullptr, AT_SYMLINK_NOFOLLOW);
}

std::optional<LockOwner> GpuLock::holder(const LockDirectory& dir, const std::string& uuid) {
    // Read without locking: a shared lock taken here, however briefly, would make a waiter's
    // exclusive attempt fail and delay its hand-over. A holder empties the record before it
    // unlocks; a holder killed outright leaves a record whose process is gone, unless its
    // command lives on with the lock.
    std::string why;
    UniqueHandle fd = open_shared_for_reading(dir.entry(lock_file_name(uuid)), why);
    if (!fd.valid()) return std::nullopt;
    auto owner = decode_owner(read_shared_file(fd.get()));
    if (!owner) return std::nullopt;
    if (process_alive(owner->pid)) return owner;
    if (owner->command_pid > 0 && process_alive(owner->command_pid)) return owner;
    return std::nullopt;
}

}  // namespace gw
