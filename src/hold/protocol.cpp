#include "hold/protocol.hpp"

#include <charconv>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "common/units.hpp"

namespace gw::hold {

std::string encode(const Request& r) {
    if (r.kind == Request::Kind::hold) return fmt::format("hold {} {}\n", r.uuid, r.fraction);
    return fmt::format("release {}\n", r.uuid);
}

std::string encode(const Reply& r) {
    switch (r.kind) {
        case Reply::Kind::held:
            return fmt::format("held {} {} {}\n", r.uuid, r.bytes, r.ordinal);
        case Reply::Kind::failed: {
            std::string text = r.text;
            for (char& c : text)
                if (c == '\n') c = ' ';
            return fmt::format("failed {} {}\n", r.uuid, text);
        }
        case Reply::Kind::released:
            return fmt::format("released {}\n", r.uuid);
    }
    return {};
}

namespace {

std::vector<std::string> words(std::string line, std::size_t max_words) {
    // The last word keeps the rest of the line (the free text of "failed").
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= line.size() && out.size() + 1 < max_words) {
        std::size_t space = line.find(' ', pos);
        if (space == std::string::npos) break;
        out.push_back(line.substr(pos, space - pos));
        pos = space + 1;
    }
    if (pos <= line.size()) out.push_back(line.substr(pos));
    return out;
}

template <typename T>
std::optional<T> number(const std::string& text) {
    T value{};
    if (text.empty() || text.front() == '-' || text.front() == '+') return std::nullopt;
    const char* last = text.data() + text.size();
    std::from_chars_result result{};
    if constexpr (std::is_same_v<T, double>) {
        result = from_chars_double(text.data(), last, value);
    } else {
        result = std::from_chars(text.data(), last, value);
    }
    if (result.ec != std::errc{} || result.ptr != last) return std::nullopt;
    return value;
}

}  // namespace

std::optional<Request> decode_request(const std::string& line) {
    auto w = words(line, 3);
    if (w.size() == 2 && w[0] == "release" && !w[1].empty()) {
        return Request{Request::Kind::release, w[1], 0};
    }
    if (w.size() != 3 || w[0] != "hold" || w[1].empty()) return std::nullopt;
    auto fraction = number<double>(w[2]);
    if (!fraction || *fraction > 1) return std::nullopt;
    return Request{Request::Kind::hold, w[1], *fraction};
}

std::optional<Reply> decode_reply(const std::string& line) {
    auto w = words(line, 4);
    if (w.size() < 2 || w[1].empty()) return std::nullopt;
    if (w[0] == "released" && w.size() == 2) return Reply{Reply::Kind::released, w[1], 0, -1, {}};
    if (w[0] == "failed") {
        std::string text = w.size() > 2 ? w[2] + (w.size() == 4 ? " " + w[3] : "") : "";
        return Reply{Reply::Kind::failed, w[1], 0, -1, text};
    }
    if (w[0] == "held" && w.size() == 4) {
        auto bytes = number<std::uint64_t>(w[2]);
        auto ordinal = number<int>(w[3]);
        if (bytes && ordinal) return Reply{Reply::Kind::held, w[1], *bytes, *ordinal, {}};
    }
    return std::nullopt;
}

std::vector<Reply> take_replies(std::string& received) {
    std::vector<Reply> out;
    for (std::size_t nl; (nl = received.find('\n')) != std::string::npos;) {
        if (auto r = decode_reply(received.substr(0, nl))) out.push_back(std::move(*r));
        received.erase(0, nl + 1);
    }
    return out;
}

}  // namespace gw::hold
