// Ending a job on POSIX: signals to its gpu-waiter, which passes SIGTERM on to the command.
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "app/jobs.hpp"
#include "common/error.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

/// Until `pid` is gone or `limit` has passed; true when it is gone.
bool wait_gone(long pid, Duration limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (process_alive(pid)) {
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

void send(long pid, int signo) {
    if (::kill(static_cast<pid_t>(pid), signo) != 0 && errno != ESRCH) {
        throw_system_error(fmt::format("kill -{} {}", signo, pid), errno);
    }
}

/// The command's processes: the gpu-waiter's descendants, less its holder and the holder's.
std::set<long> command_tree(long waiter) {
    std::vector<ProcessInfo> table = list_processes();
    std::set<long> tree = process_tree(waiter, table);
    tree.erase(waiter);
    for (const ProcessInfo& p : table) {
        if (p.parent != waiter) continue;
        ProcessDetails d = process_details(p.pid);
        if (d.argv.size() >= 2 && d.argv[1] == "--internal-holder") {
            for (long pid : process_tree(p.pid, table)) tree.erase(pid);
        }
    }
    return tree;
}

/// A running job whose gpu-waiter was killed: its command keeps the lock, and gets the signals
/// gpu-waiter would have passed on.
std::string end_orphaned_command(const Job& job, Duration grace) {
    const std::string orphan =
        fmt::format("its gpu-waiter was gone; command pid {}", job.command_pid);
    send(job.command_pid, SIGTERM);
    if (wait_gone(job.command_pid, grace)) return orphan + " ended after SIGTERM";
    for (long pid : process_tree(job.command_pid, list_processes())) send(pid, SIGKILL);
    if (!wait_gone(job.command_pid, grace)) {
        throw Error(fmt::format("{}: {} still runs after SIGTERM and, {} later, SIGKILL",
                                describe_job(job), orphan, format_duration(grace)));
    }
    return fmt::format("{} ignored SIGTERM for {}: killed (SIGKILL)", orphan,
                       format_duration(grace));
}

}  // namespace

std::string end_job(const Job& job, Duration grace) {
    auto waiter = process_state(job.id);
    if (!waiter || !is_gpu_waiter_command(waiter->command)) {
        if (job.state == JobState::running && process_alive(job.command_pid)) {
            return end_orphaned_command(job, grace);
        }
        if (waiter) {  // the pid was reused: whatever runs there now is not ours to signal
            throw Error(
                fmt::format("{}: pid {} is no longer a gpu-waiter ({}); nothing was signalled",
                            describe_job(job), job.id, waiter->command));
        }
        return "had already ended";
    }
    // SIGTERM ends a waiting gpu-waiter (it leaves the queue) and, for a running one, reaches
    // the command once; gpu-waiter then exits with the command's status.
    send(job.id, SIGTERM);
    if (wait_gone(job.id, grace)) {
        return job.state == JobState::waiting ? "left the queue" : "ended after SIGTERM";
    }
    for (long pid : command_tree(job.id)) send(pid, SIGKILL);
    if (!wait_gone(job.id, grace)) {
        throw Error(fmt::format("{} still runs after SIGTERM and, {} later, SIGKILL to its command",
                                describe_job(job), format_duration(grace)),
                    fmt::format("kill -9 {} ends gpu-waiter itself", job.id));
    }
    return fmt::format("its command ignored SIGTERM for {}: killed (SIGKILL)",
                       format_duration(grace));
}

}  // namespace gw
