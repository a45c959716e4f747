#include "fake_state.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "fake_platform.hpp"

namespace fake {
namespace {

using nlohmann::json;

constexpr std::uint64_t kGiB = 1ULL << 30;

std::string errno_text(const std::string& call, const std::string& path) {
    return call + " " + path + ": " + std::strerror(errno);
}

ProcessKind parse_kind(const std::string& text) {
    if (text == "compute") return ProcessKind::compute;
    if (text == "graphics") return ProcessKind::graphics;
    if (text == "both") return ProcessKind::both;
    throw std::runtime_error("process type must be compute, graphics or both, not '" + text + "'");
}

Process parse_process(const json& j) {
    Process p;
    p.pid = j.at("pid").get<unsigned>();
    // null models a driver that cannot attribute memory (NVML_VALUE_NOT_AVAILABLE).
    if (!j.contains("used_memory") || !j.at("used_memory").is_null()) {
        p.used_memory = j.value("used_memory", std::uint64_t{0});
    }
    p.kind = parse_kind(j.value("type", std::string("compute")));
    p.cuda = j.value("cuda", false);
    return p;
}

// Defaults derive from the index so a hand-written file with bare {} entries still describes
// distinct GPUs; the Python helper always writes every field.
Gpu parse_gpu(const json& j, std::size_t index) {
    char uuid[64];
    std::snprintf(uuid, sizeof uuid, "GPU-fa4e0000-0000-0000-0000-%012zx", index);
    char bus[32];
    std::snprintf(bus, sizeof bus, "00000000:%02zX:00.0", index + 1);
    Gpu g;
    g.uuid = j.value("uuid", std::string(uuid));
    g.name = j.value("name", std::string("Fake GPU"));
    const std::string bus_text = j.value("pci_bus_id", std::string(bus));
    const auto address = parse_pci(bus_text);
    if (!address) throw std::runtime_error("bad pci_bus_id '" + bus_text + "'");
    g.pci_bus_id = format_pci(*address, 8);
    g.memory_total = j.value("memory_total", 80 * kGiB);
    g.memory_reserved = j.value("memory_reserved", std::uint64_t{0});
    g.memory_used = j.value("memory_used", std::uint64_t{0});
    g.utilization = j.value("utilization", 0U);
    g.memory_utilization = j.value("memory_utilization", 0U);
    g.lost = j.value("lost", false);
    g.no_permission = j.value("no_permission", false);
    for (const json& p : j.value("processes", json::array()))
        g.processes.push_back(parse_process(p));
    if (j.contains("mig_mode") && !j.at("mig_mode").is_null())
        g.mig_mode = j.at("mig_mode").get<bool>();
    g.mig_max_devices = j.value("mig_max_devices", 7U);
    const json instances = j.value("mig_devices", json::array());
    for (std::size_t slot = 0; slot < instances.size(); ++slot) {
        if (instances[slot].is_null()) {
            g.mig_devices.emplace_back();
            continue;
        }
        Gpu instance = parse_gpu(instances[slot], index);
        char mig_uuid[64];
        std::snprintf(mig_uuid, sizeof mig_uuid, "MIG-fa4e0000-0000-0000-%04zx-%012zx", index,
                      slot);
        instance.uuid = instances[slot].value("uuid", std::string(mig_uuid));
        instance.pci_bus_id = g.pci_bus_id;
        instance.mig_mode.reset();
        instance.mig_devices.clear();
        g.mig_devices.push_back(std::move(instance));
    }
    return g;
}

void prune_list(json& owner) {
    if (!owner.is_object() || !owner.contains("processes")) return;
    json& list = owner["processes"];
    json kept = json::array();
    for (json& p : list) {
        const bool dead = p.value("cuda", false) && !process_alive(p.value("pid", 0U));
        if (!dead) kept.push_back(std::move(p));
    }
    list = std::move(kept);
}

std::optional<std::string> read_file(const std::string& path, std::string* error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        *error = errno_text("open", path);
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::optional<json> read_json(const std::string& path, std::string* error) {
    const auto text = read_file(path, error);
    if (!text) return std::nullopt;
    json j = json::parse(*text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
    if (j.is_discarded() || !j.is_object()) {
        *error = path + ": not a JSON object";
        return std::nullopt;
    }
    return j;
}

void prune_dead_cuda(json& state) {
    if (!state.contains("gpus")) return;
    for (json& gpu : state["gpus"]) {
        prune_list(gpu);
        if (!gpu.contains("mig_devices")) continue;
        for (json& instance : gpu["mig_devices"]) prune_list(instance);
    }
}

// Rename is what makes lock-free readers safe: they see the old file or the new, never half.
bool write_atomically(const std::string& path, const json& state, std::string* error) {
    const std::string temp = path + ".tmp." + std::to_string(current_pid());
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out << state.dump(2) << '\n';
        if (!out.flush()) {
            *error = errno_text("write", temp);
            return false;
        }
    }
    if (!replace_file(temp, path)) {
        *error = errno_text("rename", temp);
        std::remove(temp.c_str());
        return false;
    }
    return true;
}

}  // namespace

std::optional<std::string> state_path(std::string* error) {
    const char* path = std::getenv("FAKE_NVIDIA_STATE");
    if (path == nullptr || *path == '\0') {
        *error = "FAKE_NVIDIA_STATE is not set";
        return std::nullopt;
    }
    return std::string(path);
}

State parse_state(const json& j) {
    State s;
    s.init_error = j.value("init_error", 0);
    s.cuda_init_error = j.value("cuda_init_error", 0);
    s.alloc_error = j.value("alloc_error", 0);
    s.driver_version = j.value("driver_version", std::string("580.00.00"));
    s.nvml_version = j.value("nvml_version", std::string("13.580.00"));
    s.context_memory = j.value("context_memory", kGiB / 2);
    const json gpus = j.value("gpus", json::array());
    for (std::size_t i = 0; i < gpus.size(); ++i) s.gpus.push_back(parse_gpu(gpus[i], i));
    return s;
}

std::optional<State> load_state(std::string* error) {
    const auto path = state_path(error);
    if (!path) return std::nullopt;
    const auto j = read_json(*path, error);
    if (!j) return std::nullopt;
    try {
        return parse_state(*j);
    } catch (const std::exception& e) {
        *error = *path + ": " + e.what();
        return std::nullopt;
    }
}

bool update_state(const std::function<bool(json&)>& modify, std::string* error) {
    const auto path = state_path(error);
    if (!path) return false;
    FileLock lock(*path + ".lock");
    if (!lock.held()) {
        *error = errno_text("flock", *path + ".lock");
        return false;
    }
    auto j = read_json(*path, error);
    if (!j) return false;
    try {
        prune_dead_cuda(*j);
        if (!modify(*j)) return true;
    } catch (const std::exception& e) {
        *error = *path + ": " + e.what();
        return false;
    }
    return write_atomically(*path, *j, error);
}

bool is_live(const Process& process) {
    return !process.cuda || process_alive(process.pid);
}

MemoryUse memory_use(const Gpu& gpu) {
    MemoryUse m;
    m.total = gpu.memory_total;
    m.reserved = gpu.memory_reserved;
    m.used = gpu.memory_used;
    for (const Process& p : gpu.processes) {
        if (is_live(p)) m.used += p.used_memory.value_or(0);
    }
    const std::uint64_t taken = m.reserved + m.used;
    m.free = taken >= m.total ? 0 : m.total - taken;
    return m;
}

const Gpu* find_unit(const State& state, const std::string& uuid) {
    for (const Gpu& gpu : state.gpus) {
        if (gpu.uuid == uuid) return &gpu;
        for (const auto& instance : gpu.mig_devices) {
            if (instance && instance->uuid == uuid) return &*instance;
        }
    }
    return nullptr;
}

std::optional<PciAddress> parse_pci(std::string_view text) {
    PciAddress a;
    int consumed = 0;
    const std::string s(text);
    if (std::sscanf(s.c_str(), "%x:%x:%x.%x%n", &a.domain, &a.bus, &a.device, &a.function,
                    &consumed) != 4 ||
        static_cast<std::size_t>(consumed) != s.size()) {
        return std::nullopt;
    }
    if (a.bus > 0xff || a.device > 0x1f || a.function > 7) return std::nullopt;
    return a;
}

std::string format_pci(const PciAddress& a, int domain_digits) {
    char text[40];
    std::snprintf(text, sizeof text, "%0*X:%02X:%02X.%X", domain_digits, a.domain, a.bus, a.device,
                  a.function);
    return text;
}

}  // namespace fake
