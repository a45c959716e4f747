// policy/idle_tracker: --idle-for with time passed in, never read from a clock.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "policy/idle_tracker.hpp"

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const gw::TimePoint t0 = gw::TimePoint{} + std::chrono::hours(1000);

gw::TimePoint at(std::chrono::milliseconds offset) {
    return t0 + offset;
}

TEST(IdleTracker, UnknownGpuIsNotReady) {
    gw::IdleTracker tracker;
    EXPECT_FALSE(tracker.ready("GPU-a", gw::Duration{0}, t0));
    EXPECT_EQ(tracker.idle_time("GPU-a", t0).count(), 0);
}

TEST(IdleTracker, ZeroIdleForIsReadyAtFirstAvailableLook) {
    gw::IdleTracker tracker;
    tracker.observe("GPU-a", true, t0);
    EXPECT_TRUE(tracker.ready("GPU-a", gw::Duration{0}, t0));
}

TEST(IdleTracker, UnavailableIsNeverReady) {
    gw::IdleTracker tracker;
    tracker.observe("GPU-a", false, t0);
    EXPECT_FALSE(tracker.ready("GPU-a", gw::Duration{0}, t0));
    EXPECT_FALSE(tracker.ready("GPU-a", gw::Duration{0}, at(seconds(100))));
    EXPECT_EQ(tracker.idle_time("GPU-a", at(seconds(100))).count(), 0);
}

TEST(IdleTracker, ReadyOnceAvailableLongEnough) {
    gw::IdleTracker tracker;
    tracker.observe("GPU-a", true, t0);
    tracker.observe("GPU-a", true, at(seconds(2)));
    tracker.observe("GPU-a", true, at(seconds(4)));
    EXPECT_FALSE(tracker.ready("GPU-a", seconds(5), at(seconds(4))));
    EXPECT_FALSE(tracker.ready("GPU-a", seconds(5), at(milliseconds(4999))));
    EXPECT_TRUE(tracker.ready("GPU-a", seconds(5), at(seconds(5))));
    EXPECT_TRUE(tracker.ready("GPU-a", seconds(5), at(seconds(6))));
}

TEST(IdleTracker, RepeatedAvailableLooksKeepTheStart) {
    gw::IdleTracker tracker;
    tracker.observe("GPU-a", true, t0);
    tracker.observe("GPU-a", true, at(seconds(3)));
    EXPECT_EQ(tracker.idle_time("GPU-a", at(seconds(3))), seconds(3));
    EXPECT_EQ(tracker.idle_time("GPU-a", at(seconds(7))), seconds(7));
}

TEST(IdleTracker, BusyLookRestartsTheClock) {
    gw::IdleTracker tracker;
    tracker.observe("GPU-a", true, t0);
    tracker.observe("GPU-a", false, at(seconds(4)));
    tracker.observe("GPU-a", true, at(seconds(6)));
    EXPECT_FALSE(tracker.ready("GPU-a", seconds(5), at(seconds(10))));
    EXPECT_EQ(tracker.idle_time("GPU-a", at(seconds(10))), seconds(4));
    EXPECT_TRUE(tracker.ready("GPU-a", seconds(5), at(seconds(11))));
}

TEST(IdleTracker, GpusAreTrackedSeparately) {
    gw::IdleTracker tracker;
    tracker.observe("GPU-a", true, t0);
    tracker.observe("GPU-b", true, at(seconds(3)));
    tracker.observe("GPU-b", false, at(seconds(4)));
    EXPECT_TRUE(tracker.ready("GPU-a", seconds(4), at(seconds(4))));
    EXPECT_FALSE(tracker.ready("GPU-b", seconds(0), at(seconds(4))));
    EXPECT_EQ(tracker.idle_time("GPU-a", at(seconds(4))), seconds(4));
}

TEST(IdleTracker, ForgetDropsTheHistory) {
    gw::IdleTracker tracker;
    tracker.observe("GPU-a", true, t0);
    tracker.forget("GPU-a");
    EXPECT_FALSE(tracker.ready("GPU-a", gw::Duration{0}, at(seconds(10))));
    tracker.observe("GPU-a", true, at(seconds(10)));
    EXPECT_FALSE(tracker.ready("GPU-a", seconds(5), at(seconds(12))));
    EXPECT_EQ(tracker.idle_time("GPU-a", at(seconds(12))), seconds(2));
}

TEST(IdleTracker, ForgettingAnUnknownGpuIsHarmless) {
    gw::IdleTracker tracker;
    tracker.observe("GPU-a", true, t0);
    tracker.forget("GPU-zzz");
    EXPECT_TRUE(tracker.ready("GPU-a", seconds(1), at(seconds(1))));
}

}  // namespace
