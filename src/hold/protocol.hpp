// The line protocol between gpu-waiter and its holder process, over two pipes. One message per
// line, words separated by single spaces; the last field of "failed" is free text.
//   gpu-waiter -> holder:  hold UUID FRACTION | release UUID
//   holder -> gpu-waiter:  held UUID BYTES ORDINAL | failed UUID TEXT | released UUID
// A unit is named by its UUID, as the locks and the queue name it: "GPU-…" for a whole GPU,
// "MIG-…" for a MIG instance (instances share their parent's PCI bus id).
// Pure code, so both sides and the tests agree on one definition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gw::hold {

struct Request {
    enum class Kind { hold, release } kind = Kind::hold;
    std::string uuid;
    double fraction = 0;
};

struct Reply {
    enum class Kind { held, failed, released } kind = Kind::held;
    std::string uuid;
    std::uint64_t bytes = 0;
    int ordinal = -1;
    std::string text;  // why, for "failed"
};

[[nodiscard]] std::string encode(const Request& request);
[[nodiscard]] std::string encode(const Reply& reply);
/// nullopt for a malformed line (the peer is not the version we expect).
[[nodiscard]] std::optional<Request> decode_request(const std::string& line);
[[nodiscard]] std::optional<Reply> decode_reply(const std::string& line);
/// Removes the complete lines from `received` and decodes them, dropping malformed ones; an
/// incomplete last line stays for the next read.
[[nodiscard]] std::vector<Reply> take_replies(std::string& received);

}  // namespace gw::hold
