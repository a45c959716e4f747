#include "policy/handover.hpp"

namespace gw {

HandoverDecision decide_handover(const HandoverInput& in) {
    using Action = HandoverDecision::Action;
    const GpuStatus& s = *in.status;
    std::optional<unsigned> foreign;
    if (s.processes) {
        for (const GpuProcess& p : *s.processes) {
            if (in.holders != nullptr && in.holders->contains(static_cast<long>(p.pid))) continue;
            if (in.command_tree->contains(static_cast<long>(p.pid))) {
                return HandoverDecision{Action::command_arrived, p.pid};
            }
            if (!foreign) foreign = p.pid;
        }
    }
    if (foreign) return HandoverDecision{Action::foreign_arrived, *foreign};
    if (s.memory && in.used_with_hold && s.memory->used > *in.used_with_hold + kContextMemory) {
        return HandoverDecision{Action::memory_rose, 0};
    }
    return HandoverDecision{};
}

}  // namespace gw
