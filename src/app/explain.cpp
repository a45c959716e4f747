#include "app/explain.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace gw {
namespace {

std::string indices(const std::vector<GpuIdentity>& gpus) {
    std::string out;
    for (const GpuIdentity& g : gpus) out += (out.empty() ? "" : ", ") + unit_label(g);
    return out;
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const std::string& w : words) out += (out.empty() ? "" : ",") + w;
    return out;
}

}  // namespace

void explain_candidates(const Options& o, const GpuInventory& inventory,
                        const std::vector<GpuIdentity>& candidates, Reporter& reporter) {
    std::string source = o.gpus.empty()            ? "all GPUs of the machine"
                         : o.gpus_from_environment ? "from the inherited CUDA_VISIBLE_DEVICES=" +
                                                         joined(o.gpus)
                                                   : "from -g " + joined(o.gpus);
    reporter.detail(fmt::format("candidates: GPU {} ({}); {} needed", indices(candidates), source,
                                o.count));
    if (o.gpus_from_environment && candidates.size() < inventory.gpus.size()) {
        reporter.info(fmt::format("the inherited CUDA_VISIBLE_DEVICES={} limits the candidates to "
                                  "GPU {} of {}; -g names others",
                                  joined(o.gpus), indices(candidates), inventory.gpus.size()));
    }
}

void check_replace_string(const Options& o, Reporter& reporter) {
    if (!o.replace) return;
    bool used = std::any_of(o.command.begin(), o.command.end(), [&](const std::string& arg) {
        return arg.find(*o.replace) != std::string::npos;
    });
    if (!used) {
        reporter.warning(fmt::format("-I {0}: no argument of the command contains '{0}', so "
                                     "nothing will be replaced",
                                     *o.replace));
    }
}

void explain_launch(const LaunchRequest& launch, Reporter& reporter) {
    for (const auto& [name, value] : launch.set_env) {
        reporter.detail(fmt::format("the command gets {}={}", name, value));
    }
}

}  // namespace gw
