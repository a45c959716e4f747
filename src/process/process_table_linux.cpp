// /proc is Linux's process table; the BSDs and macOS have their own files behind the same header.
#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "common/unique_handle.hpp"
#include "process/process_table.hpp"
#include "process/process_table_posix.hpp"

namespace gw {
namespace {

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
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
    auto stat = read_stat(pid);
    return !stat || stat->state != 'Z';
}

}  // namespace gw

namespace gw {}  // namespace gw

namespace gw {

std::string self_executable() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "/proc/self/exe";
    return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace gw
