#include "app/wait_loop.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "process/process_table.hpp"

namespace gw {

WaitLoop::WaitLoop(GpuDriver& driver, const LockDirectory& locks, SignalCatcher& signals,
                   Reporter& reporter, WaitRequest request)
    : driver_(driver), locks_(locks), signals_(signals), reporter_(reporter),
      request_(std::move(request)) {}

WaitLoop::Look WaitLoop::look(const GpuIdentity& gpu) {
    Look l;
    l.status = driver_.probe(gpu, first_query(request_.rule));
    // The process list costs the most: read it only when the decision needs it.
    if (needs_processes(request_.rule, l.status, false)) {
        GpuStatus more = driver_.probe(gpu, GpuQuery::processes);
        if (!more.error.empty()) l.status.error = more.error;
        l.status.processes = std::move(more.processes);
    }
    l.judgement = judge(l.status, request_.rule, own_pids_);
    return l;
}

std::string WaitLoop::busy_text(const GpuIdentity& gpu, const Look& l) const {
    std::string reason = l.judgement.reason;
    if (l.status.processes && !l.status.processes->empty()) {
        // Name the first process the way a user would look for it.
        const GpuProcess& p = l.status.processes->front();
        if (auto info = describe_process(p.pid)) {
            reason = fmt::format("pid {} {} ({})", p.pid, info->command, info->user);
        }
        if (l.status.processes->size() > 1) {
            reason += fmt::format(" +{} more", l.status.processes->size() - 1);
        }
    }
    return fmt::format("GPU {} {}", gpu.index, reason);
}

std::vector<std::size_t> WaitLoop::ready_candidates(TimePoint now, WaitView& view) {
    std::vector<std::size_t> ready;
    Duration longest_wait{0};
    for (std::size_t i = 0; i < request_.candidates.size(); ++i) {
        const GpuIdentity& gpu = request_.candidates[i];
        Look l = look(gpu);
        idle_.observe(gpu.uuid, l.judgement.available, now);
        if (!l.judgement.available) {
            view.busy.push_back(busy_text(gpu, l));
        } else if (idle_.ready(gpu.uuid, request_.idle_for, now)) {
            ready.push_back(i);
        } else {
            longest_wait = std::max(longest_wait, idle_.idle_time(gpu.uuid, now));
            view.note = fmt::format("GPU {} idle, waiting --idle-for {}", gpu.index,
                                    format_duration(request_.idle_for));
        }
    }
    return ready;
}

std::optional<Acquisition> WaitLoop::try_acquire(const std::vector<std::size_t>& ready,
                                                 WaitView& view) {
    Acquisition got;
    for (std::size_t i : ready) {
        if (got.gpus.size() == request_.count) break;
        const GpuIdentity& gpu = request_.candidates[i];
        auto lock = GpuLock::try_acquire(locks_, gpu.uuid, request_.owner);
        if (!lock) {
            auto owner = GpuLock::holder(locks_, gpu.uuid);
            view.busy.push_back(owner ? fmt::format("GPU {} locked by pid {} ({})", gpu.index,
                                                    owner->pid, owner->user)
                                      : fmt::format("GPU {} locked by another gpu-waiter", gpu.index));
            continue;
        }
        // Look again now that it is ours: a process may have started since the last look.
        if (Look l = look(gpu); !l.judgement.available) {
            view.busy.push_back(busy_text(gpu, l));
            continue;
        }
        got.gpus.push_back(gpu);
        got.locks.push_back(std::move(lock));
    }
    if (got.gpus.size() < request_.count) return std::nullopt;  // all-or-nothing: unlock
    return got;
}

WaitOutcome WaitLoop::run() {
    const TimePoint start = std::chrono::steady_clock::now();
    for (;;) {
        TimePoint now = std::chrono::steady_clock::now();
        WaitView view{request_.count, static_cast<unsigned>(request_.candidates.size()), {}, {},
                      now - start};
        std::vector<std::size_t> ready = ready_candidates(now, view);
        if (ready.size() >= request_.count) {
            if (auto got = try_acquire(ready, view)) {
                reporter_.end_status_line();
                return WaitOutcome{WaitOutcome::End::acquired, std::move(*got), 0};
            }
        }
        reporter_.waiting(view);
        Duration sleep_for = request_.poll;
        if (request_.timeout) {
            Duration left = *request_.timeout - (std::chrono::steady_clock::now() - start);
            if (left <= Duration{0}) {
                reporter_.end_status_line();
                return WaitOutcome{WaitOutcome::End::timed_out, {}, 0};
            }
            sleep_for = std::min(sleep_for, left);
        }
        (void)signals_.sleep(sleep_for);
        if (auto got = signals_.take(); !got.empty()) {
            reporter_.end_status_line();
            return WaitOutcome{WaitOutcome::End::signalled, {}, got.front().number};
        }
    }
}

}  // namespace gw
