#include "policy/fair_share.hpp"

#include <algorithm>

namespace gw {

std::vector<std::string> share_for(const std::vector<Contender>& ahead,
                                   const std::vector<std::string>& free) {
    std::set<std::string> left(free.begin(), free.end());
    for (const Contender& c : ahead) {
        unsigned need = c.count > c.holding ? c.count - c.holding : 0;
        for (const std::string& uuid : c.candidates) {
            if (need == 0) break;
            if (left.erase(uuid) != 0) --need;
        }
    }
    std::vector<std::string> out;
    for (const std::string& uuid : free) {
        if (left.contains(uuid)) out.push_back(uuid);
    }
    return out;
}

bool may_gather(const std::vector<Contender>& ahead, const std::vector<std::string>& ours) {
    return std::none_of(ahead.begin(), ahead.end(), [&](const Contender& c) {
        return std::any_of(c.candidates.begin(), c.candidates.end(), [&](const std::string& u) {
            return std::find(ours.begin(), ours.end(), u) != ours.end();
        });
    });
}

bool out_of_reach(const std::vector<Contender>& ahead,
                  const std::vector<std::string>& our_candidates, unsigned count) {
    return share_for(ahead, our_candidates).size() < count;
}

}  // namespace gw
