// macOS's process table through libproc: proc_listallpids for the pids, proc_pidinfo for each.
// Not yet built or tested (see README.md, Platforms).
#include <libproc.h>
#include <mach-o/dyld.h>  // _NSGetExecutablePath
#include <sys/proc.h>     // SZOMB
#include <sys/proc_info.h>

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "process/process_table.hpp"
#include "process/process_table_posix.hpp"

namespace gw {
namespace {

/// The command-name arrays of proc_info.h are MAXCOMLEN bytes and need not end in a NUL.
template <std::size_t N>
std::string bounded(const char (&text)[N]) {
    return std::string(text, ::strnlen(text, N));
}

/// What we use of one process, from whichever of libproc's two BSD views the kernel gives us.
struct BsdInfo {
    long parent = 0;
    uid_t ruid = 0;
    std::uint32_t status = 0;
    std::string command;
};

std::optional<BsdInfo> read_info(long pid) {
    const auto p = static_cast<pid_t>(pid);
    constexpr int kFull = static_cast<int>(sizeof(struct proc_bsdinfo));
    struct proc_bsdinfo full {};
    if (::proc_pidinfo(p, PROC_PIDTBSDINFO, 0, &full, kFull) == kFull) {
        return BsdInfo{static_cast<long>(full.pbi_ppid), full.pbi_ruid, full.pbi_status,
                       bounded(full.pbi_comm)};
    }
    // The full view is refused for other users' processes unless we are root; the short one,
    // which has all we need, is not.
    constexpr int kBrief = static_cast<int>(sizeof(struct proc_bsdshortinfo));
    struct proc_bsdshortinfo brief {};
    if (::proc_pidinfo(p, PROC_PIDT_SHORTBSDINFO, 0, &brief, kBrief) == kBrief) {
        return BsdInfo{static_cast<long>(brief.pbsi_ppid), brief.pbsi_ruid, brief.pbsi_status,
                       bounded(brief.pbsi_comm)};
    }
    return std::nullopt;
}

/// Every pid. proc_listallpids counts pids, but sizes its buffer in bytes; the table can grow
/// between the two calls, so leave room and try again when the answer fills it.
std::vector<pid_t> all_pids() {
    for (int attempt = 0; attempt < 8; ++attempt) {
        int estimate = ::proc_listallpids(nullptr, 0);
        if (estimate <= 0) return {};
        std::vector<pid_t> pids(static_cast<std::size_t>(estimate) + 64);
        int bytes = static_cast<int>(pids.size() * sizeof(pid_t));
        int count = ::proc_listallpids(pids.data(), bytes);
        if (count < 0) return {};
        if (static_cast<std::size_t>(count) < pids.size()) {
            pids.resize(static_cast<std::size_t>(count));
            return pids;
        }
    }
    return {};
}

}  // namespace

std::optional<ProcessInfo> describe_process(long pid) {
    auto info = read_info(pid);
    if (!info) return std::nullopt;
    return ProcessInfo{pid, info->parent, user_name(info->ruid), info->command};
}

std::vector<ProcessInfo> list_processes() {
    std::vector<ProcessInfo> out;
    for (pid_t pid : all_pids()) {
        if (pid <= 0) continue;
        if (auto info = read_info(pid)) {
            out.push_back(ProcessInfo{static_cast<long>(pid), info->parent, {}, info->command});
        }
    }
    return out;
}

bool process_alive(long pid) {
    if (pid <= 0) return false;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
    auto info = read_info(pid);
    return !info || info->status != static_cast<std::uint32_t>(SZOMB);
}

std::optional<ProcessState> process_state(long pid) {
    auto info = pid > 0 ? read_info(pid) : std::nullopt;
    if (!info || info->status == static_cast<std::uint32_t>(SZOMB)) return std::nullopt;
    return ProcessState{static_cast<long>(info->ruid), info->command,
                        info->status == static_cast<std::uint32_t>(SSTOP)};
}

bool flock_holders_listed() {
    return false;
}

std::optional<long> flock_holder(std::uint64_t, std::uint64_t) {
    return std::nullopt;  // macOS does not list who holds a flock
}

std::string self_executable() {
    char path[PROC_PIDPATHINFO_MAXSIZE];
    int n = ::proc_pidpath(::getpid(), path, static_cast<std::uint32_t>(sizeof path));
    if (n > 0) return std::string(path, static_cast<std::size_t>(n));
    // _NSGetExecutablePath gives the path as it was run, possibly relative or through a link.
    char given[PATH_MAX];
    std::uint32_t size = sizeof given;
    if (::_NSGetExecutablePath(given, &size) != 0) return "gpu-waiter";
    char resolved[PATH_MAX];
    if (::realpath(given, resolved) != nullptr) return resolved;
    return given;
}

ProcessDetails process_details(long) {
    return {};  // --status falls back to the process's name
}

}  // namespace gw
