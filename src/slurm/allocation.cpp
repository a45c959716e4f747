#include "slurm/allocation.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw {
namespace {

std::vector<unsigned> parse_numbers(const std::string& variable, const std::string& text) {
    std::vector<unsigned> out;
    for (const std::string& item : split_list(text)) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (ec != std::errc{} || end != item.data() + item.size()) {
            throw Error(fmt::format("{}={}: '{}' is not a GPU number", variable, text, item),
                        "this is Slurm's variable: is it set by hand?");
        }
        out.push_back(value);
    }
    return out;
}

std::string join(const std::vector<unsigned>& numbers) {
    std::string out;
    for (unsigned n : numbers) out += (out.empty() ? "" : ",") + std::to_string(n);
    return out;
}

std::string nvml_indices(const std::vector<GpuIdentity>& gpus) {
    std::vector<unsigned> indices;
    for (const GpuIdentity& g : gpus) indices.push_back(g.index);
    return join(indices);
}

/// The GPU that is `rank`th in PCI bus order, as Slurm and CUDA (PCI_BUS_ID) number them.
const GpuIdentity* by_pci_rank(const GpuInventory& inventory, unsigned rank) {
    for (const GpuIdentity& g : inventory.gpus) {
        if (cuda_ordinal(inventory, g) == rank) return &g;
    }
    return nullptr;
}

/// Slurm's list mapped onto NVML's GPUs; nullopt when Slurm set no list.
std::optional<AllocatedGpus> from_slurm_list(const GpuInventory& inventory,
                                             const SlurmAllocation& a) {
    if (a.gpus_variable.empty()) return std::nullopt;
    std::string given = fmt::format("{}={}", a.gpus_variable, join(a.gpus));
    if (a.gpus.size() == inventory.gpus.size()) {
        // Devices confined to the job (or the job has the whole node): NVML shows its GPUs only.
        return AllocatedGpus{inventory.gpus,
                             fmt::format("{}; NVML shows {} GPU(s), the job's own", given,
                                         inventory.gpus.size())};
    }
    AllocatedGpus out;
    for (unsigned number : a.gpus) {
        const GpuIdentity* gpu = by_pci_rank(inventory, number);
        if (gpu == nullptr) {
            throw Error(fmt::format("inside Slurm job {}: {} names GPU {}, but NVML shows {} GPU(s)",
                                    a.job_id, given, number, inventory.gpus.size()),
                        "check that the node's gres.conf lists its GPUs in PCI bus order");
        }
        out.gpus.push_back(*gpu);
    }
    out.how = fmt::format("{}, Slurm's numbers in PCI bus order: nvidia-smi GPU(s) {}", given,
                          nvml_indices(out.gpus));
    return out;
}

bool contains(const std::vector<GpuIdentity>& gpus, const GpuIdentity& gpu) {
    return std::any_of(gpus.begin(), gpus.end(),
                       [&](const GpuIdentity& g) { return g.uuid == gpu.uuid; });
}

}  // namespace

std::optional<SlurmAllocation> read_slurm_allocation(SlurmEnvLookup env) {
    auto job = env("SLURM_JOB_ID");
    if (!job || job->empty()) return std::nullopt;
    SlurmAllocation a;
    a.job_id = *job;
    for (const char* variable : {"SLURM_STEP_GPUS", "SLURM_JOB_GPUS"}) {
        if (auto value = env(variable); value && !value->empty()) {
            a.gpus_variable = variable;
            a.gpus = parse_numbers(variable, *value);
            break;
        }
    }
    return a;
}

AllocatedGpus restrict_to_allocation(const GpuInventory& inventory,
                                     const SlurmAllocation& allocation,
                                     std::vector<GpuIdentity> candidates, CandidateSource source) {
    auto allocated = from_slurm_list(inventory, allocation);
    if (source == CandidateSource::all) {
        if (allocated) return *allocated;
        throw Error(fmt::format("inside Slurm job {}, which was given no GPU (no SLURM_STEP_GPUS, "
                                "SLURM_JOB_GPUS or CUDA_VISIBLE_DEVICES): every GPU here may "
                                "belong to another job",
                                allocation.job_id),
                    "ask Slurm for GPUs (srun --gpus=N gpu-waiter ...), or name GPUs with -g "
                    "where Slurm does not manage them");
    }
    const char* where = source == CandidateSource::option ? "-g" : "CUDA_VISIBLE_DEVICES";
    if (!allocated) {
        return AllocatedGpus{std::move(candidates),
                             fmt::format("{} names them; Slurm set no GPU list", where)};
    }
    for (const GpuIdentity& gpu : candidates) {
        if (!contains(allocated->gpus, gpu)) {
            throw Error(fmt::format("GPU {} ({} in {}) is not one of Slurm job {}'s GPUs ({})",
                                    gpu.index, gpu.uuid, where, allocation.job_id,
                                    allocated->how),
                        fmt::format("name only the job's GPUs: nvidia-smi GPU(s) {}",
                                    nvml_indices(allocated->gpus)));
        }
    }
    return AllocatedGpus{std::move(candidates),
                         fmt::format("{} within the job's GPUs ({})", where, allocated->how)};
}

}  // namespace gw
