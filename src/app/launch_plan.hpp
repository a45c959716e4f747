// How the command is started on the chosen GPUs: its arguments and environment. Pure code.
#pragma once

#include <vector>

#include "cli/options.hpp"
#include "driver/gpu.hpp"
#include "process/child.hpp"

namespace gw {

/// A chosen GPU with the number CUDA will give it.
struct ChosenGpu {
    GpuIdentity identity;
    unsigned cuda_ordinal = 0;  // under CUDA_DEVICE_ORDER=PCI_BUS_ID, no CUDA_VISIBLE_DEVICES
};

/// The GPUs in the order the command will see them: by CUDA ordinal, so device 0 inside the
/// command is the lowest on the PCI bus.
[[nodiscard]] std::vector<ChosenGpu> order_for_cuda(const GpuInventory& inventory,
                                                    const std::vector<GpuIdentity>& gpus);

/// The command line (with -I applied) and the variables of the contract's "Launching" table.
[[nodiscard]] LaunchRequest plan_launch(const Options& options, const std::vector<ChosenGpu>& gpus);

}  // namespace gw
