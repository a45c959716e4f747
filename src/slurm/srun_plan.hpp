// How `gpu-waiter --slurm` asks srun to run the command: its arguments and environment. Pure code.
#pragma once

#include "cli/options.hpp"
#include "process/child.hpp"

namespace gw {

/// The exit statuses srun is told to use for its own failures (SLURM_EXIT_IMMEDIATE and
/// SLURM_EXIT_ERROR), so that they read as gpu-waiter's: no allocation within --timeout is 124,
/// a Slurm error (a bad request, or a pending job revoked by a signal) is 125.
inline constexpr int kSrunNoAllocation = 124;
inline constexpr int kSrunError = 125;

/// `srun --gpus=N [--job-name=NAME] [--immediate=SECONDS] [--quiet] SLURM_ARGS... /bin/sh -c
/// STEP ...`: srun finds the GPUs, a small POSIX shell step on the node sets GPU_WAITER_GPUS
/// from Slurm's variables, applies -I and execs the command (127/126 when it cannot).
[[nodiscard]] LaunchRequest plan_srun(const Options& options);

/// --detach: `sbatch --gpus=N --job-name=NAME --output=LOG SLURM_ARGS... --wrap=...`, the same
/// step run by the batch script, which then writes the exit status to the log. `log` may hold
/// Slurm's `%j` (the job id).
[[nodiscard]] LaunchRequest plan_sbatch(const Options& options, const std::string& log);

/// --cancel ID|NAME: `scancel ID` (Slurm refuses others' jobs), or `scancel --name=NAME` with
/// `--user=USER` unless root: one's own jobs, as in the local mode.
[[nodiscard]] LaunchRequest plan_scancel(const std::string& target, const std::string& user,
                                         bool superuser);

/// The shell step, for tests and -v: `$1` is -I's STR (empty: none), then the command.
[[nodiscard]] const char* srun_step_script();

}  // namespace gw
