#include <algorithm>
#include <ctime>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "driver/nvml.hpp"
#include "lock/gpu_lock.hpp"
#include "lock/shared_file.hpp"
#include "process/process_table.hpp"
#include "queue/queue.hpp"

namespace gw {
namespace {

nlohmann::json process_json(const GpuProcess& p) {
    nlohmann::json j{
        {"pid", p.pid}, {"used_memory", nullptr}, {"user", nullptr}, {"command", nullptr}};
    if (p.used_memory) j["used_memory"] = *p.used_memory;
    if (auto info = describe_process(p.pid)) {
        j["user"] = info->user;
        j["command"] = info->command;
    }
    return j;
}

nlohmann::json gpu_json(Nvml& nvml, const GpuIdentity& gpu,
                        const std::optional<LockDirectory>& dir) {
    GpuStatus s = nvml.probe(gpu, GpuQuery::all);
    nlohmann::json j{{"index", gpu.index},
                     {"uuid", gpu.uuid},
                     {"name", gpu.name},
                     {"pci_bus_id", gpu.pci_bus_id},
                     {"error", nullptr},
                     {"memory_used", nullptr},
                     {"memory_total", nullptr},
                     {"utilization", nullptr},
                     {"processes", nlohmann::json::array()},
                     {"lock", nullptr}};
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
            j["lock"] = {{"pid", owner->pid},
                         {"user", owner->user},
                         {"command", owner->command},
                         {"since", owner->since},
                         {"state", owner->state},
                         {"command_pid", owner->command_pid}};
        }
    }
    return j;
}

nlohmann::json queue_json(const QueueView& view, const GpuInventory& inventory) {
    nlohmann::json queue = nlohmann::json::array();
    for (const QueueEntry& e : view.waiters) {
        nlohmann::json gpus = nlohmann::json::array();
        for (const std::string& uuid : e.candidates) {
            for (const GpuIdentity& g : inventory.gpus) {
                if (g.uuid == uuid) gpus.push_back(g.index);
            }
        }
        queue.push_back({{"position", queue.size() + 1},
                         {"pid", e.pid},
                         {"user", e.user},
                         {"command", e.command},
                         {"count", e.count},
                         {"candidates", gpus},
                         {"since", e.since},
                         {"stopped", e.stopped}});
    }
    return queue;
}

/// Entries of the lock directory that waiters skip: the queue's, and unusable GPU lock files.
nlohmann::json foreign_json(const LockDirectory& dir, const QueueView& view,
                            const GpuInventory& inventory) {
    nlohmann::json foreign = nlohmann::json::array();
    for (const ForeignEntry& f : view.foreign) foreign.push_back({{"name", f.name}, {"why", f.why}});
    for (const GpuIdentity& gpu : inventory.gpus) {
        std::string why;
        std::string name = lock_file_name(gpu.uuid);
        UniqueHandle fd = open_shared_for_reading(dir.entry(name), why);
        if (!why.empty()) foreign.push_back({{"name", name}, {"why", why}});
    }
    return foreign;
}

std::string cell(const nlohmann::json& v, const std::string& fallback = "-") {
    if (v.is_null()) return fallback;
    return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string age(long long since) {
    long long now = static_cast<long long>(std::time(nullptr));
    return format_duration(std::chrono::seconds(std::max(0LL, now - since)));
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
                                   ? "?"
                                   : format_bytes(p["used_memory"].get<std::uint64_t>());
            fmt::print("    pid {:>7}  {:<12} {:<20} {}\n", p["pid"].get<unsigned>(),
                       cell(p["user"], "?"), cell(p["command"], "?"), used);
        }
        if (const auto& l = g["lock"]; !l.is_null()) {
            fmt::print("    locked by pid {} ({}) for {}, {}: {}\n", l["pid"].get<long>(),
                       cell(l["user"]), age(l["since"].get<long long>()), cell(l["state"]),
                       cell(l["command"]));
        }
    }
    fmt::print("queue: {}\n", doc["queue"].empty() ? "empty" : "");
    for (const auto& q : doc["queue"]) {
        std::string gpus = "any";
        if (!q["candidates"].empty()) gpus = q["candidates"].dump();
        fmt::print("  {}. pid {} ({}) wants {} GPU(s) of {}, waiting {}{}: {}\n",
                   q["position"].get<unsigned>(), q["pid"].get<long>(), cell(q["user"]),
                   q["count"].get<unsigned>(), gpus, age(q["since"].get<long long>()),
                   q["stopped"].get<bool>() ? " (stopped: passed over)" : "",
                   cell(q["command"]));
    }
    for (const auto& f : doc["foreign"]) {
        fmt::print("foreign entry in the lock directory, skipped: {} ({})\n", cell(f["name"]),
                   cell(f["why"]));
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
    nlohmann::json doc{{"gpus", nlohmann::json::array()},
                       {"skipped", inventory.skipped},
                       {"lock_dir", options.lock_dir},
                       {"queue", nlohmann::json::array()},
                       {"foreign", nlohmann::json::array()}};
    for (const GpuIdentity& gpu : inventory.gpus) doc["gpus"].push_back(gpu_json(nvml, gpu, dir));
    if (dir) {
        QueueView view = read_queue(queue_path(*dir));
        doc["queue"] = queue_json(view, inventory);
        doc["foreign"] = foreign_json(*dir, view, inventory);
    }
    if (options.json) {
        // Commands are bytes: what is not UTF-8 is shown as U+FFFD rather than refused.
        std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        print_text(doc);
    }
    return 0;
}

}  // namespace gw
