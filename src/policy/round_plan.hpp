// What one round of the wait does with the GPUs it found ready: which held ones to give back,
// which free ones to try to lock, and whether a partial take counts. Pure code over the round's
// snapshot; the wait loop only carries the plan out.
#pragma once

#include <string>
#include <vector>

#include "policy/fair_share.hpp"

namespace gw {

/// What a round knows when it decides.
struct RoundInput {
    std::vector<Contender> ahead;         // earlier waiters that compete, in arrival order
    std::vector<std::string> candidates;  // UUIDs we may use
    unsigned count = 1;                   // GPUs we need
    std::vector<std::string> held;        // UUIDs we hold now
    std::vector<std::string> ready;       // free GPUs we do not hold, in our order of preference
};

struct RoundPlan {
    std::vector<std::string> give_back;  // held GPUs to let go before taking anything
    std::vector<std::string> take;       // free GPUs to try to lock, in order
    std::size_t missing = 0;             // how many of `take` to end up with
    /// Fewer than `missing` locked: give back what was, or we would hold part of what an
    /// earlier waiter needs.
    bool all_or_nothing = false;
    std::size_t kept_for_earlier = 0;  // ready GPUs left to earlier waiters
};

/// The round's plan. A waiter that no earlier waiter competes with gathers (locks GPUs one by
/// one and keeps them); any other takes all it is missing at once or nothing, and first gives
/// back what it holds: two waiters each holding part of what both need would wait for each
/// other forever.
[[nodiscard]] RoundPlan plan_round(const RoundInput& in);

}  // namespace gw
