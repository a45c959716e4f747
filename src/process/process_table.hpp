// What the operating system says about processes: owners and names for messages and --status,
// parent links for finding the command's descendants on a GPU.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gw {

struct ProcessInfo {
    long pid = 0;
    long parent = 0;
    std::string user;     // login name, or the numeric uid when it has none
    std::string command;  // short name ("python3")
};

/// One process, if it exists and is visible to us.
[[nodiscard]] std::optional<ProcessInfo> describe_process(long pid);

/// The same for a pid as the GPU driver reports it (unsigned). Spelled out because `long` is 32
/// bits on Windows, where the implicit conversion would be a sign-changing one.
[[nodiscard]] inline std::optional<ProcessInfo> describe_process(unsigned pid) {
    return describe_process(static_cast<long>(pid));
}

/// What the queue needs to know to trust a ticket's process.
struct ProcessState {
    long uid = -1;         // the real user id; -1 where the platform does not say
    std::string command;   // short name, as in ProcessInfo
    bool stopped = false;  // stopped by a signal (Ctrl-Z, SIGSTOP) or a debugger
};

/// The state of one visible, living process (zombies excluded).
[[nodiscard]] std::optional<ProcessState> process_state(long pid);

/// Who holds the flock on the file (`device`, `inode`), as the kernel tells it. A pid when the
/// holder is visible to us; nullopt when nobody visible holds it or the platform cannot tell (a
/// holder in another PID namespace is not shown).
[[nodiscard]] std::optional<long> flock_holder(std::uint64_t device, std::uint64_t inode);

/// Whether flock_holder can tell at all (Linux's /proc/locks); where it can, a held lock with no
/// holder shown is held from another PID namespace.
[[nodiscard]] bool flock_holders_listed();

/// What --status shows of a process beyond its name.
struct ProcessDetails {
    std::vector<std::string> argv;     // the full command line; empty where it cannot be read
    std::optional<long long> started;  // seconds since the epoch
};

/// The command line and start time of a process (Linux: /proc; elsewhere not yet: empty).
[[nodiscard]] ProcessDetails process_details(long pid);

/// Every visible process (pid and parent only are guaranteed).
[[nodiscard]] std::vector<ProcessInfo> list_processes();

/// `root` and all its descendants among `table`.
[[nodiscard]] std::set<long> process_tree(long root, const std::vector<ProcessInfo>& table);

/// The user gpu-waiter runs as.
[[nodiscard]] std::string current_user();

/// Whether we run as root (POSIX); false on Windows, where no job is cancelled for others.
[[nodiscard]] bool is_superuser();

/// Our own pid.
[[nodiscard]] long current_pid();

/// Whether a process with this pid exists (zombies excluded where the platform tells). False
/// for pids below 1, which name process groups, not processes.
[[nodiscard]] bool process_alive(long pid);

}  // namespace gw

namespace gw {

/// The path of the running gpu-waiter binary, to start its holder from.
[[nodiscard]] std::string self_executable();

/// Whether a process's short name (ProcessState::command) is a gpu-waiter's: ours under whatever
/// name it was installed, or the usual one.
[[nodiscard]] bool is_gpu_waiter_command(const std::string& comm);

}  // namespace gw
