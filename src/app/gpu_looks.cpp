#include "app/gpu_looks.hpp"

#include <fmt/format.h>

#include "process/process_table.hpp"

namespace gw {

Look GpuLooks::look(const GpuIdentity& gpu, bool ours, const std::set<unsigned>& own) {
    Look l;
    l.status = driver_.probe(gpu, first_query(rule_));
    // The process list costs the most: read it when the decision needs it, and otherwise (to
    // say who keeps a GPU busy) only when the GPU's memory use changed since the last reading.
    ProcessCache& cache = process_cache_[gpu.uuid];
    bool decisive = needs_processes(rule_, l.status, ours);
    std::optional<std::uint64_t> used;
    if (l.status.memory) used = l.status.memory->used;
    if (decisive || !l.status.error.empty() || used != cache.used) {
        GpuStatus more = driver_.probe(gpu, GpuQuery::processes);
        if (!more.error.empty()) l.status.error = more.error;
        l.status.processes = std::move(more.processes);
        cache = ProcessCache{used, l.status.processes};
    } else {
        l.status.processes = cache.processes;
    }
    l.judgement = judge(l.status, rule_, own);
    return l;
}

std::string GpuLooks::busy_text(const GpuIdentity& gpu, const Look& l,
                                const std::set<unsigned>& own) {
    std::string reason = l.judgement.reason;
    if (l.status.processes) {
        // Name the first foreign process the way a user would look for it. Looking up its
        // owner reads /proc and the user database: once per process, not once per poll.
        for (const GpuProcess& p : *l.status.processes) {
            if (own.contains(p.pid)) continue;
            auto [it, fresh] = described_.try_emplace(p.pid);
            if (fresh) {
                if (described_.size() > 1024) described_.clear();
                auto info = describe_process(p.pid);
                it->second = info ? fmt::format("pid {} {} ({})", p.pid, info->command, info->user)
                                  : fmt::format("pid {}", p.pid);
            }
            reason = it->second;
            break;
        }
    }
    return fmt::format("GPU {} {}", unit_label(gpu), reason);
}

}  // namespace gw
