// Windows hands a program one command-line string, which the program splits into argv again
// (CommandLineToArgvW and the Microsoft C runtime follow the same rules). Building that string
// is pure code, so it is compiled and unit-tested on every platform.
#pragma once

#include <string>
#include <vector>

namespace gw {

/// The command line that Windows programs split back into exactly `argv`. argv[0], which the
/// rules read up to the next space or closing quote, is quoted when it holds a space or tab;
/// every other argument when it is empty or holds a space, tab, newline or quote, with the
/// backslashes before a quote (and before the closing quote) doubled and the quote escaped.
[[nodiscard]] std::string windows_command_line(const std::vector<std::string>& argv);

}  // namespace gw
