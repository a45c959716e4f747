#include "policy/availability.hpp"

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw {
namespace {

std::uint64_t own_memory(const GpuStatus& status, const std::set<unsigned>& own_pids) {
    std::uint64_t sum = 0;
    if (!status.processes) return 0;
    for (const GpuProcess& p : *status.processes) {
        if (own_pids.contains(p.pid)) sum += p.used_memory.value_or(0);
    }
    return sum;
}

std::optional<std::string> foreign_process(const GpuStatus& status,
                                           const std::set<unsigned>& own_pids) {
    if (!status.processes) return std::nullopt;
    for (const GpuProcess& p : *status.processes) {
        if (!own_pids.contains(p.pid)) return fmt::format("pid {}", p.pid);
    }
    return std::nullopt;
}

std::uint64_t idle_threshold(const GpuMemory& memory) {
    return memory.reserved_excluded ? kIdleUsedThreshold : kIdleUsedThresholdV1;
}

Judgement busy(std::string reason) {
    return Judgement{false, std::move(reason)};
}

}  // namespace

void check_rule_fits(const AvailabilityRule& rule, const std::vector<GpuIdentity>& units) {
    if (!rule.max_utilization) return;
    for (const GpuIdentity& unit : units) {
        if (!unit.mig) continue;
        throw Error(fmt::format("--max-util cannot judge MIG instance {} ({}): NVML reports no "
                                "utilization per MIG instance",
                                unit_label(unit), unit.uuid),
                    "leave out --max-util, or name GPUs without MIG with -g");
    }
}

GpuQuery first_query(const AvailabilityRule& rule) {
    return rule.max_utilization ? GpuQuery::memory | GpuQuery::utilization : GpuQuery::memory;
}

bool needs_processes(const AvailabilityRule& rule, const GpuStatus& status,
                     bool may_host_own_process) {
    if (may_host_own_process) return true;
    if (rule.sharing() || !status.error.empty() || !status.memory) return false;
    return status.memory->used < idle_threshold(*status.memory);
}

Judgement judge(const GpuStatus& status, const AvailabilityRule& rule,
                const std::set<unsigned>& own_pids) {
    if (!status.error.empty()) return busy(status.error);
    if (!status.memory) return busy("memory unknown");
    const GpuMemory& mem = *status.memory;
    std::uint64_t own = own_memory(status, own_pids);
    if (rule.sharing()) {
        std::uint64_t need = rule.min_free_memory->bytes_of(mem.total);
        // Memory our own holder occupies is ours to give back to the command.
        std::uint64_t free = mem.free + own;
        if (free < need) {
            return busy(fmt::format("{} free < {}", format_bytes(free), format_bytes(need)));
        }
    } else {
        if (auto who = foreign_process(status, own_pids)) return busy(*who);
        std::uint64_t used = mem.used > own ? mem.used - own : 0;
        if (used >= idle_threshold(mem)) {
            return busy(fmt::format("{} in use by processes not shown", format_bytes(used)));
        }
    }
    if (rule.max_utilization && status.utilization && *status.utilization > *rule.max_utilization) {
        return busy(
            fmt::format("utilization {}% > {}%", *status.utilization, *rule.max_utilization));
    }
    return Judgement{true, {}};
}

std::optional<std::vector<unsigned>> occupiers(const GpuStatus& status,
                                               const AvailabilityRule& rule,
                                               const std::set<unsigned>& own_pids) {
    if (rule.sharing() || rule.max_utilization || !status.error.empty() || !status.memory ||
        !status.processes) {
        return std::nullopt;
    }
    std::vector<unsigned> foreign;
    GpuStatus without = status;
    without.processes.emplace();
    std::uint64_t theirs = 0;
    bool unknown = false;  // some process's memory is not reported: count all used as theirs
    for (const GpuProcess& p : *status.processes) {
        if (own_pids.contains(p.pid)) {
            without.processes->push_back(p);
            continue;
        }
        foreign.push_back(p.pid);
        theirs += p.used_memory.value_or(0);
        unknown = unknown || !p.used_memory;
    }
    if (foreign.empty()) return std::nullopt;
    std::uint64_t& used = without.memory->used;
    used = unknown ? own_memory(status, own_pids) : (used > theirs ? used - theirs : 0);
    if (!judge(without, rule, own_pids).available) return std::nullopt;
    return foreign;
}

}  // namespace gw
