#include "ui/reporter.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "ui/terminal.hpp"

namespace gw {
namespace {

std::string ordinal(std::size_t n) {
    const char* suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th"
                         : n % 10 == 1                   ? "st"
                         : n % 10 == 2                   ? "nd"
                         : n % 10 == 3                   ? "rd"
                                                         : "th";
    return fmt::format("{}{}", n, suffix);
}

/// "waiting for a GPU", "waiting for 2 GPUs", "waiting for 1 more GPU (1 of 2 reserved)".
std::string what_is_awaited(const WaitView& v) {
    unsigned missing = v.wanted > v.held ? v.wanted - v.held : 0;
    std::string gpus = missing == 1 ? "GPU" : "GPUs";
    if (v.held == 0) {
        return v.wanted == 1 ? "waiting for a GPU" : fmt::format("waiting for {} GPUs", v.wanted);
    }
    return fmt::format("waiting for {} more {} ({} of {} reserved)", missing, gpus, v.held,
                       v.wanted);
}

std::string place_in_line(const WaitView& v) {
    if (v.place == 0) return {};
    if (v.place == 1) return ", first in line";
    std::string text = fmt::format(", {} in line", ordinal(v.place));
    if (!v.ahead.empty()) text += ", after " + v.ahead.front();
    if (v.ahead.size() > 1) text += fmt::format(" and {} more", v.ahead.size() - 1);
    return text;
}

}  // namespace

std::string describe_wait(const WaitView& v) {
    std::string text = what_is_awaited(v) + place_in_line(v);
    if (!v.busy.empty()) {
        text += ": ";
        for (std::size_t i = 0; i < v.busy.size(); ++i) text += (i ? "; " : "") + v.busy[i];
    }
    if (!v.note.empty()) text += (v.busy.empty() ? ": " : "; ") + v.note;
    return text;
}

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
        // \r and "erase line" keep one line up to date; the elapsed time makes it tick. They
        // clear only the cursor's row, so the line must never wrap: it is cut to the terminal's
        // width, one column short, since writing the last column leaves some terminals wrapped.
        std::string text = fmt::format("gpu-waiter: [{}] {}", format_duration(view.waited), state);
        std::size_t width = terminal_columns(Stream::err).value_or(80);
        fmt::print(out_, "\r\033[K{}", fit(text, width > 1 ? width - 1 : 1));
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
