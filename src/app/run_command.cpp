#include <ctime>

#include <fmt/format.h>

#include "app/commands.hpp"
#include "app/explain.hpp"
#include "app/launch_plan.hpp"
#include "app/supervisor.hpp"
#include "app/wait_loop.hpp"
#include "common/error.hpp"
#include "driver/nvml.hpp"
#include "lock/lock_directory.hpp"
#include "policy/availability.hpp"
#include "policy/candidates.hpp"
#include "process/child.hpp"
#include "process/process_table.hpp"
#include "process/signal_clock.hpp"
#include "queue/file_waiters.hpp"
#include "slurm/allocation.hpp"

namespace gw {
namespace {

std::vector<GpuIdentity> candidates_of(const Options& o, const GpuInventory& inventory,
                                       Reporter& reporter) {
    CandidateSource source = o.gpus.empty()            ? CandidateSource::all
                             : o.gpus_from_environment ? CandidateSource::environment
                                                       : CandidateSource::option;
    if (inventory.gpus.empty() && inventory.skipped.empty()) {
        throw Error("no GPU found: the driver lists none",
                    "check nvidia-smi; in a container, pass the GPUs in (docker run --gpus all)");
    }
    auto candidates = resolve_candidates(inventory, o.gpus, source);
    if (o.slurm_allocation) {
        AllocatedGpus allocated =
            restrict_to_allocation(inventory, *o.slurm_allocation, std::move(candidates), source);
        reporter.detail(fmt::format("inside Slurm job {}: only its GPUs: {}",
                                    o.slurm_allocation->job_id, allocated.how));
        candidates = std::move(allocated.gpus);
        source = CandidateSource::option;  // a narrowed list, whatever named it
    }
    if (candidates.size() < o.count) {
        throw Error(
            fmt::format(
                "{} GPU(s) requested, but only {} {} usable", o.count, candidates.size(),
                source == CandidateSource::all ? "on this machine are" : "of the candidates are"),
            inventory.skipped.empty() ? "lower -n, or name more GPUs with -g"
                                      : "some GPUs were skipped (see above); lower -n");
    }
    return candidates;
}

LockOwner owner_record(const Options& o) {
    std::string command;
    for (const std::string& arg : o.command) command += (command.empty() ? "" : " ") + arg;
    return LockOwner{current_pid(),
                     current_user(),
                     command,
                     static_cast<long long>(std::time(nullptr)),
                     LockState::held,
                     0,  // the command's pid, once it runs
                     o.name.value_or(""),
                     o.command};
}

std::string describe(const std::vector<ChosenGpu>& gpus) {
    std::string out;
    for (const ChosenGpu& g : gpus) {
        out += fmt::format("{}GPU {} ({}, CUDA {})", out.empty() ? "" : ", ",
                           unit_label(g.identity), g.identity.uuid, g.cuda_ordinal);
    }
    return out;
}

LockDirectory open_lock_directory(const Options& o, Reporter& reporter) {
    LockDirectory locks(o.lock_dir);
    if (locks.created() && !is_superuser()) {
        // Every other user refuses a lock directory owned by a non-root user: say so at once.
        reporter.warning(
            fmt::format("created {0}, owned by you: other users cannot use it until "
                        "root owns it (the .deb's tmpfiles rule does that at boot; "
                        "or: sudo chown root: {0})",
                        locks.path()));
    }
    reporter.detail("lock directory: " + locks.path());
    return locks;
}

}  // namespace

void check_launchable(const Options& o) {
    // A name that -I rewrites is known only at launch.
    if (!o.replace || o.command.front().find(*o.replace) == std::string::npos) {
        check_command(o.command.front());
    }
}

void check_servable(const Options& o, Reporter& reporter) {
    Nvml nvml;
    GpuInventory inventory = nvml.inventory();
    check_rule_fits(o.rule, candidates_of(o, inventory, reporter));
}

int run_command(const Options& o, Reporter& reporter) {
    // Before the driver, the lock directory and the queue: a typo must not cost the wait.
    check_launchable(o);
    check_replace_string(o, reporter);
    SignalCatcher signals;
    Nvml nvml;
    GpuInventory inventory = nvml.inventory();
    for (const std::string& skipped : inventory.skipped) reporter.warning("skipping " + skipped);
    reporter.detail(nvml.version());
    LockOwner owner = owner_record(o);
    std::vector<GpuIdentity> candidates = candidates_of(o, inventory, reporter);
    check_rule_fits(o.rule, candidates);
    explain_candidates(o, inventory, candidates, reporter);
    WaitRequest request{candidates, o.count, o.rule, o.idle_for, o.poll, o.timeout, owner};
    LockDirectory locks = open_lock_directory(o, reporter);
    FileWaiters waiters(locks);
    SignalClock clock(signals);
    HeldGpus held(holder_process(signals), reporter, HoldSettings{o.hold, o.hold_fraction});
    WaitOutcome outcome =
        WaitLoop(nvml, waiters, clock, signals, reporter, held, std::move(request)).run();
    if (outcome.end == WaitOutcome::End::timed_out) {
        reporter.info(fmt::format("gave up: --timeout {} passed", format_duration(*o.timeout)));
        return static_cast<int>(ExitCode::timed_out);
    }
    if (outcome.end == WaitOutcome::End::signalled) {
        reporter.info(fmt::format("stopped by signal {} while waiting", outcome.signal));
        return 128 + outcome.signal;
    }
    auto chosen = order_for_cuda(inventory, held.identities());
    reporter.info("running on " + describe(chosen));
    LaunchRequest launch = plan_launch(launch_settings(o), chosen);
    launch.inherit = held.lock_handles();
    explain_launch(launch, reporter);
    Child child(launch, signals);
    // The command holds the locks too now: say so in their records, for --status and for
    // waiters who find gpu-waiter gone and the command still running.
    owner.command_pid = child.pid();
    for (const GpuIdentity& gpu : held.identities())
        held.set_lock_state(gpu.uuid, LockState::held, owner);
    Supervisor supervisor(nvml, clock, signals, reporter, held,
                          SupervisorSettings{o.poll, o.hold_max, owner});
    int status = supervisor.run(child);
    return status;
}

}  // namespace gw
