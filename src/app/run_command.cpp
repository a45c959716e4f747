#include <ctime>

#include <fmt/format.h>

#include "app/commands.hpp"
#include "app/launch_plan.hpp"
#include "app/wait_loop.hpp"
#include "common/error.hpp"
#include "driver/nvml.hpp"
#include "lock/lock_directory.hpp"
#include "policy/candidates.hpp"
#include "process/child.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

std::vector<GpuIdentity> candidates_of(const Options& o, const GpuInventory& inventory) {
    CandidateSource source = o.gpus.empty()            ? CandidateSource::all
                             : o.gpus_from_environment ? CandidateSource::environment
                                                       : CandidateSource::option;
    auto candidates = resolve_candidates(inventory, o.gpus, source);
    if (candidates.size() < o.count) {
        throw Error(fmt::format("{} GPU(s) requested, but only {} {} usable", o.count,
                                candidates.size(),
                                source == CandidateSource::all ? "on this machine are"
                                                               : "of the candidates are"),
                    inventory.skipped.empty() ? "lower -n, or name more GPUs with -g"
                                              : "some GPUs were skipped (see above); lower -n");
    }
    return candidates;
}

LockOwner owner_record(const Options& o) {
    std::string command;
    for (const std::string& arg : o.command) command += (command.empty() ? "" : " ") + arg;
    return LockOwner{current_pid(), current_user(), command,
                     static_cast<long long>(std::time(nullptr)), "held"};
}

std::string describe(const std::vector<ChosenGpu>& gpus) {
    std::string out;
    for (const ChosenGpu& g : gpus) {
        out += fmt::format("{}GPU {} ({}, CUDA {})", out.empty() ? "" : ", ", g.identity.index,
                           g.identity.uuid, g.cuda_ordinal);
    }
    return out;
}

/// Runs until the command ends, passing on every signal a process sent us (a terminal's signal
/// reached the command directly, as it is in our process group).
int supervise(Child& child, SignalCatcher& signals) {
    for (;;) {
        if (auto status = child.poll()) return *status;
        (void)signals.sleep(std::chrono::seconds(1));
        (void)signals.take_child_event();
        for (const ReceivedSignal& s : signals.take()) {
            if (!s.from_terminal) child.signal(s.number);
        }
    }
}

}  // namespace

int run_command(const Options& o, Reporter& reporter) {
    SignalCatcher signals;
    Nvml nvml;
    GpuInventory inventory = nvml.inventory();
    for (const std::string& skipped : inventory.skipped) reporter.warning("skipping " + skipped);
    reporter.detail(nvml.version());
    WaitRequest request{candidates_of(o, inventory), o.count, o.rule, o.idle_for, o.poll,
                        o.timeout, owner_record(o)};
    LockDirectory locks(o.lock_dir);
    WaitLoop loop(nvml, locks, signals, reporter, std::move(request));
    WaitOutcome outcome = loop.run();
    if (outcome.end == WaitOutcome::End::timed_out) {
        reporter.info(fmt::format("gave up: --timeout {} passed", format_duration(*o.timeout)));
        return static_cast<int>(ExitCode::timed_out);
    }
    if (outcome.end == WaitOutcome::End::signalled) {
        reporter.info(fmt::format("stopped by signal {} while waiting", outcome.signal));
        return 128 + outcome.signal;
    }
    auto chosen = order_for_cuda(inventory, outcome.acquisition.gpus);
    reporter.info("running on " + describe(chosen));
    Child child(plan_launch(o, chosen), signals);
    return supervise(child, signals);
}

}  // namespace gw
