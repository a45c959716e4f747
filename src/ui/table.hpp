// A plain text table: a header, columns aligned, and (when a width is given) the flexible
// columns cut so that no line is wider than the terminal.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gw {

enum class Align { left, right };
enum class Flex { fixed, shrinks };  // a shrinking column gives way when the table is too wide

struct Column {
    std::string header;
    Align align = Align::left;
    Flex flex = Flex::fixed;
};

class Table {
public:
    explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
    void add_row(std::vector<std::string> cells);
    [[nodiscard]] bool empty() const { return rows_.empty(); }
    /// The lines of the table, each ending in '\n'; `width` 0 means no limit.
    [[nodiscard]] std::string render(std::size_t width) const;

private:
    [[nodiscard]] std::vector<std::size_t> widths(std::size_t limit) const;
    [[nodiscard]] std::string line(const std::vector<std::string>& cells,
                                   const std::vector<std::size_t>& widths) const;
    std::vector<Column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace gw
