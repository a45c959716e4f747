// What each platform's queue file provides to the shared queue code.
#pragma once

#include <string>
#include <vector>

#include "common/unique_handle.hpp"
#include "queue/queue.hpp"

namespace gw {

/// The names of the ticket files in `queue_dir`, in no particular order.
[[nodiscard]] std::vector<std::string> ticket_names(const std::string& queue_dir);

/// What reading one ticket found.
enum class TicketRead {
    waiter,   // a living waiter: `entry` is filled in
    gone,     // removed meanwhile, or a dead waiter's (removed on the way, under our own lock)
    foreign,  // not to be trusted: `why` says why
};

/// Reads the ticket open as `file` (at `path`) into `entry`, checking that it is what it
/// claims. `holder` receives the process that holds the ticket (for telling two tickets of one
/// process apart from two processes).
[[nodiscard]] TicketRead read_ticket(const std::string& path, const UniqueHandle& file,
                                     QueueEntry& entry, long& holder, std::string& why);

}  // namespace gw
