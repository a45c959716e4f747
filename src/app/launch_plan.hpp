// How the command is started on the chosen GPUs: its arguments and environment. Pure code.
#pragma once

#include <optional>
#include <string>
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

/// What the command line says about starting the command.
struct LaunchSettings {
    std::vector<std::string> command;    // the program and its arguments
    std::optional<std::string> replace;  // -I: replaced by the CUDA numbers in the arguments
    VisibleDevices visible_devices = VisibleDevices::index;
};

[[nodiscard]] LaunchSettings launch_settings(const Options& options);

/// The command line (with -I applied) and the variables of the contract's "Launching" table.
[[nodiscard]] LaunchRequest plan_launch(const LaunchSettings& settings,
                                        const std::vector<ChosenGpu>& gpus);

}  // namespace gw
