#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "common/error.hpp"
#include "lock/shared_file.hpp"
#include "process/process_table.hpp"
#include "process/process_table_posix.hpp"
#include "queue/queue.hpp"
#include "queue/queue_platform.hpp"

namespace gw {
namespace {

/// The directory's names, in no particular order.
std::vector<std::string> entry_names(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
        ::closedir(d);
    }
    return names;
}

bool is_hidden_ticket(const std::string& name) {
    return name.size() > 5 && name.front() == '.' && name.ends_with(".new");
}

/// The queue's lock is a flock on the lock directory itself: nobody can plant, replace or
/// rewrite a directory they do not own, as they could a lock file.
UniqueHandle lock_queue(const std::string& queue, QueueLock lock) {
    UniqueHandle dir(::open(queue.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) throw_system_error("open " + queue, errno);
    if (lock == QueueLock::take && ::flock(dir.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return {};
        throw_system_error("flock " + queue, errno);
    }
    return dir;
}

/// Removes a hidden ticket its writer left behind when it died; called under the queue's lock,
/// when nobody can be writing one.
void remove_if_abandoned(const std::string& path) {
    std::string why;
    UniqueHandle fd = open_shared_for_reading(path, why);
    if (fd.valid() && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) ::unlink(path.c_str());
}

/// Unlinks a half-written ticket unless it was published.
struct HiddenFile {
    std::string path;
    bool published = false;
    ~HiddenFile() {
        if (!published) ::unlink(path.c_str());
    }
};

/// Why the process `pid` cannot be the owner of a ticket of `uid`; empty when it can.
std::string not_a_waiter(long pid, uid_t uid, QueueEntry& entry) {
    auto state = process_state(pid);
    if (!state) return {};  // gone since: the ticket is a dead waiter's, or soon will be
    if (state->uid >= 0 && state->uid != static_cast<long>(uid)) {
        return fmt::format("held by pid {}, which is not {}'s", pid, user_name(uid));
    }
    if (!is_gpu_waiter_command(state->command)) {
        return fmt::format("held by pid {} ({}), which is not a gpu-waiter", pid, state->command);
    }
    entry.stopped = state->stopped;
    return {};
}

/// Who holds a ticket's lock, looked up once per ticket: /proc/locks lists every lock of the
/// system, and a ticket keeps its holder for life. Keyed by inode and change time, so that a new
/// ticket on a reused inode is looked up afresh.
std::optional<long> cached_flock_holder(const struct stat& st) {
    using Key = std::tuple<dev_t, ino_t, time_t>;
    static std::map<Key, std::optional<long>> cache;
    Key key{st.st_dev, st.st_ino, st.st_ctime};
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    if (cache.size() > 4096) cache.clear();
    auto holder =
        flock_holder(static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino));
    if (holder) cache.emplace(key, holder);  // a holder not shown yet may show up later
    return holder;
}

}  // namespace

std::vector<std::string> ticket_names(const std::string& queue) {
    std::vector<std::string> names = entry_names(queue);
    std::erase_if(names, [](const std::string& n) { return !is_ticket_name(n); });
    return names;
}

TicketRead read_ticket(const std::string& path, const UniqueHandle& fd, QueueEntry& entry,
                       long& holder, std::string& why) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
        // Nobody holds it: its waiter died. Ours to remove now that we hold it; another user's
        // may refuse, and is skipped all the same.
        ::unlink(path.c_str());
        return TicketRead::gone;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return TicketRead::gone;
    if (!decode_entry(read_shared_file(fd.get()), entry)) {
        why = "not a ticket";
        return TicketRead::foreign;
    }
    entry.user = user_name(st.st_uid);
    // The kernel knows who holds the ticket's lock. A holder it does not show lives in another
    // PID namespace (a container); where it cannot say, the pid the ticket names is checked.
    auto locker = cached_flock_holder(st);
    holder = locker.value_or(flock_holders_listed() ? -entry.pid : entry.pid);
    if (locker || !flock_holders_listed()) why = not_a_waiter(holder, st.st_uid, entry);
    return why.empty() ? TicketRead::waiter : TicketRead::foreign;
}

std::unique_ptr<QueueTicket> QueueTicket::try_take(const std::string& queue, QueueEntry entry,
                                                   QueueLock lock) {
    UniqueHandle dir = lock_queue(queue, lock);  // held until the ticket is in place
    if (!dir.valid()) return nullptr;
    std::unique_ptr<QueueTicket> ticket(new QueueTicket());
    // Above every ticket already there, whatever a counter file says: a waiter that draws a
    // later number then sees every earlier ticket, so two waiters never both believe they are
    // first. Names alone keep the queue's lock short; reading every ticket under it would make
    // waiters that arrive together give up on the lock.
    std::uint64_t last = 0;
    for (const std::string& name : entry_names(queue)) {
        if (auto named = parse_ticket_name(name)) {
            last = std::max(last, named->first);
            ticket->ahead_.insert(*named);
        } else if (lock == QueueLock::take && is_hidden_ticket(name)) {
            remove_if_abandoned(queue + "/" + name);
        }
    }
    // Numbers run out only where someone planted a name with the highest one, which would give
    // every later waiter that same number: then only living waiters' tickets count.
    if (last >= kMaxTicketNumber) {
        last = 0;
        for (const QueueEntry& waiter : read_queue(queue).waiters) {
            last = std::max(last, waiter.number);
        }
    }
    ticket->ahead_known_ = lock == QueueLock::take;
    ticket->entry_ = std::move(entry);
    ticket->publish(queue, std::min(last + 1, kMaxTicketNumber));
    return ticket;
}

void QueueTicket::publish(const std::string& queue, std::uint64_t number) {
    // Written and locked under a hidden name, then renamed: a reader never sees a ticket that
    // is not locked yet (and would take it for a dead waiter's). A name someone else took is
    // skipped for the next number.
    for (int attempt = 0; attempt < 16;
         ++attempt, number = std::min(number + 1, kMaxTicketNumber)) {
        entry_.number = number;
        HiddenFile hidden{fmt::format("{}/.{:016}-{}.new", queue, number, entry_.pid)};
        ::unlink(hidden.path.c_str());  // our own pid's leftover, if any: that waiter is gone
        fd_.reset(::open(hidden.path.c_str(),
                         O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644));
        if (!fd_.valid()) throw_system_error("open " + hidden.path, errno);
        ::fchmod(fd_.get(), 0644);  // readable by every waiter whatever the umask; ours to write
        if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0)
            throw_system_error("flock " + hidden.path, errno);
        std::string text = encode_entry(entry_);
        if (::pwrite(fd_.get(), text.data(), text.size(), 0) < 0)
            throw_system_error("write " + hidden.path, errno);
        std::string path = queue + "/" + ticket_name(number, entry_.pid);
        if (::link(hidden.path.c_str(), path.c_str()) == 0) {
            path_ = path;
            return;  // the hidden name goes with `hidden`, the file stays under its ticket name
        }
        if (errno != EEXIST) throw_system_error("link " + path, errno);
    }
    throw Error("cannot publish a ticket in " + queue + ": every name tried is taken",
                "someone is filling the lock directory; ask root to look at it");
}

QueueTicket::~QueueTicket() {
    if (!path_.empty()) ::unlink(path_.c_str());  // ours and locked by us: nobody else holds it
}

}  // namespace gw
