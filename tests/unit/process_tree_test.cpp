// process/process_table: process_tree over a hand-built table.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "process/process_table.hpp"

namespace {

gw::ProcessInfo proc(long pid, long parent) {
    return gw::ProcessInfo{pid, parent, "u", "p"};
}

//   1 ── 10 ── 11 ── 30
//   │     └─── 12
//   └─── 20 ── 21
const std::vector<gw::ProcessInfo> kTable{
    proc(1, 0), proc(10, 1), proc(11, 10), proc(12, 10), proc(30, 11), proc(20, 1), proc(21, 20),
};

TEST(ProcessTree, RootAndAllDescendants) {
    EXPECT_EQ(gw::process_tree(10, kTable), (std::set<long>{10, 11, 12, 30}));
}

TEST(ProcessTree, WholeTreeFromInit) {
    EXPECT_EQ(gw::process_tree(1, kTable), (std::set<long>{1, 10, 11, 12, 20, 21, 30}));
}

TEST(ProcessTree, LeafIsItsOwnTree) {
    EXPECT_EQ(gw::process_tree(30, kTable), (std::set<long>{30}));
}

TEST(ProcessTree, SiblingsAndAncestorsAreLeftOut) {
    std::set<long> tree = gw::process_tree(20, kTable);
    EXPECT_EQ(tree, (std::set<long>{20, 21}));
    EXPECT_FALSE(tree.contains(1));
    EXPECT_FALSE(tree.contains(10));
}

TEST(ProcessTree, RootMissingFromTheTable) {
    // The command has exited, its orphans were re-parented: only the root is left.
    EXPECT_EQ(gw::process_tree(999, kTable), (std::set<long>{999}));
    EXPECT_EQ(gw::process_tree(5, {}), (std::set<long>{5}));
}

TEST(ProcessTree, TableOrderDoesNotMatter) {
    std::vector<gw::ProcessInfo> reversed(kTable.rbegin(), kTable.rend());
    EXPECT_EQ(gw::process_tree(10, reversed), (std::set<long>{10, 11, 12, 30}));
}

TEST(ProcessTree, CyclesEnd) {
    std::vector<gw::ProcessInfo> looped{proc(5, 6), proc(6, 5), proc(7, 7), proc(8, 7)};
    EXPECT_EQ(gw::process_tree(5, looped), (std::set<long>{5, 6}));
    EXPECT_EQ(gw::process_tree(7, looped), (std::set<long>{7, 8}));
}

}  // namespace
