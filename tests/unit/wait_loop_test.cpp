// The wait, in-process over the fake world: the rules between waiters, the holds, the timeout.
// No time passes; the fake clock's sleeps only move its time on, and each test scripts what the
// world does between rounds.
#include <gtest/gtest.h>

#include <utility>

#include "app/held_gpus.hpp"
#include "app/wait_loop.hpp"
#include "fake_world.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;
using fake::FakeClock;
using fake::FakeDriver;
using fake::FakeHolder;
using fake::FakeWaiters;

constexpr long kUs = 4'000'100;            // our gpu-waiter
constexpr long kEarlier = 4'000'200;       // a gpu-waiter that queued before us
constexpr unsigned kStranger = 4'000'300;  // a process on a GPU that no gpu-waiter started
constexpr long kQuicker = 4'000'400;       // a gpu-waiter that locks a GPU just before we do
constexpr long kUnvouched = 4'000'500;     // earlier in number, but neither of us counts the other

struct World {
    explicit World(std::set<std::string> refuse_holds = {}, bool hold = false)
        : held(
              [refuse = std::move(refuse_holds)](const std::string&) -> std::unique_ptr<Holder> {
                  return std::make_unique<FakeHolder>(refuse);
              },
              reporter.get(), HoldSettings{hold, 0.25}) {}

    /// Waits for `count` of the GPUs `candidates` (by index), for at most `timeout`.
    WaitOutcome wait(unsigned count, const std::vector<unsigned>& candidates,
                     Duration timeout = 1h) {
        WaitRequest request;
        for (unsigned i : candidates) request.candidates.push_back(fake::four_gpus()[i]);
        request.count = count;
        request.poll = 500ms;
        request.timeout = timeout;
        request.owner.pid = kUs;
        request.owner.user = "me";
        return WaitLoop(driver, waiters, clock, signals, reporter.get(), held, request).run();
    }
    [[nodiscard]] bool ours(const std::string& uuid) const {
        return waiters.locked_by(uuid) == kUs;
    }

    FakeClock clock;
    FakeDriver driver{fake::four_gpus()};
    FakeWaiters waiters;
    SignalCatcher signals;
    fake::QuietReporter reporter;
    HeldGpus held;  // last: it lets go of its locks before the fakes go
};

bool acquired(const WaitOutcome& o) {
    return o.end == WaitOutcome::End::acquired;
}

// e4b0347: two waiters for two GPUs, each holding one, would wait for each other forever. The
// later one (we) gathered GPU 0 before the earlier one's ticket showed; the earlier one holds
// GPU 1. We must give GPU 0 back so that the earlier one can finish, and then get both.
TEST(WaitLoop, LaterGathererGivesBackToAnEarlierCompetitor) {
    World w;
    w.driver.occupy("GPU-1", kStranger);
    std::optional<long> gpu0_after_competitor;
    w.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 1) {
            EXPECT_TRUE(w.ours("GPU-0"));  // gathered: nobody earlier competed
            w.driver.vacate("GPU-1");
            w.waiters.add_ahead(kEarlier, 2, {"GPU-0", "GPU-1"});
            w.waiters.lock_for("GPU-1", kEarlier);
        }
        if (sleeps == 2) {
            gpu0_after_competitor = w.waiters.locked_by("GPU-0");
            if (!gpu0_after_competitor) w.waiters.lock_for("GPU-0", kEarlier);
        }
        if (sleeps == 3) w.waiters.remove(kEarlier);  // done: it ran its command and left
    };
    WaitOutcome o = w.wait(2, {0, 1});
    EXPECT_EQ(gpu0_after_competitor, std::nullopt);
    ASSERT_TRUE(acquired(o));
    EXPECT_TRUE(w.ours("GPU-0"));
    EXPECT_TRUE(w.ours("GPU-1"));
}

// Two waiters that each see the other as behind (one of them queued without the queue's lock)
// both gather. We hold GPU 0; the other, earlier in (number, pid) order, holds GPU 1 and needs
// GPU 0 too. Were we to keep GPU 0, both would wait forever: we give it back, it takes it and
// runs, and then we get both.
TEST(WaitLoop, GathererGivesBackToAnUnvouchedGathererHoldingWhatItMisses) {
    World w;
    w.driver.occupy("GPU-1", kStranger);
    bool other_ran = false;
    w.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 1) {
            EXPECT_TRUE(w.ours("GPU-0"));
            w.driver.vacate("GPU-1");
            w.waiters.add_unvouched(kUnvouched, 2, {"GPU-0", "GPU-1"});
            w.waiters.lock_for("GPU-1", kUnvouched);
            return;
        }
        // The other gathers as we do: GPU 0 the moment it is free; with both, it runs and leaves.
        if (other_ran) return;
        if (w.waiters.locked_by("GPU-0") == kUnvouched) {
            other_ran = true;
            w.waiters.remove(kUnvouched);
        } else if (!w.waiters.locked_by("GPU-0")) {
            w.waiters.lock_for("GPU-0", kUnvouched);
        }
    };
    WaitOutcome o = w.wait(2, {0, 1});
    EXPECT_TRUE(other_ran);
    ASSERT_TRUE(acquired(o));
    EXPECT_TRUE(w.ours("GPU-0"));
    EXPECT_TRUE(w.ours("GPU-1"));
}

// A waiter earlier in number that is not vouched for and holds no GPU is not waited for: a
// ticket planted after ours with a low number must not keep a free GPU from us.
TEST(WaitLoop, UnvouchedWaiterHoldingNoGpuIsNotWaitedFor) {
    World w;
    w.waiters.add_unvouched(kUnvouched, 1, {"GPU-0"});
    WaitOutcome o = w.wait(1, {0}, 10s);
    ASSERT_TRUE(acquired(o));
    EXPECT_EQ(w.clock.timeouts.size(), 0u);  // at once, in the first round
    EXPECT_TRUE(w.ours("GPU-0"));
}

// An earlier waiter for one of GPUs 0 and 1 gets the one that frees first, even though we
// look and could lock it; we get the next.
TEST(WaitLoop, LaterWaiterNeverTakesWhatAnEarlierOneCanUse) {
    World w;
    w.driver.occupy("GPU-1", kStranger);
    w.waiters.add_ahead(kEarlier, 1, {"GPU-0", "GPU-1"});
    w.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 5) w.driver.vacate("GPU-1");
    };
    WaitOutcome o = w.wait(1, {0, 1});
    ASSERT_TRUE(acquired(o));
    EXPECT_EQ(w.waiters.ever_locked(kUs), std::vector<std::string>{"GPU-1"});
}

// Nobody earlier wants our GPUs: we keep the one we gathered while waiting for the second. When
// an earlier waiter for them shows up, all-or-nothing applies: we give back what we hold.
TEST(WaitLoop, GathererKeepsUntilAnEarlierWaiterCompetes) {
    World w;
    w.driver.occupy("GPU-1", kStranger);
    std::vector<bool> held_gpu0;
    w.clock.between_rounds = [&](int sleeps) {
        held_gpu0.push_back(w.ours("GPU-0"));
        if (sleeps == 3) w.waiters.add_ahead(kEarlier, 1, {"GPU-1", "GPU-2"});
    };
    WaitOutcome o = w.wait(2, {0, 1}, 3s);
    EXPECT_EQ(o.end, WaitOutcome::End::timed_out);
    ASSERT_GE(held_gpu0.size(), 5u);
    EXPECT_EQ(std::vector<bool>(held_gpu0.begin(), held_gpu0.begin() + 5),
              (std::vector<bool>{true, true, true, false, false}));
}

// A process that is not ours appears on a GPU we gathered: it is not free any more, and we let
// it go rather than keep a lock on a GPU someone else uses.
TEST(WaitLoop, ForeignProcessOnAHeldGpuIsGivenUp) {
    World w;
    w.driver.occupy("GPU-1", kStranger);
    std::vector<bool> held_gpu0;
    w.clock.between_rounds = [&](int sleeps) {
        held_gpu0.push_back(w.ours("GPU-0"));
        if (sleeps == 2) w.driver.occupy("GPU-0", kStranger + 1);
    };
    WaitOutcome o = w.wait(2, {0, 1}, 2s);
    EXPECT_EQ(o.end, WaitOutcome::End::timed_out);
    ASSERT_GE(held_gpu0.size(), 3u);
    EXPECT_EQ(std::vector<bool>(held_gpu0.begin(), held_gpu0.begin() + 3),
              (std::vector<bool>{true, true, false}));
}

// The holder cannot hold GPU 0 (someone took its memory first): we give it up and do not take
// it again at once, though it looks free; only after a while do we try it again.
TEST(WaitLoop, FailedHoldIsGivenUpAndNotRetakenAtOnce) {
    World w({"GPU-0"}, true);
    w.driver.occupy("GPU-1", kStranger);
    std::vector<std::pair<Duration, bool>> looks;  // (time, whether GPU 0 is ours)
    w.clock.between_rounds = [&](int) { looks.emplace_back(w.clock.elapsed(), w.ours("GPU-0")); };
    WaitOutcome o = w.wait(2, {0, 1}, 10s);
    EXPECT_EQ(o.end, WaitOutcome::End::timed_out);
    ASSERT_GE(looks.size(), 3u);
    EXPECT_TRUE(looks[0].second);   // taken, hold asked for
    EXPECT_FALSE(looks[1].second);  // the holder said no: given up
    // Not taken again for five seconds (ten polls), then tried again.
    for (const auto& [when, ours] : looks) {
        if (when > 500ms && when <= 5500ms) {
            EXPECT_FALSE(ours) << when.count();
        }
    }
    EXPECT_EQ(w.waiters.ever_locked(kUs), (std::vector<std::string>{"GPU-0", "GPU-0"}));
}

// Nothing frees up: the wait ends exactly when --timeout passes, holding nothing.
TEST(WaitLoop, TimeoutEndsTheWaitOnTime) {
    World w;
    w.driver.occupy("GPU-0", kStranger);
    WaitOutcome o = w.wait(1, {0}, 7s + 250ms);
    EXPECT_EQ(o.end, WaitOutcome::End::timed_out);
    EXPECT_EQ(w.clock.elapsed(), 7s + 250ms);
    EXPECT_EQ(w.held.size(), 0u);
    EXPECT_TRUE(w.waiters.ever_locked(kUs).empty());
}

// Behind an earlier waiter that competes for our GPUs we may not gather: we take all we are
// missing at once, or nothing. Another gpu-waiter locks GPU 1 between our look and our lock of
// it, after we locked GPU 0: we give GPU 0 back rather than keep part of what we need.
TEST(WaitLoop, PartialTakeIsGivenBackBehindACompetitor) {
    World w;
    w.waiters.add_ahead(kEarlier, 1, {"GPU-2"});  // competes for GPU 2: we get 0 and 1 at most
    bool grabbed = false;
    w.waiters.on_try_lock = [&](const std::string& uuid) {
        if (uuid == "GPU-1" && !std::exchange(grabbed, true)) w.waiters.lock_for(uuid, kQuicker);
    };
    std::vector<bool> held_gpu0;
    w.clock.between_rounds = [&](int sleeps) {
        held_gpu0.push_back(w.ours("GPU-0"));
        if (sleeps == 1) w.waiters.remove(kQuicker);  // done with GPU 1: it lets it go
    };
    WaitOutcome o = w.wait(2, {0, 1, 2});
    ASSERT_TRUE(acquired(o));
    EXPECT_EQ(held_gpu0, std::vector<bool>{false});
    EXPECT_EQ(w.waiters.ever_locked(kUs), (std::vector<std::string>{"GPU-0", "GPU-0", "GPU-1"}));
}

// A process that is not ours starts on a GPU between our look at it and our lock of it: the look
// right after locking sees it, and we give the GPU up instead of counting it as ours.
TEST(WaitLoop, ProcessStartedBeforeOurLockIsSeenAfterLocking) {
    World w;
    w.waiters.on_try_lock = [&](const std::string& uuid) {
        if (w.waiters.ever_locked(kUs).empty()) w.driver.occupy(uuid, kStranger);
    };
    std::vector<bool> held_gpu0;
    w.clock.between_rounds = [&](int sleeps) {
        held_gpu0.push_back(w.ours("GPU-0"));
        if (sleeps == 2) w.driver.vacate("GPU-0");
    };
    WaitOutcome o = w.wait(1, {0});
    ASSERT_TRUE(acquired(o));
    EXPECT_EQ(held_gpu0, (std::vector<bool>{false, false}));
    EXPECT_EQ(w.waiters.ever_locked(kUs), (std::vector<std::string>{"GPU-0", "GPU-0"}));
}

// Waiting for 2 GPUs with 4 free, we lock 2 and no more: the others stay free for other jobs.
TEST(WaitLoop, LocksNoMoreGpusThanItNeeds) {
    World w;
    WaitOutcome o = w.wait(2, {0, 1, 2, 3});
    ASSERT_TRUE(acquired(o));
    EXPECT_EQ(w.waiters.ever_locked(kUs), (std::vector<std::string>{"GPU-0", "GPU-1"}));
    EXPECT_EQ(w.held.size(), 2u);
}

// What we gathered counts: holding 1 of the 2 we need, we lock just 1 more when 3 free up.
TEST(WaitLoop, GatheredGpusCountTowardsTheNeed) {
    World w;
    for (const char* uuid : {"GPU-1", "GPU-2", "GPU-3"}) w.driver.occupy(uuid, kStranger);
    w.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 1) {
            for (const char* uuid : {"GPU-1", "GPU-2", "GPU-3"}) w.driver.vacate(uuid);
        }
    };
    WaitOutcome o = w.wait(2, {0, 1, 2, 3});
    ASSERT_TRUE(acquired(o));
    EXPECT_EQ(w.waiters.ever_locked(kUs), (std::vector<std::string>{"GPU-0", "GPU-1"}));
    EXPECT_EQ(w.held.size(), 2u);
}

// An earlier waiter that is stopped (Ctrl-Z) would keep the GPUs it wants idle for as long as it
// stays stopped: it is passed over, and we take the GPU it wants.
TEST(WaitLoop, StoppedWaiterAheadIsPassedOver) {
    World w;
    w.waiters.add_ahead(kEarlier, 1, {"GPU-0"});
    w.waiters.set_stopped(kEarlier, true);
    WaitOutcome o = w.wait(1, {0}, 10s);
    ASSERT_TRUE(acquired(o));
    EXPECT_TRUE(w.ours("GPU-0"));
}

// A stopped waiter keeps its place: once continued, it comes before us again, and a GPU that
// frees up then is left to it.
TEST(WaitLoop, ContinuedWaiterAheadComesFirstAgain) {
    World w;
    w.driver.occupy("GPU-0", kStranger);
    w.waiters.add_ahead(kEarlier, 1, {"GPU-0"});
    w.waiters.set_stopped(kEarlier, true);
    w.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 2) {
            w.waiters.set_stopped(kEarlier, false);
            w.driver.vacate("GPU-0");
        }
    };
    WaitOutcome o = w.wait(1, {0}, 10s);
    EXPECT_EQ(o.end, WaitOutcome::End::timed_out);
    EXPECT_TRUE(w.waiters.ever_locked(kUs).empty());
}

// We are in the line while we wait, and leave it once we have our GPUs: the next waiter moves up.
TEST(WaitLoop, LeavesTheLineOnceItHasItsGpus) {
    World w;
    w.driver.occupy("GPU-0", kStranger);
    std::vector<bool> in_line;
    w.clock.between_rounds = [&](int sleeps) {
        in_line.push_back(w.waiters.in_line());
        if (sleeps == 2) w.driver.vacate("GPU-0");
    };
    WaitOutcome o = w.wait(1, {0});
    ASSERT_TRUE(acquired(o));
    EXPECT_EQ(in_line, (std::vector<bool>{true, true}));
    EXPECT_FALSE(w.waiters.in_line());
}

// Behind waiters that want every GPU we could use, no look at the GPUs can help: we wait on the
// line and let the driver (NVML) unload meanwhile.
TEST(WaitLoop, WaiterOutOfReachUnloadsTheDriver) {
    World w;
    w.driver.occupy("GPU-0", kStranger);
    w.waiters.add_ahead(kEarlier, 1, {"GPU-0"});
    WaitOutcome o = w.wait(1, {0}, 5s);
    EXPECT_EQ(o.end, WaitOutcome::End::timed_out);
    EXPECT_GT(w.driver.unloads, 0);
}

// First in line, or behind a waiter that leaves us GPUs we could use, we look at the GPUs every
// round and keep the driver loaded.
TEST(WaitLoop, WaiterInReachKeepsTheDriverLoaded) {
    for (bool behind : {false, true}) {
        SCOPED_TRACE(behind ? "behind a waiter for 1 of the 4 GPUs" : "first in line");
        World w;
        for (const GpuIdentity& gpu : fake::four_gpus()) w.driver.occupy(gpu.uuid, kStranger);
        if (behind) w.waiters.add_ahead(kEarlier, 1, {"GPU-0", "GPU-1", "GPU-2", "GPU-3"});
        WaitOutcome o = w.wait(1, {0, 1, 2, 3}, 5s);
        EXPECT_EQ(o.end, WaitOutcome::End::timed_out);
        EXPECT_EQ(w.driver.unloads, 0);
    }
}

}  // namespace
}  // namespace gw
