// One error model for the whole tool: a failure carries the message the user sees (naming the
// failing call and its reason), an optional hint, and the exit status gpu-waiter ends with.
#pragma once

#include <stdexcept>
#include <string>

namespace gw {

/// Exit statuses of gpu-waiter itself (shared/design/cli.md, "Exit status"). The command's own
/// status and 128+N for signals are passed through as numbers.
enum class ExitCode : int {
    ok = 0,
    timed_out = 124,
    tool_failed = 125,
    cannot_execute = 126,
    not_found = 127,
};

/// The one exception type: thrown where a failure ends the run, caught and printed in main.
class Error : public std::runtime_error {
public:
    explicit Error(std::string message, std::string hint = {},
                   ExitCode code = ExitCode::tool_failed);

    [[nodiscard]] const std::string& hint() const { return hint_; }
    [[nodiscard]] ExitCode code() const { return code_; }

private:
    std::string hint_;
    ExitCode code_;
};

/// "CALL TARGET: strerror(errnum)", the shape every failed system call is reported in.
[[nodiscard]] std::string system_error_text(const std::string& call, int errnum);

/// Throws Error(system_error_text(call, errno)). For calls whose failure ends the run.
[[noreturn]] void throw_system_error(const std::string& call, int errnum, std::string hint = {});

}  // namespace gw
