#include <gtest/gtest.h>
#include "common/units.hpp"
TEST(Units, Placeholder) { EXPECT_TRUE(gw::parse_duration("1s")); }
