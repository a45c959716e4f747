// How CUDA numbers GPUs, which is not how NVML does: CUDA_DEVICE_ORDER picks the order and
// CUDA_VISIBLE_DEVICES filters and permutes it. The fake reverses PCI order for the default
// FASTEST_FIRST so that code which forgets to set PCI_BUS_ID gets caught.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "fake_state.hpp"

namespace fake {

/// A device CUDA enumerates: a whole GPU ("gpus" position), or one MIG instance of it.
struct CudaUnit {
    std::size_t gpu = 0;
    std::optional<std::size_t> mig_slot;
    bool operator==(const CudaUnit&) const = default;
};

/// The devices in CUDA ordinal order. `device_order` and `visible_devices` are the environment
/// values (nullptr when unset). A GPU in MIG mode is never a device itself; its instances are
/// visible only through MIG-… entries, and only the first of those counts, as one CUDA process
/// can use one MIG instance.
[[nodiscard]] std::vector<CudaUnit> cuda_visible_order(const State& state,
                                                       const char* device_order,
                                                       const char* visible_devices);

/// The GPU or instance behind `unit`.
[[nodiscard]] const Gpu& unit_gpu(const State& state, const CudaUnit& unit);

/// The 16 bytes of a "GPU-…" or "MIG-…" UUID (32 hex digits after the prefix).
[[nodiscard]] std::optional<std::array<unsigned char, 16>> uuid_bytes(const std::string& uuid);

}  // namespace fake
