// Waiters over the lock directory: tickets (queue.hpp), flock'ed lock files (gpu_lock.hpp) and
// the directory watch that wakes us when another gpu-waiter lets go.
#pragma once

#include <memory>

#include "lock/directory_watch.hpp"
#include "lock/lock_directory.hpp"
#include "queue/waiters.hpp"

namespace gw {

class FileWaiters final : public Waiters {
public:
    /// `locks` must outlive this.
    explicit FileWaiters(const LockDirectory& locks);

    [[nodiscard]] std::optional<std::uint64_t> join(const QueueEntry& entry,
                                                    QueueLock lock) override;
    void leave() override { ticket_.reset(); }
    [[nodiscard]] Line line() override;
    [[nodiscard]] std::unique_ptr<HeldLock> try_lock(const std::string& uuid,
                                                     const LockOwner& owner,
                                                     std::string* unusable) override;
    [[nodiscard]] std::optional<LockOwner> holder(const std::string& uuid) override;
    [[nodiscard]] std::string where() const override { return locks_.path(); }
    [[nodiscard]] std::string lock_where(const std::string& uuid) const override;
    [[nodiscard]] NativeHandle changes() const override { return watch_.fd(); }
    void drain_changes() override { watch_.drain(); }

private:
    const LockDirectory& locks_;
    std::string queue_dir_;
    std::unique_ptr<QueueTicket> ticket_;
    DirectoryWatch watch_;
};

}  // namespace gw
