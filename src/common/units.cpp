#include "common/units.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace gw {
namespace {

/// Splits "1.5GiB" into 1.5 and "GiB"; nullopt when there is no leading non-negative number.
std::optional<std::pair<double, std::string_view>> split_number(std::string_view text) {
    double value = 0;
    auto [end, ec] = from_chars_double(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || !std::isfinite(value) || value < 0) return std::nullopt;
    return std::pair{value, text.substr(static_cast<std::size_t>(end - text.data()))};
}

}  // namespace

std::from_chars_result from_chars_double(const char* first, const char* last, double& value) {
#ifndef _LIBCPP_VERSION
    return std::from_chars(first, last, value);
#else
    // strtod, kept to what from_chars reads: no leading space or '+', and "0x1" is 0 then "x1".
    // gpu-waiter never calls setlocale, so strtod's decimal point is '.' as from_chars' is.
    std::string text(first, last);
    const char* digits = text.c_str() + (text.starts_with('-') ? 1 : 0);
    if (text.empty() || text.front() == '+' ||
        std::isspace(static_cast<unsigned char>(text.front())))
        return {first, std::errc::invalid_argument};
    if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        value = text.starts_with('-') ? -0.0 : 0.0;
        return {first + (digits + 1 - text.c_str()), std::errc{}};
    }
    char* end = nullptr;
    errno = 0;
    double parsed = std::strtod(text.c_str(), &end);
    if (end == text.c_str()) return {first, std::errc::invalid_argument};
    const char* stop = first + (end - text.c_str());
    if (errno == ERANGE) return {stop, std::errc::result_out_of_range};
    value = parsed;
    return {stop, std::errc{}};
#endif
}

std::optional<Duration> parse_duration(std::string_view text) {
    auto split = split_number(text);
    if (!split) return std::nullopt;
    auto [value, unit] = *split;
    static constexpr std::array<std::pair<std::string_view, double>, 6> units{{
        {"", 1.0},
        {"s", 1.0},
        {"ms", 1e-3},
        {"m", 60.0},
        {"h", 3600.0},
        {"d", 86400.0},
    }};
    for (auto [name, seconds] : units) {
        if (unit == name) {
            double ns = value * seconds * 1e9;
            if (ns > 9e18) return std::nullopt;
            return Duration(static_cast<std::int64_t>(std::llround(ns)));
        }
    }
    return std::nullopt;
}

std::uint64_t SizeSpec::bytes_of(std::uint64_t total) const {
    if (kind == Kind::bytes) return static_cast<std::uint64_t>(value);
    return static_cast<std::uint64_t>(static_cast<double>(total) * value / 100.0);
}

std::optional<SizeSpec> parse_size(std::string_view text) {
    auto split = split_number(text);
    if (!split) return std::nullopt;
    auto [value, unit] = *split;
    if (unit == "%") {
        if (value > 100) return std::nullopt;
        return SizeSpec{SizeSpec::Kind::percent, value};
    }
    static constexpr std::array<std::pair<std::string_view, int>, 10> units{{
        {"", 0},
        {"B", 0},
        {"KiB", 10},
        {"MiB", 20},
        {"GiB", 30},
        {"TiB", 40},
        {"K", 10},
        {"M", 20},
        {"G", 30},
        {"T", 40},
    }};
    for (auto [name, shift] : units) {
        if (unit != name) continue;
        double bytes = std::ldexp(value, shift);
        // 2^64 bytes and more do not fit the driver's counters: such a size is a typo, and
        // converting it would wrap (or, for a double, be undefined behaviour).
        if (bytes >= std::ldexp(1.0, 64)) return std::nullopt;
        return SizeSpec{SizeSpec::Kind::bytes, bytes};
    }
    return std::nullopt;
}

std::string format_bytes(std::uint64_t bytes) {
    static constexpr std::array<const char*, 5> names{"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < names.size()) {
        value /= 1024;
        ++unit;
    }
    if (unit == 0) return fmt::format("{} B", bytes);
    return fmt::format("{:.1f} {}", value, names[unit]);
}

std::string format_duration(Duration d) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(d).count();
    if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
    auto s = ms / 1000;
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace gw
