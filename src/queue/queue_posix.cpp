#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "common/error.hpp"
#include "lock/shared_file.hpp"
#include "queue/queue.hpp"
#include "queue/queue_platform.hpp"

namespace gw {
namespace {

std::string read_all(int fd) {
    std::string out;
    char buf[2048];
    for (off_t offset = 0;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, offset);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        offset += n;
    }
    return out;
}

/// The next ticket number, from a counter file changed only under its lock. The lock stays with
/// `sequence` until the caller has published its ticket: a waiter that takes a later number then
/// always sees every earlier ticket, so two waiters never both believe they are first.
std::uint64_t next_number(const std::string& queue_dir, UniqueHandle& sequence) {
    std::string path = queue_dir + "/queue.sequence";
    UniqueHandle fd = open_shared_file(path);
    if (::flock(fd.get(), LOCK_EX) != 0) throw_system_error("flock " + path, errno);
    std::uint64_t last = 0;
    std::string text = read_all(fd.get());
    if (!text.empty()) last = std::strtoull(text.c_str(), nullptr, 10);
    std::string next = std::to_string(last + 1) + "\n";
    if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), next.data(), next.size(), 0) < 0) {
        throw_system_error("write " + path, errno);
    }
    sequence = std::move(fd);
    return last + 1;
}

}  // namespace

/// Reads one ticket; an unlocked ticket belongs to a dead waiter and is removed (under our own
/// lock, so nobody can be holding it while it goes).
bool read_ticket(const std::string& path, QueueEntry& entry) {
    UniqueHandle fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return false;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
        ::unlink(path.c_str());
        return false;
    }
    return decode_entry(read_all(fd.get()), entry);
}

QueueTicket::QueueTicket(const std::string& queue, QueueEntry entry) : entry_(std::move(entry)) {
    UniqueHandle sequence;  // locked until the ticket is in place
    entry_.number = next_number(queue, sequence);
    path_ = fmt::format("{}/{:016}-{}.ticket", queue, entry_.number, entry_.pid);
    // Written and locked under a hidden name, then renamed: a reader never sees a ticket that
    // is not locked yet (and would take it for a dead waiter's).
    std::string hidden = fmt::format("{}/.{:016}-{}.new", queue, entry_.number, entry_.pid);
    fd_ = open_shared_file(hidden);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) throw_system_error("flock " + hidden, errno);
    std::string text = encode_entry(entry_);
    if (::pwrite(fd_.get(), text.data(), text.size(), 0) < 0)
        throw_system_error("write " + hidden, errno);
    if (::rename(hidden.c_str(), path_.c_str()) != 0) throw_system_error("rename " + hidden, errno);
}

QueueTicket::~QueueTicket() {
    ::unlink(path_.c_str());  // ours and still locked by us: nobody else can be holding it
}

std::vector<std::string> ticket_names(const std::string& queue) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(queue.c_str())) {
        while (dirent* e = ::readdir(d)) {
            if (is_ticket_name(e->d_name)) names.emplace_back(e->d_name);
        }
        ::closedir(d);
    }
    return names;
}

}  // namespace gw
