// While the command runs: pass signals on, and hand each held GPU over to the command as soon
// as the command (or anything it started) appears on it.
#pragma once

#include <optional>

#include "app/held_gpus.hpp"
#include "common/clock.hpp"
#include "driver/gpu.hpp"
#include "policy/idle_tracker.hpp"
#include "process/child.hpp"
#include "process/signals.hpp"
#include "ui/reporter.hpp"

namespace gw {

struct SupervisorSettings {
    Duration poll{0};
    std::optional<Duration> hold_max;
    LockOwner owner;
};

class Supervisor {
public:
    /// `clock` tells the time and sleeps, waking on `signals`, which are passed on.
    Supervisor(GpuDriver& driver, Clock& clock, SignalInbox& signals, Reporter& reporter,
               HeldGpus& held, SupervisorSettings settings);
    /// Runs until the command ends; returns its exit status (or 128+N).
    [[nodiscard]] int run(RunningCommand& command);

private:
    void watch_holds(const RunningCommand& command);
    void hand_over(const GpuIdentity& gpu, const std::string& why);
    void report_failed_holds();
    [[nodiscard]] Duration next_look(TimePoint started) const;

    GpuDriver& driver_;
    Clock& clock_;
    SignalInbox& signals_;
    Reporter& reporter_;
    HeldGpus& held_;
    SupervisorSettings settings_;
};

}  // namespace gw
