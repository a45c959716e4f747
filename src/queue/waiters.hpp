// The other gpu-waiters of the machine, as one waiter coordinates with them: its place in the
// line, the GPUs' locks, and a handle that wakes it when either changes. The wait, the held GPUs
// and the supervisor know only this interface. The real side is FileWaiters (the lock
// directory, file_waiters.hpp); unit tests use an in-memory fake. A coordination backend other
// than a shared directory (a service, a cluster's database) would be a third side.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_handle.hpp"
#include "lock/gpu_lock.hpp"
#include "queue/queue.hpp"

namespace gw {

/// The line as one waiter sees it.
struct Line {
    std::vector<QueueEntry> ahead;  // served before us, in arrival order (stopped ones included)
    /// Earlier than us in the queue's order (number, then pid), yet not vouched for as ahead:
    /// its ticket appeared after we drew our number, or one of us drew without the queue's lock.
    /// Neither of us may count the other ahead, so both could gather part of what both need;
    /// the wait lets such a waiter go first while it holds GPUs (WaitLoop::contenders_ahead).
    std::vector<QueueEntry> unvouched;
    std::size_t size = 0;  // every living waiter, us included
};

class Waiters {
public:
    virtual ~Waiters() = default;

    /// Takes our place at the end of the line, as `entry` says (its number is ignored). Returns
    /// our number, or nullopt while another waiter is taking one (try again shortly). Throws
    /// Error when no place can be taken.
    [[nodiscard]] virtual std::optional<std::uint64_t> join(const QueueEntry& entry,
                                                            QueueLock lock) = 0;
    /// Leaves the line: the waiters behind move up.
    virtual void leave() = 0;
    /// Who is ahead of us now (after join).
    [[nodiscard]] virtual Line line() = 0;

    /// Locks GPU `uuid` for us without waiting; nullptr when someone else has it or its lock is
    /// unusable (then `unusable` says why). As GpuLock::try_acquire.
    [[nodiscard]] virtual std::unique_ptr<HeldLock> try_lock(const std::string& uuid,
                                                             const LockOwner& owner,
                                                             std::string* unusable) = 0;
    /// Who has GPU `uuid` locked right now, as its lock says.
    [[nodiscard]] virtual std::optional<LockOwner> holder(const std::string& uuid) = 0;

    /// Where the line and GPU `uuid`'s lock live, for messages.
    [[nodiscard]] virtual std::string where() const = 0;
    [[nodiscard]] virtual std::string lock_where(const std::string& uuid) const = 0;

    /// Ready (readable; signalled on Windows) when a lock was let go or the line got shorter;
    /// kNoHandle when nothing reports that, and only looking again tells.
    [[nodiscard]] virtual NativeHandle changes() const = 0;
    /// Consumes what made changes() ready.
    virtual void drain_changes() = 0;
};

}  // namespace gw
