// common/units: DURATION and SIZE as the contract spells them, and their message forms.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/units.hpp"

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::uint64_t kKiB = std::uint64_t{1} << 10;
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
constexpr std::uint64_t kTiB = std::uint64_t{1} << 40;

/// Nanoseconds of a parsed duration, or -1 when it did not parse.
std::int64_t ns(std::string_view text) {
    auto d = gw::parse_duration(text);
    return d ? d->count() : -1;
}

std::int64_t ns_of(gw::Duration d) {
    return d.count();
}

/// Bytes of a parsed absolute size; fails the test when it is not one.
double size_bytes(std::string_view text) {
    auto s = gw::parse_size(text);
    EXPECT_TRUE(s.has_value()) << text;
    if (!s) return -1;
    EXPECT_EQ(s->kind, gw::SizeSpec::Kind::bytes) << text;
    return s->value;
}

TEST(ParseDuration, ContractExamples) {
    EXPECT_EQ(ns("500ms"), ns_of(milliseconds(500)));
    EXPECT_EQ(ns("2s"), ns_of(seconds(2)));
    EXPECT_EQ(ns("1.5m"), ns_of(seconds(90)));
    EXPECT_EQ(ns("3h"), ns_of(hours(3)));
}

TEST(ParseDuration, BareNumberIsSeconds) {
    EXPECT_EQ(ns("10"), ns_of(seconds(10)));
    EXPECT_EQ(ns("0.25"), ns_of(milliseconds(250)));
    EXPECT_EQ(ns("0"), 0);
    EXPECT_EQ(ns("0s"), 0);
}

TEST(ParseDuration, FractionsOfEveryUnit) {
    EXPECT_EQ(ns("1.5s"), ns_of(milliseconds(1500)));
    EXPECT_EQ(ns("0.5h"), ns_of(minutes(30)));
    EXPECT_EQ(ns("2.5ms"), 2'500'000);
    EXPECT_EQ(ns("90m"), ns_of(minutes(90)));
}

TEST(ParseDuration, RejectsMalformed) {
    for (std::string_view bad :
         {"", "s", "ms", "abc", "1x", "1 s", " 1s", "1s ", "1sec", "1S", "1.5.5s", "--1", "1ms2"}) {
        EXPECT_FALSE(gw::parse_duration(bad).has_value()) << "'" << bad << "'";
    }
}

TEST(ParseDuration, RejectsNegativeAndNonFinite) {
    for (std::string_view bad : {"-1", "-1s", "-0.5m", "inf", "nan", "infs"}) {
        EXPECT_FALSE(gw::parse_duration(bad).has_value()) << "'" << bad << "'";
    }
}

TEST(ParseDuration, RejectsWhatOverflowsNanoseconds) {
    EXPECT_FALSE(gw::parse_duration("1e30").has_value());
    EXPECT_FALSE(gw::parse_duration("1e12h").has_value());
    // About 292 years is the limit of signed 64-bit nanoseconds; a year is fine.
    EXPECT_EQ(ns("8760h"), ns_of(hours(8760)));
}

TEST(ParseSize, BinaryUnitsLongAndShort) {
    EXPECT_DOUBLE_EQ(size_bytes("20GiB"), static_cast<double>(20 * kGiB));
    EXPECT_DOUBLE_EQ(size_bytes("512MiB"), static_cast<double>(512 * kMiB));
    EXPECT_DOUBLE_EQ(size_bytes("1KiB"), static_cast<double>(kKiB));
    EXPECT_DOUBLE_EQ(size_bytes("2TiB"), static_cast<double>(2 * kTiB));
    EXPECT_DOUBLE_EQ(size_bytes("1K"), static_cast<double>(kKiB));
    EXPECT_DOUBLE_EQ(size_bytes("3M"), static_cast<double>(3 * kMiB));
    EXPECT_DOUBLE_EQ(size_bytes("1G"), static_cast<double>(kGiB));
    EXPECT_DOUBLE_EQ(size_bytes("1T"), static_cast<double>(kTiB));
    EXPECT_DOUBLE_EQ(size_bytes("1.5G"), static_cast<double>(kGiB + kGiB / 2));
}

TEST(ParseSize, PlainBytes) {
    EXPECT_DOUBLE_EQ(size_bytes("4096"), 4096.0);
    EXPECT_DOUBLE_EQ(size_bytes("4096B"), 4096.0);
    EXPECT_DOUBLE_EQ(size_bytes("0"), 0.0);
}

TEST(ParseSize, Percent) {
    auto s = gw::parse_size("40%");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->kind, gw::SizeSpec::Kind::percent);
    EXPECT_DOUBLE_EQ(s->value, 40.0);

    auto all = gw::parse_size("100%");
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(all->kind, gw::SizeSpec::Kind::percent);
    EXPECT_DOUBLE_EQ(all->value, 100.0);

    auto frac = gw::parse_size("12.5%");
    ASSERT_TRUE(frac.has_value());
    EXPECT_DOUBLE_EQ(frac->value, 12.5);
}

TEST(ParseSize, RejectsMalformed) {
    for (std::string_view bad : {"", "GiB", "%", "abc", "-1", "-1GiB", "101%", "1GB", "1gib",
                                 "1 GiB", "20GiB ", "1Gi", "1PiB", "inf", "nanGiB", "40%%"}) {
        EXPECT_FALSE(gw::parse_size(bad).has_value()) << "'" << bad << "'";
    }
}

TEST(ParseSize, RejectsSizesPastSixtyFourBits) {
    // 2^64 bytes would wrap to 0 when converted: a huge typo must not mean "any GPU qualifies".
    for (std::string_view big : {"16777216TiB", "1e20", "18446744073709551616", "1e300K"}) {
        EXPECT_FALSE(gw::parse_size(big).has_value()) << "'" << big << "'";
    }
    EXPECT_TRUE(gw::parse_size("16777215TiB").has_value());
}

TEST(SizeSpec, BytesIgnoreTheTotal) {
    gw::SizeSpec s{gw::SizeSpec::Kind::bytes, static_cast<double>(20 * kGiB)};
    EXPECT_EQ(s.bytes_of(80 * kGiB), 20 * kGiB);
    EXPECT_EQ(s.bytes_of(0), 20 * kGiB);
}

TEST(SizeSpec, PercentOfTheTotal) {
    gw::SizeSpec forty{gw::SizeSpec::Kind::percent, 40};
    EXPECT_EQ(forty.bytes_of(80 * kGiB), 32 * kGiB);
    gw::SizeSpec half{gw::SizeSpec::Kind::percent, 50};
    EXPECT_EQ(half.bytes_of(1001), 500u);
    gw::SizeSpec all{gw::SizeSpec::Kind::percent, 100};
    EXPECT_EQ(all.bytes_of(24 * kGiB), 24 * kGiB);
    gw::SizeSpec none{gw::SizeSpec::Kind::percent, 0};
    EXPECT_EQ(none.bytes_of(24 * kGiB), 0u);
}

TEST(SizeSpec, ParsedPercentAppliesToTotal) {
    auto s = gw::parse_size("25%");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->bytes_of(40 * kGiB), 10 * kGiB);
}

TEST(FormatBytes, SmallAmountsInBytes) {
    EXPECT_EQ(gw::format_bytes(0), "0 B");
    EXPECT_EQ(gw::format_bytes(1), "1 B");
    EXPECT_EQ(gw::format_bytes(1023), "1023 B");
}

TEST(FormatBytes, LargerAmountsWithOneDecimal) {
    EXPECT_EQ(gw::format_bytes(kKiB + kKiB / 2), "1.5 KiB");
    EXPECT_EQ(gw::format_bytes(kGiB + kGiB / 2), "1.5 GiB");
    EXPECT_EQ(gw::format_bytes(3 * kGiB), "3.0 GiB");
    EXPECT_EQ(gw::format_bytes(80 * kGiB), "80.0 GiB");
    EXPECT_EQ(gw::format_bytes(2 * kTiB + kTiB / 10), "2.1 TiB");
    EXPECT_EQ(gw::format_bytes(1023 * kMiB), "1023.0 MiB");
}

TEST(FormatBytes, TiBIsTheLargestUnit) {
    EXPECT_EQ(gw::format_bytes(2048 * kTiB), "2048.0 TiB");
}

TEST(FormatDuration, UnderAMinuteInSeconds) {
    EXPECT_EQ(gw::format_duration(milliseconds(2500)), "2.5s");
    EXPECT_EQ(gw::format_duration(gw::Duration{0}), "0.0s");
    EXPECT_EQ(gw::format_duration(seconds(59)), "59.0s");
}

TEST(FormatDuration, MinutesAndSeconds) {
    EXPECT_EQ(gw::format_duration(seconds(65)), "1m05s");
    EXPECT_EQ(gw::format_duration(seconds(60)), "1m00s");
    EXPECT_EQ(gw::format_duration(seconds(3599)), "59m59s");
}

TEST(FormatDuration, HoursAndMinutes) {
    EXPECT_EQ(gw::format_duration(hours(3) + minutes(2) + seconds(30)), "3h02m");
    EXPECT_EQ(gw::format_duration(hours(1)), "1h00m");
    EXPECT_EQ(gw::format_duration(hours(100) + minutes(59)), "100h59m");
}

}  // namespace
