// policy/fair_share: first come, first served between waiters.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/fair_share.hpp"

namespace {

using Strings = std::vector<std::string>;

gw::Contender wants(unsigned count, Strings candidates, unsigned holding = 0) {
    gw::Contender c;
    c.count = count;
    c.candidates = std::move(candidates);
    c.holding = holding;
    return c;
}

const Strings kFour{"GPU-0", "GPU-1", "GPU-2", "GPU-3"};

TEST(ShareFor, AloneWeGetEverythingFree) {
    EXPECT_EQ(gw::share_for({}, {"GPU-2", "GPU-0"}), (Strings{"GPU-2", "GPU-0"}));
    EXPECT_TRUE(gw::share_for({}, {}).empty());
}

TEST(ShareFor, EarlierWaiterTakesWhatItNeeds) {
    std::vector<gw::Contender> ahead{wants(1, kFour)};
    EXPECT_EQ(gw::share_for(ahead, {"GPU-0", "GPU-1"}), (Strings{"GPU-1"}));
}

TEST(ShareFor, EarlierWaiterTakesInItsOwnPreferenceOrder) {
    std::vector<gw::Contender> ahead{wants(1, {"GPU-1", "GPU-0"})};
    EXPECT_EQ(gw::share_for(ahead, {"GPU-0", "GPU-1"}), (Strings{"GPU-0"}));
}

TEST(ShareFor, OnlyOneFreeGpuGoesToTheEarlierWaiter) {
    std::vector<gw::Contender> ahead{wants(1, kFour)};
    EXPECT_TRUE(gw::share_for(ahead, {"GPU-3"}).empty());
}

TEST(ShareFor, EarlierWaiterLeavesGpusItCannotUse) {
    std::vector<gw::Contender> ahead{wants(1, {"GPU-3"})};
    EXPECT_EQ(gw::share_for(ahead, {"GPU-0", "GPU-1"}), (Strings{"GPU-0", "GPU-1"}));
}

TEST(ShareFor, SeveralEarlierWaitersEachTakeTheirShare) {
    std::vector<gw::Contender> ahead{wants(1, kFour), wants(2, kFour)};
    EXPECT_EQ(gw::share_for(ahead, kFour), (Strings{"GPU-3"}));
    std::vector<gw::Contender> three_ahead{wants(1, kFour), wants(2, kFour), wants(1, kFour)};
    EXPECT_TRUE(gw::share_for(three_ahead, kFour).empty());
}

TEST(ShareFor, PartialHoldersNeedOnlyTheRest) {
    // It wants 3 and holds 2 already (not in `free`): it needs one more.
    std::vector<gw::Contender> ahead{wants(3, kFour, 2)};
    EXPECT_EQ(gw::share_for(ahead, {"GPU-2", "GPU-3"}), (Strings{"GPU-3"}));
}

TEST(ShareFor, WaiterHoldingAllItNeedsTakesNothing) {
    std::vector<gw::Contender> ahead{wants(2, kFour, 2)};
    EXPECT_EQ(gw::share_for(ahead, {"GPU-2", "GPU-3"}), (Strings{"GPU-2", "GPU-3"}));
}

TEST(ShareFor, TwoGpuWaiterAheadReservesWhatFreesUp) {
    // A waiter for 2 GPUs came first; GPUs free up one at a time. The 1-GPU waiters behind it
    // must not take them, or it would wait forever behind a stream of small jobs.
    std::vector<gw::Contender> ahead{wants(2, kFour)};
    EXPECT_TRUE(gw::share_for(ahead, {"GPU-1"}).empty());
    std::vector<gw::Contender> ahead_holding_one{wants(2, kFour, 1)};
    EXPECT_TRUE(gw::share_for(ahead_holding_one, {"GPU-2"}).empty());
    EXPECT_EQ(gw::share_for(ahead_holding_one, {"GPU-2", "GPU-3"}), (Strings{"GPU-3"}));
}

TEST(ShareFor, LaterOneGpuWaiterBehindTwoGpuAndOneGpuWaiters) {
    std::vector<gw::Contender> ahead{wants(2, kFour), wants(1, kFour)};
    EXPECT_TRUE(gw::share_for(ahead, {"GPU-0", "GPU-1"}).empty());
    EXPECT_TRUE(gw::share_for(ahead, {"GPU-0", "GPU-1", "GPU-2"}).empty());
    EXPECT_EQ(gw::share_for(ahead, kFour), (Strings{"GPU-3"}));
}

TEST(ShareFor, ResultKeepsOurOrder) {
    std::vector<gw::Contender> ahead{wants(1, {"GPU-1"})};
    EXPECT_EQ(gw::share_for(ahead, {"GPU-3", "GPU-1", "GPU-0", "GPU-2"}),
              (Strings{"GPU-3", "GPU-0", "GPU-2"}));
}

TEST(MayGather, AloneWeMay) {
    EXPECT_TRUE(gw::may_gather({}, kFour));
}

TEST(MayGather, NotWithAnOverlappingEarlierWaiter) {
    EXPECT_FALSE(gw::may_gather({wants(1, {"GPU-3"})}, kFour));
    EXPECT_FALSE(gw::may_gather({wants(2, {"GPU-5", "GPU-0"})}, {"GPU-0", "GPU-1"}));
}

TEST(MayGather, YesWhenEarlierWaitersWantOtherGpus) {
    EXPECT_TRUE(gw::may_gather({wants(2, {"GPU-4", "GPU-5"}), wants(1, {"GPU-6"})}, kFour));
}

TEST(MayGather, OneOverlapAmongSeveralIsEnoughToRefuse) {
    EXPECT_FALSE(gw::may_gather({wants(2, {"GPU-4", "GPU-5"}), wants(1, {"GPU-2"})}, kFour));
}

}  // namespace

namespace {

TEST(OutOfReach, EarlierWaitersWantingEveryCandidate) {
    std::vector<gw::Contender> ahead{wants(1, {"GPU-0"})};
    EXPECT_TRUE(gw::out_of_reach(ahead, {"GPU-0"}, 1));
    EXPECT_FALSE(gw::out_of_reach(ahead, {"GPU-0", "GPU-1"}, 1));
    EXPECT_TRUE(gw::out_of_reach(ahead, {"GPU-0", "GPU-1"}, 2));
    EXPECT_FALSE(gw::out_of_reach({}, {"GPU-0"}, 1));
}

TEST(OutOfReach, WhatAnEarlierWaiterHoldsReducesWhatItTakes) {
    // It has one of its two already: of four free, it takes one more, leaving us three.
    std::vector<gw::Contender> ahead{wants(2, kFour, 1)};
    EXPECT_FALSE(gw::out_of_reach(ahead, kFour, 3));
    EXPECT_TRUE(gw::out_of_reach({wants(4, kFour)}, kFour, 1));
}

}  // namespace
