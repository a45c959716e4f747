// Jobs as --cancel finds them: every gpu-waiter of the lock directory, waiting (a ticket) or
// running (a lock record), by id (its pid) and --name.
#pragma once

#include <string>
#include <vector>

#include "common/units.hpp"
#include "lock/lock_directory.hpp"

namespace gw {

enum class JobState { waiting, running };

struct Job {
    long id = 0;       // the gpu-waiter's pid
    std::string user;  // the owner of the living process, never what a record says
    std::string name;
    JobState state = JobState::waiting;
    long command_pid = 0;  // running: the command, which keeps the lock if gpu-waiter was killed
};

/// The living jobs of `dir`: those in the queue, and those holding a lock while not in it (also
/// when their gpu-waiter was killed and only the command lives on).
[[nodiscard]] std::vector<Job> list_jobs(const LockDirectory& dir);

/// "job 4242 (train-1)" or "job 4242".
[[nodiscard]] std::string describe_job(const Job& job);

/// Ends a job: a waiting one leaves the queue; a running one's command gets SIGTERM, then
/// SIGKILL after `grace`. Returns once the job's gpu-waiter (or, where it was killed, the
/// command) is gone, saying how it ended. Signals only a gpu-waiter, or the command of a lock
/// whose gpu-waiter is gone: never a pid that was reused by something else.
[[nodiscard]] std::string end_job(const Job& job, Duration grace);

}  // namespace gw
