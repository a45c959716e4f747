#include "process/windows_command_line.hpp"

namespace gw {
namespace {

void append_program(std::string& out, const std::string& program) {
    // Windows file names cannot hold quotes, so plain quotes around it are always enough.
    if (program.find_first_of(" \t") == std::string::npos && !program.empty()) {
        out += program;
    } else {
        out += '"' + program + '"';
    }
}

void append_argument(std::string& out, const std::string& arg) {
    if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string::npos) {
        out += arg;
        return;
    }
    out += '"';
    std::size_t backslashes = 0;
    for (char c : arg) {
        if (c == '\\') {
            ++backslashes;
            continue;
        }
        // Backslashes are literal unless a quote follows them: then each one is doubled, and
        // one more escapes the quote itself.
        out.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
        out += c;
        backslashes = 0;
    }
    out.append(backslashes * 2, '\\');  // before the closing quote
    out += '"';
}

}  // namespace

std::string windows_command_line(const std::vector<std::string>& argv) {
    std::string out;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        if (i == 0) {
            append_program(out, argv[0]);
        } else {
            out += ' ';
            append_argument(out, argv[i]);
        }
    }
    return out;
}

}  // namespace gw
