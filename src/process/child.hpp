// The user's command as a child process.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_handle.hpp"
#include "process/process_table.hpp"
#include "process/signals.hpp"

namespace gw {

struct LaunchRequest {
    std::vector<std::string> argv;                             // argv[0] is found through PATH
    std::vector<std::pair<std::string, std::string>> set_env;  // added to (or replacing) ours
    std::vector<std::string> unset_env;                        // removed from ours
    NativeHandle stdin_fd = kNoHandle;   // becomes the child's standard input, when set
    NativeHandle stdout_fd = kNoHandle;  // becomes the child's standard output, when set
    // Open files the child inherits under the same numbers, though close-on-exec for everyone
    // else (POSIX; Windows ties the child's life to ours instead, see child_win32.cpp).
    std::vector<NativeHandle> inherit;
};

/// Finds COMMAND the way the launch will (a name with a '/' as it is, any other through PATH)
/// and checks that it may be executed, so that a typo fails before the wait, not after it.
/// Throws Error with exit code 127 (not found) or 126 (found, not executable).
void check_command(const std::string& name);

/// The running command as its supervisor sees it: an interface so that unit tests can play the
/// command (its processes, its end) without starting one.
class RunningCommand {
public:
    virtual ~RunningCommand() = default;
    [[nodiscard]] virtual long pid() const = 0;
    /// The exit status to pass on (the command's, or 128+N for death by signal N), once the
    /// command has ended; nullopt while it runs. Never blocks.
    [[nodiscard]] virtual std::optional<int> poll() = 0;
    /// Sends `signo` to the command.
    virtual void signal(int signo) const = 0;
    /// The command and every visible process it started.
    [[nodiscard]] virtual std::set<long> tree() const = 0;
};

class Child final : public RunningCommand {
public:
    /// Starts the command directly (no shell), with the signal mask gpu-waiter started with.
    /// Throws Error with exit code 127 (not found) or 126 (found, not executable).
    Child(const LaunchRequest& request, const SignalCatcher& signals);
    /// A child still running when its owner goes away (an error path) is killed and reaped: a
    /// command must never outlive the locks that protect its GPUs.
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    [[nodiscard]] long pid() const override { return pid_; }
    [[nodiscard]] std::optional<int> poll() override;
    void signal(int signo) const override;
    [[nodiscard]] std::set<long> tree() const override {
        return process_tree(pid_, list_processes());
    }
    /// Kills the child if it still runs and waits until it is gone.
    void kill_and_wait();

private:
    /// What a platform keeps beyond the pid (Windows: the process and its job object).
    struct Native;
    long pid_ = -1;
    std::optional<int> status_;
    std::unique_ptr<Native> native_;
};

}  // namespace gw
