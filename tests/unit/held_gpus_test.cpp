// HeldGpus over the fake holder and locks: what goes when, so nobody finds a hold of ours on a
// GPU we let go of.
#include "app/held_gpus.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fake_world.hpp"
#include "hold/protocol.hpp"

namespace gw {
namespace {

constexpr long kUs = 4'000'100;
constexpr long kFirstHolder = 4'000'700;

struct Holds {
    /// A HeldGpus whose holders are kept in `holders` by what they see (CUDA_VISIBLE_DEVICES,
    /// "" for every whole GPU); when one goes it notes whether GPU 0 was still locked then.
    std::unique_ptr<HeldGpus> make() {
        StartHolder start = [this](const std::string& visible) -> std::unique_ptr<Holder> {
            ++started;
            auto holder =
                std::make_unique<fake::FakeHolder>(std::set<std::string>{}, [this, visible] {
                    ++ended;
                    holders.erase(visible);
                    locked_when_holder_ended = waiters.locked_by("GPU-0").has_value();
                });
            holder->set_pid(kFirstHolder + started);
            if (visible == answer_late) holder->answer_when_told();
            holders[visible] = holder.get();
            return holder;
        };
        return std::make_unique<HeldGpus>(start, reporter.get(), HoldSettings{true, 0.25});
    }
    std::unique_ptr<HeldLock> lock(const std::string& uuid) {
        LockOwner owner;
        owner.pid = kUs;
        return waiters.try_lock(uuid, owner, nullptr);
    }

    fake::FakeWaiters waiters;
    fake::QuietReporter reporter;
    std::map<std::string, fake::FakeHolder*> holders;  // the living ones
    std::string answer_late = "none";                  // the holder that answers only when told
    int started = 0;
    int ended = 0;
    std::optional<bool> locked_when_holder_ended;
};

/// MIG instance `slot` of GPU 2.
GpuIdentity instance(unsigned slot) {
    GpuIdentity gpu = fake::four_gpus()[2];
    gpu.uuid = "MIG-" + std::to_string(slot);
    gpu.mig = MigPlace{"GPU-2", slot};
    return gpu;
}

/// GPUs 0 and 1 and instances MIG-1 and MIG-2 of GPU 2, all held.
std::unique_ptr<HeldGpus> two_gpus_and_two_instances(Holds& h) {
    auto held = h.make();
    held->add(fake::four_gpus()[0], h.lock("GPU-0"));
    held->add(fake::four_gpus()[1], h.lock("GPU-1"));
    held->add(instance(1), h.lock("MIG-1"));
    held->add(instance(2), h.lock("MIG-2"));
    EXPECT_TRUE(held->collect_replies().empty());
    return held;
}

std::vector<std::string> requests(const fake::FakeHolder& holder) {
    std::vector<std::string> out;
    for (const hold::Request& r : holder.received) out.push_back(hold::encode(r));
    return out;
}

TEST(HeldGpus, TheHolderGoesBeforeTheLocks) {
    Holds h;
    {
        auto held = h.make();
        held->add(fake::four_gpus()[0], h.lock("GPU-0"));
        EXPECT_TRUE(held->collect_replies().empty());
        EXPECT_TRUE(held->hold_in_place("GPU-0"));
    }
    EXPECT_EQ(h.ended, 1);
    EXPECT_EQ(h.locked_when_holder_ended, true);
    EXPECT_EQ(h.waiters.locked_by("GPU-0"), std::nullopt);
}

TEST(HeldGpus, TheHolderStopsWhenNothingIsHeld) {
    Holds h;
    auto held = h.make();
    held->add(fake::four_gpus()[0], h.lock("GPU-0"));
    held->add(fake::four_gpus()[1], h.lock("GPU-1"));
    held->give_up("GPU-0");
    EXPECT_EQ(h.ended, 0);  // GPU 1 is still held
    held->release_hold("GPU-1");
    EXPECT_EQ(h.ended, 1);  // the command has GPU 1 now: no reason to keep the holder
    EXPECT_EQ(h.waiters.locked_by("GPU-1"), kUs);  // but the lock stays
    EXPECT_EQ(h.started, 1);
}

// One CUDA process can use one MIG instance only, so each instance gets a holder of its own that
// sees just it; whole GPUs share one holder that sees them all.
TEST(HeldGpus, EachMigInstanceHasItsOwnHolderAndWholeGpusShareOne) {
    Holds h;
    auto held = two_gpus_and_two_instances(h);
    ASSERT_EQ(h.holders.size(), 3u);
    EXPECT_EQ(requests(*h.holders.at("")),
              (std::vector<std::string>{"hold GPU-0 0.25\n", "hold GPU-1 0.25\n"}));
    EXPECT_EQ(requests(*h.holders.at("MIG-1")), std::vector<std::string>{"hold MIG-1 0.25\n"});
    EXPECT_EQ(requests(*h.holders.at("MIG-2")), std::vector<std::string>{"hold MIG-2 0.25\n"});
    for (const char* unit : {"GPU-0", "GPU-1", "MIG-1", "MIG-2"}) {
        EXPECT_TRUE(held->hold_in_place(unit)) << unit;
    }
    EXPECT_EQ(held->holder_pids(),
              (std::set<long>{kFirstHolder + 1, kFirstHolder + 2, kFirstHolder + 3}));
}

// The command arrived on one instance: that instance's hold is released through its own holder,
// which then ends; the other holds stay where they are.
TEST(HeldGpus, ReleasingOneUnitTellsOnlyItsHolder) {
    Holds h;
    auto held = two_gpus_and_two_instances(h);
    fake::FakeHolder* whole = h.holders.at("");
    fake::FakeHolder* other = h.holders.at("MIG-2");

    held->give_up("GPU-0");
    EXPECT_EQ(requests(*whole).back(), "release GPU-0\n");
    EXPECT_EQ(h.waiters.locked_by("GPU-0"), std::nullopt);
    held->release_hold("MIG-1");
    EXPECT_FALSE(h.holders.contains("MIG-1"));     // it holds nothing now: gone
    EXPECT_EQ(h.waiters.locked_by("MIG-1"), kUs);  // the command has it: its lock stays
    EXPECT_EQ(requests(*other), std::vector<std::string>{"hold MIG-2 0.25\n"});
    EXPECT_EQ(requests(*whole).size(), 3u);  // nothing about MIG-1 went to the whole-GPU holder
    EXPECT_EQ(held->holding(), (std::vector<std::string>{"GPU-1", "MIG-2"}));
    held->release_hold("GPU-1");
    EXPECT_FALSE(h.holders.contains(""));  // its last hold went
    EXPECT_EQ(held->holder_pids(), std::set<long>{other->pid()});
}

// A holder that dies takes only its own holds with it, and says so for each of them.
TEST(HeldGpus, AHolderThatDiesFailsOnlyItsUnits) {
    Holds h;
    auto held = h.make();
    held->add(fake::four_gpus()[0], h.lock("GPU-0"));
    held->add(instance(1), h.lock("MIG-1"));
    held->add(instance(2), h.lock("MIG-2"));
    EXPECT_TRUE(held->collect_replies().empty());
    h.holders.at("MIG-1")->die();
    auto failures = held->collect_replies();
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].first, "MIG-1");
    EXPECT_EQ(failures[0].second, "the holder process ended");
    EXPECT_EQ(held->holding(), (std::vector<std::string>{"GPU-0", "MIG-2"}));
    EXPECT_EQ(held->holder_pids().size(), 2u);
}

// Replies are matched to units by UUID: two instances of one GPU share its PCI bus id, so the
// answer for one must never settle the other.
TEST(HeldGpus, AnAnswerSettlesOnlyItsOwnInstance) {
    Holds h;
    h.answer_late = "MIG-1";
    auto held = h.make();
    held->add(instance(1), h.lock("MIG-1"));
    held->add(instance(2), h.lock("MIG-2"));
    EXPECT_TRUE(held->collect_replies().empty());
    EXPECT_FALSE(held->hold_in_place("MIG-1"));
    EXPECT_TRUE(held->hold_in_place("MIG-2"));
    h.holders.at("MIG-1")->answer();
    EXPECT_TRUE(held->collect_replies().empty());
    EXPECT_TRUE(held->hold_in_place("MIG-1"));
}

}  // namespace
}  // namespace gw
