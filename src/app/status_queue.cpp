#include "app/status_queue.hpp"

#include <ctime>
#include <map>

#include <fmt/format.h>

#include "app/status_report.hpp"
#include "policy/fair_share.hpp"

namespace gw {
namespace {

struct GpuView {
    unsigned index = 0;
    std::string state;  // the verdict's state: free, busy, held, reserved, handed over
    std::string text;   // the verdict in words
    long locked_by = 0;
};

std::map<std::string, GpuView> gpu_views(const nlohmann::json& gpus) {
    std::map<std::string, GpuView> views;
    for (const auto& g : gpus) {
        GpuView v{g["index"].get<unsigned>(), g["verdict"]["state"].get<std::string>(),
                  g["verdict"]["text"].get<std::string>(), 0};
        if (!g["lock"].is_null()) v.locked_by = g["lock"]["pid"].get<long>();
        views[g["uuid"].get<std::string>()] = v;
    }
    return views;
}

unsigned holding(const std::map<std::string, GpuView>& views, long pid) {
    unsigned n = 0;
    for (const auto& [uuid, v] : views) n += v.locked_by == pid ? 1 : 0;
    return n;
}

/// Why `e` still waits, given the entries ahead of it.
std::string wait_reason(const QueueEntry& e, const std::vector<Contender>& ahead,
                        const std::map<std::string, GpuView>& views) {
    unsigned have = holding(views, e.pid);
    std::vector<std::string> free, blocked;
    for (const std::string& uuid : e.candidates) {
        auto v = views.find(uuid);
        if (v == views.end() || v->second.locked_by == e.pid) continue;
        if (v->second.state == "free") {
            free.push_back(uuid);
        } else {
            blocked.push_back(fmt::format("GPU {} {}", v->second.index, v->second.text));
        }
    }
    std::size_t allowed = share_for(ahead, free).size();
    if (have + allowed >= e.count) return "its GPUs are free: starting";
    std::vector<std::string> parts;
    if (have > 0) parts.push_back(fmt::format("has {} of {}", have, e.count));
    if (allowed < free.size()) {
        parts.push_back(fmt::format("{} free kept for earlier jobs", free.size() - allowed));
    }
    for (std::size_t i = 0; i < blocked.size() && i < 2; ++i) parts.push_back(blocked[i]);
    if (blocked.size() > 2) parts.push_back(fmt::format("{} more busy", blocked.size() - 2));
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
}

nlohmann::json candidate_indices(const QueueEntry& e, const GpuInventory& inventory) {
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& uuid : e.candidates) {
        for (const GpuIdentity& g : inventory.gpus) {
            if (g.uuid == uuid) out.push_back(g.index);
        }
    }
    return out;
}

nlohmann::json entry_json(const QueueEntry& e, std::size_t position, const GpuInventory& inventory,
                          std::string reason) {
    long long now = static_cast<long long>(std::time(nullptr));
    nlohmann::json argv = e.argv;
    return {{"position", position},
            {"id", e.pid},
            {"pid", e.pid},
            {"name", e.name.empty() ? nlohmann::json() : nlohmann::json(e.name)},
            {"user", e.user},
            {"command", e.command},
            {"argv", argv},
            {"count", e.count},
            {"candidates", candidate_indices(e, inventory)},
            {"all_gpus", e.candidates.size() >= inventory.gpus.size()},
            {"since", iso8601(e.since)},
            {"waited_seconds", std::max(0LL, now - e.since)},
            {"stopped", e.stopped},
            {"reason", e.stopped ? "stopped (Ctrl-Z): passed over until continued"
                                 : std::move(reason)}};
}

}  // namespace

std::string job_label(const std::string& user, const std::string& name, long pid) {
    return name.empty() ? fmt::format("{}'s job {}", user, pid) : fmt::format("{}'s {}", user, name);
}

nlohmann::json queue_json(const std::vector<QueueEntry>& queue, const GpuInventory& inventory,
                          const nlohmann::json& gpus, const std::optional<std::string>& user) {
    std::map<std::string, GpuView> views = gpu_views(gpus);
    nlohmann::json out = nlohmann::json::array();
    std::vector<Contender> ahead;
    for (std::size_t i = 0; i < queue.size(); ++i) {
        const QueueEntry& e = queue[i];
        if (!user || e.user == *user) {
            out.push_back(entry_json(e, i + 1, inventory, wait_reason(e, ahead, views)));
        }
        if (!e.stopped) ahead.push_back(Contender{e.count, e.candidates, holding(views, e.pid)});
    }
    return out;
}

}  // namespace gw
