// The Slurm backend (--slurm, GPU_WAITER_BACKEND=slurm): Slurm finds the GPUs and starts the
// command; gpu-waiter keeps the local mode's contract around srun (exit status, signals,
// --timeout). Everything Slurm-specific is behind these two calls.
#pragma once

#include "cli/options.hpp"
#include "ui/reporter.hpp"

namespace gw {

/// Runs the command through srun in the foreground and returns its exit status (128+N for death
/// by signal N), 124 when --timeout passed with no allocation, 128+N when signal N stopped the
/// wait. SIGINT, SIGTERM and SIGHUP cancel the job once. Throws Error (125) without srun.
[[nodiscard]] int run_with_slurm(const Options& options, Reporter& reporter);

/// --detach with --slurm: submits the job with sbatch (which prints its id) and says where its
/// log goes. Throws Error (125) without sbatch.
[[nodiscard]] int detach_with_slurm(const Options& options, Reporter& reporter);

/// --cancel with --slurm: scancel, for one's own jobs (root: anyone's).
[[nodiscard]] int cancel_with_slurm(const Options& options, Reporter& reporter);

/// --status with --slurm: the partitions and their GPUs (sinfo), then the queue (squeue).
[[nodiscard]] int show_slurm_status(const Options& options, Reporter& reporter);

}  // namespace gw
