#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/error.hpp"
#include "process/child.hpp"
#include "process/signals_posix.hpp"

extern char** environ;

namespace gw {
namespace {

std::vector<std::string> build_environment(const LaunchRequest& request) {
    std::map<std::string, std::string> overrides(request.set_env.begin(), request.set_env.end());
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string entry(*e);
        std::string name = entry.substr(0, entry.find('='));
        bool unset = std::find(request.unset_env.begin(), request.unset_env.end(), name) !=
                     request.unset_env.end();
        if (!overrides.contains(name) && !unset) env.push_back(std::move(entry));
    }
    for (auto& [name, value] : overrides) env.push_back(name + "=" + value);
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (std::string& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

/// posix_spawn attributes: the original mask, and default dispositions for the signals
/// gpu-waiter catches (an ignored SIGINT, say, stays ignored, as with exec).
struct SpawnAttributes {
    posix_spawnattr_t attr{};
    explicit SpawnAttributes(const SignalCatcher& signals) {
        posix_spawnattr_init(&attr);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (std::size_t i = 0; i < kCaughtSignals.size(); ++i) {
            if (signals.saved().actions[i].sa_handler != SIG_IGN)
                sigaddset(&defaults, kCaughtSignals[i]);
        }
        if (signals.saved().pipe_action.sa_handler != SIG_IGN) sigaddset(&defaults, SIGPIPE);
        posix_spawnattr_setsigmask(&attr, &signals.saved().mask);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    ~SpawnAttributes() { posix_spawnattr_destroy(&attr); }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

/// Standard input and output redirections (dup2 clears close-on-exec on the copies only).
struct FileActions {
    posix_spawn_file_actions_t actions{};
    explicit FileActions(const LaunchRequest& request) {
        posix_spawn_file_actions_init(&actions);
        if (request.stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, request.stdin_fd, 0);
        if (request.stdout_fd >= 0)
            posix_spawn_file_actions_adddup2(&actions, request.stdout_fd, 1);
    }
    ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;
};

/// Lets the child inherit some close-on-exec descriptors, for the moment of the spawn only (the
/// process has no other thread that could spawn meanwhile).
struct InheritedFiles {
    std::vector<int> fds;
    explicit InheritedFiles(const std::vector<NativeHandle>& handles) : fds(handles) {
        for (int fd : fds) set_close_on_exec(fd, false);
    }
    ~InheritedFiles() {
        for (int fd : fds) set_close_on_exec(fd, true);
    }
    InheritedFiles(const InheritedFiles&) = delete;
    InheritedFiles& operator=(const InheritedFiles&) = delete;

    static void set_close_on_exec(int fd, bool on) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags >= 0) ::fcntl(fd, F_SETFD, on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC));
    }
};

}  // namespace

struct Child::Native {};  // the pid is all waitpid and kill need

Child::Child(const LaunchRequest& request, const SignalCatcher& signals) {
    std::vector<std::string> args = request.argv;
    std::vector<std::string> env = build_environment(request);
    auto argv = pointers(args);
    auto envp = pointers(env);
    SpawnAttributes attributes(signals);
    FileActions files(request);
    InheritedFiles inherited(request.inherit);
    pid_t pid = -1;
    int rc =
        posix_spawnp(&pid, argv[0], &files.actions, &attributes.attr, argv.data(), envp.data());
    if (rc == ENOENT || rc == ENOTDIR) {
        throw Error(fmt::format("{}: command not found", request.argv[0]),
                    "check the name and PATH", ExitCode::not_found);
    }
    if (rc != 0) {
        throw Error(system_error_text(fmt::format("cannot execute {}", request.argv[0]), rc),
                    "check that it is an executable file", ExitCode::cannot_execute);
    }
    pid_ = pid;
}

Child::~Child() {
    kill_and_wait();
}

void Child::kill_and_wait() {
    if (pid_ > 0 && !status_) {
        ::kill(static_cast<pid_t>(pid_), SIGKILL);
        int status = 0;
        while (::waitpid(static_cast<pid_t>(pid_), &status, 0) < 0 && errno == EINTR) {
        }
        status_ = 128 + SIGKILL;
    }
}

std::optional<int> Child::poll() {
    if (status_) return status_;
    int status = 0;
    pid_t r = ::waitpid(static_cast<pid_t>(pid_), &status, WNOHANG);
    if (r == 0) return std::nullopt;
    if (r < 0) {
        if (errno == EINTR) return std::nullopt;
        throw_system_error("waitpid", errno);
    }
    if (WIFEXITED(status))
        status_ = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        status_ = 128 + WTERMSIG(status);
    else
        return std::nullopt;  // stopped or continued: still running
    return status_;
}

void Child::signal(int signo) const {
    if (pid_ > 0 && !status_) ::kill(static_cast<pid_t>(pid_), signo);
}

}  // namespace gw
