// --status as people read it: three aligned tables (GPUs, their processes, the queue) that fit
// the terminal's width, rendered from the same document --json prints.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace gw {

/// The view of collect_status's document; `width` 0 means no limit (not a terminal).
[[nodiscard]] std::string render_status(const nlohmann::json& doc, std::size_t width);

/// "42s", "12m", "3h05m", "2d04h": an age at a glance.
[[nodiscard]] std::string short_age(long long seconds);

}  // namespace gw
