// Signals, the ninja way: the ones gpu-waiter reacts to are blocked for the whole run and let
// through only while it sleeps in `SignalCatcher::sleep`, where the handler just records them.
// Everything else happens outside the handler, in ordinary code.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "common/unique_handle.hpp"
#include "common/units.hpp"

namespace gw {

/// A signal sent to gpu-waiter. `from_terminal`: the terminal generated it (Ctrl-C), so every
/// process of the foreground group, the command included, got it already.
struct ReceivedSignal {
    int number = 0;
    bool from_terminal = false;
};

/// The signals received, as the supervisor takes them: an interface so that unit tests can send
/// signals (from a process or from the terminal) without any being raised.
class SignalInbox {
public:
    virtual ~SignalInbox() = default;
    /// The signals received since the last call, oldest first, each once.
    [[nodiscard]] virtual std::vector<ReceivedSignal> take() = 0;
    /// True once per batch of SIGCHLD: a child changed state.
    [[nodiscard]] virtual bool take_child_event() = 0;
};

class SignalCatcher final : public SignalInbox {
public:
    /// Blocks and catches SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGCHLD.
    SignalCatcher();
    /// Restores the signal mask and dispositions found at construction.
    ~SignalCatcher();
    SignalCatcher(const SignalCatcher&) = delete;
    SignalCatcher& operator=(const SignalCatcher&) = delete;

    /// Sleeps until `timeout` passes, a signal arrives, or one of `fds` is readable. Returns the
    /// readable descriptors. On Windows `fds` are handles of waitable objects (events, change
    /// notifications), and the ones signalled are returned.
    std::vector<NativeHandle> sleep(Duration timeout, std::span<const NativeHandle> fds = {});
    [[nodiscard]] std::vector<ReceivedSignal> take() override;
    [[nodiscard]] bool take_child_event() override;
    /// What was in place before: the platform side restores it, and gives children its mask.
    struct Saved;
    [[nodiscard]] const Saved& saved() const { return *saved_; }

private:
    std::unique_ptr<Saved> saved_;
};

/// The signals forwarded to the command and that end the wait (shared/design/cli.md).
[[nodiscard]] std::span<const int> forwarded_signals();

/// For the holder process: makes the terminal's interrupt, quit and hang-up (Ctrl-C, Ctrl-Break
/// and the like on Windows) leave this process alone; it ends when its input closes instead.
void ignore_terminal_signals();

}  // namespace gw
