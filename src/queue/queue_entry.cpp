#include <algorithm>

#include <nlohmann/json.hpp>

#include "queue/queue.hpp"
#include "queue/queue_platform.hpp"

namespace gw {

std::string encode_entry(const QueueEntry& e) {
    nlohmann::json j{{"number", e.number},   {"pid", e.pid},     {"user", e.user},
                     {"command", e.command}, {"count", e.count}, {"candidates", e.candidates},
                     {"since", e.since},     {"name", e.name},   {"argv", e.argv}};
    return j.dump() + "\n";
}

bool is_ticket_name(const std::string& name) {
    return name.size() > 7 && name.ends_with(".ticket") && name.front() != '.';
}

std::string queue_path(const LockDirectory& dir) {
    // The tickets live in the lock directory itself. A subdirectory would belong to whichever
    // user ran gpu-waiter first, who could then delete everyone's tickets, and which every other
    // user would rightly refuse to trust.
    return dir.path();
}

bool decode_entry(const std::string& text, QueueEntry& e) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return false;
    try {
        e.number = j.at("number").get<std::uint64_t>();
        e.pid = j.at("pid").get<long>();
        e.user = j.value("user", "");
        e.command = j.value("command", "");
        auto count = j.at("count").get<long long>();
        if (count < 1 || count > 1024) return false;
        e.count = static_cast<unsigned>(count);
        e.candidates = j.at("candidates").get<std::vector<std::string>>();
        e.since = j.value("since", 0LL);
        e.name = j.value("name", "");
        e.argv = j.value("argv", std::vector<std::string>{});
    } catch (const nlohmann::json::exception&) {
        return false;
    }
    return true;
}

std::vector<QueueEntry> read_queue(const std::string& queue) {
    std::vector<std::string> names = ticket_names(queue);
    std::sort(names.begin(), names.end());  // zero-padded numbers: name order is arrival order
    std::vector<QueueEntry> out;
    for (const std::string& name : names) {
        QueueEntry entry;
        if (read_ticket(queue + "/" + name, entry)) out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace gw
