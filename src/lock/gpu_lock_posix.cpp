#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"
#include "lock/directory_watch.hpp"
#include "lock/gpu_lock.hpp"
#include "lock/shared_file.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

std::string read_all(int fd) {
    std::string out;
    char buf[1024];
    off_t offset = 0;
    for (;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, offset);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        offset += n;
    }
    return out;
}

}  // namespace

std::unique_ptr<GpuLock> GpuLock::try_acquire(const LockDirectory& dir, const std::string& uuid,
                                              const LockOwner& owner) {
    std::string path = dir.entry(lock_file_name(uuid));
    UniqueHandle fd = open_shared_file(path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return nullptr;
        throw_system_error("flock " + path, errno);
    }
    std::unique_ptr<GpuLock> lock(new GpuLock(uuid, fd.release()));
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
    // Empty the record first so a reader never sees a stale owner on a free lock; announce
    // only after unlocking, so that a waiter woken by it finds the lock free.
    [[maybe_unused]] int rc = ::ftruncate(file_, 0);
    ::flock(file_, LOCK_UN);
    announce_release(file_);
    ::close(file_);
}

std::optional<LockOwner> GpuLock::holder(const LockDirectory& dir, const std::string& uuid) {
    // Read without locking: a shared lock taken here, however briefly, would make a waiter's
    // exclusive attempt fail and delay its hand-over. A holder empties the record before it
    // unlocks; a holder killed outright leaves a record whose process is gone.
    std::string path = dir.entry(lock_file_name(uuid));
    UniqueHandle fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) return std::nullopt;
    auto owner = decode_owner(read_all(fd.get()));
    if (!owner || !process_alive(owner->pid)) return std::nullopt;
    return owner;
}

}  // namespace gw
