// Windows delivers console events (Ctrl-C, Ctrl-Break, closing the console) on a thread of their
// own, which the handler leaves at once after recording the event and setting an event object:
// everything else happens in SignalCatcher's owner, as on POSIX. The C runtime's SIGINT,
// SIGBREAK and SIGTERM numbers name the events, so that 128+N reads as on POSIX.
#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <vector>

#include "common/error.hpp"
#include "common/win32.hpp"
#include "process/signals.hpp"
#include "process/signals_win32.hpp"

namespace gw {

struct SignalCatcher::Saved {};  // nothing to restore but the handler itself

namespace {

constexpr std::array<int, 3> kForwarded{SIGINT, SIGBREAK, SIGTERM};

// Arrival order of each forwarded signal, 0 when none is pending. Written by the console's
// thread, read and cleared by the main thread.
std::array<std::atomic<unsigned>, kForwarded.size()> g_order{};
std::atomic<unsigned> g_counter{0};
HANDLE g_wake = nullptr;  // auto-reset: set by the handler, consumed by sleep

// Main thread only.
std::vector<HANDLE> g_children;
bool g_child_event = false;

int signal_of(DWORD event) {
    switch (event) {
        case CTRL_C_EVENT:
            return SIGINT;
        case CTRL_BREAK_EVENT:
            return SIGBREAK;
        case CTRL_CLOSE_EVENT:
        case CTRL_LOGOFF_EVENT:
        case CTRL_SHUTDOWN_EVENT:
            return SIGTERM;
        default:
            return -1;
    }
}

BOOL WINAPI on_console_event(DWORD event) {
    int signo = signal_of(event);
    auto it = std::find(kForwarded.begin(), kForwarded.end(), signo);
    if (it == kForwarded.end()) return FALSE;
    g_order[static_cast<std::size_t>(it - kForwarded.begin())] = ++g_counter;
    SetEvent(g_wake);
    // For a closing console, Windows ends the process once this returns. Nothing is lost: the
    // locks die with the process, and the job object takes the command and the holder along.
    return TRUE;
}

BOOL WINAPI ignore_console_event(DWORD event) {
    return event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT ? TRUE : FALSE;
}

DWORD milliseconds(Duration timeout) {
    // Rounded up: a wait cut short by rounding would only be repeated by the caller.
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(std::max(timeout, Duration{0})).count();
    return static_cast<DWORD>(std::min<long long>(ms, INFINITE - 1));
}

bool signalled(HANDLE h) {
    return WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
}

/// Reports the children that ended since the last look, each once, as SIGCHLD would.
void collect_child_events() {
    auto ended = std::remove_if(g_children.begin(), g_children.end(), signalled);
    if (ended != g_children.end()) g_child_event = true;
    g_children.erase(ended, g_children.end());
}

}  // namespace

void watch_child(HANDLE process) {
    g_children.push_back(process);
}

void forget_child(HANDLE process) {
    g_children.erase(std::remove(g_children.begin(), g_children.end(), process), g_children.end());
}

std::span<const int> forwarded_signals() {
    return kForwarded;
}

void ignore_terminal_signals() {
    SetConsoleCtrlHandler(ignore_console_event, TRUE);
}

SignalCatcher::SignalCatcher() : saved_(std::make_unique<Saved>()) {
    if (g_wake == nullptr) {
        g_wake = CreateEventW(nullptr, FALSE, FALSE, nullptr);
        if (g_wake == nullptr) win32::throw_last_error("CreateEventW");
    }
    if (!SetConsoleCtrlHandler(on_console_event, TRUE)) {
        win32::throw_last_error("SetConsoleCtrlHandler");
    }
}

SignalCatcher::~SignalCatcher() {
    SetConsoleCtrlHandler(on_console_event, FALSE);
}

std::vector<NativeHandle> SignalCatcher::sleep(Duration timeout,
                                               std::span<const NativeHandle> fds) {
    std::vector<HANDLE> objects{g_wake};
    for (NativeHandle fd : fds) objects.push_back(win32::handle(fd));
    objects.insert(objects.end(), g_children.begin(), g_children.end());
    DWORD r = WaitForMultipleObjects(static_cast<DWORD>(objects.size()), objects.data(), FALSE,
                                     milliseconds(timeout));
    if (r == WAIT_FAILED) win32::throw_last_error("WaitForMultipleObjects");
    collect_child_events();
    // The objects passed in stay signalled until their owner consumes them (manual-reset
    // events, change notifications): looking again does not lose them.
    std::vector<NativeHandle> ready;
    for (NativeHandle fd : fds) {
        if (signalled(win32::handle(fd))) ready.push_back(fd);
    }
    return ready;
}

std::vector<ReceivedSignal> SignalCatcher::take() {
    std::vector<std::pair<unsigned, ReceivedSignal>> got;
    for (std::size_t i = 0; i < kForwarded.size(); ++i) {
        // Every console event reaches all the processes of the console, the command included.
        const ReceivedSignal from_console{kForwarded[i], true};
        if (unsigned order = g_order[i].exchange(0); order != 0)
            got.emplace_back(order, from_console);
    }
    std::sort(got.begin(), got.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<ReceivedSignal> out;
    for (auto& [order, sig] : got) out.push_back(sig);
    return out;
}

bool SignalCatcher::take_child_event() {
    collect_child_events();
    return std::exchange(g_child_event, false);
}

}  // namespace gw
