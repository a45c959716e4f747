// /proc is Linux's process table; the BSDs and macOS have their own files behind the same header.
#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/unique_handle.hpp"
#include "process/process_table.hpp"
#include "process/process_table_posix.hpp"

namespace gw {
namespace {

unsigned major_of(std::uint64_t device) {
    return static_cast<unsigned>(major(static_cast<dev_t>(device)));
}

unsigned minor_of(std::uint64_t device) {
    return static_cast<unsigned>(minor(static_cast<dev_t>(device)));
}

struct StatFields {
    long parent = 0;
    char state = '?';
    std::string comm;
};

/// /proc/PID/stat: "pid (comm) state ppid …", where comm may itself hold spaces and parentheses.
std::optional<StatFields> read_stat(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    auto open = line.find('(');
    auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open)
        return std::nullopt;
    StatFields f;
    f.comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 1));
    rest >> f.state >> f.parent;
    return f;
}

std::optional<uid_t> read_uid(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Uid:", 0) == 0) {
            std::istringstream fields(line.substr(4));
            uid_t real = 0;
            fields >> real;
            return real;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<ProcessInfo> describe_process(long pid) {
    auto stat = read_stat(pid);
    if (!stat) return std::nullopt;
    ProcessInfo info{pid, stat->parent, "?", stat->comm};
    if (auto uid = read_uid(pid)) info.user = user_name(*uid);
    return info;
}

namespace {

/// /proc/PID/stat's 22nd field counts clock ticks since boot; /proc/stat's btime is the boot.
std::optional<long long> start_time(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line) || line.rfind(')') == std::string::npos) return std::nullopt;
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
    }
    std::ifstream stat("/proc/stat");
    for (std::string l; std::getline(stat, l);) {
        if (l.rfind("btime ", 0) == 0) {
            long ticks = ::sysconf(_SC_CLK_TCK);
            if (ticks <= 0) return std::nullopt;
            return std::stoll(l.substr(6)) + std::stoll(field) / ticks;
        }
    }
    return std::nullopt;
}

}  // namespace

ProcessDetails process_details(long pid) {
    ProcessDetails d;
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    for (std::string arg; std::getline(in, arg, '\0');) d.argv.push_back(arg);
    try {
        d.started = start_time(pid);
    } catch (const std::exception&) {
        // a malformed field: the age stays unknown
    }
    return d;
}

std::vector<ProcessInfo> list_processes() {
    std::vector<ProcessInfo> out;
    DIR* dir = ::opendir("/proc");
    if (dir == nullptr) return out;
    while (dirent* entry = ::readdir(dir)) {
        char* end = nullptr;
        long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        if (auto stat = read_stat(pid))
            out.push_back(ProcessInfo{pid, stat->parent, {}, stat->comm});
    }
    ::closedir(dir);
    return out;
}

bool process_alive(long pid) {
    if (pid <= 0) return false;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
    auto stat = read_stat(pid);
    return !stat || stat->state != 'Z';
}

std::optional<ProcessState> process_state(long pid) {
    if (pid <= 0) return std::nullopt;
    auto stat = read_stat(pid);
    if (!stat || stat->state == 'Z' || stat->state == 'X') return std::nullopt;
    auto uid = read_uid(pid);
    if (!uid) return std::nullopt;
    return ProcessState{static_cast<long>(*uid), stat->comm,
                        stat->state == 'T' || stat->state == 't'};
}

bool flock_holders_listed() {
    return true;
}

std::optional<long> flock_holder(std::uint64_t device, std::uint64_t inode) {
    // "1: FLOCK  ADVISORY  WRITE 4242 fe:00:1234 0 EOF"; waiters blocked on a lock appear as
    // "1: -> FLOCK …" and are skipped. The kernel lists only holders visible to us.
    std::ifstream in("/proc/locks");
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string number, type, advisory, access, where;
        long pid = 0;
        if (!(fields >> number >> type >> advisory >> access >> pid >> where)) continue;
        if (type != "FLOCK") continue;
        unsigned major = 0, minor = 0;
        unsigned long long ino = 0;
        if (std::sscanf(where.c_str(), "%x:%x:%llu", &major, &minor, &ino) != 3) continue;
        if (ino == inode && major == major_of(device) && minor == minor_of(device)) return pid;
    }
    return std::nullopt;
}

}  // namespace gw

namespace gw {

std::string self_executable() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "/proc/self/exe";
    return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace gw
