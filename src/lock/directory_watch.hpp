// Wakes a waiter the moment another gpu-waiter lets a GPU go or leaves the queue, instead of at
// its next poll. Where the platform has no such notification, the poll alone does the work.
#pragma once

#include <string>
#include <vector>

#include "common/unique_fd.hpp"

namespace gw {

class DirectoryWatch {
public:
    /// Watches `directories` for the changes that signal a freed lock (a touched lock file)
    /// or a shorter queue (a removed ticket). Never throws: without a watch, fd() is -1.
    explicit DirectoryWatch(const std::vector<std::string>& directories);
    /// Readable when something changed; -1 when there is no watch.
    [[nodiscard]] int fd() const { return fd_.get(); }
    /// Consumes the pending notifications.
    void drain();

private:
    UniqueFd fd_;
};

/// Tells watchers that a lock file changed hands (called after unlocking it).
void announce_release(int lock_fd);

}  // namespace gw
