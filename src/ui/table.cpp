#include "ui/table.hpp"

#include <algorithm>
#include <numeric>

#include "ui/terminal.hpp"

namespace gw {
namespace {

constexpr std::size_t kGap = 2;       // spaces between columns
constexpr std::size_t kMinFlex = 12;  // a shrinking column keeps at least this much

}  // namespace

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(columns_.size());
    rows_.push_back(std::move(cells));
}

std::vector<std::size_t> Table::widths(std::size_t limit) const {
    std::vector<std::size_t> w;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
        std::size_t width = display_width(columns_[c].header);
        for (const auto& row : rows_) width = std::max(width, display_width(row[c]));
        w.push_back(width);
    }
    if (limit == 0 || w.empty()) return w;
    std::size_t total = std::accumulate(w.begin(), w.end(), std::size_t{0}) + kGap * (w.size() - 1);
    // Shrink the flexible columns, rightmost first, until the table fits.
    for (std::size_t c = w.size(); c-- > 0 && total > limit;) {
        if (columns_[c].flex != Flex::shrinks) continue;
        std::size_t floor = std::min(w[c], std::max(kMinFlex, display_width(columns_[c].header)));
        std::size_t cut = std::min(w[c] - floor, total - limit);
        w[c] -= cut;
        total -= cut;
    }
    return w;
}

std::string Table::line(const std::vector<std::string>& cells,
                        const std::vector<std::size_t>& widths) const {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
        std::string text = fit(cells[c], widths[c]);
        std::string pad(widths[c] - display_width(text), ' ');
        bool last = c + 1 == cells.size();
        if (columns_[c].align == Align::right) {
            out += pad + text;
        } else {
            out += text + (last ? "" : pad);
        }
        if (!last) out += std::string(kGap, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::string Table::render(std::size_t width) const {
    std::vector<std::size_t> w = widths(width);
    std::vector<std::string> headers;
    for (const Column& c : columns_) headers.push_back(c.header);
    // Still too wide (too many fixed columns for the terminal): cut the line itself.
    auto cut = [width](const std::string& text) { return width > 0 ? fit(text, width) : text; };
    std::string out = cut(line(headers, w)) + "\n";
    for (const auto& row : rows_) out += cut(line(row, w)) + "\n";
    return out;
}

}  // namespace gw
