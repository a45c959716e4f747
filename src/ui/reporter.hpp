// Everything gpu-waiter tells the user, on standard error (standard output is the command's).
// On a terminal the wait is one status line kept up to date; elsewhere (logs, CI) a line is
// written only when what it says changes.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "common/units.hpp"
#include "ui/verbosity.hpp"

namespace gw {

/// What the wait looks like right now, for the status line.
struct WaitView {
    unsigned wanted = 1;  // GPUs the job needs
    unsigned candidates = 0;
    std::vector<std::string> busy;  // "GPU 0: pid 4242 python3 (alice)"
    std::string note;               // e.g. "GPU 1 free for 2.0s of 5.0s"
    Duration waited{0};
    unsigned held = 0;               // of `wanted`, already reserved (locked and held)
    std::size_t place = 0;           // in the queue: 1 is first; 0 when unknown
    std::vector<std::string> ahead;  // the jobs before us, nearest first ("alice's train")
};

/// The wait in one line of words (without the time waited).
[[nodiscard]] std::string describe_wait(const WaitView& view);

class Reporter {
public:
    Reporter(Verbosity verbosity, std::FILE* out, bool terminal);
    /// Builds a reporter for stderr, asking the platform whether it is a terminal.
    [[nodiscard]] static Reporter for_stderr(Verbosity verbosity);

    void error(const std::string& message, const std::string& hint = {});
    void warning(const std::string& message);
    void info(const std::string& message);    // not with -q
    void detail(const std::string& message);  // only with -v
    /// A plain message shown even with -q (a detached job's closing line).
    void error_free_line(const std::string& message) { line("", message); }
    /// Shows the wait; on a terminal rewrites the status line, elsewhere logs changes only.
    void waiting(const WaitView& view);
    /// Ends the status line, so the next message starts on a fresh line.
    void end_status_line();

private:
    void line(const std::string& prefix, const std::string& text);
    Verbosity verbosity_;
    std::FILE* out_;
    bool terminal_;
    bool status_shown_ = false;
    bool color_;
    std::string last_logged_;  // the last wait state logged when not on a terminal
};

/// Whether standard error is a terminal (isatty / GetConsoleMode).
[[nodiscard]] bool stderr_is_terminal();

}  // namespace gw
