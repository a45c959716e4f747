// --idle-for: a GPU must have been seen available continuously for a while before it is taken.
// Pure code: time comes in as arguments, so tests need no clock.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "common/units.hpp"

namespace gw {

class IdleTracker {
public:
    /// Records one look at a GPU: available or not at `now`.
    void observe(const std::string& uuid, bool available, TimePoint now);
    /// True when the GPU has been seen available at every look since at least `idle_for` ago.
    [[nodiscard]] bool ready(const std::string& uuid, Duration idle_for, TimePoint now) const;
    /// When the current run of availability began (for the wait timer); `now` if not available.
    [[nodiscard]] Duration idle_time(const std::string& uuid, TimePoint now) const;
    /// Forgets a GPU (it was taken, or given up).
    void forget(const std::string& uuid) { since_.erase(uuid); }

private:
    std::map<std::string, TimePoint> since_;  // uuid -> first look of the current available run
};

}  // namespace gw
