// queue/queue: the ticket text of one waiter, encoded and decoded.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "queue/queue.hpp"

namespace {

gw::QueueEntry sample() {
    gw::QueueEntry e;
    e.number = 1234567890123ull;
    e.pid = 4242;
    e.user = "alice";
    e.command = "python train.py --lr \"0.1\"";
    e.count = 2;
    e.candidates = {"GPU-aaaa", "GPU-bbbb", "GPU-cccc"};
    e.since = 1700000000;
    return e;
}

TEST(QueueEntry, RoundTrip) {
    gw::QueueEntry e = sample();
    std::string text = gw::encode_entry(e);
    gw::QueueEntry back;
    ASSERT_TRUE(gw::decode_entry(text, back)) << text;
    EXPECT_EQ(back.number, e.number);
    EXPECT_EQ(back.pid, e.pid);
    EXPECT_EQ(back.user, e.user);
    EXPECT_EQ(back.command, e.command);
    EXPECT_EQ(back.count, e.count);
    EXPECT_EQ(back.candidates, e.candidates);
    EXPECT_EQ(back.since, e.since);
}

TEST(QueueEntry, EncodedAsOneLine) {
    std::string text = gw::encode_entry(sample());
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
}

TEST(QueueEntry, RoundTripOfUnusualText) {
    gw::QueueEntry e = sample();
    e.user = "1001";
    e.command = "sh -c 'echo \\\"hi\\\"\n'; \xc3\xa9t\xc3\xa9";
    e.candidates = {};
    gw::QueueEntry back;
    ASSERT_TRUE(gw::decode_entry(gw::encode_entry(e), back));
    EXPECT_EQ(back.user, "1001");
    EXPECT_EQ(back.command, e.command);
    EXPECT_TRUE(back.candidates.empty());
}

TEST(QueueEntry, OptionalFieldsDefault) {
    gw::QueueEntry back;
    ASSERT_TRUE(
        gw::decode_entry(R"({"number": 7, "pid": 12, "count": 1, "candidates": ["GPU-a"]})", back));
    EXPECT_EQ(back.number, 7u);
    EXPECT_EQ(back.pid, 12);
    EXPECT_EQ(back.count, 1u);
    EXPECT_EQ(back.candidates, (std::vector<std::string>{"GPU-a"}));
    EXPECT_EQ(back.user, "");
    EXPECT_EQ(back.command, "");
    EXPECT_EQ(back.since, 0);
}

TEST(QueueEntry, RejectsGarbage) {
    for (const char* bad :
         {"", "\n", "garbage", "{", "[]", "42", "null", "\"text\"", "{}",
          R"({"pid": 1, "count": 1, "candidates": []})",
          R"({"number": 1, "count": 1, "candidates": []})",
          R"({"number": 1, "pid": 1, "candidates": []})", R"({"number": 1, "pid": 1, "count": 1})",
          R"({"number": "one", "pid": 1, "count": 1, "candidates": []})",
          R"({"number": 1, "pid": 1, "count": 1, "candidates": "GPU-a"})",
          R"({"number": 1, "pid": 1, "count": 1, "candidates": [1, 2]})",
          R"({"number": 1, "pid": 1, "count": 1, "candidates": [], "user": 5})"}) {
        gw::QueueEntry e;
        EXPECT_FALSE(gw::decode_entry(bad, e)) << bad;
    }
}

TEST(QueueEntry, RejectsTruncatedTicket) {
    std::string text = gw::encode_entry(sample());
    gw::QueueEntry e;
    EXPECT_FALSE(gw::decode_entry(text.substr(0, text.size() / 2), e));
}

}  // namespace
