// When a waiter looks at the GPUs again. Looking costs driver calls; so a waiter looks only when
// something that can change its decision may have happened:
// - `poll`: every --poll, when the busy state has no event to wait for (a process the driver does
//   not show, sharing mode, --max-util, --idle-for counting, GPUs being gathered);
// - `events`: when every busy candidate is busy only with processes whose exit the kernel reports
//   (then at that exit, with a short burst of looks while the driver tears the context down, and
//   otherwise a slow safety look);
// - `queue`: when waiters ahead want every GPU this one could use (then only when the queue or a
//   lock changes or the waiter right ahead exits, and a safety look: every 20 polls near the
//   front of the queue, where a stopped waiter ahead must be noticed, rarely further back);
// and always at once when another gpu-waiter lets a GPU go or leaves the queue, or on a signal.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "common/clock.hpp"
#include "common/units.hpp"
#include "process/exit_watch.hpp"
#include "queue/waiters.hpp"

namespace gw {

enum class WaitMode {
    poll,         // look every --poll
    events,       // wait for an occupier's exit, safety look every events_safety_polls
    queue_front,  // out of reach near the front: safety look every queue_safety_polls
    queue,        // out of reach further back: the directory and the waiter ahead say enough
};

/// How long each mode sleeps at most, and the burst after an occupier's exit. The safety looks
/// scale with --poll: they catch what no event reports (a process that gives its GPU up without
/// exiting, a queue change on a system without directory notification).
struct WakeTimes {
    Duration poll{kDefaultPoll};
    int events_safety_polls = 20;
    int queue_safety_polls = 20;
    Duration queue_back_safety{std::chrono::minutes(10)};
    Duration burst{std::chrono::seconds(2)};  // the driver lists a process for a while after exit
    Duration burst_step{std::chrono::milliseconds(20)};
};

class Wakeups {
public:
    /// Sleeps on `clock`, waking when `waiters` report a released lock or a shorter line.
    Wakeups(Clock& clock, Waiters& waiters, WakeTimes times);

    /// Watches the exit of the processes keeping one GPU busy; false when one of them cannot be
    /// watched (then that GPU needs polling).
    [[nodiscard]] bool watch(const std::vector<unsigned>& pids);
    /// Forgets the processes not passed to watch() since the last call (they left their GPU).
    void forget_unseen();

    /// How long the next sleep may last in `mode`.
    [[nodiscard]] Duration next_sleep(WaitMode mode, TimePoint now) const;
    /// Sleeps up to `duration`, waking early on an occupier's exit, the lock directory changing,
    /// one of `extra` becoming readable, or a signal. An exit starts a burst of quick looks.
    void sleep(Duration duration, std::vector<NativeHandle> extra);

private:
    Clock& clock_;
    Waiters& waiters_;
    WakeTimes times_;
    ExitWatch exits_;
    std::set<long> seen_;  // occupiers passed to watch() since the last forget_unseen()
    TimePoint burst_until_{};
    mutable WaitMode mode_ = WaitMode::poll;  // of the coming sleep: only occupiers start bursts
};

}  // namespace gw
