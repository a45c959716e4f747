#include "policy/candidates.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
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

/// GPUs of the inventory in PCI bus order: CUDA's numbering under CUDA_DEVICE_ORDER=PCI_BUS_ID.
std::vector<const GpuIdentity*> pci_order(const GpuInventory& inventory) {
    std::vector<const GpuIdentity*> order;
    for (const GpuIdentity& g : inventory.gpus) order.push_back(&g);
    std::sort(order.begin(), order.end(), [](const GpuIdentity* a, const GpuIdentity* b) {
        return pci_less(a->pci_bus_id, b->pci_bus_id);
    });
    return order;
}

std::string where(CandidateSource source) {
    return source == CandidateSource::environment ? "in CUDA_VISIBLE_DEVICES" : "in -g/--gpus";
}

const GpuIdentity& by_index(const GpuInventory& inventory, unsigned index, CandidateSource source) {
    if (source == CandidateSource::environment) {
        auto order = pci_order(inventory);
        if (index < order.size()) return *order[index];
    } else {
        for (const GpuIdentity& g : inventory.gpus) {
            if (g.index == index) return g;
        }
    }
    throw Error(fmt::format("GPU {} {} does not exist: this machine has {} usable GPU(s)", index,
                            where(source), inventory.gpus.size()),
                "`gpu-waiter --status` lists the GPUs");
}

const GpuIdentity& by_uuid(const GpuInventory& inventory, const std::string& entry,
                           CandidateSource source) {
    std::string wanted = lower(entry);
    const GpuIdentity* found = nullptr;
    for (const GpuIdentity& g : inventory.gpus) {
        if (lower(g.uuid).starts_with(wanted)) {
            if (found != nullptr) {
                throw Error(fmt::format("{} {} matches more than one GPU", entry, where(source)),
                            "give more characters of the UUID");
            }
            found = &g;
        }
    }
    if (found == nullptr) {
        throw Error(fmt::format("no GPU has UUID {} ({})", entry, where(source)),
                    "`nvidia-smi -L` lists the UUIDs");
    }
    return *found;
}

const GpuIdentity& resolve_one(const GpuInventory& inventory, const std::string& entry,
                               CandidateSource source) {
    if (auto index = parse_index(entry)) return by_index(inventory, *index, source);
    std::string l = lower(entry);
    if (l.starts_with("mig-")) {
        throw Error(fmt::format("{} {}: MIG instances are not supported yet", entry, where(source)),
                    "name the whole GPU instead");
    }
    if (!l.starts_with("gpu-")) {
        throw Error(
            fmt::format("'{}' {} is neither a GPU index nor a GPU-… UUID", entry, where(source)));
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
        const GpuIdentity& gpu = resolve_one(inventory, entry, source);
        auto same = [&](const GpuIdentity& g) { return g.uuid == gpu.uuid; };
        if (std::any_of(out.begin(), out.end(), same)) {
            throw Error(fmt::format("GPU {} is named twice {}", entry, where(source)));
        }
        out.push_back(gpu);
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
