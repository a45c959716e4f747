// Inside a Slurm job: which GPUs Slurm gave it, and which of NVML's GPUs those are. Pure code
// over the environment's values and an inventory.
//
// Slurm numbers a node's GPUs in the order of its gres.conf (sorted by PCI bus id when it finds
// them through NVML), and sets, for each step, SLURM_STEP_GPUS (SLURM_JOB_GPUS in a batch
// script) to those node-wide numbers. CUDA_VISIBLE_DEVICES holds the same numbers, except under
// cgroup device confinement (cgroup.conf ConstrainDevices=yes), where it is renumbered from 0
// and NVML, like CUDA, shows only the job's own GPUs. Both cases are told apart by how many
// GPUs NVML shows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "driver/gpu.hpp"
#include "policy/candidates.hpp"

namespace gw {

/// What Slurm's environment says about the job gpu-waiter runs in.
struct SlurmAllocation {
    std::string job_id;         // SLURM_JOB_ID
    std::string gpus_variable;  // SLURM_STEP_GPUS or SLURM_JOB_GPUS; empty when neither is set
    std::vector<unsigned> gpus;  // its value: Slurm's node-wide numbers of the job's GPUs
};

using SlurmEnvLookup = std::optional<std::string> (*)(const char* name);

/// nullopt outside a Slurm job (no SLURM_JOB_ID). Throws Error (125) for a GPU list that is
/// not a list of numbers.
[[nodiscard]] std::optional<SlurmAllocation> read_slurm_allocation(SlurmEnvLookup env);

/// The GPUs a run inside a Slurm job may use, and how they were found (for -v).
struct AllocatedGpus {
    std::vector<GpuIdentity> gpus;
    std::string how;
};

/// Narrows `candidates` (resolved from -g, an inherited CUDA_VISIBLE_DEVICES, or all GPUs, as
/// `source` says) to the job's GPUs. Throws Error (125) when -g or CUDA_VISIBLE_DEVICES names a
/// GPU outside the allocation, when Slurm's list does not fit what NVML shows, or when the job
/// has no GPU at all (then every GPU of the node would belong to other jobs).
[[nodiscard]] AllocatedGpus restrict_to_allocation(const GpuInventory& inventory,
                                                   const SlurmAllocation& allocation,
                                                   std::vector<GpuIdentity> candidates,
                                                   CandidateSource source);

}  // namespace gw
