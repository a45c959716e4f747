#include "app/wakeups.hpp"

#include <algorithm>

namespace gw {
namespace {

/// More processes than this on busy GPUs: poll rather than hold a handle for each (Windows waits
/// on at most 64 objects at once).
constexpr std::size_t kMaxWatched = 32;

}  // namespace

Wakeups::Wakeups(Clock& clock, Waiters& waiters, WakeTimes times)
    : clock_(clock), waiters_(waiters), times_(times) {}

bool Wakeups::watch(const std::vector<unsigned>& pids) {
    bool all = true;
    for (unsigned pid : pids) {
        seen_.insert(static_cast<long>(pid));
        bool room = exits_.watching(static_cast<long>(pid)) || exits_.handles().size() < kMaxWatched;
        all = room && exits_.watch(static_cast<long>(pid)) && all;
    }
    return all;
}

void Wakeups::forget_unseen() {
    exits_.keep_only(seen_);
    seen_.clear();
}

Duration Wakeups::next_sleep(WaitMode mode, TimePoint now) const {
    mode_ = mode;
    Duration d = times_.poll;
    // Without notification of the directory, moving up in the queue is seen only by looking.
    bool notified = waiters_.changes() != kNoHandle;
    if (mode == WaitMode::events) d = times_.poll * times_.events_safety_polls;
    if (mode == WaitMode::queue_front && notified) d = times_.poll * times_.queue_safety_polls;
    if (mode == WaitMode::queue && notified) {
        d = std::max(times_.poll * times_.queue_safety_polls, times_.queue_back_safety);
    }
    if (now < burst_until_) d = std::min(d, times_.burst_step);
    return d;
}

void Wakeups::sleep(Duration duration, std::vector<NativeHandle> extra) {
    if (waiters_.changes() != kNoHandle) extra.push_back(waiters_.changes());
    for (NativeHandle h : exits_.handles()) extra.push_back(h);
    (void)clock_.sleep(duration, extra);
    waiters_.drain_changes();
    if (!exits_.take_exited().empty() && mode_ == WaitMode::events) {
        burst_until_ = clock_.now() + times_.burst;
    }
}

}  // namespace gw
