#include "policy/candidates.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::optional<unsigned> parse_index(const std::string& s) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return value;
}

/// Units of the inventory in PCI bus order (a GPU's MIG instances by slot): CUDA's numbering of
/// whole GPUs under CUDA_DEVICE_ORDER=PCI_BUS_ID.
std::vector<const GpuIdentity*> pci_order(const GpuInventory& inventory) {
    std::vector<const GpuIdentity*> order;
    for (const GpuIdentity& g : inventory.gpus) order.push_back(&g);
    std::stable_sort(order.begin(), order.end(), [](const GpuIdentity* a, const GpuIdentity* b) {
        return pci_less(a->pci_bus_id, b->pci_bus_id);
    });
    return order;
}

std::vector<const GpuIdentity*> instances_of(const GpuInventory& inventory, unsigned index) {
    std::vector<const GpuIdentity*> out;
    for (const GpuIdentity& g : inventory.gpus) {
        if (g.mig && g.index == index) out.push_back(&g);
    }
    return out;
}

std::string where(CandidateSource source) {
    return source == CandidateSource::environment ? "in CUDA_VISIBLE_DEVICES" : "in -g/--gpus";
}

using Units = std::vector<const GpuIdentity*>;

Units by_index(const GpuInventory& inventory, unsigned index, CandidateSource source) {
    if (source == CandidateSource::environment) {
        auto order = pci_order(inventory);
        if (index < order.size() && !order[index]->mig) return {order[index]};
        if (index < order.size()) {
            throw Error(fmt::format("CUDA_VISIBLE_DEVICES={} names a GPU in MIG mode by number",
                                    index),
                        "name its MIG instances by their MIG-… UUIDs (`nvidia-smi -L`)");
        }
    } else {
        for (const GpuIdentity& g : inventory.gpus) {
            if (g.index == index && !g.mig) return {&g};
        }
        if (auto instances = instances_of(inventory, index); !instances.empty()) return instances;
    }
    throw Error(fmt::format("GPU {} {} does not exist: this machine has {} usable GPU(s)", index,
                            where(source), inventory.gpus.size()),
                "`gpu-waiter --status` lists the GPUs");
}

/// A GPU's UUID (or unique prefix) names the GPU, or all its MIG instances; a MIG UUID one.
Units by_uuid(const GpuInventory& inventory, const std::string& entry, CandidateSource source) {
    std::string wanted = lower(entry);
    const GpuIdentity* found = nullptr;
    std::string found_uuid;
    for (const GpuIdentity& g : inventory.gpus) {
        const std::string& uuid = g.mig && wanted.starts_with("gpu-") ? g.mig->parent_uuid : g.uuid;
        if (lower(uuid).starts_with(wanted)) {
            if (found != nullptr && found_uuid == uuid) continue;  // another instance of it
            if (found != nullptr) {
                throw Error(fmt::format("{} {} matches more than one GPU", entry, where(source)),
                            "give more characters of the UUID");
            }
            found = &g;
            found_uuid = uuid;
        }
    }
    if (found == nullptr) {
        const char* what = wanted.starts_with("mig-") ? "MIG instance" : "GPU";
        throw Error(fmt::format("no {} has UUID {} ({})", what, entry, where(source)),
                    "`nvidia-smi -L` lists the UUIDs");
    }
    if (!found->mig || lower(found->uuid).starts_with(wanted)) return {found};
    return instances_of(inventory, found->index);
}

/// "GPU:MIG", as nvidia-smi -L numbers them ("0:1": GPU 0, MIG device 1).
std::optional<Units> by_pair(const GpuInventory& inventory, const std::string& entry,
                             CandidateSource source) {
    std::size_t colon = entry.find(':');
    if (colon == std::string::npos || source == CandidateSource::environment) return std::nullopt;
    auto gpu = parse_index(entry.substr(0, colon));
    auto slot = parse_index(entry.substr(colon + 1));
    if (!gpu || !slot) return std::nullopt;
    for (const GpuIdentity* g : instances_of(inventory, *gpu)) {
        if (g->mig->slot == *slot) return Units{g};
    }
    throw Error(fmt::format("GPU {} has no MIG device {} ({})", *gpu, *slot, where(source)),
                "`nvidia-smi -L` lists the MIG devices of each GPU");
}

Units resolve_one(const GpuInventory& inventory, const std::string& entry,
                  CandidateSource source) {
    if (auto index = parse_index(entry)) return by_index(inventory, *index, source);
    if (auto pair = by_pair(inventory, entry, source)) return *pair;
    std::string l = lower(entry);
    if (!l.starts_with("gpu-") && !l.starts_with("mig-")) {
        throw Error(fmt::format("'{}' {} is neither a GPU index nor a GPU-… or MIG-… UUID",
                                entry, where(source)));
    }
    return by_uuid(inventory, entry, source);
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        std::string item = text.substr(start, end - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) out.push_back(item);
        start = end + 1;
    }
    return out;
}

std::vector<GpuIdentity> resolve_candidates(const GpuInventory& inventory,
                                            const std::vector<std::string>& entries,
                                            CandidateSource source) {
    if (source == CandidateSource::all) return inventory.gpus;
    std::vector<GpuIdentity> out;
    for (const std::string& entry : entries) {
        for (const GpuIdentity* gpu : resolve_one(inventory, entry, source)) {
            auto same = [&](const GpuIdentity& g) { return g.uuid == gpu->uuid; };
            if (std::any_of(out.begin(), out.end(), same)) {
                throw Error(fmt::format("GPU {} is named twice {}", entry, where(source)));
            }
            out.push_back(*gpu);
        }
    }
    return out;
}

unsigned cuda_ordinal(const GpuInventory& inventory, const GpuIdentity& gpu) {
    auto order = pci_order(inventory);
    for (unsigned i = 0; i < order.size(); ++i) {
        if (order[i]->uuid == gpu.uuid) return i;
    }
    return gpu.index;  // unreachable for a GPU of the inventory
}

bool pci_less(const std::string& a, const std::string& b) {
    auto key = [](const std::string& id) {
        unsigned long domain = 0, bus = 0, device = 0, function = 0;
        // Format "DDDDDDDD:BB:DD.F" (NVML) or "DDDD:BB:DD.F" (CUDA); hex everywhere.
        std::sscanf(id.c_str(), "%lx:%lx:%lx.%lx", &domain, &bus, &device, &function);
        return std::tuple{domain, bus, device, function};
    };
    return key(a) < key(b);
}

}  // namespace gw
