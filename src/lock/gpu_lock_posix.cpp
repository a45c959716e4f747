#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "lock/directory_watch.hpp"
#include "lock/gpu_lock.hpp"
#include "lock/shared_file.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

std::string encode(const LockOwner& o) {
    nlohmann::json j{{"pid", o.pid}, {"user", o.user}, {"command", o.command},
                     {"since", o.since}, {"state", o.state}};
    return j.dump() + "\n";
}

std::optional<LockOwner> decode(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    LockOwner o;
    o.pid = j.value("pid", 0L);
    o.user = j.value("user", "");
    o.command = j.value("command", "");
    o.since = j.value("since", 0LL);
    o.state = j.value("state", "held");
    return o;
}

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

std::string lock_file_name(const std::string& uuid) {
    return uuid + ".lock";
}

std::unique_ptr<GpuLock> GpuLock::try_acquire(const LockDirectory& dir, const std::string& uuid,
                                              const LockOwner& owner) {
    std::string path = dir.entry(lock_file_name(uuid));
    UniqueFd fd = open_shared_file(path);
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
    std::string text = encode(owner);
    if (::ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] ssize_t n = ::pwrite(fd_, text.data(), text.size(), 0);
    }
}

GpuLock::~GpuLock() {
    // Empty the record first so a reader never sees a stale owner on a free lock; announce
    // only after unlocking, so that a waiter woken by it finds the lock free.
    [[maybe_unused]] int rc = ::ftruncate(fd_, 0);
    ::flock(fd_, LOCK_UN);
    announce_release(fd_);
    ::close(fd_);
}

std::optional<LockOwner> GpuLock::holder(const LockDirectory& dir, const std::string& uuid) {
    // Read without locking: a shared lock taken here, however briefly, would make a waiter's
    // exclusive attempt fail and delay its hand-over. A holder empties the record before it
    // unlocks; a holder killed outright leaves a record whose process is gone.
    std::string path = dir.entry(lock_file_name(uuid));
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) return std::nullopt;
    auto owner = decode(read_all(fd.get()));
    if (!owner || !process_alive(owner->pid)) return std::nullopt;
    return owner;
}

}  // namespace gw
