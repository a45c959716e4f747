#include "app/status_report.hpp"

#include <algorithm>
#include <ctime>
#include <map>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "app/status_queue.hpp"
#include "lock/gpu_lock.hpp"
#include "lock/shared_file.hpp"
#include "policy/availability.hpp"
#include "process/process_table.hpp"
#include "queue/queue.hpp"

namespace gw {
namespace {

long long now_seconds() {
    return static_cast<long long>(std::time(nullptr));
}

nlohmann::json process_json(const GpuProcess& p) {
    nlohmann::json j{{"pid", p.pid},     {"used_memory", nullptr}, {"user", nullptr},
                     {"command", nullptr}, {"argv", nlohmann::json::array()},
                     {"started", nullptr}, {"age_seconds", nullptr}};
    if (p.used_memory) j["used_memory"] = *p.used_memory;
    if (auto info = describe_process(p.pid)) {
        j["user"] = info->user;
        j["command"] = info->command;
        j["argv"] = std::vector<std::string>{info->command};
    }
    ProcessDetails details = process_details(static_cast<long>(p.pid));
    if (!details.argv.empty()) j["argv"] = details.argv;
    if (details.started) {
        j["started"] = iso8601(*details.started);
        j["age_seconds"] = std::max(0LL, now_seconds() - *details.started);
    }
    return j;
}

nlohmann::json lock_json(const LockOwner& o) {
    nlohmann::json argv = o.argv;
    return {{"pid", o.pid},
            {"id", o.pid},
            {"user", o.user},
            {"name", o.name.empty() ? nlohmann::json() : nlohmann::json(o.name)},
            {"command", o.command},
            {"argv", argv},
            {"since", iso8601(o.since)},
            {"age_seconds", std::max(0LL, now_seconds() - o.since)},
            {"state", lock_state_text(o.state)},
            {"command_pid", o.command_pid > 0 ? nlohmann::json(o.command_pid) : nlohmann::json()}};
}

/// The verdict of a GPU that no gpu-waiter has locked: free or busy, as a waiter would judge it.
nlohmann::json unlocked_verdict(const GpuStatus& s) {
    if (!s.error.empty()) return {{"state", "unknown"}, {"text", "unreadable: " + s.error}};
    Judgement j = judge(s, AvailabilityRule{}, {});
    if (j.available) return {{"state", "free"}, {"text", "free"}};
    std::string text = "busy";
    if (s.processes && !s.processes->empty()) {
        const GpuProcess& p = s.processes->front();
        auto info = describe_process(p.pid);
        text += info ? fmt::format(": {}'s {}", info->user, info->command)
                     : fmt::format(": pid {}", p.pid);
        if (s.processes->size() > 1) text += fmt::format(" +{}", s.processes->size() - 1);
    } else if (!j.reason.empty()) {
        text += ": " + j.reason;
    }
    return {{"state", "busy"}, {"text", text}};
}

nlohmann::json locked_verdict(const LockOwner& o, const std::vector<QueueEntry>& queue) {
    std::string job = job_label(o.user, o.name, o.pid);
    bool waiting = std::any_of(queue.begin(), queue.end(),
                               [&](const QueueEntry& e) { return e.pid == o.pid; });
    if (waiting) return {{"state", "reserved"}, {"text", "reserved for " + job}};
    if (o.state == LockState::handed_over) return {{"state", "handed over"}, {"text", "handed over to " + job}};
    return {{"state", "held"}, {"text", "held by " + job}};
}

nlohmann::json gpu_json(GpuDriver& driver, const GpuIdentity& gpu, const StatusScope& scope,
                        const std::vector<QueueEntry>& queue) {
    GpuStatus s = driver.probe(gpu, GpuQuery::all);
    nlohmann::json j{{"index", gpu.index},         {"uuid", gpu.uuid},
                     {"name", gpu.name},           {"pci_bus_id", gpu.pci_bus_id},
                     {"error", nullptr},           {"memory_used", nullptr},
                     {"memory_total", nullptr},    {"utilization", nullptr},
                     {"processes", nlohmann::json::array()}, {"lock", nullptr}};
    if (gpu.mig)
        j["mig"] = {{"gpu", gpu.index},
                    {"gpu_uuid", gpu.mig->parent_uuid},
                    {"device", gpu.mig->slot}};
    if (!s.error.empty()) j["error"] = s.error;
    if (s.memory) {
        j["memory_used"] = s.memory->used;
        j["memory_total"] = s.memory->total;
    }
    if (s.utilization) j["utilization"] = *s.utilization;
    for (const GpuProcess& p : s.processes.value_or(std::vector<GpuProcess>{})) {
        nlohmann::json pj = process_json(p);
        if (!scope.user || pj["user"] == *scope.user) j["processes"].push_back(std::move(pj));
    }
    std::optional<LockOwner> owner;
    if (scope.locks) owner = GpuLock::holder(*scope.locks, gpu.uuid);
    if (owner) j["lock"] = lock_json(*owner);
    j["verdict"] = owner ? locked_verdict(*owner, queue) : unlocked_verdict(s);
    return j;
}

}  // namespace

std::string iso8601(long long epoch_seconds) {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(epoch_seconds)));
}

/// Entries of the lock directory that waiters skip: the queue's, and unusable GPU lock files.
nlohmann::json foreign_json(const StatusScope& scope, const QueueView& view,
                            const GpuInventory& inventory) {
    nlohmann::json foreign = nlohmann::json::array();
    if (!scope.locks) return foreign;
    for (const ForeignEntry& f : view.foreign) foreign.push_back({{"name", f.name}, {"why", f.why}});
    for (const GpuIdentity& gpu : inventory.gpus) {
        std::string why;
        std::string name = lock_file_name(gpu.uuid);
        UniqueHandle fd = open_shared_for_reading(scope.locks->entry(name), why);
        if (!why.empty()) foreign.push_back({{"name", name}, {"why", why}});
    }
    return foreign;
}

nlohmann::json collect_status(GpuDriver& driver, const GpuInventory& inventory,
                              const StatusScope& scope) {
    QueueView view;
    if (scope.locks) view = read_queue(queue_path(*scope.locks));
    const std::vector<QueueEntry>& queue = view.waiters;
    nlohmann::json doc{{"schema_version", kStatusSchemaVersion},
                       {"generated_at", iso8601(now_seconds())},
                       {"lock_dir", scope.lock_dir},
                       {"lock_dir_exists", scope.locks != nullptr},
                       {"user", scope.user ? nlohmann::json(*scope.user) : nlohmann::json()},
                       {"skipped", inventory.skipped},
                       {"gpus", nlohmann::json::array()}};
    for (const GpuIdentity& gpu : inventory.gpus) {
        doc["gpus"].push_back(gpu_json(driver, gpu, scope, queue));
    }
    doc["queue"] = queue_json(queue, inventory, doc["gpus"], scope.user);
    doc["foreign"] = foreign_json(scope, view, inventory);
    return doc;
}

}  // namespace gw
