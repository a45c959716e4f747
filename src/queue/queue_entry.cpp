#include <algorithm>
#include <charconv>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lock/shared_file.hpp"
#include "queue/queue.hpp"
#include "queue/queue_platform.hpp"

namespace gw {

std::string encode_entry(const QueueEntry& e) {
    nlohmann::json j{{"number", e.number},   {"pid", e.pid},     {"user", e.user},
                     {"command", e.command}, {"count", e.count}, {"candidates", e.candidates},
                     {"since", e.since},     {"name", e.name},   {"argv", e.argv}};
    return json_text(j);
}

bool is_ticket_name(const std::string& name) {
    return name.size() > 7 && name.ends_with(".ticket") && name.front() != '.';
}

std::optional<std::pair<std::uint64_t, long>> parse_ticket_name(const std::string& name) {
    // NNNNNNNNNNNNNNNN-PID.ticket, digits only: anything else is not a ticket gpu-waiter wrote.
    constexpr std::size_t kDigits = 16;
    if (!is_ticket_name(name) || name.size() < kDigits + 9 || name[kDigits] != '-') {
        return std::nullopt;
    }
    const char* begin = name.data();
    const char* end = begin + name.size() - 7;  // before ".ticket"
    std::uint64_t number = 0;
    long pid = 0;
    auto n = std::from_chars(begin, begin + kDigits, number);
    auto p = std::from_chars(begin + kDigits + 1, end, pid);
    if (n.ptr != begin + kDigits || p.ptr != end || p.ec != std::errc{} || pid <= 0 ||
        number == 0 || number > kMaxTicketNumber) {
        return std::nullopt;
    }
    return std::pair{number, pid};
}

std::string ticket_name(std::uint64_t number, long pid) {
    return fmt::format("{:016}-{}.ticket", number, pid);
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

bool QueueTicket::is_ahead(const QueueEntry& other) const {
    if (other.number > entry_.number || other.pid == entry_.pid) return false;
    bool was_there = ahead_.contains({other.number, other.pid});
    // Numbers tie only once they have run out (a living waiter's ticket renamed to the highest
    // one): then the tickets that were there when we drew ours are still exactly those ahead.
    if (other.number == entry_.number) return ahead_known_ && was_there;
    return !ahead_known_ || was_there;
}

namespace {

/// Reads the ticket `name`: what every platform checks (the name, the entry's type, the content
/// against the name) around what each checks its own way (queue_platform.hpp).
TicketRead read_named_ticket(const std::string& queue, const std::string& name, QueueEntry& entry,
                             long& holder, std::string& why) {
    auto named = parse_ticket_name(name);
    if (!named) {
        why = "not a ticket name gpu-waiter writes";
        return TicketRead::foreign;
    }
    std::string path = queue + "/" + name;
    UniqueHandle file = open_shared_for_reading(path, why);
    if (!file.valid()) return why.empty() ? TicketRead::gone : TicketRead::foreign;
    TicketRead got = read_ticket(path, file, entry, holder, why);
    if (got == TicketRead::waiter && (entry.number != named->first || entry.pid != named->second)) {
        why = "its content does not match its name";
        return TicketRead::foreign;
    }
    return got;
}

}  // namespace

QueueView read_queue(const std::string& queue) {
    QueueView view;
    std::map<long, QueueEntry> by_holder;  // one place per process: its latest ticket
    for (const std::string& name : ticket_names(queue)) {
        QueueEntry entry;
        long holder = 0;
        std::string why;
        switch (read_named_ticket(queue, name, entry, holder, why)) {
            case TicketRead::gone:
                break;
            case TicketRead::foreign:
                view.foreign.push_back(ForeignEntry{name, why});
                break;
            case TicketRead::waiter:
                // A second ticket of one process can only be forged, and an earlier place is
                // what forging would be for: keep the latest.
                if (auto [it, fresh] = by_holder.try_emplace(holder, entry); !fresh) {
                    if (it->second.number < entry.number) std::swap(it->second, entry);
                    view.foreign.push_back(ForeignEntry{ticket_name(entry.number, entry.pid),
                                                        "a second ticket of one process"});
                }
                break;
        }
    }
    for (auto& [holder, entry] : by_holder) view.waiters.push_back(std::move(entry));
    std::sort(view.waiters.begin(), view.waiters.end(), [](const auto& a, const auto& b) {
        return std::pair{a.number, a.pid} < std::pair{b.number, b.pid};
    });
    return view;
}

}  // namespace gw
