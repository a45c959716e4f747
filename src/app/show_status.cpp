#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "driver/nvml.hpp"
#include "lock/gpu_lock.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

nlohmann::json process_json(const GpuProcess& p) {
    nlohmann::json j{{"pid", p.pid}, {"used_memory", nullptr}, {"user", nullptr}, {"command", nullptr}};
    if (p.used_memory) j["used_memory"] = *p.used_memory;
    if (auto info = describe_process(p.pid)) {
        j["user"] = info->user;
        j["command"] = info->command;
    }
    return j;
}

nlohmann::json gpu_json(Nvml& nvml, const GpuIdentity& gpu, const std::optional<LockDirectory>& dir) {
    GpuStatus s = nvml.probe(gpu, GpuQuery::all);
    nlohmann::json j{{"index", gpu.index}, {"uuid", gpu.uuid}, {"name", gpu.name},
                     {"pci_bus_id", gpu.pci_bus_id}, {"error", nullptr}, {"memory_used", nullptr},
                     {"memory_total", nullptr}, {"utilization", nullptr},
                     {"processes", nlohmann::json::array()}, {"lock", nullptr}};
    if (!s.error.empty()) j["error"] = s.error;
    if (s.memory) {
        j["memory_used"] = s.memory->used;
        j["memory_total"] = s.memory->total;
    }
    if (s.utilization) j["utilization"] = *s.utilization;
    if (s.processes) {
        for (const GpuProcess& p : *s.processes) j["processes"].push_back(process_json(p));
    }
    if (dir) {
        if (auto owner = GpuLock::holder(*dir, gpu.uuid)) {
            j["lock"] = {{"pid", owner->pid}, {"user", owner->user}, {"command", owner->command},
                         {"since", owner->since}, {"state", owner->state}};
        }
    }
    return j;
}

std::string cell(const nlohmann::json& v, const std::string& fallback = "-") {
    if (v.is_null()) return fallback;
    return v.is_string() ? v.get<std::string>() : v.dump();
}

void print_text(const nlohmann::json& doc) {
    for (const auto& g : doc["gpus"]) {
        std::string memory = "?";
        if (!g["memory_used"].is_null()) {
            memory = fmt::format("{} / {}", format_bytes(g["memory_used"].get<std::uint64_t>()),
                                 format_bytes(g["memory_total"].get<std::uint64_t>()));
        }
        fmt::print("GPU {}  {}  {}  memory {}  util {}%\n", g["index"].get<unsigned>(),
                   cell(g["name"]), cell(g["uuid"]), memory, cell(g["utilization"], "?"));
        if (!g["error"].is_null()) fmt::print("    error: {}\n", cell(g["error"]));
        for (const auto& p : g["processes"]) {
            std::string used = p["used_memory"].is_null()
                                   ? "?" : format_bytes(p["used_memory"].get<std::uint64_t>());
            fmt::print("    pid {:>7}  {:<12} {:<20} {}\n", p["pid"].get<unsigned>(),
                       cell(p["user"], "?"), cell(p["command"], "?"), used);
        }
        if (const auto& l = g["lock"]; !l.is_null()) {
            fmt::print("    locked by pid {} ({}) since {}, {}: {}\n", l["pid"].get<long>(),
                       cell(l["user"]), l["since"].get<long long>(), cell(l["state"]),
                       cell(l["command"]));
        }
    }
}

}  // namespace

int show_status(const Options& options, Reporter& reporter) {
    Nvml nvml;
    GpuInventory inventory = nvml.inventory();
    std::optional<LockDirectory> dir;
    try {
        dir.emplace(options.lock_dir);
    } catch (const std::exception& e) {
        reporter.warning(std::string("lock holders unknown: ") + e.what());
    }
    nlohmann::json doc{{"gpus", nlohmann::json::array()}, {"skipped", inventory.skipped},
                       {"lock_dir", options.lock_dir}, {"queue", nlohmann::json::array()}};
    for (const GpuIdentity& gpu : inventory.gpus) doc["gpus"].push_back(gpu_json(nvml, gpu, dir));
    if (options.json) {
        std::cout << doc.dump(2) << "\n";
    } else {
        print_text(doc);
    }
    return 0;
}

}  // namespace gw
