#include "queue/file_waiters.hpp"

#include <utility>

namespace gw {

FileWaiters::FileWaiters(const LockDirectory& locks)
    : locks_(locks), queue_dir_(queue_path(locks)), watch_({locks.path()}) {}

std::optional<std::uint64_t> FileWaiters::join(const QueueEntry& entry, QueueLock lock) {
    ticket_ = QueueTicket::try_take(queue_dir_, entry, lock);
    if (!ticket_) return std::nullopt;
    return ticket_->entry().number;
}

Line FileWaiters::line() {
    Line line;
    std::vector<QueueEntry> queue = read_queue(queue_dir_).waiters;
    line.size = queue.size();
    const QueueEntry& ours = ticket_->entry();
    for (QueueEntry& e : queue) {
        if (e.number > ours.number) break;  // tied numbers are the ticket's to order
        if (ticket_->is_ahead(e)) {
            line.ahead.push_back(std::move(e));
        } else if (std::pair{e.number, e.pid} < std::pair{ours.number, ours.pid}) {
            line.unvouched.push_back(std::move(e));
        }
    }
    return line;
}

std::unique_ptr<HeldLock> FileWaiters::try_lock(const std::string& uuid, const LockOwner& owner,
                                                std::string* unusable) {
    return GpuLock::try_acquire(locks_, uuid, owner, unusable);
}

std::optional<LockOwner> FileWaiters::holder(const std::string& uuid) {
    return GpuLock::holder(locks_, uuid);
}

std::string FileWaiters::lock_where(const std::string& uuid) const {
    return locks_.entry(lock_file_name(uuid));
}

}  // namespace gw
