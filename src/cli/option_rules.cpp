// Which options go together: a combination that cannot mean anything is refused with the reason,
// rather than one of its options being silently ignored.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "cli/options_raw.hpp"
#include "common/error.hpp"

namespace gw {
namespace {

constexpr const char* kUsageHint = "try 'gpu-waiter --help'";

/// Options that shape a run of a COMMAND and mean nothing to --status, --cancel or --version.
constexpr std::array kRunOnly{"--count",         "--gpus",     "--min-free-memory", "--max-util",
                              "--idle-for",      "--poll",     "--timeout",         "--hold-fraction",
                              "--hold-max",      "--no-hold",  "--visible-devices", "-I",
                              "--name",          "--detach",   "--log"};

const char* mode_flag(Mode mode) {
    switch (mode) {
        case Mode::status: return "--status";
        case Mode::cancel: return "--cancel";
        case Mode::version: return "--version";
        default: return "";
    }
}

void check_mode_options(const RawOptions& raw, Mode mode) {
    if (mode == Mode::run || mode == Mode::holder || mode == Mode::complete) return;
    for (const char* option : kRunOnly) {
        if (raw.has(option)) {
            throw Error(fmt::format("{} applies to running a COMMAND, not to {}", option,
                                    mode_flag(mode)),
                        kUsageHint);
        }
    }
}

void check_status_options(const RawOptions& raw, Mode mode) {
    for (const char* option : {"--json", "--watch", "--mine", "--user"}) {
        if (raw.has(option) && mode != Mode::status) {
            throw Error(fmt::format("{} goes with --status", option),
                        fmt::format("gpu-waiter --status {}", option));
        }
    }
    if (raw.json && raw.has("--watch")) {
        throw Error("--json prints one document; --watch redraws a screen: choose one",
                    "for a stream of documents, run --status --json in a loop");
    }
    if (raw.mine && raw.has("--user")) {
        throw Error("--mine and --user both choose whose jobs to show: give one");
    }
}

void check_run_options(const RawOptions& raw, Mode mode, const std::vector<std::string>& command) {
    if (raw.quiet && raw.verbose) throw Error("-q (errors only) and -v (more detail) contradict");
    if (raw.has("--log") && !raw.detach && !raw.background) {
        throw Error("--log names the log of a --detach job",
                    "add --detach, or redirect gpu-waiter's own output (2>FILE)");
    }
    if (mode == Mode::run && command.empty()) throw Error("no COMMAND given", kUsageHint);
    if (mode != Mode::run && mode != Mode::holder && mode != Mode::complete && !command.empty()) {
        throw Error(fmt::format("{} takes no COMMAND (got '{}')", mode_flag(mode), command.front()),
                    kUsageHint);
    }
}

/// Levenshtein distance: how many letters to add, remove or change to turn `a` into `b`.
std::size_t distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

Mode mode_of(const RawOptions& raw) {
    if (raw.holder) return Mode::holder;
    if (raw.has("--internal-complete")) return Mode::complete;
    std::vector<Mode> asked;
    if (raw.status || raw.has("--watch")) asked.push_back(Mode::status);
    if (raw.has("--cancel")) asked.push_back(Mode::cancel);
    if (raw.version) asked.push_back(Mode::version);
    if (asked.size() > 1) {
        throw Error(fmt::format("{} and {} cannot be combined", mode_flag(asked[0]),
                                mode_flag(asked[1])),
                    "run gpu-waiter once for each");
    }
    return asked.empty() ? Mode::run : asked.front();
}

void check_combinations(const RawOptions& raw, Mode mode, const std::vector<std::string>& command) {
    check_mode_options(raw, mode);
    check_status_options(raw, mode);
    check_run_options(raw, mode, command);
}

std::optional<std::string> closest_option(const std::string& typed,
                                          const std::vector<std::string>& known) {
    std::string word = typed.substr(0, typed.find('='));
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    for (const std::string& option : known) {
        std::size_t d = distance(word, option);
        if (!best || d < best_distance) {
            best = option;
            best_distance = d;
        }
    }
    // Close enough to be a typo: a third of the word (at least one letter) may differ.
    if (!best || best_distance > std::max<std::size_t>(1, word.size() / 3)) return std::nullopt;
    return best;
}

}  // namespace gw
