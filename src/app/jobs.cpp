#include "app/jobs.hpp"

#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "lock/gpu_lock.hpp"
#include "process/process_table.hpp"
#include "queue/queue.hpp"

namespace gw {

std::vector<Job> list_jobs(const LockDirectory& dir) {
    std::map<long, Job> jobs;
    for (const QueueEntry& e : read_queue(queue_path(dir)).waiters) {
        jobs[e.pid] = Job{e.pid, e.user, e.name, JobState::waiting};
    }
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path(), ec)) {
        std::string file = entry.path().filename().string();
        if (!file.ends_with(".lock") || file.starts_with(".")) continue;
        auto owner = GpuLock::holder(dir, file.substr(0, file.size() - 5));
        if (!owner || jobs.contains(owner->pid)) continue;
        // The record is anyone's to write: the job's user is whoever owns the living process.
        auto waiter = process_state(owner->pid);
        bool waiter_lives = waiter && is_gpu_waiter_command(waiter->command);
        auto process = describe_process(waiter_lives ? owner->pid : owner->command_pid);
        if (!process) continue;
        jobs[owner->pid] =
            Job{owner->pid, process->user, owner->name, JobState::running, owner->command_pid};
    }
    std::vector<Job> out;
    for (auto& [id, job] : jobs) out.push_back(std::move(job));
    return out;
}

std::string describe_job(const Job& job) {
    return job.name.empty() ? fmt::format("job {}", job.id)
                            : fmt::format("job {} ({})", job.id, job.name);
}

}  // namespace gw
