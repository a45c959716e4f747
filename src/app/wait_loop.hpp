// The wait: look at the candidate GPUs every poll, and when enough of them are available (and
// have been for --idle-for), lock them. Ends with the GPUs locked, a timeout, or a signal.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "driver/gpu.hpp"
#include "lock/gpu_lock.hpp"
#include "policy/availability.hpp"
#include "policy/idle_tracker.hpp"
#include "process/signals.hpp"
#include "ui/reporter.hpp"

namespace gw {

struct WaitRequest {
    std::vector<GpuIdentity> candidates;
    unsigned count = 1;
    AvailabilityRule rule;
    Duration idle_for{0};
    Duration poll{0};
    std::optional<Duration> timeout;
    LockOwner owner;  // what our lock files say about us
};

/// GPUs that are ours: locked, and re-checked after locking.
struct Acquisition {
    std::vector<GpuIdentity> gpus;
    std::vector<std::unique_ptr<GpuLock>> locks;
};

struct WaitOutcome {
    enum class End { acquired, timed_out, signalled } end = End::timed_out;
    Acquisition acquisition;
    int signal = 0;
};

class WaitLoop {
public:
    WaitLoop(GpuDriver& driver, const LockDirectory& locks, SignalCatcher& signals,
             Reporter& reporter, WaitRequest request);
    [[nodiscard]] WaitOutcome run();

private:
    struct Look {
        GpuStatus status;
        Judgement judgement;
    };
    [[nodiscard]] Look look(const GpuIdentity& gpu);
    [[nodiscard]] std::vector<std::size_t> ready_candidates(TimePoint now, WaitView& view);
    [[nodiscard]] std::optional<Acquisition> try_acquire(const std::vector<std::size_t>& ready,
                                                         WaitView& view);
    [[nodiscard]] std::string busy_text(const GpuIdentity& gpu, const Look& look) const;

    GpuDriver& driver_;
    const LockDirectory& locks_;
    SignalCatcher& signals_;
    Reporter& reporter_;
    WaitRequest request_;
    IdleTracker idle_;
    std::set<unsigned> own_pids_;
};

}  // namespace gw
