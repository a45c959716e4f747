#include "app/launch_plan.hpp"

#include <algorithm>

#include "policy/candidates.hpp"

namespace gw {
namespace {

template <typename F>
std::string join(const std::vector<ChosenGpu>& gpus, F field) {
    std::string out;
    for (const ChosenGpu& g : gpus) {
        if (!out.empty()) out += ',';
        out += field(g);
    }
    return out;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (std::size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
        text.replace(pos, from.size(), to);
    }
}

}  // namespace

std::vector<ChosenGpu> order_for_cuda(const GpuInventory& inventory,
                                      const std::vector<GpuIdentity>& gpus) {
    std::vector<ChosenGpu> out;
    for (const GpuIdentity& g : gpus) out.push_back(ChosenGpu{g, cuda_ordinal(inventory, g)});
    std::sort(out.begin(), out.end(), [](const ChosenGpu& a, const ChosenGpu& b) {
        return a.cuda_ordinal < b.cuda_ordinal;
    });
    return out;
}

LaunchSettings launch_settings(const Options& options) {
    return LaunchSettings{options.command, options.replace, options.visible_devices};
}

LaunchRequest plan_launch(const LaunchSettings& settings, const std::vector<ChosenGpu>& gpus) {
    auto ordinal = [](const ChosenGpu& g) { return std::to_string(g.cuda_ordinal); };
    auto uuid = [](const ChosenGpu& g) { return g.identity.uuid; };
    auto index = [](const ChosenGpu& g) { return unit_label(g.identity); };
    // CUDA names a MIG instance only by its UUID; its ordinals would number whole GPUs.
    bool mig = std::any_of(gpus.begin(), gpus.end(),
                           [](const ChosenGpu& g) { return g.identity.mig.has_value(); });
    std::string ordinals = mig ? join(gpus, uuid) : join(gpus, ordinal);
    LaunchRequest request;
    request.argv = settings.command;
    if (settings.replace) {
        for (std::size_t i = 1; i < request.argv.size(); ++i)
            replace_all(request.argv[i], *settings.replace, ordinals);
    }
    request.set_env = {
        {"CUDA_VISIBLE_DEVICES",
         settings.visible_devices == VisibleDevices::uuid || mig ? join(gpus, uuid) : ordinals},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
        {"GPU_WAITER_GPUS", join(gpus, index)},
        {"GPU_WAITER_UUIDS", join(gpus, uuid)},
    };
    return request;
}

}  // namespace gw
