// policy/availability: exclusive and sharing mode, judged from plain GpuStatus values.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "policy/availability.hpp"

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
constexpr std::uint64_t kTotal = 80 * kGiB;

const std::set<unsigned> kNoOwn{};

/// A GPU of 80 GiB with `used` bytes in use; `v2`: NVML's memory v2 (reservation excluded).
gw::GpuStatus gpu(std::uint64_t used, std::vector<gw::GpuProcess> processes = {}, bool v2 = true) {
    gw::GpuStatus s;
    s.memory = gw::GpuMemory{kTotal, used, kTotal - used, v2};
    s.processes = std::move(processes);
    return s;
}

gw::AvailabilityRule exclusive() {
    return {};
}

gw::AvailabilityRule sharing_bytes(std::uint64_t bytes) {
    gw::AvailabilityRule r;
    r.min_free_memory = gw::SizeSpec{gw::SizeSpec::Kind::bytes, static_cast<double>(bytes)};
    return r;
}

gw::AvailabilityRule sharing_percent(double percent) {
    gw::AvailabilityRule r;
    r.min_free_memory = gw::SizeSpec{gw::SizeSpec::Kind::percent, percent};
    return r;
}

TEST(Availability, IdleGpuIsAvailable) {
    gw::Judgement j = gw::judge(gpu(0), exclusive(), kNoOwn);
    EXPECT_TRUE(j.available);
    EXPECT_TRUE(j.reason.empty());
    EXPECT_TRUE(gw::judge(gpu(4 * kMiB), exclusive(), kNoOwn).available);
}

TEST(Availability, ForeignProcessMakesItBusy) {
    gw::Judgement j = gw::judge(gpu(0, {{4242, 0}}), exclusive(), kNoOwn);
    EXPECT_FALSE(j.available);
    EXPECT_EQ(j.reason, "pid 4242");
}

TEST(Availability, ForeignProcessWithUnknownMemoryMakesItBusy) {
    gw::Judgement j = gw::judge(gpu(0, {{77, std::nullopt}}), exclusive(), kNoOwn);
    EXPECT_FALSE(j.available);
    EXPECT_EQ(j.reason, "pid 77");
}

TEST(Availability, ForeignNamedEvenBesideOwnProcess) {
    gw::Judgement j = gw::judge(gpu(300 * kMiB, {{100, 300 * kMiB}, {555, 0}}), exclusive(), {100});
    EXPECT_FALSE(j.available);
    EXPECT_EQ(j.reason, "pid 555");
}

TEST(Availability, OwnProcessIsNotForeignAndItsMemoryIsDiscounted) {
    // Our holder uses 20 GiB; 10 MiB more are stray: idle.
    gw::GpuStatus s = gpu(20 * kGiB + 10 * kMiB, {{100, 20 * kGiB}});
    gw::Judgement j = gw::judge(s, exclusive(), {100});
    EXPECT_TRUE(j.available) << j.reason;
}

TEST(Availability, OwnProcessDoesNotHideMemoryOfOthers) {
    // Our holder's 20 GiB are discounted, the 1 GiB beyond it is someone hidden.
    gw::GpuStatus s = gpu(21 * kGiB, {{100, 20 * kGiB}});
    gw::Judgement j = gw::judge(s, exclusive(), {100});
    EXPECT_FALSE(j.available);
    EXPECT_NE(j.reason.find("1.0 GiB"), std::string::npos) << j.reason;
}

TEST(Availability, SamePidIsForeignWhenNotOurs) {
    gw::GpuStatus s = gpu(20 * kGiB + 10 * kMiB, {{100, 20 * kGiB}});
    EXPECT_FALSE(gw::judge(s, exclusive(), {101}).available);
}

TEST(Availability, HiddenMemoryOverV2Threshold) {
    EXPECT_TRUE(gw::judge(gpu(gw::kIdleUsedThreshold - 1), exclusive(), kNoOwn).available);
    gw::Judgement j = gw::judge(gpu(gw::kIdleUsedThreshold), exclusive(), kNoOwn);
    EXPECT_FALSE(j.available);
    EXPECT_NE(j.reason.find("256.0 MiB"), std::string::npos) << j.reason;
    // One hidden CUDA context (~0.5 GiB) disqualifies the GPU.
    EXPECT_FALSE(gw::judge(gpu(512 * kMiB), exclusive(), kNoOwn).available);
}

TEST(Availability, HiddenMemoryOverV1Threshold) {
    // Memory v1 counts the driver's ~0.5 GiB reservation as used.
    EXPECT_TRUE(gw::judge(gpu(500 * kMiB, {}, false), exclusive(), kNoOwn).available);
    EXPECT_TRUE(
        gw::judge(gpu(gw::kIdleUsedThresholdV1 - 1, {}, false), exclusive(), kNoOwn).available);
    EXPECT_FALSE(
        gw::judge(gpu(gw::kIdleUsedThresholdV1, {}, false), exclusive(), kNoOwn).available);
    // The same 500 MiB with memory v2 is a hidden context.
    EXPECT_FALSE(gw::judge(gpu(500 * kMiB, {}, true), exclusive(), kNoOwn).available);
}

TEST(Availability, ThresholdsAreOrdered) {
    EXPECT_EQ(gw::kIdleUsedThreshold, 256 * kMiB);
    EXPECT_EQ(gw::kIdleUsedThresholdV1, 768 * kMiB);
}

TEST(Availability, SharingModeByBytes) {
    gw::AvailabilityRule rule = sharing_bytes(20 * kGiB);
    // 59 GiB used by a foreign process, 21 GiB free: fine when sharing.
    gw::Judgement ok = gw::judge(gpu(59 * kGiB, {{4242, 59 * kGiB}}), rule, kNoOwn);
    EXPECT_TRUE(ok.available) << ok.reason;
    EXPECT_TRUE(gw::judge(gpu(60 * kGiB), rule, kNoOwn).available);  // exactly 20 GiB free
    gw::Judgement busy = gw::judge(gpu(61 * kGiB, {{4242, 61 * kGiB}}), rule, kNoOwn);
    EXPECT_FALSE(busy.available);
    EXPECT_EQ(busy.reason, "19.0 GiB free < 20.0 GiB");
}

TEST(Availability, SharingModeByPercent) {
    gw::AvailabilityRule rule = sharing_percent(40);  // 32 GiB of 80
    EXPECT_TRUE(gw::judge(gpu(48 * kGiB, {{1, 48 * kGiB}}), rule, kNoOwn).available);
    gw::Judgement busy = gw::judge(gpu(49 * kGiB, {{1, 49 * kGiB}}), rule, kNoOwn);
    EXPECT_FALSE(busy.available);
    EXPECT_EQ(busy.reason, "31.0 GiB free < 32.0 GiB");
}

TEST(Availability, SharingModeCountsOwnHoldAsFree) {
    gw::AvailabilityRule rule = sharing_bytes(20 * kGiB);
    // 70 GiB used of which our holder has 15 GiB: 10 + 15 = 25 GiB for the command.
    gw::GpuStatus s = gpu(70 * kGiB, {{100, 15 * kGiB}, {200, 55 * kGiB}});
    EXPECT_TRUE(gw::judge(s, rule, {100}).available);
    EXPECT_FALSE(gw::judge(s, rule, kNoOwn).available);
}

TEST(Availability, MaxUtilization) {
    gw::AvailabilityRule rule;
    rule.max_utilization = 30;
    gw::GpuStatus s = gpu(0);
    s.utilization = 30;
    EXPECT_TRUE(gw::judge(s, rule, kNoOwn).available);
    s.utilization = 31;
    gw::Judgement j = gw::judge(s, rule, kNoOwn);
    EXPECT_FALSE(j.available);
    EXPECT_EQ(j.reason, "utilization 31% > 30%");
}

TEST(Availability, MaxUtilizationAlsoInSharingMode) {
    gw::AvailabilityRule rule = sharing_bytes(kGiB);
    rule.max_utilization = 50;
    gw::GpuStatus s = gpu(10 * kGiB, {{1, 10 * kGiB}});
    s.utilization = 80;
    EXPECT_FALSE(gw::judge(s, rule, kNoOwn).available);
    s.utilization = 10;
    EXPECT_TRUE(gw::judge(s, rule, kNoOwn).available);
}

TEST(Availability, UtilizationIgnoredWithoutMaxUtil) {
    gw::GpuStatus s = gpu(0);
    s.utilization = 100;
    EXPECT_TRUE(gw::judge(s, exclusive(), kNoOwn).available);
}

TEST(Availability, ErrorMeansBusy) {
    gw::GpuStatus s = gpu(0);
    s.error = "GPU is lost";
    gw::Judgement j = gw::judge(s, exclusive(), kNoOwn);
    EXPECT_FALSE(j.available);
    EXPECT_EQ(j.reason, "GPU is lost");
    EXPECT_FALSE(gw::judge(s, sharing_bytes(0), kNoOwn).available);
}

TEST(Availability, UnknownMemoryMeansBusy) {
    gw::GpuStatus s;
    s.processes = std::vector<gw::GpuProcess>{};
    EXPECT_FALSE(gw::judge(s, exclusive(), kNoOwn).available);
    EXPECT_FALSE(gw::judge(s, sharing_bytes(0), kNoOwn).available);
}

TEST(FirstQuery, MemoryAloneByDefault) {
    gw::GpuQuery q = gw::first_query(exclusive());
    EXPECT_TRUE(gw::has(q, gw::GpuQuery::memory));
    EXPECT_FALSE(gw::has(q, gw::GpuQuery::utilization));
    EXPECT_FALSE(gw::has(q, gw::GpuQuery::processes));
    EXPECT_FALSE(gw::has(gw::first_query(sharing_bytes(kGiB)), gw::GpuQuery::utilization));
}

TEST(FirstQuery, UtilizationWhenMaxUtilIsSet) {
    gw::AvailabilityRule rule;
    rule.max_utilization = 50;
    gw::GpuQuery q = gw::first_query(rule);
    EXPECT_TRUE(gw::has(q, gw::GpuQuery::memory));
    EXPECT_TRUE(gw::has(q, gw::GpuQuery::utilization));
}

TEST(NeedsProcesses, ExclusiveModeWithIdleLookingMemory) {
    gw::GpuStatus s;
    s.memory = gw::GpuMemory{kTotal, 10 * kMiB, kTotal - 10 * kMiB, true};
    EXPECT_TRUE(gw::needs_processes(exclusive(), s, false));
}

TEST(NeedsProcesses, NotWhenMemoryAlreadyShowsBusy) {
    gw::GpuStatus s;
    s.memory = gw::GpuMemory{kTotal, gw::kIdleUsedThreshold, kTotal - gw::kIdleUsedThreshold, true};
    EXPECT_FALSE(gw::needs_processes(exclusive(), s, false));
    // ... but the same with memory v1 is still under its threshold.
    s.memory->reserved_excluded = false;
    EXPECT_TRUE(gw::needs_processes(exclusive(), s, false));
}

TEST(NeedsProcesses, AlwaysWhenOurOwnProcessMayBeThere) {
    gw::GpuStatus s;
    s.memory = gw::GpuMemory{kTotal, 40 * kGiB, 40 * kGiB, true};
    EXPECT_TRUE(gw::needs_processes(exclusive(), s, true));
    EXPECT_TRUE(gw::needs_processes(sharing_bytes(kGiB), s, true));
}

TEST(NeedsProcesses, NotInSharingMode) {
    gw::GpuStatus s;
    s.memory = gw::GpuMemory{kTotal, 0, kTotal, true};
    EXPECT_FALSE(gw::needs_processes(sharing_bytes(kGiB), s, false));
}

TEST(NeedsProcesses, NotAfterAnErrorOrWithoutMemory) {
    gw::GpuStatus err;
    err.memory = gw::GpuMemory{kTotal, 0, kTotal, true};
    err.error = "lost";
    EXPECT_FALSE(gw::needs_processes(exclusive(), err, false));
    gw::GpuStatus no_memory;
    EXPECT_FALSE(gw::needs_processes(exclusive(), no_memory, false));
}

}  // namespace

namespace {

using Pids = std::vector<unsigned>;

TEST(Occupiers, ProcessesWhoseExitFreesTheGpu) {
    auto pids = gw::occupiers(gpu(2 * kGiB, {{4242, kGiB}, {4243, kGiB}}), exclusive(), kNoOwn);
    ASSERT_TRUE(pids.has_value());
    EXPECT_EQ(*pids, (Pids{4242, 4243}));
}

TEST(Occupiers, OwnHolderIsNoOccupier) {
    auto pids = gw::occupiers(gpu(2 * kGiB, {{7, kGiB}, {4242, kGiB}}), exclusive(), {7});
    ASSERT_TRUE(pids.has_value());
    EXPECT_EQ(*pids, (Pids{4242}));
}

TEST(Occupiers, MemoryOfProcessesNotShownLeavesNoEvent) {
    // 5 GiB used, 1 GiB by the one process listed: someone the driver hides uses the rest.
    EXPECT_FALSE(gw::occupiers(gpu(5 * kGiB, {{4242, kGiB}}), exclusive(), kNoOwn).has_value());
    EXPECT_FALSE(gw::occupiers(gpu(5 * kGiB, {}), exclusive(), kNoOwn).has_value());
}

TEST(Occupiers, UnknownProcessMemoryIsTakenAsTheirs) {
    auto pids = gw::occupiers(gpu(5 * kGiB, {{4242, std::nullopt}}), exclusive(), kNoOwn);
    ASSERT_TRUE(pids.has_value());
    EXPECT_EQ(*pids, (Pids{4242}));
}

TEST(Occupiers, RulesThatChangeWithoutAnExitLeaveNoEvent) {
    gw::GpuStatus busy = gpu(2 * kGiB, {{4242, 2 * kGiB}});
    EXPECT_FALSE(gw::occupiers(busy, sharing_bytes(79 * kGiB), kNoOwn).has_value());
    gw::AvailabilityRule util;
    util.max_utilization = 10;
    EXPECT_FALSE(gw::occupiers(busy, util, kNoOwn).has_value());
    gw::GpuStatus broken = busy;
    broken.error = "GPU is lost";
    EXPECT_FALSE(gw::occupiers(broken, exclusive(), kNoOwn).has_value());
}

}  // namespace
