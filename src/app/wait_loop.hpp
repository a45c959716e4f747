// The wait: look at the candidate GPUs every poll (or when another gpu-waiter lets a GPU go),
// take the ones this waiter may have in queue order, and end when it has all it needs, at the
// timeout, or on a signal.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "app/gpu_looks.hpp"
#include "app/held_gpus.hpp"
#include "app/wakeups.hpp"
#include "common/clock.hpp"
#include "driver/gpu.hpp"
#include "lock/gpu_lock.hpp"
#include "policy/availability.hpp"
#include "policy/fair_share.hpp"
#include "policy/idle_tracker.hpp"
#include "policy/round_plan.hpp"
#include "process/signals.hpp"
#include "queue/waiters.hpp"
#include "ui/reporter.hpp"

namespace gw {

struct WaitRequest {
    std::vector<GpuIdentity> candidates;
    unsigned count = 1;
    AvailabilityRule rule;
    Duration idle_for{0};
    Duration poll{0};
    std::optional<Duration> timeout;
    LockOwner owner;  // what our lock files and ticket say about us
};

struct WaitOutcome {
    enum class End { acquired, timed_out, signalled } end = End::timed_out;
    int signal = 0;
};

class WaitLoop {
public:
    /// `held` receives the GPUs as they are taken; on `acquired` it holds `count` of them.
    /// `waiters` is the line and the locks shared with the other gpu-waiters; `clock` tells the
    /// time and sleeps (waking on `signals`, whose signals end the wait).
    WaitLoop(GpuDriver& driver, Waiters& waiters, Clock& clock, SignalCatcher& signals,
             Reporter& reporter, HeldGpus& held, WaitRequest request);
    [[nodiscard]] WaitOutcome run();

private:
    [[nodiscard]] Look look(const GpuIdentity& gpu);
    void round(TimePoint now, WaitView& view);
    /// Out of reach behind the waiters ahead: sleep on the line, not on the GPUs.
    void wait_in_line(const std::vector<Contender>& ahead, WaitView& view);
    void carry_out(const RoundPlan& plan, WaitView& view);
    [[nodiscard]] std::vector<std::string> ready_gpus(TimePoint now, WaitView& view);
    /// Whether a busy GPU's state can only change when processes we watch end.
    [[nodiscard]] bool has_event(const Look& l);
    [[nodiscard]] std::vector<Contender> contenders_ahead();
    /// The waiters served before us, in the queue's order, from the line and who holds which
    /// of our candidates' locks (pid -> how many).
    [[nodiscard]] std::vector<QueueEntry> earlier_waiters(
        const std::map<long, unsigned>& locked_by);
    void take(const RoundPlan& plan, WaitView& view);
    /// Locks GPU `uuid` and holds it; false (and why, in `view`) when it cannot be had.
    [[nodiscard]] bool take_one(const std::string& uuid, WaitView& view);
    void check_holds();
    void report_unusable_lock(const GpuIdentity& gpu, const std::string& why);
    /// Takes our place in the queue; false while another waiter is taking one.
    [[nodiscard]] bool take_ticket(TimePoint start);
    /// Sleeps up to `sleep_for`; the outcome when the timeout passed or a signal came.
    [[nodiscard]] std::optional<WaitOutcome> pause(TimePoint start, Duration sleep_for);
    [[nodiscard]] const GpuIdentity& candidate(const std::string& uuid) const;
    [[nodiscard]] std::set<unsigned> own_pids() const;
    void sleep_until_next_round(Duration timeout);
    void place_in_line(WaitView& view);

    GpuDriver& driver_;
    Waiters& waiters_;
    Clock& clock_;
    SignalCatcher& signals_;
    Reporter& reporter_;
    HeldGpus& held_;
    WaitRequest request_;
    GpuLooks looks_;
    IdleTracker idle_;
    Wakeups wakeups_;
    WaitMode mode_ = WaitMode::poll;
    long nearest_ahead_ = 0;                    // the pid of the last waiter ahead of us
    std::vector<std::string> ahead_labels_;     // who is ahead of us, from contenders_ahead
    std::size_t queue_size_ = 0;                // every waiter in line, from contenders_ahead
    std::map<std::string, TimePoint> refused_;  // GPUs whose hold failed: not retaken until then
    std::set<std::string> unusable_locks_;      // GPUs whose lock file was reported unusable
    std::size_t last_place_ = 0;                // told with -v when it changes
};

}  // namespace gw
