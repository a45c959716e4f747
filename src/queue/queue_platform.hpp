// The two things each platform's queue file provides to the shared queue code.
#pragma once

#include <string>
#include <vector>

#include "queue/queue.hpp"

namespace gw {

/// The names of the ticket files in `queue_dir`, in no particular order.
[[nodiscard]] std::vector<std::string> ticket_names(const std::string& queue_dir);

/// Reads the ticket at `path` into `entry`. False for a ticket that is gone, unreadable or
/// belongs to a dead waiter (which is removed on the way, under our own lock).
[[nodiscard]] bool read_ticket(const std::string& path, QueueEntry& entry);

}  // namespace gw
