#include "app/wait_loop.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "app/status_queue.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

std::vector<std::string> uuids_of(const std::vector<GpuIdentity>& gpus) {
    std::vector<std::string> out;
    for (const GpuIdentity& g : gpus) out.push_back(g.uuid);
    return out;
}

QueueEntry entry_for(const WaitRequest& r) {
    return QueueEntry{0,
                      r.owner.pid,
                      r.owner.user,
                      r.owner.command,
                      r.count,
                      uuids_of(r.candidates),
                      r.owner.since,
                      false,
                      r.owner.name,
                      r.owner.argv};
}

}  // namespace

WaitLoop::WaitLoop(GpuDriver& driver, Waiters& waiters, Clock& clock, SignalCatcher& signals,
                   Reporter& reporter, HeldGpus& held, WaitRequest request)
    : driver_(driver),
      waiters_(waiters),
      clock_(clock),
      signals_(signals),
      reporter_(reporter),
      held_(held),
      request_(std::move(request)),
      looks_(driver, request_.rule),
      wakeups_(clock, waiters, WakeTimes{.poll = request_.poll}) {}

std::set<unsigned> WaitLoop::own_pids() const {
    std::set<unsigned> pids;
    for (long pid : held_.holder_pids()) pids.insert(static_cast<unsigned>(pid));
    return pids;
}

const GpuIdentity& WaitLoop::candidate(const std::string& uuid) const {
    return *std::find_if(request_.candidates.begin(), request_.candidates.end(),
                         [&](const GpuIdentity& g) { return g.uuid == uuid; });
}

Look WaitLoop::look(const GpuIdentity& gpu) {
    return looks_.look(gpu, held_.contains(gpu.uuid), own_pids());
}

bool WaitLoop::has_event(const Look& l) {
    auto pids = occupiers(l.status, request_.rule, own_pids());
    return pids && wakeups_.watch(*pids);
}

std::vector<std::string> WaitLoop::ready_gpus(TimePoint now, WaitView& view) {
    std::vector<std::string> ready;
    // Events suffice while every candidate is busy only with processes whose exit we can watch;
    // anything else (held GPUs, free ones, counting --idle-for) needs looking every poll.
    bool events = held_.size() == 0;
    for (const GpuIdentity& gpu : request_.candidates) {
        Look l = look(gpu);
        bool ours = held_.contains(gpu.uuid);
        idle_.observe(gpu.uuid, l.judgement.available, now);
        if (!l.judgement.available) {
            view.busy.push_back(looks_.busy_text(gpu, l, own_pids()));
            events = events && has_event(l);
            if (ours) {
                reporter_.info(
                    fmt::format("giving up GPU {}: {}", unit_label(gpu), l.judgement.reason));
                held_.give_up(gpu.uuid);
            }
            continue;
        }
        events = false;
        if (ours) continue;
        if (auto r = refused_.find(gpu.uuid); r != refused_.end() && r->second > now) {
            view.busy.push_back(fmt::format("GPU {} could not be held", unit_label(gpu)));
        } else if (idle_.ready(gpu.uuid, request_.idle_for, now)) {
            ready.push_back(gpu.uuid);
        } else {
            view.note = fmt::format("GPU {} free for {} of --idle-for {}", unit_label(gpu),
                                    format_duration(idle_.idle_time(gpu.uuid, now)),
                                    format_duration(request_.idle_for));
        }
    }
    wakeups_.forget_unseen();
    mode_ = events ? WaitMode::events : WaitMode::poll;
    return ready;
}

std::vector<QueueEntry> WaitLoop::earlier_waiters(const std::map<long, unsigned>& locked_by) {
    Line line = waiters_.line();
    queue_size_ = line.size;
    // A waiter the queue cannot vouch for as ahead goes first while it holds GPUs we could use:
    // then it is gathering, as we may be, and neither of us sees the other ahead. Of two such
    // waiters both see the same one as earlier in (number, pid) order, so they never each keep
    // part of what both need. Holding none, it is not waited for: a ticket planted later with a
    // low number must not stall anyone.
    std::erase_if(line.unvouched, [&](const QueueEntry& e) { return !locked_by.contains(e.pid); });
    std::vector<QueueEntry> earlier;
    std::merge(std::make_move_iterator(line.ahead.begin()),
               std::make_move_iterator(line.ahead.end()),
               std::make_move_iterator(line.unvouched.begin()),
               std::make_move_iterator(line.unvouched.end()), std::back_inserter(earlier),
               [](const QueueEntry& a, const QueueEntry& b) {
                   return std::pair{a.number, a.pid} < std::pair{b.number, b.pid};
               });
    return earlier;
}

std::vector<Contender> WaitLoop::contenders_ahead() {
    std::vector<Contender> ahead;
    std::map<long, unsigned> locked_by;  // pid -> GPUs it has locked among our candidates
    for (const GpuIdentity& gpu : request_.candidates) {
        if (auto owner = waiters_.holder(gpu.uuid)) ++locked_by[owner->pid];
    }
    nearest_ahead_ = 0;
    ahead_labels_.clear();
    for (const QueueEntry& e : earlier_waiters(locked_by)) {
        ahead_labels_.push_back(job_label(e.user, e.name, e.pid));
        // A stopped waiter (Ctrl-Z) would keep GPUs idle for as long as it is stopped: pass it
        // over; it keeps its place for when it is continued.
        if (e.stopped) continue;
        ahead.push_back(Contender{e.count, e.candidates, locked_by[e.pid]});
        nearest_ahead_ = e.pid;
    }
    return ahead;
}

void WaitLoop::take(const RoundPlan& plan, WaitView& view) {
    std::vector<std::string> taken;
    for (const std::string& uuid : plan.take) {
        if (taken.size() == plan.missing) break;
        if (take_one(uuid, view)) taken.push_back(uuid);
    }
    if (plan.all_or_nothing && taken.size() < plan.missing) {
        for (const std::string& uuid : taken) held_.give_up(uuid);
    }
}

bool WaitLoop::take_one(const std::string& uuid, WaitView& view) {
    const GpuIdentity& gpu = candidate(uuid);
    std::string unusable;
    auto lock = waiters_.try_lock(uuid, request_.owner, &unusable);
    if (!lock && !unusable.empty()) {
        report_unusable_lock(gpu, unusable);
        view.busy.push_back(fmt::format("GPU {}'s lock file is unusable", unit_label(gpu)));
        return false;
    }
    if (!lock) {
        auto owner = waiters_.holder(uuid);
        view.busy.push_back(owner
                                ? fmt::format("GPU {} locked by pid {} ({})", unit_label(gpu),
                                              owner->pid, owner->user)
                                : fmt::format("GPU {} locked by another waiter", unit_label(gpu)));
        return false;
    }
    held_.add(gpu, std::move(lock));
    // Look again now that it is ours: a process may have started since the last look.
    if (Look l = look(gpu); !l.judgement.available) {
        view.busy.push_back(looks_.busy_text(gpu, l, own_pids()));
        held_.give_up(uuid);
        return false;
    }
    return true;
}

void WaitLoop::report_unusable_lock(const GpuIdentity& gpu, const std::string& why) {
    // Someone put something else where the GPU's lock file belongs. Nobody can take the GPU
    // through it, so waiting on is right; say so once, with who can fix it.
    if (!unusable_locks_.insert(gpu.uuid).second) return;
    reporter_.warning(
        fmt::format("GPU {}: {} is {}; waiting on, but no gpu-waiter can take "
                    "this GPU until its owner or root removes it",
                    unit_label(gpu), waiters_.lock_where(gpu.uuid), why));
}

bool WaitLoop::take_ticket(TimePoint start) {
    // Another waiter holds the queue's lock only for the moment it takes to publish a ticket;
    // one that keeps it longer is stuck or hostile, and is not waited for.
    constexpr Duration kQueueLockPatience = std::chrono::seconds(2);
    bool patient = clock_.now() - start < kQueueLockPatience;
    auto number = waiters_.join(entry_for(request_), patient ? QueueLock::take : QueueLock::skip);
    if (!number) return false;
    if (!patient) {
        reporter_.warning("the queue's lock on " + waiters_.where() +
                          " is kept by some process: queued without it");
    }
    reporter_.detail(fmt::format("place in the queue: number {}", *number));
    return true;
}

void WaitLoop::check_holds() {
    for (const auto& [uuid, why] : held_.collect_replies()) {
        // Someone took the memory first, or CUDA refuses the GPU: it is not ours to wait on.
        const GpuIdentity& gpu = candidate(uuid);
        reporter_.info(fmt::format("giving up GPU {}: cannot hold it: {}", unit_label(gpu), why));
        held_.give_up(uuid);
        // Someone else's allocation shows in NVML soon; until then, don't retake it each poll.
        refused_[uuid] =
            clock_.now() + std::max<Duration>(request_.poll * 10, std::chrono::seconds(5));
    }
}

void WaitLoop::wait_in_line(const std::vector<Contender>& ahead, WaitView& view) {
    // Whatever the GPUs show, waiters ahead take all this one could use: only the queue or the
    // locks changing can help, and the driver need not stay loaded meanwhile.
    // A waiter ahead killed outright leaves no trace in the directory until someone reads the
    // queue: the one right behind it watches it. Near the front, a waiter ahead being stopped
    // (which no event reports) must be noticed too.
    bool near_front = ahead.size() <= request_.candidates.size();
    bool watched = wakeups_.watch({static_cast<unsigned>(nearest_ahead_)});
    wakeups_.forget_unseen();
    mode_ = near_front || !watched ? WaitMode::queue_front : WaitMode::queue;
    view.note = fmt::format("{} waiter(s) ahead want every GPU this one could use", ahead.size());
    driver_.unload();
}

void WaitLoop::carry_out(const RoundPlan& plan, WaitView& view) {
    if (!plan.give_back.empty()) {
        // Part of what we need, while an earlier waiter competes for it: give it back, or the
        // two of us could each hold what the other waits for.
        reporter_.info(fmt::format("an earlier waiter wants these GPUs too: giving back {} held",
                                   plan.give_back.size()));
        for (const std::string& uuid : plan.give_back) held_.give_up(uuid);
    }
    if (plan.kept_for_earlier > 0) {
        view.note = fmt::format("{} free GPU(s) kept for earlier waiters", plan.kept_for_earlier);
    }
    take(plan, view);
}

void WaitLoop::round(TimePoint now, WaitView& view) {
    check_holds();
    std::vector<Contender> ahead = contenders_ahead();
    if (held_.size() == 0 && out_of_reach(ahead, uuids_of(request_.candidates), request_.count)) {
        wait_in_line(ahead, view);
        return;
    }
    std::vector<std::string> ready = ready_gpus(now, view);
    std::vector<std::string> held;
    for (const GpuIdentity& gpu : held_.identities()) held.push_back(gpu.uuid);
    carry_out(plan_round(RoundInput{std::move(ahead), uuids_of(request_.candidates), request_.count,
                                    std::move(held), std::move(ready)}),
              view);
}

void WaitLoop::sleep_until_next_round(Duration timeout) {
    wakeups_.sleep(timeout, held_.reply_fds());
}

std::optional<WaitOutcome> WaitLoop::pause(TimePoint start, Duration sleep_for) {
    if (request_.timeout) {
        Duration left = *request_.timeout - (clock_.now() - start);
        if (left <= Duration{0}) {
            reporter_.end_status_line();
            return WaitOutcome{WaitOutcome::End::timed_out, 0};
        }
        sleep_for = std::min(sleep_for, left);
    }
    sleep_until_next_round(sleep_for);
    if (auto got = signals_.take(); !got.empty()) {
        reporter_.end_status_line();
        return WaitOutcome{WaitOutcome::End::signalled, got.front().number};
    }
    return std::nullopt;
}

void WaitLoop::place_in_line(WaitView& view) {
    // From this round's reading of the queue (contenders_ahead), nearest first.
    view.ahead.assign(ahead_labels_.rbegin(), ahead_labels_.rend());
    view.place = view.ahead.size() + 1;
    if (view.place != last_place_) {
        reporter_.detail(fmt::format("place in line: {} of {}", view.place, queue_size_));
        last_place_ = view.place;
    }
}

WaitOutcome WaitLoop::run() {
    const TimePoint start = clock_.now();
    while (!take_ticket(start)) {
        if (auto end = pause(start, std::chrono::milliseconds(10))) return *end;
    }
    TimePoint next_look = start;
    for (;;) {
        TimePoint now = clock_.now();
        WaitView view;
        view.wanted = request_.count;
        view.candidates = static_cast<unsigned>(request_.candidates.size());
        view.waited = now - start;
        round(now, view);
        if (held_.size() >= request_.count) {
            reporter_.end_status_line();
            waiters_.leave();  // the next waiter moves up
            return WaitOutcome{WaitOutcome::End::acquired, 0};
        }
        view.held = static_cast<unsigned>(held_.size());
        place_in_line(view);
        reporter_.waiting(view);
        next_look = now + wakeups_.next_sleep(mode_, now);
        if (auto end = pause(start, next_look - clock_.now())) return *end;
    }
}

}  // namespace gw
