#include "slurm/backend.hpp"

#include <csignal>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/error.hpp"
#include "process/child.hpp"
#include "process/process_table.hpp"
#include "process/signals.hpp"
#include "slurm/srun_plan.hpp"

namespace gw {
namespace {

/// srun's own gesture for "abort": two SIGINTs within a second. One alone only makes srun
/// print the step's state. The pause keeps two from merging into one pending signal; a third
/// covers a busy srun that merged the first two anyway (once aborting, another SIGINT only
/// repeats the termination srun has begun).
constexpr Duration kInterruptGap = std::chrono::milliseconds(200);
constexpr int kInterrupts = 3;

bool cancels(int signo) {
#ifdef SIGHUP  // Windows has no hang-up signal.
    if (signo == SIGHUP) return true;
#endif
    return signo == SIGINT || signo == SIGTERM;
}

std::string quoted(const std::vector<std::string>& argv) {
    std::string out;
    for (const std::string& full : argv) {
        // The step script is ours and long: name it instead.
        const std::string arg = full == srun_step_script() ? "STEP" : full;
        bool plain =
            !arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos;
        out += (out.empty() ? "" : " ") + (plain ? arg : "'" + arg + "'");
    }
    return out;
}

/// Starts a Slurm command; a missing one means Slurm is not installed here: gpu-waiter's
/// failure (125), not the command's 127.
std::unique_ptr<Child> start_slurm_command(const LaunchRequest& request,
                                           const SignalCatcher& signals) {
    try {
        return std::make_unique<Child>(request, signals);
    } catch (const Error& e) {
        if (e.code() != ExitCode::not_found) throw;
        throw Error(fmt::format("--slurm: {} not found: Slurm's commands are not installed here",
                                request.argv.front()),
                    "run gpu-waiter on a Slurm login node (Debian: apt install slurm-client), "
                    "or drop --slurm and GPU_WAITER_BACKEND to wait on this machine");
    }
}

/// srun in the foreground, with signals passed on the way srun understands them.
class SrunJob {
public:
    SrunJob(Child& srun, SignalCatcher& signals) : srun_(srun), signals_(signals) {}

    /// Until srun ends: its exit status, and the signal that cancelled the job, if one did.
    std::pair<int, std::optional<int>> run() {
        for (;;) {
            if (auto status = srun_.poll()) return {*status, cancelled_by_};
            (void)signals_.sleep(std::chrono::seconds(60));
            (void)signals_.take_child_event();
            for (const ReceivedSignal& s : signals_.take()) pass_on(s);
        }
    }

private:
    void pass_on(const ReceivedSignal& s) {
        if (cancels(s.number) && !cancelled_by_) cancelled_by_ = s.number;
        // A terminal's signal reached srun already: it is in our process group.
        if (s.from_terminal) return;
        if (s.number == SIGINT) {
            interrupt();
        } else {
            srun_.signal(s.number);  // SIGTERM, SIGHUP: srun ends the job; others go to the step
        }
    }

    void interrupt() {
        srun_.signal(SIGINT);
        for (int sent = 1; sent < kInterrupts; ++sent) {
            (void)signals_.sleep(kInterruptGap);
            if (srun_.poll()) return;
            srun_.signal(SIGINT);
        }
    }

    Child& srun_;
    SignalCatcher& signals_;
    std::optional<int> cancelled_by_;
};

}  // namespace

int run_with_slurm(const Options& o, Reporter& reporter) {
    LaunchRequest request = plan_srun(o);
    reporter.detail("running through Slurm: " + quoted(request.argv));
    SignalCatcher signals;
    auto srun = start_slurm_command(request, signals);
    auto [status, cancelled_by] = SrunJob(*srun, signals).run();
    if (cancelled_by && status == kSrunError) {
        // A pending job that a signal revoked: srun ends with SLURM_EXIT_ERROR.
        reporter.info(fmt::format("stopped by signal {} while waiting for Slurm", *cancelled_by));
        return 128 + *cancelled_by;
    }
    if (o.timeout && status == kSrunNoAllocation) {
        reporter.info(fmt::format("gave up: --timeout {} passed with no allocation from Slurm",
                                  format_duration(*o.timeout)));
    }
    return status;
}

int detach_with_slurm(const Options& o, Reporter& reporter) {
    std::string log = o.log_file.value_or("");
    if (log.empty()) {
        // Written on the compute node: a home directory that the nodes share, as usual.
        std::string dir = default_log_dir(process_env);
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) throw Error(fmt::format("mkdir {}: {}", dir, ec.message()), "give --log FILE");
        log = fmt::format("{}/{}-%j.log", dir, o.name.value_or("job"));
    }
    LaunchRequest request = plan_sbatch(o, log);
    reporter.detail("submitting to Slurm: " + quoted(request.argv));
    SignalCatcher signals;
    auto sbatch = start_slurm_command(request, signals);
    int status = SrunJob(*sbatch, signals).run().first;
    if (status != 0) return status;  // sbatch said why
    reporter.info(fmt::format(
        "log: {}{}", log, log.find("%j") == std::string::npos ? "" : " (%j: the job id above)"));
    return 0;
}

int cancel_with_slurm(const Options& o, Reporter& reporter) {
    LaunchRequest request = plan_scancel(o.cancel, current_user(), is_superuser());
    reporter.info("asking Slurm to cancel: " + quoted(request.argv));
    SignalCatcher signals;
    auto scancel = start_slurm_command(request, signals);
    return SrunJob(*scancel, signals).run().first;
}

int show_slurm_status(const Options&, Reporter&) {
    SignalCatcher signals;
    const std::vector<std::vector<std::string>> commands{
        {"sinfo", "--format=%P %a %D %t %G"},
        {"squeue"},
    };
    int worst = 0;
    for (const auto& argv : commands) {
        LaunchRequest request;
        request.argv = argv;
        auto child = start_slurm_command(request, signals);
        int status = SrunJob(*child, signals).run().first;
        if (status != 0) worst = status;
    }
    return worst;
}

}  // namespace gw
