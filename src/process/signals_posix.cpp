#include <poll.h>
#include <signal.h>
#include <sys/select.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "common/error.hpp"
#include "process/signals_posix.hpp"

namespace gw {
namespace {

constexpr std::array<int, 6> kForwarded{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
constexpr auto kCaught = kCaughtSignals;

// Written only by the handler, read and cleared with the signals blocked.
volatile sig_atomic_t g_pending[NSIG];
volatile sig_atomic_t g_terminal[NSIG];
volatile sig_atomic_t g_order[NSIG];  // arrival order, for fair reporting of several signals
volatile sig_atomic_t g_counter;
volatile sig_atomic_t g_child_event;

bool sent_by_process(const siginfo_t* info) {
    if (info == nullptr) return true;
    if (info->si_code == SI_USER || info->si_code == SI_QUEUE) return true;
#ifdef SI_TKILL
    if (info->si_code == SI_TKILL) return true;
#endif
    return false;
}

void on_signal(int signo, siginfo_t* info, void*) {
    if (signo == SIGCHLD) {
        g_child_event = 1;
        return;
    }
    g_pending[signo] = 1;
    g_terminal[signo] = sent_by_process(info) ? 0 : 1;
    g_counter = g_counter + 1;
    g_order[signo] = g_counter;
}

sigset_t caught_set() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kCaught) sigaddset(&set, s);
    return set;
}

#ifdef __APPLE__
constexpr const char* kPollCall = "pselect";

/// ppoll, which macOS lacks, through pselect: POLLIN on what select finds readable (end of file
/// and errors included).
int poll_unblocking(std::vector<pollfd>& polls, const timespec& ts, const sigset_t& during) {
    fd_set readable;
    FD_ZERO(&readable);
    int highest = -1;
    for (const pollfd& p : polls) {
        FD_SET(p.fd, &readable);
        highest = std::max(highest, p.fd);
    }
    int n = ::pselect(highest + 1, &readable, nullptr, nullptr, &ts, &during);
    for (pollfd& p : polls) p.revents = n > 0 && FD_ISSET(p.fd, &readable) ? POLLIN : 0;
    return n;
}
#else
constexpr const char* kPollCall = "ppoll";

int poll_unblocking(std::vector<pollfd>& polls, const timespec& ts, const sigset_t& during) {
    return ::ppoll(polls.data(), polls.size(), &ts, &during);
}
#endif

}  // namespace

std::span<const int> forwarded_signals() {
    return kForwarded;
}

void ignore_terminal_signals() {
    for (int s : {SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2}) std::signal(s, SIG_IGN);
}

SignalCatcher::SignalCatcher() : saved_(std::make_unique<Saved>()) {
    sigset_t set = caught_set();
    if (sigprocmask(SIG_BLOCK, &set, &saved_->mask) != 0) throw_system_error("sigprocmask", errno);
    struct sigaction sa {};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigfillset(&sa.sa_mask);  // one handler at a time: the flags need no atomicity beyond that
    for (std::size_t i = 0; i < kCaught.size(); ++i) {
        if (sigaction(kCaught[i], &sa, &saved_->actions[i]) != 0)
            throw_system_error("sigaction", errno);
    }
    // A holder that died must show up as an error from write(), not kill gpu-waiter.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &saved_->pipe_action);
}

SignalCatcher::~SignalCatcher() {
    for (std::size_t i = 0; i < kCaught.size(); ++i)
        sigaction(kCaught[i], &saved_->actions[i], nullptr);
    sigaction(SIGPIPE, &saved_->pipe_action, nullptr);
    sigprocmask(SIG_SETMASK, &saved_->mask, nullptr);
}

std::vector<NativeHandle> SignalCatcher::sleep(Duration timeout,
                                               std::span<const NativeHandle> fds) {
    std::vector<pollfd> polls;
    for (int fd : fds) polls.push_back(pollfd{fd, POLLIN, 0});
    if (timeout < Duration{0}) timeout = Duration{0};
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    timespec ts{static_cast<time_t>(secs.count()), static_cast<long>((timeout - secs).count())};
    // The caught signals are unblocked only for the duration of the sleep.
    sigset_t during = saved_->mask;
    for (int s : kCaught) sigdelset(&during, s);
    int n = poll_unblocking(polls, ts, during);
    std::vector<int> ready;
    if (n < 0 && errno != EINTR) throw_system_error(kPollCall, errno);
    for (const pollfd& p : polls) {
        if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) ready.push_back(p.fd);
    }
    return ready;
}

std::vector<ReceivedSignal> SignalCatcher::take() {
    std::vector<std::pair<int, ReceivedSignal>> got;
    for (int s : kForwarded) {
        if (g_pending[s] != 0) {
            got.push_back({g_order[s], ReceivedSignal{s, g_terminal[s] != 0}});
            g_pending[s] = 0;
        }
    }
    std::sort(got.begin(), got.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<ReceivedSignal> out;
    for (auto& [order, sig] : got) out.push_back(sig);
    return out;
}

bool SignalCatcher::take_child_event() {
    bool event = g_child_event != 0;
    g_child_event = 0;
    return event;
}

}  // namespace gw
