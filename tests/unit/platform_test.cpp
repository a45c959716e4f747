// The platform files behind lock/, queue/ and process/, on real files in a per-test directory
// and real child processes: the same expectations on POSIX and on Windows (under wine in CI).
// The test binary doubles as the child: started with GPU_WAITER_TEST_CHILD set, it does what
// that says and exits before any test runs.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "common/error.hpp"
#include "hold/holder_client.hpp"
#include "hold/holder_server.hpp"
#include "lock/directory_watch.hpp"
#include "lock/gpu_lock.hpp"
#include "process/child.hpp"
#include "process/process_table.hpp"
#include "process/signals.hpp"
#include "queue/queue.hpp"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool env_is(const char* name, const char* value) {
    const char* actual = std::getenv(name);
    return actual != nullptr && std::string(actual) == value;
}

// Runs before main() in the child; does nothing in the test process itself.
[[maybe_unused]] const bool kChildRole = [] {
    const char* role = std::getenv("GPU_WAITER_TEST_CHILD");
    if (role == nullptr) return false;
    const std::string r = role;
    if (r == "exit-3") std::exit(3);
    if (r == "check-env") {
        bool ok = env_is("GPU_WAITER_TEST_SET", "set by the request") &&
                  std::getenv("GPU_WAITER_TEST_UNSET") == nullptr;
        std::exit(ok ? 0 : 1);
    }
    if (r == "sleep") std::this_thread::sleep_for(60s);
    if (r == "holder") std::exit(gw::run_holder());
    std::exit(99);
}();

/// Sets an environment variable of the test process (and of the children it starts) for one
/// scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) { set(value); }
    ~ScopedEnv() { set(nullptr); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    void set(const char* value) {
#ifdef _WIN32
        _putenv_s(name_, value == nullptr ? "" : value);  // "" removes it
#else
        if (value == nullptr)
            unsetenv(name_);
        else
            setenv(name_, value, 1);
#endif
    }
    const char* name_;
};

/// A fresh directory for one test, removed afterwards.
class PlatformTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("gpu-waiter-test-" + std::to_string(gw::current_pid()) + "-" + info->name());
        fs::remove_all(dir_);
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    [[nodiscard]] std::string dir() const { return dir_.string(); }

    static gw::LockOwner owner() {
        return gw::LockOwner{gw::current_pid(),
                             gw::current_user(),
                             "unit test",
                             1700000000,
                             gw::LockState::held,
                             0,
                             "",
                             {"unit", "test"}};
    }
    static gw::QueueEntry entry() {
        gw::QueueEntry e;
        e.pid = gw::current_pid();
        e.user = gw::current_user();
        e.command = "unit test";
        e.candidates = {"GPU-a"};
        return e;
    }

private:
    fs::path dir_;
};

TEST_F(PlatformTest, LockIsExclusiveAndItsRecordReadable) {
    gw::LockDirectory locks(dir());
    auto first = gw::GpuLock::try_acquire(locks, "GPU-1234", owner());
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(gw::GpuLock::try_acquire(locks, "GPU-1234", owner()), nullptr);
    auto holder = gw::GpuLock::holder(locks, "GPU-1234");
    ASSERT_TRUE(holder.has_value());
    EXPECT_EQ(holder->pid, gw::current_pid());
    EXPECT_EQ(holder->command, "unit test");
    EXPECT_NE(gw::GpuLock::try_acquire(locks, "GPU-other", owner()), nullptr);
}

TEST_F(PlatformTest, ReleasedLockIsFreeAndShowsNoHolder) {
    gw::LockDirectory locks(dir());
    auto lock = gw::GpuLock::try_acquire(locks, "GPU-1234", owner());
    ASSERT_NE(lock, nullptr);
    lock.reset();
    EXPECT_FALSE(gw::GpuLock::holder(locks, "GPU-1234").has_value());
    EXPECT_NE(gw::GpuLock::try_acquire(locks, "GPU-1234", owner()), nullptr);
}

TEST_F(PlatformTest, LockDirectoryThatIsAFileIsRefused) {
    { std::ofstream(dir()) << "not a directory"; }
    EXPECT_THROW(gw::LockDirectory{dir()}, gw::Error);
    fs::remove(dir());
}

TEST_F(PlatformTest, QueueInArrivalOrderWithoutTheLeavers) {
    gw::LockDirectory locks(dir());
    std::string queue = gw::queue_path(locks);
    gw::QueueEntry one = entry();
    gw::QueueEntry two = entry();
    two.pid = one.pid + 1;
    auto first = gw::QueueTicket::try_take(queue, one, gw::QueueLock::take);
    auto second = gw::QueueTicket::try_take(queue, two, gw::QueueLock::take);
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    EXPECT_LT(first->entry().number, second->entry().number);
    EXPECT_TRUE(second->is_ahead(first->entry()));
    EXPECT_FALSE(first->is_ahead(second->entry()));
    // Both tickets are held by this one process, and a process has one place in the queue: a
    // second ticket can only be forged, so the latest counts and the other is shown as foreign.
    // (POSIX: the holder is read from the kernel's lock table; Windows takes the ticket's pid.)
    gw::QueueView view = gw::read_queue(queue);
#ifndef _WIN32
    ASSERT_EQ(view.waiters.size(), 1u);
    EXPECT_EQ(view.waiters[0].number, second->entry().number);
    EXPECT_EQ(view.waiters[0].candidates, (std::vector<std::string>{"GPU-a"}));
    ASSERT_EQ(view.foreign.size(), 1u);
#else
    ASSERT_EQ(view.waiters.size(), 2u);
    EXPECT_EQ(view.waiters[1].number, second->entry().number);
#endif
    second.reset();
    auto waiting = gw::read_queue(queue).waiters;
    ASSERT_EQ(waiting.size(), 1u);
    EXPECT_EQ(waiting[0].number, first->entry().number);
    EXPECT_EQ(waiting[0].user, gw::current_user());  // from the file's owner
}

#ifndef _WIN32
// The shared directory's defences against what other users may put there (POSIX: the Windows
// queue keeps its counter file, and has no FIFOs or flock holders to show).

/// Plants a file under `name` in `queue` and keeps it locked, as another user's live process
/// would (a file nobody locks is a dead waiter's, removed by the next reader). The descriptor.
int plant_locked(const std::string& queue, const std::string& name, const std::string& text) {
    fs::path path = fs::path(queue) / name;
    { std::ofstream(path) << text; }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && ::flock(fd, LOCK_EX) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

TEST_F(PlatformTest, NumberIsAboveEveryWaitersTicketWhateverElseIsThere) {
    gw::LockDirectory locks(dir());
    std::string queue = gw::queue_path(locks);
    gw::QueueEntry waiter = entry();
    waiter.pid += 1;
    auto first = gw::QueueTicket::try_take(queue, waiter, gw::QueueLock::take);
    ASSERT_NE(first, nullptr);
    ASSERT_EQ(first->entry().number, 1u);
    // A counter file, and a name with the highest number that is no waiter's ticket: if either
    // counted, every later waiter would draw one number and the queue would lose its order.
    { std::ofstream(fs::path(queue) / "queue.sequence") << "0\n"; }
    int planted = plant_locked(queue, gw::ticket_name(gw::kMaxTicketNumber, 1), "x");
    ASSERT_GE(planted, 0);
    auto second = gw::QueueTicket::try_take(queue, entry(), gw::QueueLock::take);
    ::close(planted);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->entry().number, 2u);
    EXPECT_TRUE(second->is_ahead(first->entry()));
    EXPECT_FALSE(first->is_ahead(second->entry()));
}

TEST_F(PlatformTest, TiedNumbersKeepArrivalOrder) {
    gw::LockDirectory locks(dir());
    std::string queue = gw::queue_path(locks);
    // A living waiter's ticket renamed to the highest number (its owner may): the numbers have
    // run out, and whoever comes later draws the same one.
    gw::QueueEntry renamed = entry();
    renamed.pid += 1;
    renamed.number = gw::kMaxTicketNumber;
    int held = plant_locked(queue, gw::ticket_name(renamed.number, renamed.pid),
                            gw::encode_entry(renamed));
    ASSERT_GE(held, 0);
    gw::QueueEntry one = entry();
    one.pid += 2;
    auto first = gw::QueueTicket::try_take(queue, one, gw::QueueLock::take);
    auto second = gw::QueueTicket::try_take(queue, entry(), gw::QueueLock::take);
    ::close(held);
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    ASSERT_EQ(first->entry().number, gw::kMaxTicketNumber);
    ASSERT_EQ(second->entry().number, gw::kMaxTicketNumber);
    // The one drawn later has the lower pid: the order still follows arrival, not pids.
    ASSERT_LT(second->entry().pid, first->entry().pid);
    EXPECT_TRUE(second->is_ahead(first->entry()));
    EXPECT_FALSE(first->is_ahead(second->entry()));
    EXPECT_TRUE(first->is_ahead(renamed));
    EXPECT_FALSE(second->is_ahead(second->entry()));
}

TEST_F(PlatformTest, ForeignTicketsAreSkippedNotTrusted) {
    gw::LockDirectory locks(dir());
    std::string queue = gw::queue_path(locks);
    auto ours = gw::QueueTicket::try_take(queue, entry(), gw::QueueLock::take);
    ASSERT_NE(ours, nullptr);
    // A ticket whose content names another number than its file name.
    gw::QueueEntry lie = entry();
    lie.number = 1;
    fs::path liar = fs::path(queue) / "0000000000000007-12345.ticket";
    { std::ofstream(liar) << gw::encode_entry(lie); }
    int held = ::open(liar.c_str(), O_RDONLY);
    ASSERT_GE(held, 0);
    ASSERT_EQ(::flock(held, LOCK_EX), 0);  // so that it does not look like a dead waiter's
    // A directory under a ticket's name.
    fs::create_directory(fs::path(queue) / "0000000000000002-12346.ticket");
    gw::QueueView view = gw::read_queue(queue);
    ::close(held);
    ASSERT_EQ(view.waiters.size(), 1u);
    EXPECT_EQ(view.waiters[0].number, ours->entry().number);
    EXPECT_EQ(view.foreign.size(), 2u);
}

TEST_F(PlatformTest, UnusableLockFileIsReportedNotFollowedOrHung) {
    gw::LockDirectory locks(dir());
    ASSERT_EQ(::mkfifo(locks.entry(gw::lock_file_name("GPU-fifo")).c_str(), 0666), 0);
    { std::ofstream(fs::path(dir()) / "victim") << "keep"; }
    fs::create_hard_link(fs::path(dir()) / "victim", locks.entry(gw::lock_file_name("GPU-link")));
    fs::create_directory(locks.entry(gw::lock_file_name("GPU-dir")));
    for (const char* uuid : {"GPU-fifo", "GPU-link", "GPU-dir"}) {
        std::string why;
        EXPECT_EQ(gw::GpuLock::try_acquire(locks, uuid, owner(), &why), nullptr) << uuid;
        EXPECT_FALSE(why.empty()) << uuid;
        EXPECT_FALSE(gw::GpuLock::holder(locks, uuid).has_value()) << uuid;
    }
    std::ifstream victim(fs::path(dir()) / "victim");
    std::string content;
    victim >> content;
    EXPECT_EQ(content, "keep");  // never written through the link
}
#endif

TEST_F(PlatformTest, DeadWaitersTicketIsRemoved) {
    gw::LockDirectory locks(dir());
    std::string queue = gw::queue_path(locks);
    fs::path dead = fs::path(queue) / "0000000000000001-999999.ticket";
    { std::ofstream(dead) << gw::encode_entry(entry()); }
    EXPECT_TRUE(gw::read_queue(queue).waiters.empty());
    EXPECT_FALSE(fs::exists(dead));
}

TEST_F(PlatformTest, ReleaseWakesTheDirectoryWatch) {
    gw::LockDirectory locks(dir());
    auto lock = gw::GpuLock::try_acquire(locks, "GPU-1234", owner());
    gw::SignalCatcher signals;
    gw::DirectoryWatch watch({locks.path()});
    if (watch.fd() == gw::kNoHandle) GTEST_SKIP() << "no directory notification here";
    watch.drain();
    lock.reset();
    const std::vector<gw::NativeHandle> fds{watch.fd()};
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(signals.sleep(10s, fds), fds);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

gw::LaunchRequest child_request(const std::string& role) {
    gw::LaunchRequest request;
    request.argv = {gw::self_executable()};
    request.set_env = {{"GPU_WAITER_TEST_CHILD", role}};
    return request;
}

TEST(ChildProcess, ItsEndWakesTheSleepAndItsStatusComesBack) {
    gw::SignalCatcher signals;
    gw::Child child(child_request("exit-3"), signals);
    auto started = std::chrono::steady_clock::now();
    (void)signals.sleep(30s);  // SIGCHLD, or the process handle on Windows, ends it early
    EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
    EXPECT_TRUE(signals.take_child_event());
    EXPECT_EQ(child.poll(), 3);
}

TEST(ChildProcess, EnvironmentSetAndUnset) {
    ScopedEnv inherited("GPU_WAITER_TEST_UNSET", "inherited");
    gw::SignalCatcher signals;
    gw::LaunchRequest request = child_request("check-env");
    request.set_env.emplace_back("GPU_WAITER_TEST_SET", "set by the request");
    request.unset_env = {"GPU_WAITER_TEST_UNSET"};
    gw::Child child(request, signals);
    std::optional<int> status;
    while (!(status = child.poll())) (void)signals.sleep(1s);
    EXPECT_EQ(status, 0);
}

TEST(ChildProcess, KilledChildIsReaped) {
    gw::SignalCatcher signals;
    gw::Child child(child_request("sleep"), signals);
    EXPECT_FALSE(child.poll().has_value());
    EXPECT_TRUE(gw::process_alive(child.pid()));
    child.kill_and_wait();
    EXPECT_EQ(child.poll(), 128 + 9);
}

TEST(ChildProcess, UnknownCommandIs127) {
    gw::SignalCatcher signals;
    gw::LaunchRequest request;
    request.argv = {"gpu-waiter-test-no-such-command"};
    try {
        gw::Child child(request, signals);
        FAIL() << "started a command that does not exist";
    } catch (const gw::Error& e) {
        EXPECT_EQ(e.code(), gw::ExitCode::not_found);
    }
}

TEST(ProcessTable, OurselvesAndOurParent) {
    auto self = gw::describe_process(gw::current_pid());
    ASSERT_TRUE(self.has_value());
    EXPECT_FALSE(self->command.empty());
    EXPECT_TRUE(gw::process_alive(gw::current_pid()));
    auto all = gw::list_processes();
    auto tree = gw::process_tree(self->parent, all);
    EXPECT_TRUE(tree.contains(gw::current_pid()));
}

TEST(HolderProcess, RequestsAndRepliesGoThroughItsPipes) {
    // The holder is this binary again; without a CUDA library it answers every hold "failed".
    ScopedEnv role("GPU_WAITER_TEST_CHILD", "holder");
    ScopedEnv cuda("GPU_WAITER_CUDA_LIBRARY", "no-such-dir/no-such-cuda-library");
    gw::SignalCatcher signals;
    gw::HolderProcess holder(signals, "");
    const std::string uuid = "GPU-5a0f1e2d-0000-4c3b-9a87-0123456789ab";
    holder.send(gw::hold::Request{gw::hold::Request::Kind::hold, uuid, 0.25});
    holder.send(gw::hold::Request{gw::hold::Request::Kind::release, uuid, 0});
    std::vector<gw::hold::Reply> replies;
    auto started = std::chrono::steady_clock::now();
    auto waited = [&] { return std::chrono::steady_clock::now() - started; };
    while (replies.size() < 2 && !holder.gone() && waited() < 30s) {
        const std::vector<gw::NativeHandle> fds{holder.reply_fd()};
        (void)signals.sleep(5s, fds);
        for (auto& r : holder.take_replies()) replies.push_back(std::move(r));
    }
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0].kind, gw::hold::Reply::Kind::failed);
    EXPECT_EQ(replies[0].uuid, uuid);
    EXPECT_NE(replies[0].text.find("no-such-cuda-library"), std::string::npos) << replies[0].text;
    EXPECT_EQ(replies[1].kind, gw::hold::Reply::Kind::released);
    EXPECT_FALSE(holder.gone());
}

}  // namespace
