// Parsing of the DURATION and SIZE values of the command line (shared/design/cli.md).
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

/// std::from_chars for a double (the general format, in the C locale): libc++, the C++ library of
/// macOS and FreeBSD, has it only from LLVM 20 on.
[[nodiscard]] std::from_chars_result from_chars_double(const char* first, const char* last,
                                                       double& value);

using Duration = std::chrono::nanoseconds;
/// A moment of the wait: steady, never set back.
using TimePoint = std::chrono::steady_clock::time_point;

/// "500ms", "2s", "1.5m", "3h", or a bare number of seconds. nullopt when malformed or negative.
[[nodiscard]] std::optional<Duration> parse_duration(std::string_view text);

/// A memory amount: absolute bytes, or a percentage of a GPU's total memory.
struct SizeSpec {
    enum class Kind { bytes, percent };
    Kind kind = Kind::bytes;
    double value = 0;  // bytes, or percent in [0, 100]

    /// The amount in bytes on a GPU with `total` bytes.
    [[nodiscard]] std::uint64_t bytes_of(std::uint64_t total) const;
};

/// "20GiB", "512MiB", "1G" (binary), "4096" (bytes), "40%". nullopt when malformed.
[[nodiscard]] std::optional<SizeSpec> parse_size(std::string_view text);

/// "1.5 GiB", "512.0 MiB", "100 B": for messages.
[[nodiscard]] std::string format_bytes(std::uint64_t bytes);

/// "2.5s", "1m05s", "3h02m": for messages.
[[nodiscard]] std::string format_duration(Duration d);

}  // namespace gw
