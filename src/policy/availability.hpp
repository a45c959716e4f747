// Whether a GPU may be taken, judged from one GpuStatus. Pure code: no driver, no clock.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/units.hpp"
#include "driver/gpu.hpp"

namespace gw {

/// Used memory (the driver's reservation excluded) under which an exclusive-mode GPU counts as
/// idle. One CUDA context costs about 0.5 GiB, so this catches a process the driver hides (another
/// container) while letting an idle GPU with a few stray MiB qualify.
inline constexpr std::uint64_t kIdleUsedThreshold = 256ull << 20;
/// The same when only NVML's memory v1 is available, which counts the ~0.5 GiB reservation as used.
inline constexpr std::uint64_t kIdleUsedThresholdV1 = 768ull << 20;

/// What the user asked a GPU to satisfy.
struct AvailabilityRule {
    std::optional<SizeSpec> min_free_memory;  // set: sharing mode; unset: exclusive mode
    std::optional<unsigned> max_utilization;  // percent
    [[nodiscard]] bool sharing() const { return min_free_memory.has_value(); }
};

struct Judgement {
    bool available = false;
    std::string reason;  // why not: "pid 4242", "3.0 GiB in use by processes not shown", …
};

/// Throws Error (a usage error) when `rule` asks what NVML cannot tell about `units`: it reports
/// no utilization per MIG instance, so --max-util cannot judge one.
void check_rule_fits(const AvailabilityRule& rule, const std::vector<GpuIdentity>& units);

/// The parts of a GPU's state needed before anything can be decided.
[[nodiscard]] GpuQuery first_query(const AvailabilityRule& rule);

/// Whether, after `first_query`, the process list is still needed to decide (exclusive mode and
/// the memory does not already show the GPU busy), or to discount processes of our own.
[[nodiscard]] bool needs_processes(const AvailabilityRule& rule, const GpuStatus& status,
                                   bool may_host_own_process);

/// Judges a GPU. `own_pids` are processes of this gpu-waiter (its holder): never "foreign", and
/// their memory does not count as used.
[[nodiscard]] Judgement judge(const GpuStatus& status, const AvailabilityRule& rule,
                              const std::set<unsigned>& own_pids);

/// The foreign processes whose exit alone would make a GPU judged busy available: the event to
/// wait for instead of looking again and again. nullopt when the busy state is not explained by
/// the processes listed (memory used by processes not shown, an error), or when the rule is one
/// that can change without any process ending (sharing mode, --max-util).
[[nodiscard]] std::optional<std::vector<unsigned>> occupiers(const GpuStatus& status,
                                                             const AvailabilityRule& rule,
                                                             const std::set<unsigned>& own_pids);

}  // namespace gw
