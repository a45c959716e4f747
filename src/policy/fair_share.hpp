// First come, first served between waiters: which free GPUs a waiter may take once everyone who
// queued before it has had its pick. Pure code over the queue and the lock holders.
//
// The policy: walk the queue in arrival order; each earlier waiter takes, or reserves, as many
// of the free GPUs it could use as it still needs. A later waiter gets only what is left. So a
// waiter never loses a GPU it could use to a later one, and a waiter for N GPUs keeps the ones
// that free up (reserved, held) until it has N, even behind a stream of one-GPU waiters.
// The price: a GPU reserved for a multi-GPU waiter may sit idle while that waiter waits for the
// rest, although a later one-GPU job could have used it.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace gw {

/// A waiter that queued before us.
struct Contender {
    unsigned count = 1;                   // GPUs it wants
    std::vector<std::string> candidates;  // UUIDs it may use, in its order of preference
    unsigned holding = 0;                 // GPUs it has locked already
};

/// The GPUs of `free` (UUIDs, in our order of preference) left for us after `ahead` (in arrival
/// order) has taken what it can use.
[[nodiscard]] std::vector<std::string> share_for(const std::vector<Contender>& ahead,
                                                 const std::vector<std::string>& free);

/// Whether we may lock GPUs one by one as they free up (and hold them until we have all we
/// need). Only a waiter that no earlier waiter competes with may: two waiters each holding part
/// of what both need would wait for each other forever.
[[nodiscard]] bool may_gather(const std::vector<Contender>& ahead,
                              const std::vector<std::string>& our_candidates);

/// Whether `ahead` would take every GPU we could use even if all of them were free now: then no
/// look at a GPU can change what we get, only a change in the queue or the locks can.
[[nodiscard]] bool out_of_reach(const std::vector<Contender>& ahead,
                                const std::vector<std::string>& our_candidates, unsigned count);

}  // namespace gw
