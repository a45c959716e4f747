// Converting option texts to values, with errors in gpu-waiter's words rather than a parser's.
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "cli/options_raw.hpp"
#include "common/error.hpp"
#include "common/units.hpp"
#include "policy/candidates.hpp"

namespace gw {
namespace {

Duration to_duration(const std::string& text, const char* option) {
    auto d = parse_duration(text);
    if (!d) {
        throw Error(fmt::format("{}: '{}' is not a duration", option, text),
                    "use e.g. 500ms, 2s, 1.5m, 3h, or a number of seconds");
    }
    return *d;
}

SizeSpec to_size(const std::string& text, const char* option) {
    auto s = parse_size(text);
    if (!s) {
        throw Error(fmt::format("{}: '{}' is not a size", option, text),
                    "use e.g. 20GiB, 512MiB, 1.5G or 40%");
    }
    return *s;
}

/// A whole number in [low, high]; `what` names it in the error ("a number of GPUs").
unsigned to_whole(const std::string& text, const char* option, const char* what, unsigned low,
                  unsigned high) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
        throw Error(fmt::format("{}: '{}' is not {}", option, text, what),
                    fmt::format("give a whole number from {} to {}", low, high));
    }
    return value;
}

double to_fraction(const std::string& text) {
    double value = -1;
    auto [end, ec] = from_chars_double(text.data(), text.data() + text.size(), value);
    // std::isnan: from_chars reads "nan", and every comparison with NaN is false.
    if (ec != std::errc{} || end != text.data() + text.size() || std::isnan(value) || value < 0 ||
        value > 0.95) {
        throw Error(fmt::format("--hold-fraction: '{}' is not a fraction from 0 to 0.95", text),
                    "e.g. 0.25 holds a quarter of the free memory; --no-hold holds none");
    }
    return value;
}

void check_name(const std::string& name) {
    bool digits = name.find_first_not_of("0123456789") == std::string::npos;
    // A name goes into file names, logs and shells' completions: nothing that needs quoting.
    bool plain = name.find_first_not_of(
                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-_.") == std::string::npos;
    if (name.empty() || name.size() > 64 || digits || !plain) {
        throw Error(fmt::format("--name: '{}' cannot name a job", name),
                    "use up to 64 letters, digits, '-', '_' or '.', not digits alone (those are "
                    "job ids)");
    }
}

void convert_run(const RawOptions& raw, Options& o) {
    if (raw.has("--count")) {
        o.count = to_whole(raw.count, "-n/--count", "a number of GPUs", 1, 1024);
    }
    if (raw.has("--min-free-memory")) {
        o.rule.min_free_memory = to_size(raw.min_free, "--min-free-memory");
    }
    if (raw.has("--max-util")) {
        o.rule.max_utilization = to_whole(raw.max_util, "--max-util", "a percentage", 0, 100);
    }
    if (raw.has("--idle-for")) o.idle_for = to_duration(raw.idle_for, "--idle-for");
    if (raw.has("--poll")) o.poll = to_duration(raw.poll, "--poll");
    if (o.poll < std::chrono::milliseconds(10)) {
        auto default_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kDefaultPoll);
        throw Error("--poll: at least 10ms",
                    fmt::format("the default, {}ms, costs almost nothing", default_ms.count()));
    }
    if (raw.has("--timeout")) o.timeout = to_duration(raw.timeout, "--timeout");
    if (raw.has("--hold-fraction")) o.hold_fraction = to_fraction(raw.hold_fraction);
    if (raw.has("--hold-max")) o.hold_max = to_duration(raw.hold_max, "--hold-max");
    o.hold = !raw.no_hold;
    if (raw.has("--visible-devices")) {
        if (raw.visible != "index" && raw.visible != "uuid") {
            throw Error(
                fmt::format("--visible-devices: '{}' is neither index nor uuid", raw.visible),
                "index: CUDA numbers (the default); uuid: the GPUs' UUIDs");
        }
        o.visible_devices = raw.visible == "uuid" ? VisibleDevices::uuid : VisibleDevices::index;
    }
    if (raw.has("-I")) {
        if (raw.replace.empty()) throw Error("-I: the replace string is empty");
        o.replace = raw.replace;
    }
}

void convert_jobs(const RawOptions& raw, Options& o) {
    if (raw.has("--name")) {
        check_name(raw.name);
        o.name = raw.name;
    }
    o.detach = raw.detach;
    o.background = raw.background;
    if (raw.has("--log")) {
        if (raw.log.empty()) throw Error("--log: the file name is empty");
        o.log_file = raw.log;
    }
    if (raw.has("--watch")) {
        o.watch = raw.watch.empty() ? kWatchDefault : to_duration(raw.watch, "--watch");
        if (*o.watch < std::chrono::milliseconds(100)) {
            throw Error("--watch: at least 100ms", "watch(1)'s default, 2s, is plenty");
        }
    }
    if (raw.has("--user")) {
        if (raw.user.empty()) throw Error("--user: the user name is empty");
        o.only_user = raw.user;
    }
    if (raw.has("--cancel")) {
        if (raw.cancel.empty()) throw Error("--cancel: give the job's id or name");
        o.cancel = raw.cancel;
    }
}

}  // namespace

void convert(const RawOptions& raw, Options& o, EnvLookup env) {
    convert_run(raw, o);
    convert_jobs(raw, o);
    o.json = raw.json;
    o.complete = raw.complete;
    o.mine = raw.mine;
    o.lock_dir = raw.has("--lock-dir") ? raw.lock_dir
                                       : env("GPU_WAITER_LOCK_DIR").value_or(default_lock_dir(env));
    if (o.lock_dir.empty()) throw Error("--lock-dir: the directory name is empty");
    o.verbosity = raw.quiet     ? Verbosity::quiet
                  : raw.verbose ? Verbosity::verbose
                                : Verbosity::normal;
}

}  // namespace gw
