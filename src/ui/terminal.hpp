// What gpu-waiter needs to know about the terminal it writes to: whether there is one, and how
// wide it is, so that tables and the status line fit instead of wrapping.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace gw {

enum class Stream { out, err };

/// Whether the stream is a terminal (isatty / a console).
[[nodiscard]] bool is_terminal(Stream stream);

/// The terminal's width in columns; nullopt when the stream is no terminal.
[[nodiscard]] std::optional<std::size_t> terminal_columns(Stream stream);

/// How many columns `text` (UTF-8) takes: one per character; escapes are not expected.
[[nodiscard]] std::size_t display_width(const std::string& text);

/// `text` cut to at most `width` columns, ending in "…" when it was cut.
[[nodiscard]] std::string fit(const std::string& text, std::size_t width);

}  // namespace gw
