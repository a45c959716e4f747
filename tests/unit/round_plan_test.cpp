#include "policy/round_plan.hpp"

#include <gtest/gtest.h>

namespace gw {
namespace {

using Uuids = std::vector<std::string>;

RoundInput input(std::vector<Contender> ahead, unsigned count, Uuids held, Uuids ready) {
    return RoundInput{std::move(ahead), {"A", "B", "C"}, count, std::move(held), std::move(ready)};
}

TEST(RoundPlan, FirstInLineGathersWhatIsFree) {
    RoundPlan p = plan_round(input({}, 3, {"A"}, {"B"}));
    EXPECT_TRUE(p.give_back.empty());
    EXPECT_EQ(p.take, Uuids{"B"});
    EXPECT_EQ(p.missing, 2u);
    EXPECT_FALSE(p.all_or_nothing);
}

TEST(RoundPlan, EarlierCompetitorMakesUsGiveBackAndTakeAllOrNothing) {
    RoundPlan p = plan_round(input({Contender{1, {"C"}, 0}}, 2, {"A"}, {"B"}));
    EXPECT_EQ(p.give_back, Uuids{"A"});
    EXPECT_TRUE(p.take.empty());  // B alone is not the two we need
    EXPECT_TRUE(p.all_or_nothing);
}

TEST(RoundPlan, AllAtOnceWhenEnoughIsLeft) {
    RoundPlan p = plan_round(input({Contender{1, {"C"}, 0}}, 2, {}, {"A", "B", "C"}));
    EXPECT_EQ(p.take, (Uuids{"A", "B"}));
    EXPECT_EQ(p.missing, 2u);
    EXPECT_EQ(p.kept_for_earlier, 1u);
    EXPECT_TRUE(p.all_or_nothing);
}

TEST(RoundPlan, NothingToDoWithAllHeldOrNothingFreeAndHeld) {
    EXPECT_TRUE(plan_round(input({}, 1, {"A"}, {"B"})).take.empty());
    RoundPlan idle = plan_round(input({Contender{1, {"A"}, 0}}, 1, {}, {}));
    EXPECT_TRUE(idle.take.empty());
    EXPECT_TRUE(idle.give_back.empty());
}

}  // namespace
}  // namespace gw
