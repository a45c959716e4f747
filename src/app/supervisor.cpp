#include "app/supervisor.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "policy/handover.hpp"
#include "policy/idle_tracker.hpp"

namespace gw {

Supervisor::Supervisor(GpuDriver& driver, Clock& clock, SignalInbox& signals, Reporter& reporter,
                       HeldGpus& held, SupervisorSettings settings)
    : driver_(driver),
      clock_(clock),
      signals_(signals),
      reporter_(reporter),
      held_(held),
      settings_(std::move(settings)) {}

void Supervisor::hand_over(const GpuIdentity& gpu, const std::string& why) {
    reporter_.detail(fmt::format("GPU {}: {}; hold released", unit_label(gpu), why));
    held_.release_hold(gpu.uuid);
    held_.set_lock_state(gpu.uuid, LockState::handed_over, settings_.owner);
}

void Supervisor::report_failed_holds() {
    for (const auto& [uuid, why] : held_.collect_replies()) {
        reporter_.warning(fmt::format("could not hold {}: {}", uuid, why));
    }
}

namespace {

bool has_stranger(const GpuStatus& status, const std::set<long>& holders) {
    if (!status.processes) return false;
    return std::any_of(
        status.processes->begin(), status.processes->end(),
        [&](const GpuProcess& p) { return !holders.contains(static_cast<long>(p.pid)); });
}

}  // namespace

void Supervisor::watch_holds(const RunningCommand& command) {
    using Action = HandoverDecision::Action;
    if (held_.holding().empty()) return;
    const std::set<long> holders = held_.holder_pids();
    std::optional<std::set<long>> tree;  // walked only when a GPU shows a new process
    for (const GpuIdentity& gpu : held_.identities()) {
        // Until the holder confirms, there is no baseline to compare with.
        if (!held_.hold_in_place(gpu.uuid)) continue;
        GpuStatus status = driver_.probe(gpu, GpuQuery::memory | GpuQuery::processes);
        if (!status.error.empty()) continue;
        if (!held_.used_with_hold(gpu.uuid) && status.memory) {
            held_.set_used_with_hold(gpu.uuid, status.memory->used);
        }
        if (!tree && has_stranger(status, holders)) tree = command.tree();
        static const std::set<long> kNone;
        HandoverInput in{&status, tree ? &*tree : &kNone, &holders, held_.used_with_hold(gpu.uuid)};
        HandoverDecision d = decide_handover(in);
        switch (d.action) {
            case Action::keep:
                break;
            case Action::command_arrived:
                hand_over(gpu, fmt::format("the command's pid {} is on it", d.pid));
                break;
            case Action::foreign_arrived:
                reporter_.warning(
                    fmt::format("GPU {}: pid {} is using it too, not started by "
                                "the command",
                                unit_label(gpu), d.pid));
                hand_over(gpu, "another process arrived");
                break;
            case Action::memory_rose:
                hand_over(gpu, "its memory use grew (the command, in another PID namespace)");
                break;
        }
    }
}

Duration Supervisor::next_look(TimePoint started) const {
    // Right after launch the command may make its first CUDA call any moment and then want all
    // the memory: look often (a look is two cheap driver calls per held GPU). Later, a command
    // that has not touched its GPU yet is in no hurry.
    constexpr Duration kEager = std::chrono::milliseconds(20);
    constexpr Duration kEagerPeriod = std::chrono::seconds(60);
    bool eager = clock_.now() - started < kEagerPeriod;
    return eager ? std::min(settings_.poll, kEager) : settings_.poll;
}

int Supervisor::run(RunningCommand& command) {
    const TimePoint start = clock_.now();
    for (;;) {
        if (auto status = command.poll()) return *status;
        report_failed_holds();
        if (settings_.hold_max && !held_.holding().empty() &&
            clock_.now() - start >= *settings_.hold_max) {
            reporter_.detail("--hold-max passed: holds released");
            held_.release_all_holds();
        }
        watch_holds(command);
        bool holding = !held_.holding().empty();
        const std::vector<NativeHandle> fds = held_.reply_fds();
        // Without holds there is nothing to poll for: SIGCHLD or another signal wakes us.
        (void)clock_.sleep(holding ? next_look(start) : std::chrono::seconds(60), fds);
        (void)signals_.take_child_event();
        for (const ReceivedSignal& s : signals_.take()) {
            // A terminal's signal reached the command already: it is in our process group.
            if (!s.from_terminal) command.signal(s.number);
        }
    }
}

}  // namespace gw
