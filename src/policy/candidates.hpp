// Which GPUs a request may use, and how the command will see them. Pure code over an inventory.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "driver/gpu.hpp"

namespace gw {

/// Where the candidate list came from, for messages and for how indices are read.
enum class CandidateSource {
    all,          // every GPU of the machine
    option,       // -g: indices are NVML's (nvidia-smi's)
    environment,  // inherited CUDA_VISIBLE_DEVICES: indices are CUDA's, in PCI bus order
};

/// Resolves the `-g` list or an inherited CUDA_VISIBLE_DEVICES to units of `inventory`, in the
/// order given. Entries: an index, a "GPU-" UUID or unique UUID prefix, a "MIG-" UUID, and for
/// -g "GPU:MIG" ("0:1", nvidia-smi -L's numbering). A GPU in MIG mode named by index or UUID
/// stands for all its instances. Throws Error (exit 125) for an unknown, ambiguous or repeated
/// entry.
[[nodiscard]] std::vector<GpuIdentity> resolve_candidates(const GpuInventory& inventory,
                                                          const std::vector<std::string>& entries,
                                                          CandidateSource source);

/// Splits "0, 2,GPU-ab" into entries; empty entries are dropped.
[[nodiscard]] std::vector<std::string> split_list(const std::string& text);

/// CUDA's ordinal for `gpu` under CUDA_DEVICE_ORDER=PCI_BUS_ID with no CUDA_VISIBLE_DEVICES:
/// its rank by PCI bus id among every GPU of the machine. Never NVML's index.
[[nodiscard]] unsigned cuda_ordinal(const GpuInventory& inventory, const GpuIdentity& gpu);

/// Orders PCI bus ids "DDDDDDDD:BB:DD.F" numerically (domain, bus, device, function).
[[nodiscard]] bool pci_less(const std::string& a, const std::string& b);

}  // namespace gw
