// FreeBSD's process table: sysctl(3) kern.proc, one struct kinfo_proc per process.
// Written against FreeBSD's <sys/user.h>; not yet built or tested (see README.md, Platforms).
// NetBSD, OpenBSD and DragonFly name these structures and fields differently: they need files
// of their own.
#if !defined(__FreeBSD__)
#error "process_table_bsd.cpp is written for FreeBSD's kinfo_proc"
#endif

#include <sys/param.h>
#include <sys/sysctl.h>
#include <sys/types.h>
#include <sys/user.h>  // struct kinfo_proc; also brings <sys/proc.h> with SZOMB

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "process/process_table.hpp"
#include "process/process_table_posix.hpp"

namespace gw {
namespace {

/// ki_comm is NUL-terminated in practice; never read past the array all the same.
std::string command_name(const struct kinfo_proc& kp) {
    return std::string(kp.ki_comm, ::strnlen(kp.ki_comm, sizeof kp.ki_comm));
}

/// sysctl(3) on a fixed-size name: true when `out` (of `*size` bytes) received the answer.
template <std::size_t N>
bool query(int (&mib)[N], void* out, std::size_t* size) {
    return ::sysctl(mib, static_cast<u_int>(N), out, size, nullptr, 0) == 0;
}

constexpr int kProcSize = static_cast<int>(sizeof(struct kinfo_proc));

/// kern.proc.pid.PID: one process, or nothing if it is gone or hidden from us.
std::optional<struct kinfo_proc> read_proc(long pid) {
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, static_cast<int>(pid)};
    struct kinfo_proc kp {};
    std::size_t size = sizeof kp;
    if (!query(mib, &kp, &size)) return std::nullopt;
    // An empty answer means no such process; a size we don't expect means another ABI.
    if (size != sizeof kp || kp.ki_structsize != kProcSize) return std::nullopt;
    return kp;
}

/// kern.proc.proc: every process, without its threads. The table can grow between asking its
/// size and reading it, so ask for room to spare and try again while it does not fit.
std::vector<struct kinfo_proc> read_all() {
    int mib[3] = {CTL_KERN, KERN_PROC, KERN_PROC_PROC};
    for (int attempt = 0; attempt < 8; ++attempt) {
        std::size_t size = 0;
        if (!query(mib, nullptr, &size)) return {};
        std::vector<struct kinfo_proc> procs(size / sizeof(struct kinfo_proc) + 16);
        size = procs.size() * sizeof(struct kinfo_proc);
        if (query(mib, procs.data(), &size)) {
            procs.resize(size / sizeof(struct kinfo_proc));
            if (!procs.empty() && procs.front().ki_structsize != kProcSize) return {};
            return procs;
        }
        if (errno != ENOMEM) return {};
    }
    return {};
}

}  // namespace

std::optional<ProcessInfo> describe_process(long pid) {
    auto kp = read_proc(pid);
    if (!kp) return std::nullopt;
    return ProcessInfo{pid, static_cast<long>(kp->ki_ppid), user_name(kp->ki_ruid),
                       command_name(*kp)};
}

std::vector<ProcessInfo> list_processes() {
    std::vector<ProcessInfo> out;
    for (const struct kinfo_proc& kp : read_all()) {
        out.push_back(ProcessInfo{
            static_cast<long>(kp.ki_pid), static_cast<long>(kp.ki_ppid), {}, command_name(kp)});
    }
    return out;
}

bool process_alive(long pid) {
    if (pid <= 0) return false;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
    auto kp = read_proc(pid);
    return !kp || kp->ki_stat != SZOMB;
}

std::optional<ProcessState> process_state(long pid) {
    auto kp = pid > 0 ? read_proc(pid) : std::nullopt;
    if (!kp || kp->ki_stat == SZOMB) return std::nullopt;
    return ProcessState{static_cast<long>(kp->ki_ruid), command_name(*kp), kp->ki_stat == SSTOP};
}

bool flock_holders_listed() {
    return false;
}

std::optional<long> flock_holder(std::uint64_t, std::uint64_t) {
    return std::nullopt;  // the BSDs do not list who holds a flock
}

std::string self_executable() {
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PATHNAME, -1};
    char buf[PATH_MAX];
    std::size_t size = sizeof buf;
    if (query(mib, buf, &size) && size > 1) return std::string(buf, ::strnlen(buf, size));
    return "/proc/curproc/file";  // procfs, where it is mounted
}

ProcessDetails process_details(long) {
    return {};  // --status falls back to the process's name
}

}  // namespace gw
