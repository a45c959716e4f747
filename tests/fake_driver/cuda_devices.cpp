#include "cuda_devices.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace fake {
namespace {

std::vector<std::size_t> device_order(const State& state, const char* order) {
    std::vector<std::size_t> indices;
    for (std::size_t i = 0; i < state.gpus.size(); ++i) {
        if (state.gpus[i].mig_mode != true) indices.push_back(i);
    }
    const auto bus = [&](std::size_t i) { return *parse_pci(state.gpus[i].pci_bus_id); };
    const bool pci_order = order != nullptr && std::string_view(order) == "PCI_BUS_ID";
    std::stable_sort(indices.begin(), indices.end(), [&](std::size_t a, std::size_t b) {
        return pci_order ? bus(a) < bus(b) : bus(b) < bus(a);
    });
    return indices;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return text;
}

// A UUID prefix counts only when it names exactly one GPU, as in the real driver.
std::optional<std::size_t> match_uuid(const State& state, std::string_view entry) {
    const std::string prefix = lower(entry);
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < state.gpus.size(); ++i) {
        if (lower(state.gpus[i].uuid).starts_with(prefix)) {
            if (found) return std::nullopt;
            found = i;
        }
    }
    return found;
}

std::optional<std::size_t> match_ordinal(const std::vector<std::size_t>& ordered,
                                         std::string_view entry) {
    if (entry.empty() || entry.size() > 6) return std::nullopt;
    std::size_t ordinal = 0;
    for (const char c : entry) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        ordinal = ordinal * 10 + static_cast<std::size_t>(c - '0');
    }
    if (ordinal >= ordered.size()) return std::nullopt;
    return ordered[ordinal];
}

// A MIG instance by its UUID or a prefix naming exactly one.
std::optional<CudaUnit> match_mig(const State& state, std::string_view entry) {
    const std::string prefix = lower(entry);
    std::optional<CudaUnit> found;
    for (std::size_t i = 0; i < state.gpus.size(); ++i) {
        if (state.gpus[i].mig_mode != true) continue;
        const auto& slots = state.gpus[i].mig_devices;
        for (std::size_t slot = 0; slot < slots.size(); ++slot) {
            if (!slots[slot] || !lower(slots[slot]->uuid).starts_with(prefix)) continue;
            if (found) return std::nullopt;
            found = CudaUnit{i, slot};
        }
    }
    return found;
}

std::optional<CudaUnit> match_entry(const State& state, const std::vector<std::size_t>& ordered,
                                    std::string_view entry) {
    if (lower(entry).starts_with("mig-")) return match_mig(state, entry);
    std::optional<std::size_t> gpu = lower(entry).starts_with("gpu-")
                                         ? match_uuid(state, entry)
                                         : match_ordinal(ordered, entry);
    if (!gpu || state.gpus[*gpu].mig_mode == true) return std::nullopt;  // not usable whole
    return CudaUnit{*gpu, std::nullopt};
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

std::vector<CudaUnit> cuda_visible_order(const State& state, const char* device_order_env,
                                         const char* visible_devices) {
    const std::vector<std::size_t> ordered = device_order(state, device_order_env);
    std::vector<CudaUnit> visible;
    if (visible_devices == nullptr) {
        for (const std::size_t i : ordered) visible.push_back(CudaUnit{i, std::nullopt});
        return visible;
    }
    bool mig_seen = false;
    std::string_view rest(visible_devices);
    if (trim(rest).empty()) return visible;
    // Parsing stops at the first entry that is invalid, unknown or repeated; earlier ones stay.
    while (true) {
        const std::size_t comma = rest.find(',');
        const auto unit = match_entry(state, ordered, trim(rest.substr(0, comma)));
        if (!unit || std::ranges::find(visible, *unit) != visible.end()) break;
        if (!unit->mig_slot || !mig_seen) visible.push_back(*unit);
        mig_seen = mig_seen || unit->mig_slot.has_value();
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return visible;
}

const Gpu& unit_gpu(const State& state, const CudaUnit& unit) {
    const Gpu& gpu = state.gpus.at(unit.gpu);
    return unit.mig_slot ? gpu.mig_devices.at(*unit.mig_slot).value() : gpu;
}

std::optional<std::array<unsigned char, 16>> uuid_bytes(const std::string& uuid) {
    if (!lower(uuid).starts_with("gpu-") && !lower(uuid).starts_with("mig-")) return std::nullopt;
    std::string hex;
    for (const char c : uuid.substr(4)) {
        if (c != '-') hex.push_back(c);
    }
    if (hex.size() != 32) return std::nullopt;
    std::array<unsigned char, 16> bytes{};
    for (std::size_t i = 0; i < 16; ++i) {
        const int high = hex_value(hex[2 * i]);
        const int low = hex_value(hex[2 * i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        bytes[i] = static_cast<unsigned char>(high * 16 + low);
    }
    return bytes;
}

}  // namespace fake
