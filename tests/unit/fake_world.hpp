// The outside world of a wait, in memory: a clock whose sleep only moves its time on, a driver
// over plain GpuStatus values, the other waiters as a line and a table of locks, a holder that
// answers at once (or when told), and for the supervisor a command and the signals sent to us.
// A test scripts what happens between rounds in the clock's `between_rounds`.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/held_gpus.hpp"
#include "app/holder.hpp"
#include "common/clock.hpp"
#include "driver/gpu.hpp"
#include "hold/protocol.hpp"
#include "process/child.hpp"
#include "process/signals.hpp"
#include "queue/waiters.hpp"

namespace gw::fake {

class FakeClock final : public Clock {
public:
    [[nodiscard]] TimePoint now() const override { return now_; }
    std::vector<NativeHandle> sleep(Duration timeout, std::span<const NativeHandle>) override {
        // A wait that never ends fails the test instead of hanging it: one whose time runs on,
        // and one that sleeps for no time, over and over.
        if (now_ - TimePoint{} > std::chrono::hours(24) || sleeps_ >= kMostSleeps) {
            throw std::runtime_error("endless wait");
        }
        now_ += std::max(timeout, Duration{0});
        timeouts.push_back(timeout);
        ++sleeps_;
        if (between_rounds) between_rounds(sleeps_);
        return {};
    }
    [[nodiscard]] Duration elapsed() const { return now_ - TimePoint{}; }
    /// Called after each sleep with the number of sleeps so far: the world changes here.
    std::function<void(int)> between_rounds;
    /// How long each sleep was asked to last, in order.
    std::vector<Duration> timeouts;

private:
    static constexpr int kMostSleeps = 100'000;  // far more than any test's rounds
    TimePoint now_{};
    int sleeps_ = 0;
};

/// GPUs that are free unless a test puts processes on them.
class FakeDriver final : public GpuDriver {
public:
    explicit FakeDriver(std::vector<GpuIdentity> gpus) : gpus_(std::move(gpus)) {}
    [[nodiscard]] GpuInventory inventory() override { return GpuInventory{gpus_, {}}; }
    [[nodiscard]] GpuStatus probe(const GpuIdentity& gpu, GpuQuery query) override;
    [[nodiscard]] std::string version() override { return "fake driver"; }
    void unload() override { ++unloads; }

    /// A process of `pid` using 2 GiB appears on `uuid` (or leaves it).
    void occupy(const std::string& uuid, unsigned pid) { occupants_[uuid].insert(pid); }
    void vacate(const std::string& uuid) {
        occupants_.erase(uuid);
        unlisted_.erase(uuid);
    }
    /// A process the driver does not list (another PID namespace) takes `bytes` on `uuid`.
    void use_unlisted(const std::string& uuid, std::uint64_t bytes) { unlisted_[uuid] += bytes; }
    int unloads = 0;

private:
    std::vector<GpuIdentity> gpus_;
    std::map<std::string, std::set<unsigned>> occupants_;
    std::map<std::string, std::uint64_t> unlisted_;
};

/// The other waiters: a line a test fills with earlier waiters, and the GPUs' locks.
class FakeWaiters final : public Waiters {
public:
    [[nodiscard]] std::optional<std::uint64_t> join(const QueueEntry& entry,
                                                    QueueLock lock) override;
    void leave() override { in_line_ = false; }
    [[nodiscard]] Line line() override;
    [[nodiscard]] std::unique_ptr<HeldLock> try_lock(const std::string& uuid,
                                                     const LockOwner& owner,
                                                     std::string* unusable) override;
    [[nodiscard]] std::optional<LockOwner> holder(const std::string& uuid) override;
    [[nodiscard]] std::string where() const override { return "the fake line"; }
    [[nodiscard]] std::string lock_where(const std::string& uuid) const override {
        return "the fake lock of " + uuid;
    }
    [[nodiscard]] NativeHandle changes() const override { return kNoHandle; }
    void drain_changes() override {}

    /// An earlier waiter of `pid`, wanting `count` of `candidates`, joins the line ahead of us.
    void add_ahead(long pid, unsigned count, std::vector<std::string> candidates);
    /// A waiter of `pid` is earlier in the queue's order than us, but not vouched for as ahead
    /// (it queued without the queue's lock, or after we drew our number).
    void add_unvouched(long pid, unsigned count, std::vector<std::string> candidates);
    /// Waiter `pid` is stopped (Ctrl-Z), or continued: it keeps its place either way.
    void set_stopped(long pid, bool stopped);
    /// Waiter `pid` leaves the line and lets its locks go.
    void remove(long pid);
    /// Another process locks GPU `uuid`.
    void lock_for(const std::string& uuid, long pid);
    [[nodiscard]] std::optional<long> locked_by(const std::string& uuid) const;
    /// Every GPU waiter `pid` ever locked, in order.
    [[nodiscard]] std::vector<std::string> ever_locked(long pid) const;
    [[nodiscard]] bool in_line() const { return in_line_; }
    /// Called with the GPU's UUID as try_lock starts, before it looks at the lock: what another
    /// process does between our look at the GPU and our lock of it (lock it first, start on it).
    std::function<void(const std::string&)> on_try_lock;

private:
    friend class FakeLock;
    std::vector<QueueEntry> ahead_;
    std::vector<QueueEntry> unvouched_;
    std::map<std::string, LockOwner> locks_;  // by UUID
    std::vector<std::pair<std::string, long>> lock_log_;
    bool in_line_ = false;
};

/// A holder that answers each hold request at once (or at `answer()`, after `answer_when_told()`):
/// held, or failed for the GPUs in `refuse`.
class FakeHolder final : public Holder {
public:
    /// `on_end` runs when the holder goes (its process would end there).
    explicit FakeHolder(std::set<std::string> refuse, std::function<void()> on_end = {})
        : refuse_(std::move(refuse)), on_end_(std::move(on_end)) {}
    ~FakeHolder() override {
        if (on_end_) on_end_();
    }
    FakeHolder(const FakeHolder&) = delete;
    FakeHolder& operator=(const FakeHolder&) = delete;
    [[nodiscard]] long pid() const override { return pid_; }
    void send(const hold::Request& request) override;
    [[nodiscard]] NativeHandle reply_fd() const override { return kNoHandle; }
    [[nodiscard]] std::vector<hold::Reply> take_replies() override;
    [[nodiscard]] bool gone() const override { return gone_; }
    void answer_when_told() { deferred_ = true; }
    /// The holder's process ends on its own (it crashed).
    void die() { gone_ = true; }
    void set_pid(long pid) { pid_ = pid; }
    /// Every request it was sent, in order.
    std::vector<hold::Request> received;
    /// Sends the answers kept back so far.
    void answer();

private:
    std::set<std::string> refuse_;  // by the key the protocol names GPUs with
    std::function<void()> on_end_;
    bool deferred_ = false;
    bool gone_ = false;
    long pid_ = 4'000'777;
    std::vector<hold::Reply> kept_back_;
    std::vector<hold::Reply> replies_;
};

/// The command: its processes, the signals it got from us, and its end, as a test decides.
class FakeCommand final : public RunningCommand {
public:
    explicit FakeCommand(long pid) : pid_(pid) {}
    [[nodiscard]] long pid() const override { return pid_; }
    [[nodiscard]] std::optional<int> poll() override { return status_; }
    void signal(int signo) const override { received_.push_back(signo); }
    [[nodiscard]] std::set<long> tree() const override;

    /// The command starts process `pid` (a child, or a child's child: the tree is one set).
    void start(long pid) { descendants_.insert(pid); }
    /// The command ends with `status` (128+N for death by signal N, as Child reports it).
    void end(int status) { status_ = status; }
    /// Every signal sent to the command, in order.
    [[nodiscard]] const std::vector<int>& received() const { return received_; }

private:
    long pid_;
    std::set<long> descendants_;
    std::optional<int> status_;
    mutable std::vector<int> received_;
};

/// Signals sent to gpu-waiter, as a test sends them.
class FakeSignals final : public SignalInbox {
public:
    [[nodiscard]] std::vector<ReceivedSignal> take() override { return std::exchange(sent_, {}); }
    [[nodiscard]] bool take_child_event() override { return false; }
    /// `number` arrives: sent by a process, or by the terminal to the whole foreground group.
    void send(int number, bool from_terminal = false) { sent_.push_back({number, from_terminal}); }

private:
    std::vector<ReceivedSignal> sent_;
};

/// Four GPUs, "GPU-0" … "GPU-3", free.
[[nodiscard]] std::vector<GpuIdentity> four_gpus();

/// A reporter that writes where nobody reads.
class QuietReporter {
public:
    QuietReporter();
    ~QuietReporter();
    QuietReporter(const QuietReporter&) = delete;
    QuietReporter& operator=(const QuietReporter&) = delete;
    Reporter& get() { return *reporter_; }
    /// Everything reported so far.
    [[nodiscard]] std::string said() const;

private:
    std::FILE* file_;
    std::unique_ptr<Reporter> reporter_;
};

}  // namespace gw::fake
