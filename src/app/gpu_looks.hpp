// One look at a candidate GPU for the wait: its state, as cheaply as the decision allows, judged
// by the policy, and the words that say who keeps it busy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "driver/gpu.hpp"
#include "policy/availability.hpp"

namespace gw {

struct Look {
    GpuStatus status;
    Judgement judgement;
};

class GpuLooks {
public:
    /// `driver` must outlive this.
    GpuLooks(GpuDriver& driver, AvailabilityRule rule) : driver_(driver), rule_(std::move(rule)) {}
    /// Looks at `gpu`; `own` are our processes (the holder), `ours` whether we hold the GPU.
    [[nodiscard]] Look look(const GpuIdentity& gpu, bool ours, const std::set<unsigned>& own);
    /// "GPU 1 pid 4242 python3 (alice)": the first foreign process, or the judgement's reason.
    [[nodiscard]] std::string busy_text(const GpuIdentity& gpu, const Look& look,
                                        const std::set<unsigned>& own);

private:
    struct ProcessCache {
        std::optional<std::uint64_t> used;  // memory use when the list was read
        std::optional<std::vector<GpuProcess>> processes;
    };
    GpuDriver& driver_;
    AvailabilityRule rule_;
    std::map<std::string, ProcessCache> process_cache_;  // by UUID, for naming who is busy
    std::map<unsigned, std::string> described_;          // pid -> "pid 4242 python3 (alice)"
};

}  // namespace gw
