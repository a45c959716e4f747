// Wakes a waiter the moment another gpu-waiter lets a GPU go or leaves the queue, instead of at
// its next poll. Where the platform has no such notification, the poll alone does the work.
#pragma once

#include <string>
#include <vector>

#include "common/unique_handle.hpp"

namespace gw {

class DirectoryWatch {
public:
    /// Watches `directories` for the changes that signal a freed lock (a touched lock file)
    /// or a shorter queue (a removed ticket). Never throws: without a watch, fd() is kNoHandle.
    explicit DirectoryWatch(const std::vector<std::string>& directories);
    /// Readable (signalled, on Windows) when something changed; kNoHandle when there is no watch.
    [[nodiscard]] NativeHandle fd() const { return fd_.get(); }
    /// Consumes the pending notifications.
    void drain();

private:
    UniqueHandle fd_;
};

/// Tells watchers that a lock file changed hands (called after unlocking it).
void announce_release(NativeHandle lock_file);

}  // namespace gw
