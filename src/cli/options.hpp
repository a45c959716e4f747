// The command line and environment of gpu-waiter, parsed into one value (shared/design/cli.md).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/units.hpp"
#include "policy/availability.hpp"
#include "slurm/allocation.hpp"
#include "ui/verbosity.hpp"

namespace gw {

enum class VisibleDevices { index, uuid };
enum class Mode { run, status, cancel, version, holder, complete };
/// Who finds the GPUs and runs the command: gpu-waiter on this machine, or Slurm (srun).
enum class Backend { local, slurm };

/// How often the GPUs are looked at without --poll.
inline constexpr Duration kDefaultPoll = std::chrono::milliseconds(500);
/// The share of a GPU's free memory held without --hold-fraction.
inline constexpr double kDefaultHoldFraction = 0.25;

struct Options {
    Mode mode = Mode::run;
    Backend backend = Backend::local;                // --slurm, GPU_WAITER_BACKEND
    std::vector<std::string> slurm_args;             // GPU_WAITER_SLURM_ARGS, then --slurm-arg
    std::optional<SlurmAllocation> slurm_allocation;  // we run inside a Slurm job
    unsigned count = 1;
    std::vector<std::string> gpus;  // -g entries; empty: all, or inherited CUDA_VISIBLE_DEVICES
    bool gpus_from_environment = false;  // `gpus` came from CUDA_VISIBLE_DEVICES
    AvailabilityRule rule;
    Duration idle_for{0};
    Duration poll = kDefaultPoll;
    std::optional<Duration> timeout;
    double hold_fraction = kDefaultHoldFraction;
    std::optional<Duration> hold_max;
    bool hold = true;
    VisibleDevices visible_devices = VisibleDevices::index;
    std::optional<std::string> replace;  // -I STR
    std::string lock_dir;
    std::optional<std::string> name;      // --name: the job's label in --status and --cancel
    bool detach = false;                  // --detach: return at once, the job runs on its own
    std::optional<std::string> log_file;  // --log: where a detached job writes (see log_dir)
    bool background = false;  // this process is the detached job itself (internal)
    bool json = false;
    std::optional<Duration> watch;  // --status --watch: redraw this often
    bool mine = false;                     // --mine: only the caller's jobs
    std::optional<std::string> only_user;  // --user NAME: only NAME's jobs
    std::string cancel;                    // --cancel ID|NAME
    std::string complete;  // what the shell completions ask for: "gpus" or "jobs" (internal)
    Verbosity verbosity = Verbosity::normal;
    std::vector<std::string> command;
    std::vector<std::string> arguments;  // gpu-waiter's own, as given (for --detach to pass on)
};

/// How long a cancelled command has between SIGTERM and SIGKILL.
inline constexpr Duration kCancelGrace = std::chrono::seconds(10);
/// What --watch redraws at when given no DURATION (as watch(1)).
inline constexpr Duration kWatchDefault = std::chrono::seconds(2);

/// Reads the process environment for parse_options; a function so tests can pass their own.
using EnvLookup = std::optional<std::string> (*)(const char* name);
[[nodiscard]] std::optional<std::string> process_env(const char* name);

/// The lock directory when neither --lock-dir nor GPU_WAITER_LOCK_DIR names one: /tmp/gpu-waiter
/// on POSIX; %ProgramData%\gpu-waiter on Windows (%TEMP%\gpu-waiter without ProgramData).
[[nodiscard]] std::string default_lock_dir(EnvLookup env);

/// Where detached jobs' logs go: $XDG_STATE_HOME/gpu-waiter, else ~/.local/state/gpu-waiter;
/// %LOCALAPPDATA%\gpu-waiter on Windows.
[[nodiscard]] std::string default_log_dir(EnvLookup env);

/// Parses argv. Returns Options, or an exit status when the command line asked for --help (0),
/// printed on stdout. Throws Error (exit 125) on bad usage, with a hint.
[[nodiscard]] std::variant<Options, int> parse_options(int argc, const char* const* argv,
                                                       EnvLookup env = process_env);

}  // namespace gw
