// The supervisor, in-process over the fake world: when a hold gives way to the command, what is
// reported, which signals reach the command, and what status comes back. No time passes and no
// process starts; the fake clock's sleeps only move its time on, and each test scripts what the
// command and the GPUs do between rounds.
#include "app/supervisor.hpp"

#include <algorithm>
#include <csignal>

#include <gtest/gtest.h>

#include "app/held_gpus.hpp"
#include "fake_world.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;
using Holding = std::vector<std::string>;

constexpr long kUs = 4'000'100;            // our gpu-waiter
constexpr long kCommand = 4'000'500;       // the command it started
constexpr long kGrandchild = 4'000'501;    // a process the command's child started
constexpr unsigned kStranger = 4'000'300;  // a process on a GPU that the command did not start
constexpr unsigned kHolder = 4'000'777;    // fake::FakeHolder's pid
constexpr std::uint64_t kMiB = 1ull << 20;

struct Session {
    explicit Session(std::set<std::string> refuse_holds = {}, bool answer_late = false)
        : held(
              [this, refuse = std::move(refuse_holds),
               answer_late](const std::string&) -> std::unique_ptr<Holder> {
                  auto h = std::make_unique<fake::FakeHolder>(refuse, [this] { holder = nullptr; });
                  if (answer_late) h->answer_when_told();
                  holder = h.get();
                  return h;
              },
              reporter.get(), HoldSettings{true, 0.25}) {
        owner.pid = kUs;
        owner.user = "me";
        owner.command_pid = kCommand;
    }

    /// Locks and holds GPUs `indexes`, as the wait leaves them; the holder's process shows on
    /// each GPU it holds (`holder_shows`), as it does once its allocation is made.
    void take(const std::vector<unsigned>& indexes, bool holder_shows = true) {
        for (unsigned i : indexes) {
            GpuIdentity gpu = fake::four_gpus()[i];
            held.add(gpu, waiters.try_lock(gpu.uuid, owner, nullptr));
            if (holder_shows) driver.occupy(gpu.uuid, kHolder);
        }
    }
    int supervise(std::optional<Duration> hold_max = std::nullopt) {
        SupervisorSettings settings{500ms, hold_max, owner};
        return Supervisor(driver, clock, signals, reporter.get(), held, settings).run(command);
    }
    [[nodiscard]] bool ours(const std::string& uuid) const {
        return waiters.locked_by(uuid) == kUs;
    }
    [[nodiscard]] std::optional<LockState> lock_state(const std::string& uuid) {
        auto who = waiters.holder(uuid);
        return who ? std::optional(who->state) : std::nullopt;
    }
    [[nodiscard]] bool warned() const {
        return reporter.said().find("warning:") != std::string::npos;
    }

    fake::FakeClock clock;
    fake::FakeDriver driver{fake::four_gpus()};
    fake::FakeWaiters waiters;
    fake::FakeSignals signals;
    fake::FakeCommand command{kCommand};
    fake::QuietReporter reporter;
    fake::FakeHolder* holder = nullptr;  // while one runs
    LockOwner owner;
    HeldGpus held;  // last: it lets go of its locks before the fakes go
};

bool says(const Session& r, const std::string& text) {
    return r.reporter.said().find(text) != std::string::npos;
}

// The command's own process (here a grandchild: the whole tree counts) appears on GPU 0: its
// hold goes, without a word of warning; the lock stays, marked handed over; GPU 1 stays held.
TEST(Supervisor, TheCommandArrivingOnAGpuEndsItsHold) {
    Session r;
    r.take({0, 1});
    Holding holding;
    r.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 2) {
            r.command.start(kGrandchild);
            r.driver.occupy("GPU-0", kGrandchild);
        }
        if (sleeps == 4) {
            holding = r.held.holding();
            r.command.end(0);
        }
    };
    EXPECT_EQ(r.supervise(), 0);
    EXPECT_EQ(holding, Holding{"GPU-1"});
    EXPECT_TRUE(r.ours("GPU-0"));
    EXPECT_EQ(r.lock_state("GPU-0"), LockState::handed_over);
    EXPECT_EQ(r.lock_state("GPU-1"), LockState::held);
    EXPECT_TRUE(says(r, "the command's pid 4000501 is on it"));
    EXPECT_FALSE(r.warned());
}

// The holder's own process is on every GPU it holds: it is neither the command nor a stranger.
TEST(Supervisor, TheHoldersOwnProcessIsNoArrival) {
    Session r;
    r.take({0});
    Holding holding;
    r.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 10) {
            holding = r.held.holding();
            r.command.end(0);
        }
    };
    EXPECT_EQ(r.supervise(), 0);
    EXPECT_EQ(holding, Holding{"GPU-0"});
    EXPECT_FALSE(r.warned());
}

// A process the command did not start comes onto a held GPU: say so, and let the hold go (the
// memory is better used than fought over); the lock stays ours.
TEST(Supervisor, AForeignProcessIsReportedAndTheHoldGoes) {
    Session r;
    r.take({0});
    Holding holding{"not looked"};
    r.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 2) r.driver.occupy("GPU-0", kStranger);
        if (sleeps == 4) {
            holding = r.held.holding();
            r.command.end(0);
        }
    };
    EXPECT_EQ(r.supervise(), 0);
    EXPECT_EQ(holding, Holding{});
    EXPECT_TRUE(r.ours("GPU-0"));
    EXPECT_TRUE(says(r, "warning: GPU 0: pid 4000300 is using it too, not started by the command"));
}

// No new process shows, but memory grows by more than a context (the command in another PID
// namespace): the hold goes. Growth below a context's size does not count, however long it lasts.
TEST(Supervisor, MemoryGrowthBeyondAContextEndsTheHold) {
    Session r;
    r.take({0});
    Holding after_small, after_large{"not looked"};
    r.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 2) r.driver.use_unlisted("GPU-0", 100 * kMiB);
        if (sleeps == 4) r.driver.use_unlisted("GPU-0", 100 * kMiB);
        if (sleeps == 6) {
            after_small = r.held.holding();
            r.driver.use_unlisted("GPU-0", 1024 * kMiB);
        }
        if (sleeps == 8) {
            after_large = r.held.holding();
            r.command.end(0);
        }
    };
    EXPECT_EQ(r.supervise(), 0);
    EXPECT_EQ(after_small, Holding{"GPU-0"});
    EXPECT_EQ(after_large, Holding{});
    EXPECT_FALSE(r.warned());
}

// The memory a GPU uses with the hold is measured once the holder says the hold is in place:
// measured before, the holder's own allocation would look like the command arriving.
TEST(Supervisor, TheBaselineWaitsForTheHolder) {
    Session r({}, true);
    r.take({0}, false);
    Holding holding;
    r.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 3) {
            r.holder->answer();
            r.driver.occupy("GPU-0", kHolder);
        }
        if (sleeps == 8) {
            holding = r.held.holding();
            r.command.end(0);
        }
    };
    EXPECT_EQ(r.supervise(), 0);
    EXPECT_EQ(holding, Holding{"GPU-0"});
}

// A hold the holder could not make is reported; the GPU stays locked for the command.
TEST(Supervisor, AFailedHoldIsReported) {
    Session r({fake::four_gpus()[1].uuid});
    r.take({0, 1});
    Holding holding;
    r.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 2) {
            holding = r.held.holding();
            r.command.end(0);
        }
    };
    EXPECT_EQ(r.supervise(), 0);
    EXPECT_EQ(holding, Holding{"GPU-0"});
    EXPECT_TRUE(r.ours("GPU-1"));
    EXPECT_TRUE(says(r, "warning: could not hold GPU-1: out of memory"));
}

// --hold-max: once it has passed, every hold goes (the command had its chance); the locks stay.
TEST(Supervisor, HoldMaxEndsEveryHold) {
    Session r;
    r.take({0, 1});
    Duration last_held{0};  // the last time a hold was seen
    r.clock.between_rounds = [&](int) {
        if (!r.held.holding().empty()) last_held = r.clock.elapsed();
        if (r.clock.elapsed() >= 45s) r.command.end(0);
    };
    EXPECT_EQ(r.supervise(30s), 0);
    EXPECT_GE(last_held, 30s);
    EXPECT_LT(last_held, 31s);
    EXPECT_EQ(r.held.holding(), Holding{});
    EXPECT_TRUE(r.ours("GPU-0"));
    EXPECT_TRUE(r.ours("GPU-1"));
}

// The command's status comes back as it is, a death by signal (128+N) included.
TEST(Supervisor, TheCommandsStatusComesBack) {
    for (int status : {0, 3, 128 + 9}) {
        Session r;
        r.take({0});
        r.clock.between_rounds = [&](int sleeps) {
            if (sleeps == 2) r.command.end(status);
        };
        EXPECT_EQ(r.supervise(), status);
    }
}

// A signal another process sent us reaches the command once, in the order they came.
TEST(Supervisor, SignalsFromProcessesArePassedOnOnce) {
    Session r;
    r.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 1) r.signals.send(SIGTERM);
        if (sleeps == 3) r.signals.send(SIGINT);
        if (sleeps == 5) r.command.end(128 + SIGTERM);
    };
    EXPECT_EQ(r.supervise(), 128 + SIGTERM);
    EXPECT_EQ(r.command.received(), (std::vector<int>{SIGTERM, SIGINT}));
}

// The terminal's Ctrl-C reached the command already (same process group): not sent again.
TEST(Supervisor, TerminalSignalsAreNotSentAgain) {
    Session r;
    r.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 1) r.signals.send(SIGINT, true);
        if (sleeps == 3) r.command.end(128 + SIGINT);
    };
    EXPECT_EQ(r.supervise(), 128 + SIGINT);
    EXPECT_EQ(r.command.received(), std::vector<int>{});
}

// Right after launch the command may want its GPU any moment: look every 20 ms for a minute,
// then every --poll.
TEST(Supervisor, LooksOftenAtFirstThenEveryPoll) {
    Session r;
    r.take({0});
    r.clock.between_rounds = [&](int) {
        if (r.clock.elapsed() >= 70s) r.command.end(0);
    };
    EXPECT_EQ(r.supervise(), 0);
    ASSERT_FALSE(r.clock.timeouts.empty());
    auto eager = std::count(r.clock.timeouts.begin(), r.clock.timeouts.end(), Duration{20ms});
    EXPECT_EQ(eager, 3000);  // 60 s of 20 ms
    EXPECT_EQ(r.clock.timeouts.back(), Duration{500ms});
}

// With nothing held there is nothing to look at: sleep until a signal or the command's end.
TEST(Supervisor, WithoutHoldsItDoesNotPoll) {
    Session r;
    r.clock.between_rounds = [&](int sleeps) {
        if (sleeps == 2) r.command.end(0);
    };
    EXPECT_EQ(r.supervise(), 0);
    EXPECT_EQ(r.clock.timeouts, (std::vector<Duration>{60s, 60s}));
}

}  // namespace
}  // namespace gw
