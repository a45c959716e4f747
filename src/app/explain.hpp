// What gpu-waiter tells about a run beyond its progress: which GPUs are candidates and why, what
// -I will do, and (with -v) what the command is given.
#pragma once

#include <vector>

#include "cli/options.hpp"
#include "driver/gpu.hpp"
#include "process/child.hpp"
#include "ui/reporter.hpp"

namespace gw {

/// With -v, the candidates and where they come from. At every verbosity, an inherited
/// CUDA_VISIBLE_DEVICES that leaves GPUs out, since a wait for 1 of 1 while others sit free
/// is otherwise a puzzle.
void explain_candidates(const Options& options, const GpuInventory& inventory,
                        const std::vector<GpuIdentity>& candidates, Reporter& reporter);

/// Warns when -I STR occurs in no argument of the command: nothing would be replaced.
void check_replace_string(const Options& options, Reporter& reporter);

/// With -v, the variables given to the command.
void explain_launch(const LaunchRequest& launch, Reporter& reporter);

}  // namespace gw
