#include "hold/protocol.hpp"

#include <sstream>

#include <fmt/format.h>

namespace gw::hold {

std::string encode(const Request& r) {
    if (r.kind == Request::Kind::hold) return fmt::format("hold {} {}\n", r.bus_id, r.fraction);
    return fmt::format("release {}\n", r.bus_id);
}

std::string encode(const Reply& r) {
    switch (r.kind) {
        case Reply::Kind::held: return fmt::format("held {} {} {}\n", r.bus_id, r.bytes, r.ordinal);
        case Reply::Kind::failed: {
            std::string text = r.text;
            for (char& c : text) if (c == '\n') c = ' ';
            return fmt::format("failed {} {}\n", r.bus_id, text);
        }
        case Reply::Kind::released: return fmt::format("released {}\n", r.bus_id);
    }
    return {};
}

std::optional<Request> decode_request(const std::string& line) {
    std::istringstream in(line);
    std::string verb;
    Request r;
    if (!(in >> verb >> r.bus_id)) return std::nullopt;
    if (verb == "hold") {
        r.kind = Request::Kind::hold;
        if (!(in >> r.fraction) || r.fraction < 0 || r.fraction > 1) return std::nullopt;
    } else if (verb == "release") {
        r.kind = Request::Kind::release;
    } else {
        return std::nullopt;
    }
    return r;
}

std::optional<Reply> decode_reply(const std::string& line) {
    std::istringstream in(line);
    std::string verb;
    Reply r;
    if (!(in >> verb >> r.bus_id)) return std::nullopt;
    if (verb == "held") {
        r.kind = Reply::Kind::held;
        if (!(in >> r.bytes >> r.ordinal)) return std::nullopt;
    } else if (verb == "failed") {
        r.kind = Reply::Kind::failed;
        std::getline(in >> std::ws, r.text);
    } else if (verb == "released") {
        r.kind = Reply::Kind::released;
    } else {
        return std::nullopt;
    }
    return r;
}

}  // namespace gw::hold
