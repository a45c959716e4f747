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

/// NVML indices ("gpus" positions) in CUDA ordinal order. `device_order` and `visible_devices`
/// are the environment values (nullptr when unset).
[[nodiscard]] std::vector<std::size_t> cuda_visible_order(const State& state,
                                                          const char* device_order,
                                                          const char* visible_devices);

/// The 16 bytes of a "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" UUID.
[[nodiscard]] std::optional<std::array<unsigned char, 16>> uuid_bytes(const std::string& uuid);

}  // namespace fake
