// --detach: the job is this same gpu-waiter started again in a session of its own (setsid), so
// that closing the terminal does not end it, with its output going to a log.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "app/commands.hpp"
#include "common/error.hpp"
#include "common/unique_handle.hpp"
#include "process/process_table.hpp"

extern char** environ;

namespace gw {
namespace {

struct LogFile {
    std::string path;  // where it is now (a temporary name until the job's id is known)
    UniqueHandle fd;
};

LogFile open_log(const Options& o) {
    LogFile log;
    int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
    if (o.log_file) {
        log.path = *o.log_file;
    } else {
        std::string dir = default_log_dir(process_env);
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) throw Error(fmt::format("mkdir {}: {}", dir, ec.message()), "give --log FILE");
        log.path = fmt::format("{}/.starting-{}.log", dir, current_pid());
        flags |= O_EXCL;
    }
    log.fd = UniqueHandle(::open(log.path.c_str(), flags, 0644));
    if (!log.fd.valid()) throw_system_error("open " + log.path, errno, "give another --log FILE");
    return log;
}

/// gpu-waiter's own arguments for the job: ours, without --detach, marked as the job itself.
std::vector<std::string> job_arguments(const Options& o) {
    std::vector<std::string> args{self_executable(), "--internal-detached"};
    bool dropped = false;
    for (const std::string& a : o.arguments) {
        if (!dropped && a == "--detach") {
            dropped = true;  // options come before COMMAND: the first one is ours
            continue;
        }
        args.push_back(a);
    }
    return args;
}

long spawn_job(const std::vector<std::string>& args, int log_fd) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&files, log_fd, 1);
    posix_spawn_file_actions_adddup2(&files, log_fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, argv[0], &files, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0) throw_system_error("posix_spawn " + args[0], rc);
    return pid;
}

}  // namespace

int detach_job(const Options& o, Reporter& reporter) {
    check_launchable(o);
    check_servable(o, reporter);  // the job would only fail in its log
    LogFile log = open_log(o);
    long id = spawn_job(job_arguments(o), log.fd.get());
    if (!o.log_file) {
        // Named after the job once its id is known; the job writes through its descriptor.
        std::string named =
            fmt::format("{}/{}-{}.log", default_log_dir(process_env), o.name.value_or("job"), id);
        if (::rename(log.path.c_str(), named.c_str()) == 0) log.path = named;
    }
    fmt::print("job {}{} detached; log: {}\n", id, o.name ? " (" + *o.name + ")" : "", log.path);
    return 0;
}

}  // namespace gw
