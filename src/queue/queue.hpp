// The waiting line every gpu-waiter of a machine shares: one ticket file per waiter in
// the lock directory, numbered in arrival order and locked by its owner while it lives. A waiter
// that dies leaves an unlocked ticket, which whoever reads the queue next removes.
//
// Any user can write into the directory, so nothing in a ticket is taken on trust: its user is
// the file's owner, its process must be a living gpu-waiter of that user, and a ticket numbered
// ahead of a waiter that appeared after the waiter took its number is forged.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_handle.hpp"
#include "lock/lock_directory.hpp"

namespace gw {

/// The highest ticket number; a ticket named above it is not one of ours.
inline constexpr std::uint64_t kMaxTicketNumber = 999'999'999'999'999;

/// One waiter in the queue, as its ticket describes it.
struct QueueEntry {
    std::uint64_t number = 0;  // arrival order: lower came first
    long pid = 0;
    std::string user;  // the ticket file's owner, whatever the ticket says
    std::string command;
    unsigned count = 1;                   // GPUs wanted
    std::vector<std::string> candidates;  // UUIDs it may use
    long long since = 0;                  // seconds since the epoch
    bool stopped = false;  // its gpu-waiter is stopped (Ctrl-Z): passed over until continued
    std::string name;      // --name, or empty
    std::vector<std::string> argv;  // the command, word by word
};

/// An entry of the lock directory that is skipped: unreadable, of the wrong type, or forged.
struct ForeignEntry {
    std::string name;
    std::string why;
};

/// What read_queue finds.
struct QueueView {
    std::vector<QueueEntry> waiters;    // living waiters, in arrival order
    std::vector<ForeignEntry> foreign;  // ticket-like entries that were skipped, and why
};

/// Whether a ticket is taken under the queue's lock (which makes every earlier ticket visible to
/// the taker) or, when someone keeps that lock too long, without it.
enum class QueueLock { take, skip };

/// Our place in the queue, from construction until destruction (launch, or giving up).
class QueueTicket {
public:
    /// Takes the next number and publishes `entry` in `queue_dir` (see queue_path); its number
    /// is filled in. nullptr while another waiter holds the queue's lock (try again shortly).
    /// Throws Error when the ticket cannot be written.
    [[nodiscard]] static std::unique_ptr<QueueTicket> try_take(const std::string& queue_dir,
                                                               QueueEntry entry, QueueLock lock);
    ~QueueTicket();
    QueueTicket(const QueueTicket&) = delete;
    QueueTicket& operator=(const QueueTicket&) = delete;

    [[nodiscard]] const QueueEntry& entry() const { return entry_; }
    /// Whether `other` (from read_queue) is served before us: a lower or equal number that was
    /// already there when we took ours. A lower number that appeared later was not drawn
    /// honestly.
    [[nodiscard]] bool is_ahead(const QueueEntry& other) const;

private:
    QueueTicket() = default;
    /// Writes our ticket as number `number` (or the next free one) and locks it.
    void publish(const std::string& queue_dir, std::uint64_t number);
    std::string path_;
    UniqueHandle fd_;
    QueueEntry entry_;
    std::set<std::pair<std::uint64_t, long>> ahead_;  // (number, pid) there when we drew ours
    bool ahead_known_ = false;  // false: drawn without the queue's lock, every lower one counts
};

/// The living waiters in `queue_dir`, in arrival order, and what was skipped. Removes dead
/// waiters' tickets on the way.
[[nodiscard]] QueueView read_queue(const std::string& queue_dir);

/// Whether `name` (in the queue directory) is a published ticket, not one still being written.
[[nodiscard]] bool is_ticket_name(const std::string& name);

/// The number and pid in a ticket's name; nullopt for a name not of the form
/// NNNNNNNNNNNNNNNN-PID.ticket or a number past kMaxTicketNumber.
[[nodiscard]] std::optional<std::pair<std::uint64_t, long>> parse_ticket_name(
    const std::string& name);

/// The name of the ticket with this number and pid.
[[nodiscard]] std::string ticket_name(std::uint64_t number, long pid);

/// The directory holding the tickets: the lock directory itself.
[[nodiscard]] std::string queue_path(const LockDirectory& dir);

/// JSON text of an entry, and back: the ticket's content.
[[nodiscard]] std::string encode_entry(const QueueEntry& entry);
[[nodiscard]] bool decode_entry(const std::string& text, QueueEntry& entry);

}  // namespace gw
