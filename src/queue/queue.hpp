// The waiting line every gpu-waiter of a machine shares: one ticket file per waiter in
// the lock directory, numbered in arrival order and locked by its owner while it lives. A waiter
// that dies leaves an unlocked ticket, which whoever reads the queue next removes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/unique_handle.hpp"
#include "lock/lock_directory.hpp"

namespace gw {

/// One waiter in the queue, as its ticket describes it.
struct QueueEntry {
    std::uint64_t number = 0;  // arrival order: lower came first
    long pid = 0;
    std::string user;
    std::string command;
    unsigned count = 1;                   // GPUs wanted
    std::vector<std::string> candidates;  // UUIDs it may use
    long long since = 0;                  // seconds since the epoch
    std::string name;                     // --name, or empty
    std::vector<std::string> argv;        // the command, word by word
};

/// Our place in the queue, from construction until destruction (launch, or giving up).
class QueueTicket {
public:
    /// Takes the next number and publishes `entry` in `queue_dir` (see queue_path); its number
    /// is filled in. Throws Error.
    QueueTicket(const std::string& queue_dir, QueueEntry entry);
    ~QueueTicket();
    QueueTicket(const QueueTicket&) = delete;
    QueueTicket& operator=(const QueueTicket&) = delete;

    [[nodiscard]] const QueueEntry& entry() const { return entry_; }

private:
    std::string path_;
    UniqueHandle fd_;
    QueueEntry entry_;
};

/// The living waiters in `queue_dir`, in arrival order. Removes dead waiters' tickets on the way.
[[nodiscard]] std::vector<QueueEntry> read_queue(const std::string& queue_dir);

/// Whether `name` (in the queue directory) is a published ticket, not one still being written.
[[nodiscard]] bool is_ticket_name(const std::string& name);

/// The directory holding the tickets: the lock directory itself.
[[nodiscard]] std::string queue_path(const LockDirectory& dir);

/// JSON text of an entry, and back: the ticket's content.
[[nodiscard]] std::string encode_entry(const QueueEntry& entry);
[[nodiscard]] bool decode_entry(const std::string& text, QueueEntry& entry);

}  // namespace gw
