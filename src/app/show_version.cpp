#include <fmt/format.h>

#include "app/commands.hpp"
#include "common/version.hpp"
#include "driver/nvml.hpp"

namespace gw {

int show_version() {
    fmt::print("gpu-waiter {} (commit {})\n", kVersion, kGitCommit);
    try {
        Nvml nvml;
        fmt::print("{}\n", nvml.version());
    } catch (const std::exception& e) {
        fmt::print("NVIDIA driver: not available ({})\n", e.what());
    }
    return 0;
}

}  // namespace gw
