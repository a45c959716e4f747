// policy/handover: when a hold gives way once the command runs.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "policy/handover.hpp"

namespace {

using Action = gw::HandoverDecision::Action;

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
constexpr long kHolder = 900;

gw::GpuStatus gpu(std::vector<gw::GpuProcess> processes, std::uint64_t used = 20 * kGiB) {
    gw::GpuStatus s;
    s.memory = gw::GpuMemory{80 * kGiB, used, 80 * kGiB - used, true};
    s.processes = std::move(processes);
    return s;
}

gw::HandoverDecision decide(const gw::GpuStatus& status, const std::set<long>& tree,
                            std::optional<std::uint64_t> used_with_hold = 20 * kGiB) {
    gw::HandoverInput in;
    in.status = &status;
    in.command_tree = &tree;
    static const std::set<long> kHolders{kHolder};
    in.holders = &kHolders;
    in.used_with_hold = used_with_hold;
    return gw::decide_handover(in);
}

const std::set<long> kTree{1000, 1001, 1002};

TEST(Handover, OnlyTheHolderKeeps) {
    gw::HandoverDecision d = decide(gpu({{900, 20 * kGiB}}), kTree);
    EXPECT_EQ(d.action, Action::keep);
    EXPECT_EQ(d.pid, 0u);
}

TEST(Handover, NoProcessesAtAllKeeps) {
    EXPECT_EQ(decide(gpu({}), kTree).action, Action::keep);
}

TEST(Handover, CommandTreeProcessArrives) {
    gw::HandoverDecision d = decide(gpu({{900, 20 * kGiB}, {1002, kGiB}}), kTree);
    EXPECT_EQ(d.action, Action::command_arrived);
    EXPECT_EQ(d.pid, 1002u);
}

TEST(Handover, CommandItselfArrives) {
    gw::HandoverDecision d = decide(gpu({{1000, std::nullopt}}), kTree);
    EXPECT_EQ(d.action, Action::command_arrived);
    EXPECT_EQ(d.pid, 1000u);
}

TEST(Handover, ForeignProcessArrives) {
    gw::HandoverDecision d = decide(gpu({{900, 20 * kGiB}, {4242, kGiB}}), kTree);
    EXPECT_EQ(d.action, Action::foreign_arrived);
    EXPECT_EQ(d.pid, 4242u);
}

TEST(Handover, CommandWinsOverAForeignProcessListedFirst) {
    gw::HandoverDecision d = decide(gpu({{4242, kGiB}, {900, 20 * kGiB}, {1001, kGiB}}), kTree);
    EXPECT_EQ(d.action, Action::command_arrived);
    EXPECT_EQ(d.pid, 1001u);
}

TEST(Handover, FirstForeignProcessIsReported) {
    gw::HandoverDecision d = decide(gpu({{4242, kGiB}, {4343, kGiB}}), kTree);
    EXPECT_EQ(d.action, Action::foreign_arrived);
    EXPECT_EQ(d.pid, 4242u);
}

TEST(Handover, HolderPidInsideTheTreeIsStillIgnored) {
    std::set<long> tree{1000, kHolder};
    EXPECT_EQ(decide(gpu({{900, 20 * kGiB}}), tree).action, Action::keep);
}

TEST(Handover, MemoryRiseWithoutNewProcess) {
    std::uint64_t base = 20 * kGiB;
    gw::HandoverDecision d = decide(gpu({{900, base}}, base + gw::kContextMemory + 1), kTree, base);
    EXPECT_EQ(d.action, Action::memory_rose);
    EXPECT_EQ(d.pid, 0u);
    EXPECT_EQ(decide(gpu({{900, base}}, base + 4 * kGiB), kTree, base).action, Action::memory_rose);
}

TEST(Handover, MemoryRiseUpToOneContextKeeps) {
    std::uint64_t base = 20 * kGiB;
    EXPECT_EQ(decide(gpu({{900, base}}, base + gw::kContextMemory), kTree, base).action,
              Action::keep);
    EXPECT_EQ(decide(gpu({{900, base}}, base + 1), kTree, base).action, Action::keep);
}

TEST(Handover, MemoryFallingKeeps) {
    std::uint64_t base = 20 * kGiB;
    EXPECT_EQ(decide(gpu({{900, base}}, base - kGiB), kTree, base).action, Action::keep);
}

TEST(Handover, NoMemoryBaselineMeansNoMemoryRule) {
    EXPECT_EQ(decide(gpu({{900, 20 * kGiB}}, 70 * kGiB), kTree, std::nullopt).action, Action::keep);
}

TEST(Handover, MemoryRiseWhenTheProcessListIsUnknown) {
    gw::GpuStatus s = gpu({}, 30 * kGiB);
    s.processes.reset();
    EXPECT_EQ(decide(s, kTree, 20 * kGiB).action, Action::memory_rose);
}

TEST(Handover, VisibleProcessWinsOverMemoryRise) {
    std::uint64_t base = 20 * kGiB;
    EXPECT_EQ(decide(gpu({{900, base}, {1001, 5 * kGiB}}, base + 5 * kGiB), kTree, base).action,
              Action::command_arrived);
    EXPECT_EQ(decide(gpu({{900, base}, {4242, 5 * kGiB}}, base + 5 * kGiB), kTree, base).action,
              Action::foreign_arrived);
}

TEST(Handover, ContextMemoryConstant) {
    EXPECT_EQ(gw::kContextMemory, std::uint64_t{256} << 20);
}

}  // namespace
