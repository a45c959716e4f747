#include <fmt/format.h>

#include "app/commands.hpp"
#include "app/jobs.hpp"
#include "common/error.hpp"
#include "driver/nvml.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

bool matches(const Job& job, const std::string& target) {
    bool id = target.find_first_not_of("0123456789") == std::string::npos;
    return id ? std::to_string(job.id) == target : job.name == target;
}

/// The jobs `target` names that the caller may end; refuses when it names only others' jobs.
std::vector<Job> chosen_jobs(const std::vector<Job>& jobs, const Options& o) {
    std::string me = current_user();
    bool root = is_superuser();
    std::vector<Job> mine, others;
    for (const Job& job : jobs) {
        if (!matches(job, o.cancel)) continue;
        (root || job.user == me ? mine : others).push_back(job);
    }
    if (mine.empty() && !others.empty()) {
        const Job& job = others.front();
        throw Error(fmt::format("{} belongs to {}: only {} or root may cancel it",
                                describe_job(job), job.user, job.user),
                    "gpu-waiter --status --mine lists your jobs");
    }
    if (mine.empty()) {
        throw Error(fmt::format("no job {} is waiting or running (lock directory {})", o.cancel,
                                o.lock_dir),
                    "gpu-waiter --status --mine lists your jobs");
    }
    return mine;
}

}  // namespace

int cancel_job(const Options& o, Reporter& reporter) {
    if (!LockDirectory::exists(o.lock_dir)) {
        throw Error(fmt::format("no job {}: no gpu-waiter has used {} yet", o.cancel, o.lock_dir));
    }
    LockDirectory dir(o.lock_dir);
    for (const Job& job : chosen_jobs(list_jobs(dir), o)) {
        reporter.info(fmt::format("cancelling {} of {} ({})", describe_job(job), job.user,
                                  job.state == JobState::waiting ? "waiting" : "running"));
        reporter.info(fmt::format("{}: {}", describe_job(job), end_job(job, kCancelGrace)));
    }
    return 0;
}

}  // namespace gw

namespace gw {

int complete_words(const Options& o) {
    try {
        if (o.complete == "gpus") {
            Nvml nvml;
            for (const GpuIdentity& g : nvml.inventory().gpus) fmt::print("{}\n{}\n", g.index, g.uuid);
        } else if (o.complete == "jobs" && LockDirectory::exists(o.lock_dir)) {
            std::string me = current_user();
            for (const Job& job : list_jobs(LockDirectory(o.lock_dir))) {
                if (job.user != me) continue;
                fmt::print("{}\n", job.id);
                if (!job.name.empty()) fmt::print("{}\n", job.name);
            }
        }
    } catch (const std::exception&) {
        // A completion that fails offers nothing; it must not print errors into the prompt.
    }
    return 0;
}

}  // namespace gw
