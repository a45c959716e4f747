#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/win32.hpp"
#include "lock/file_lock_win32.hpp"
#include "lock/shared_file.hpp"
#include "queue/queue.hpp"
#include "queue/queue_platform.hpp"

namespace gw {
namespace {

/// The next ticket number, from a counter file changed only under its lock. The lock stays with
/// `sequence` until the caller has published its ticket: a waiter that takes a later number then
/// always sees every earlier ticket, so two waiters never both believe they are first.
std::uint64_t next_number(const std::string& queue_dir, UniqueHandle& sequence) {
    std::string path = queue_dir + "/queue.sequence";
    std::string unusable;
    UniqueHandle file = open_shared_file(path, unusable);
    if (!file.valid()) throw Error("cannot use " + path + ": " + unusable, "ask an administrator to remove it");
    HANDLE h = win32::handle(file.get());
    (void)win32::lock_file(h, win32::LockWait::yes, path);
    std::uint64_t last = 0;
    std::string text = read_shared_file(file.get());
    if (!text.empty()) last = std::strtoull(text.c_str(), nullptr, 10);
    if (last >= kMaxTicketNumber) last = 0;
    if (!win32::replace_content(h, std::to_string(last + 1) + "\n")) {
        win32::throw_last_error("write " + path);
    }
    sequence = std::move(file);
    return last + 1;
}

}  // namespace

TicketRead read_ticket(const std::string& path, const UniqueHandle& file, QueueEntry& entry,
                       long& holder, std::string& why) {
    HANDLE h = win32::handle(file.get());
    if (win32::lock_file(h, win32::LockWait::no, path)) {
        // Nobody holds it: its waiter died. Shared for deletion when opened: the file goes once
        // our handle closes. Another user's ticket may not be ours to delete; it is skipped all
        // the same.
        DeleteFileW(win32::widen(path).c_str());
        return TicketRead::gone;
    }
    if (!decode_entry(read_shared_file(file.get()), entry)) {
        why = "not a ticket";
        return TicketRead::foreign;
    }
    // Windows has no cheap way here to name a lock's holder or a file's owner: the ticket's
    // own word stands.
    holder = entry.pid;
    return TicketRead::waiter;
}

std::vector<std::string> ticket_names(const std::string& queue) {
    std::vector<std::string> names;
    WIN32_FIND_DATAW found{};
    HANDLE search = FindFirstFileExW(win32::widen(queue + "/*").c_str(), FindExInfoBasic, &found,
                                     FindExSearchNameMatch, nullptr, 0);
    if (search == INVALID_HANDLE_VALUE) return names;
    do {
        std::string name = win32::narrow(found.cFileName);
        if (is_ticket_name(name)) names.push_back(std::move(name));
    } while (FindNextFileW(search, &found));
    FindClose(search);
    return names;
}

std::unique_ptr<QueueTicket> QueueTicket::try_take(const std::string& queue, QueueEntry entry,
                                                   QueueLock) {
    std::unique_ptr<QueueTicket> ticket(new QueueTicket());
    ticket->entry_ = std::move(entry);
    UniqueHandle sequence;  // locked until the ticket is in place
    ticket->publish(queue, next_number(queue, sequence));
    return ticket;
}

void QueueTicket::publish(const std::string& queue, std::uint64_t number) {
    entry_.number = number;
    path_ = queue + "/" + ticket_name(number, entry_.pid);
    // Written and locked under a hidden name, then renamed: a reader never sees a ticket that
    // is not locked yet (and would take it for a dead waiter's). The lock stays with the open
    // handle through the rename.
    std::string hidden = fmt::format("{}/.{:016}-{}.new", queue, number, entry_.pid);
    std::string unusable;
    fd_ = open_shared_file(hidden, unusable);
    if (!fd_.valid()) throw Error("cannot write " + hidden + ": " + unusable);
    HANDLE h = win32::handle(fd_.get());
    if (!win32::lock_file(h, win32::LockWait::no, hidden)) {
        throw Error("LockFileEx " + hidden + ": held by another process");
    }
    if (!win32::replace_content(h, encode_entry(entry_))) {
        win32::throw_last_error("write " + hidden);
    }
    if (!MoveFileExW(win32::widen(hidden).c_str(), win32::widen(path_).c_str(), 0)) {
        win32::throw_last_error("MoveFileExW " + hidden);
    }
}

QueueTicket::~QueueTicket() {
    // Ours and still locked by us: nobody else can be holding it. The name goes when the handle
    // closes, right after this.
    DeleteFileW(win32::widen(path_).c_str());
}

}  // namespace gw
