// When a hold on a GPU should give way, once the command runs. Pure code over one look at the
// GPU, the command's process tree and what the GPU looked like when the hold was made.
#pragma once

#include <cstdint>
#include <optional>
#include <set>

#include "driver/gpu.hpp"

namespace gw {

struct HandoverInput {
    const GpuStatus* status = nullptr;             // processes and memory of the GPU
    const std::set<long>* command_tree = nullptr;  // the command and its descendants
    const std::set<long>* holders = nullptr;       // our holder processes: never foreign
    std::optional<std::uint64_t> used_with_hold;   // used memory right after the hold was made
};

struct HandoverDecision {
    enum class Action {
        keep,             // nothing new on the GPU
        command_arrived,  // a process of the command's tree is on the GPU
        foreign_arrived,  // someone else's process is on the GPU (report it)
        memory_rose,      // no new process is visible, but memory grew beyond one context:
                          // the command in another PID namespace, as far as we can tell
    } action = Action::keep;
    unsigned pid = 0;  // the process that arrived, if one is visible
};

/// Threshold for the memory fallback: about what one CUDA context costs.
inline constexpr std::uint64_t kContextMemory = 256ull << 20;

[[nodiscard]] HandoverDecision decide_handover(const HandoverInput& input);

}  // namespace gw
