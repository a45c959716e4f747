#include "policy/idle_tracker.hpp"

namespace gw {

void IdleTracker::observe(const std::string& uuid, bool available, TimePoint now) {
    if (!available) {
        since_.erase(uuid);
    } else {
        since_.try_emplace(uuid, now);
    }
}

bool IdleTracker::ready(const std::string& uuid, Duration idle_for, TimePoint now) const {
    auto it = since_.find(uuid);
    return it != since_.end() && now - it->second >= idle_for;
}

Duration IdleTracker::idle_time(const std::string& uuid, TimePoint now) const {
    auto it = since_.find(uuid);
    return it == since_.end() ? Duration{0} : now - it->second;
}

}  // namespace gw
