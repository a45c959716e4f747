// ui/table and ui/terminal: aligned columns that fit a width, cut with an ellipsis.
#include <gtest/gtest.h>

#include "ui/status_view.hpp"
#include "ui/table.hpp"
#include "ui/terminal.hpp"

namespace {

TEST(Fit, CutsToTheWidthWithAnEllipsis) {
    EXPECT_EQ(gw::fit("abcdef", 6), "abcdef");
    EXPECT_EQ(gw::fit("abcdef", 4), "abc…");
    EXPECT_EQ(gw::display_width(gw::fit("héllo wörld", 5)), 5u);
    EXPECT_EQ(gw::fit("abc", 0), "");
}

TEST(Table, AlignsColumnsUnderTheirHeaders) {
    gw::Table t({{"GPU", gw::Align::right}, {"STATE"}});
    t.add_row({"0", "free"});
    t.add_row({"10", "busy"});
    EXPECT_EQ(t.render(0), "GPU  STATE\n  0  free\n 10  busy\n");
}

TEST(Table, ShrinksTheFlexibleColumnToFit) {
    gw::Table t({{"PID", gw::Align::right}, {"COMMAND", gw::Align::left, gw::Flex::shrinks}});
    t.add_row({"4242", std::string(100, 'x')});
    std::string out = t.render(40);
    for (std::size_t start = 0, end; (end = out.find('\n', start)) != std::string::npos;
         start = end + 1) {
        EXPECT_LE(gw::display_width(out.substr(start, end - start)), 40u) << out;
    }
    EXPECT_NE(out.find("…"), std::string::npos);
}

TEST(ShortAge, ReadsAtAGlance) {
    EXPECT_EQ(gw::short_age(42), "42s");
    EXPECT_EQ(gw::short_age(720), "12m");
    EXPECT_EQ(gw::short_age(3 * 3600 + 5 * 60), "3h05m");
    EXPECT_EQ(gw::short_age(2 * 86400 + 4 * 3600), "2d04h");
}

}  // namespace
