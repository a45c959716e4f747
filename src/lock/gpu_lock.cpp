#include "lock/gpu_lock.hpp"

#include <nlohmann/json.hpp>

#include "lock/shared_file.hpp"

namespace gw {

std::string lock_file_name(const std::string& uuid) {
    return uuid + ".lock";
}

const char* lock_state_text(LockState state) {
    return state == LockState::handed_over ? "handed over" : "held";
}

std::string encode_owner(const LockOwner& o) {
    nlohmann::json j{{"pid", o.pid},
                     {"user", o.user},
                     {"command", o.command},
                     {"since", o.since},
                     {"state", lock_state_text(o.state)},
                     {"command_pid", o.command_pid},
                     {"name", o.name},
                     {"argv", o.argv}};
    return json_text(j);
}

std::optional<LockOwner> decode_owner(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    LockOwner o;
    try {  // anyone may write anything here: a wrong type is a malformed record, not an error
        o.pid = j.value("pid", 0L);
        o.user = j.value("user", "");
        o.command = j.value("command", "");
        o.since = j.value("since", 0LL);
        // Anything but "handed over" reads as held, as it always did.
        if (j.value("state", "held") == lock_state_text(LockState::handed_over)) {
            o.state = LockState::handed_over;
        }
        o.command_pid = j.value("command_pid", 0L);
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
    if (j.contains("name") && j["name"].is_string()) o.name = j["name"].get<std::string>();
    if (j.contains("argv") && j["argv"].is_array()) {
        for (const auto& arg : j["argv"]) {
            if (arg.is_string()) o.argv.push_back(arg.get<std::string>());
        }
    }
    return o;
}

}  // namespace gw
