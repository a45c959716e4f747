#include "ui/reporter.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace gw {
namespace {

std::string describe_wait(const WaitView& v) {
    std::string text = fmt::format("waiting for {} of {} GPU(s)", v.wanted, v.candidates);
    if (!v.busy.empty()) {
        text += ": ";
        for (std::size_t i = 0; i < v.busy.size(); ++i) text += (i ? "; " : "") + v.busy[i];
    }
    if (!v.note.empty()) text += (v.busy.empty() ? ": " : "; ") + v.note;
    return text;
}

}  // namespace

Reporter::Reporter(Verbosity verbosity, std::FILE* out, bool terminal)
    : verbosity_(verbosity), out_(out), terminal_(terminal) {
    const char* no_color = std::getenv("NO_COLOR");
    color_ = terminal && (no_color == nullptr || *no_color == '\0');
}

Reporter Reporter::for_stderr(Verbosity verbosity) {
    return Reporter(verbosity, stderr, stderr_is_terminal());
}

void Reporter::line(const std::string& prefix, const std::string& text) {
    end_status_line();
    fmt::print(out_, "gpu-waiter: {}{}\n", prefix, text);
    std::fflush(out_);
}

void Reporter::error(const std::string& message, const std::string& hint) {
    line(color_ ? "\033[1;31merror:\033[0m " : "error: ", message);
    if (!hint.empty()) line(color_ ? "\033[1mhint:\033[0m " : "hint: ", hint);
}

void Reporter::warning(const std::string& message) {
    if (verbosity_ == Verbosity::quiet) return;
    line(color_ ? "\033[1;33mwarning:\033[0m " : "warning: ", message);
}

void Reporter::info(const std::string& message) {
    if (verbosity_ != Verbosity::quiet) line("", message);
}

void Reporter::detail(const std::string& message) {
    if (verbosity_ == Verbosity::verbose) line("", message);
}

void Reporter::waiting(const WaitView& view) {
    if (verbosity_ == Verbosity::quiet) return;
    std::string state = describe_wait(view);
    if (terminal_) {
        // \r and "erase line" keep one line up to date; the elapsed time makes it tick.
        fmt::print(out_, "\r\033[Kgpu-waiter: [{}] {}", format_duration(view.waited), state);
        std::fflush(out_);
        status_shown_ = true;
    } else if (state != last_logged_) {
        last_logged_ = state;
        line("", fmt::format("[{}] {}", format_duration(view.waited), state));
    }
}

void Reporter::end_status_line() {
    if (status_shown_) {
        fmt::print(out_, "\r\033[K");
        std::fflush(out_);
        status_shown_ = false;
    }
}

}  // namespace gw
