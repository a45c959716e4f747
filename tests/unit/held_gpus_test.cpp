// HeldGpus over the fake holder and locks: what goes when, so nobody finds a hold of ours on a
// GPU we let go of.
#include "app/held_gpus.hpp"

#include <gtest/gtest.h>

#include "fake_world.hpp"

namespace gw {
namespace {

constexpr long kUs = 4'000'100;

struct Holds {
    /// A HeldGpus whose holder, when it goes, notes whether GPU 0 was still locked then.
    std::unique_ptr<HeldGpus> make() {
        StartHolder start = [this]() -> std::unique_ptr<Holder> {
            ++started;
            return std::make_unique<fake::FakeHolder>(std::set<std::string>{}, [this] {
                ++ended;
                locked_when_holder_ended = waiters.locked_by("GPU-0").has_value();
            });
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
    int started = 0;
    int ended = 0;
    std::optional<bool> locked_when_holder_ended;
};

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

}  // namespace
}  // namespace gw
