#include "policy/round_plan.hpp"

namespace gw {

RoundPlan plan_round(const RoundInput& in) {
    RoundPlan plan;
    if (in.held.size() >= in.count) return plan;
    if (in.ready.empty() && in.held.empty()) return plan;  // nothing to share out or give back
    bool gather = may_gather(in.ahead, in.candidates);
    std::size_t have = in.held.size();
    if (!gather && have > 0) {
        plan.give_back = in.held;
        have = 0;
    }
    std::vector<std::string> allowed = share_for(in.ahead, in.ready);
    plan.kept_for_earlier = in.ready.size() - allowed.size();
    plan.missing = in.count - have;
    plan.all_or_nothing = !gather;
    // Without gathering, too few allowed now means nothing to take this round.
    if (!gather && allowed.size() < plan.missing) return plan;
    plan.take = std::move(allowed);
    return plan;
}

}  // namespace gw
