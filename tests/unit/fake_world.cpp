#include "fake_world.hpp"

#include <algorithm>
#include <sstream>

#include "ui/reporter.hpp"

namespace gw::fake {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;
constexpr std::uint64_t kProcessUse = 2 * kGiB;

}  // namespace

GpuStatus FakeDriver::probe(const GpuIdentity& gpu, GpuQuery query) {
    GpuStatus s;
    const std::set<unsigned>& pids = occupants_[gpu.uuid];
    if (has(query, GpuQuery::memory)) {
        std::uint64_t used = kProcessUse * pids.size() + unlisted_[gpu.uuid];
        s.memory = GpuMemory{16 * kGiB, used, 16 * kGiB - used, true};
    }
    if (has(query, GpuQuery::utilization)) s.utilization = pids.empty() ? 0 : 90;
    if (has(query, GpuQuery::processes)) {
        s.processes.emplace();
        for (unsigned pid : pids) s.processes->push_back(GpuProcess{pid, kProcessUse});
    }
    return s;
}

std::optional<std::uint64_t> FakeWaiters::join(const QueueEntry&, QueueLock) {
    in_line_ = true;
    return 1000;
}

Line FakeWaiters::line() {
    return Line{ahead_, unvouched_, ahead_.size() + unvouched_.size() + (in_line_ ? 1 : 0)};
}

/// A lock in the fake table, let go when destroyed.
class FakeLock final : public HeldLock {
public:
    FakeLock(FakeWaiters& waiters, std::string uuid) : waiters_(waiters), uuid_(std::move(uuid)) {}
    ~FakeLock() override { waiters_.locks_.erase(uuid_); }
    FakeLock(const FakeLock&) = delete;
    FakeLock& operator=(const FakeLock&) = delete;
    void record(const LockOwner& owner) override { waiters_.locks_[uuid_] = owner; }
    [[nodiscard]] NativeHandle handle() const override { return kNoHandle; }

private:
    FakeWaiters& waiters_;
    std::string uuid_;
};

std::unique_ptr<HeldLock> FakeWaiters::try_lock(const std::string& uuid, const LockOwner& owner,
                                                std::string*) {
    if (on_try_lock) on_try_lock(uuid);
    if (locks_.contains(uuid)) return nullptr;
    locks_[uuid] = owner;
    lock_log_.emplace_back(uuid, owner.pid);
    return std::make_unique<FakeLock>(*this, uuid);
}

std::optional<LockOwner> FakeWaiters::holder(const std::string& uuid) {
    auto it = locks_.find(uuid);
    if (it == locks_.end()) return std::nullopt;
    return it->second;
}

void FakeWaiters::add_ahead(long pid, unsigned count, std::vector<std::string> candidates) {
    QueueEntry e;
    e.number = ahead_.size() + 1;
    e.pid = pid;
    e.user = "other";
    e.count = count;
    e.candidates = std::move(candidates);
    ahead_.push_back(std::move(e));
}

void FakeWaiters::add_unvouched(long pid, unsigned count, std::vector<std::string> candidates) {
    QueueEntry e;
    e.number = 100 + unvouched_.size();  // between those ahead and our 1000
    e.pid = pid;
    e.user = "other";
    e.count = count;
    e.candidates = std::move(candidates);
    unvouched_.push_back(std::move(e));
}

void FakeWaiters::set_stopped(long pid, bool stopped) {
    for (auto* line : {&ahead_, &unvouched_}) {
        for (QueueEntry& e : *line) {
            if (e.pid == pid) e.stopped = stopped;
        }
    }
}

void FakeWaiters::remove(long pid) {
    std::erase_if(ahead_, [&](const QueueEntry& e) { return e.pid == pid; });
    std::erase_if(unvouched_, [&](const QueueEntry& e) { return e.pid == pid; });
    std::erase_if(locks_, [&](const auto& lock) { return lock.second.pid == pid; });
}

void FakeWaiters::lock_for(const std::string& uuid, long pid) {
    LockOwner owner;
    owner.pid = pid;
    owner.user = "other";
    locks_[uuid] = owner;
    lock_log_.emplace_back(uuid, pid);
}

std::optional<long> FakeWaiters::locked_by(const std::string& uuid) const {
    auto it = locks_.find(uuid);
    if (it == locks_.end()) return std::nullopt;
    return it->second.pid;
}

std::vector<std::string> FakeWaiters::ever_locked(long pid) const {
    std::vector<std::string> out;
    for (const auto& [uuid, who] : lock_log_) {
        if (who == pid) out.push_back(uuid);
    }
    return out;
}

void FakeHolder::send(const hold::Request& request) {
    received.push_back(request);
    if (request.kind != hold::Request::Kind::hold) return;
    // Answer in the protocol's own words, keyed as the request was.
    std::istringstream words(hold::encode(request));
    std::string verb, key;
    words >> verb >> key;
    std::string line =
        refuse_.contains(key) ? "failed " + key + " out of memory" : "held " + key + " 1024 0";
    if (auto reply = hold::decode_reply(line))
        (deferred_ ? kept_back_ : replies_).push_back(*reply);
}

void FakeHolder::answer() {
    replies_.insert(replies_.end(), kept_back_.begin(), kept_back_.end());
    kept_back_.clear();
}

std::set<long> FakeCommand::tree() const {
    std::set<long> tree = descendants_;
    tree.insert(pid_);
    return tree;
}

std::vector<hold::Reply> FakeHolder::take_replies() {
    return std::exchange(replies_, {});
}

std::vector<GpuIdentity> four_gpus() {
    std::vector<GpuIdentity> gpus;
    for (unsigned i = 0; i < 4; ++i) {
        gpus.push_back(GpuIdentity{i, "GPU-" + std::to_string(i), "Fake GPU",
                                   "00000000:0" + std::to_string(i) + ":00.0"});
    }
    return gpus;
}

QuietReporter::QuietReporter()
    : file_(std::tmpfile()),
      reporter_(std::make_unique<Reporter>(Verbosity::verbose, file_ ? file_ : stderr, false)) {}

std::string QuietReporter::said() const {
    if (file_ == nullptr) return {};
    std::fflush(file_);
    std::rewind(file_);
    std::string text;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, file_)) text.append(buf, n);
    std::fseek(file_, 0, SEEK_END);
    return text;
}

QuietReporter::~QuietReporter() {
    reporter_.reset();
    if (file_ != nullptr) std::fclose(file_);
}

}  // namespace gw::fake
