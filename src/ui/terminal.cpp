#include "ui/terminal.hpp"

namespace gw {
namespace {

bool continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

std::size_t display_width(const std::string& text) {
    std::size_t n = 0;
    for (char c : text) n += continuation(c) ? 0u : 1u;
    return n;
}

std::string fit(const std::string& text, std::size_t width) {
    if (display_width(text) <= width) return text;
    if (width == 0) return {};
    std::string out;
    std::size_t columns = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!continuation(text[i]) && ++columns > width - 1) break;
        out += text[i];
    }
    return out + "…";
}

}  // namespace gw
