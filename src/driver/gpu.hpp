// What gpu-waiter knows about a GPU: plain data, produced by a GpuDriver and judged by the policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gw {

/// Where a MIG instance sits: its GPU, and its place among that GPU's MIG devices.
struct MigPlace {
    std::string parent_uuid;  // "GPU-…"
    unsigned slot = 0;        // NVML's MIG device index = nvidia-smi's "MIG … Device N"
};

/// A schedulable unit as the driver names it: a whole GPU, or one MIG instance of a GPU in MIG
/// mode. `index` is NVML's (= nvidia-smi's) numbering of the GPU, which is not CUDA's;
/// `pci_bus_id` ("00000000:17:00.0") is what ties the two together. A MIG instance carries its
/// GPU's index and bus id (it has none of its own) and its own "MIG-…" UUID.
struct GpuIdentity {
    unsigned index = 0;
    std::string uuid;  // "GPU-…", or "MIG-…" for an instance
    std::string name;
    std::string pci_bus_id;
    std::optional<MigPlace> mig = std::nullopt;  // set for a MIG instance
};

/// How users name the unit: "2" for a GPU, "2:1" (GPU:MIG device, as nvidia-smi -L numbers them)
/// for a MIG instance.
[[nodiscard]] inline std::string unit_label(const GpuIdentity& gpu) {
    std::string label = std::to_string(gpu.index);
    if (gpu.mig) label += ":" + std::to_string(gpu.mig->slot);
    return label;
}

/// A process the driver lists on a GPU.
struct GpuProcess {
    unsigned pid = 0;
    std::optional<std::uint64_t> used_memory;  // bytes; absent when the driver can't tell
};

struct GpuMemory {
    std::uint64_t total = 0;         // bytes
    std::uint64_t used = 0;          // bytes; excludes the driver's reservation when `exact`
    std::uint64_t free = 0;          // bytes
    bool reserved_excluded = false;  // true when NVML's memory v2 separated the reservation
};

/// Which parts of a GpuStatus to read: each costs driver calls, so the policy asks for what its
/// decision needs (a GPU whose memory already shows it busy needs no process list).
enum class GpuQuery : unsigned {
    memory = 1u << 0,
    utilization = 1u << 1,
    processes = 1u << 2,
    all = memory | utilization | processes,
};
[[nodiscard]] constexpr GpuQuery operator|(GpuQuery a, GpuQuery b) {
    return static_cast<GpuQuery>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
[[nodiscard]] constexpr bool has(GpuQuery set, GpuQuery part) {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(part)) != 0;
}

/// One look at one GPU. Parts not asked for stay empty; `error` is set when the GPU could not be
/// read at all (lost, permission), and the GPU then counts as unavailable.
struct GpuStatus {
    std::optional<GpuMemory> memory;
    std::optional<unsigned> utilization;               // percent
    std::optional<std::vector<GpuProcess>> processes;  // compute and graphics, each pid once
    std::string error;
};

/// The units the driver could open, and why the others were left out. A GPU in MIG mode is
/// listed as its instances, in slot order, where the GPU itself would be.
struct GpuInventory {
    std::vector<GpuIdentity> gpus;
    std::vector<std::string> skipped;  // "GPU 3: nvmlDeviceGetHandleByIndex_v2: GPU is lost"
};

/// The GPU driver as gpu-waiter needs it. The real side is NVML; tests use a fake library
/// behind the same real side, and unit tests use plain data.
class GpuDriver {
public:
    virtual ~GpuDriver() = default;
    /// Every GPU of the machine, in NVML order.
    [[nodiscard]] virtual GpuInventory inventory() = 0;
    /// Reads the parts of `gpu`'s state named by `query`.
    [[nodiscard]] virtual GpuStatus probe(const GpuIdentity& gpu, GpuQuery query) = 0;
    /// "driver 580.159.04, NVML 13.580.159.04", for --version and -v.
    [[nodiscard]] virtual std::string version() = 0;
    /// Gives back what a loaded driver costs (a waiter deep in the queue needs none of it); the
    /// next call loads it again.
    virtual void unload() {}
};

}  // namespace gw
