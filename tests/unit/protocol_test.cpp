// hold/protocol: the line protocol between gpu-waiter and its holder process.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "hold/protocol.hpp"

namespace {

using gw::hold::Reply;
using gw::hold::Request;

const std::string kUuid = "GPU-5a0f1e2d-0000-4c3b-9a87-0123456789ab";

Request hold_request(double fraction) {
    Request r;
    r.kind = Request::Kind::hold;
    r.uuid = kUuid;
    r.fraction = fraction;
    return r;
}

TEST(Protocol, HoldRequestWireForm) {
    EXPECT_EQ(gw::hold::encode(hold_request(0.25)),
              "hold GPU-5a0f1e2d-0000-4c3b-9a87-0123456789ab 0.25\n");
}

TEST(Protocol, HoldRequestRoundTrip) {
    for (double fraction : {0.0, 0.25, 0.1, 0.95, 1.0 / 3.0}) {
        auto back = gw::hold::decode_request(gw::hold::encode(hold_request(fraction)));
        ASSERT_TRUE(back.has_value()) << fraction;
        EXPECT_EQ(back->kind, Request::Kind::hold);
        EXPECT_EQ(back->uuid, kUuid);
        EXPECT_DOUBLE_EQ(back->fraction, fraction);
    }
}

TEST(Protocol, ReleaseRequestRoundTrip) {
    Request r;
    r.kind = Request::Kind::release;
    r.uuid = kUuid;
    std::string line = gw::hold::encode(r);
    EXPECT_EQ(line, "release GPU-5a0f1e2d-0000-4c3b-9a87-0123456789ab\n");
    auto back = gw::hold::decode_request(line);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, Request::Kind::release);
    EXPECT_EQ(back->uuid, kUuid);
}

TEST(Protocol, RequestWithoutTrailingNewline) {
    auto back = gw::hold::decode_request("hold MIG-0b1c2d3e-4f50-5617-8899-aabbccddeeff 0.5");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->uuid, "MIG-0b1c2d3e-4f50-5617-8899-aabbccddeeff");
    EXPECT_DOUBLE_EQ(back->fraction, 0.5);
}

TEST(Protocol, MalformedRequests) {
    for (const char* bad : {"", "\n", "hold", "hold 00000000:17:00.0", "hold 00000000:17:00.0\n",
                            "hold 00000000:17:00.0 half", "hold 00000000:17:00.0 1.5",
                            "hold 00000000:17:00.0 -0.1", "release", "release\n", "grab x 0.5",
                            "held 00000000:17:00.0 1 0", "HOLD 00000000:17:00.0 0.5"}) {
        EXPECT_FALSE(gw::hold::decode_request(bad).has_value()) << "'" << bad << "'";
    }
}

TEST(Protocol, HeldReplyRoundTrip) {
    Reply r;
    r.kind = Reply::Kind::held;
    r.uuid = kUuid;
    r.bytes = (std::uint64_t{20} << 30) + 12345;
    r.ordinal = 3;
    std::string line = gw::hold::encode(r);
    EXPECT_EQ(line, "held GPU-5a0f1e2d-0000-4c3b-9a87-0123456789ab 21474848825 3\n");
    auto back = gw::hold::decode_reply(line);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, Reply::Kind::held);
    EXPECT_EQ(back->uuid, kUuid);
    EXPECT_EQ(back->bytes, r.bytes);
    EXPECT_EQ(back->ordinal, 3);
}

TEST(Protocol, HeldReplyWithLargeValues) {
    Reply r;
    r.kind = Reply::Kind::held;
    r.uuid = kUuid;
    r.bytes = UINT64_MAX;
    r.ordinal = 0;
    auto back = gw::hold::decode_reply(gw::hold::encode(r));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->bytes, UINT64_MAX);
    EXPECT_EQ(back->ordinal, 0);
}

TEST(Protocol, FailedReplyKeepsTextWithSpaces) {
    Reply r;
    r.kind = Reply::Kind::failed;
    r.uuid = kUuid;
    r.text = "cuMemAlloc: out of memory (2 GiB asked)";
    std::string line = gw::hold::encode(r);
    EXPECT_EQ(line,
              "failed GPU-5a0f1e2d-0000-4c3b-9a87-0123456789ab cuMemAlloc: out of memory (2 GiB "
              "asked)\n");
    auto back = gw::hold::decode_reply(line);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, Reply::Kind::failed);
    EXPECT_EQ(back->uuid, kUuid);
    EXPECT_EQ(back->text, r.text);
}

TEST(Protocol, FailedReplyTextStaysOnOneLine) {
    Reply r;
    r.kind = Reply::Kind::failed;
    r.uuid = kUuid;
    r.text = "first\nsecond";
    std::string line = gw::hold::encode(r);
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    auto back = gw::hold::decode_reply(line);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->text, "first second");
}

TEST(Protocol, FailedReplyWithoutText) {
    auto back = gw::hold::decode_reply("failed GPU-5a0f1e2d-0000-4c3b-9a87-0123456789ab\n");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, Reply::Kind::failed);
    EXPECT_EQ(back->uuid, kUuid);
    EXPECT_TRUE(back->text.empty()) << back->text;
}

TEST(Protocol, ReleasedReplyRoundTrip) {
    Reply r;
    r.kind = Reply::Kind::released;
    r.uuid = kUuid;
    std::string line = gw::hold::encode(r);
    EXPECT_EQ(line, "released GPU-5a0f1e2d-0000-4c3b-9a87-0123456789ab\n");
    auto back = gw::hold::decode_reply(line);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, Reply::Kind::released);
    EXPECT_EQ(back->uuid, kUuid);
}

TEST(Protocol, MalformedReplies) {
    for (const char* bad :
         {"", "\n", "held", "held 00000000:17:00.0", "held 00000000:17:00.0 12",
          "held 00000000:17:00.0 lots 1", "held 00000000:17:00.0 12 first", "failed", "released",
          "hold 00000000:17:00.0 0.5", "ok 00000000:17:00.0"}) {
        EXPECT_FALSE(gw::hold::decode_reply(bad).has_value()) << "'" << bad << "'";
    }
}

TEST(Protocol, RequestsAreNotReplies) {
    EXPECT_FALSE(gw::hold::decode_reply(gw::hold::encode(hold_request(0.25))).has_value());
    Reply r;
    r.kind = Reply::Kind::held;
    r.uuid = kUuid;
    r.bytes = 1;
    r.ordinal = 0;
    EXPECT_FALSE(gw::hold::decode_request(gw::hold::encode(r)).has_value());
}

TEST(Protocol, TakeRepliesKeepsAnIncompleteLineAndDropsMalformedOnes) {
    std::string received = "held " + std::string(kUuid) + " 1024 3\r\nnonsense\nreleased 0000";
    auto replies = gw::hold::take_replies(received);
    ASSERT_EQ(replies.size(), 1u);  // the \r a Windows holder's text-mode output adds is fine
    EXPECT_EQ(replies[0].kind, Reply::Kind::held);
    EXPECT_EQ(replies[0].ordinal, 3);
    EXPECT_EQ(received, "released 0000");
    received += "\n";
    replies = gw::hold::take_replies(received);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].kind, Reply::Kind::released);
    EXPECT_TRUE(received.empty());
}

}  // namespace
