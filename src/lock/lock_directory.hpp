// The directory every gpu-waiter of a machine shares: one lock file per GPU, keyed by UUID, and
// the queue. It may be written by every user, so it is checked before anything in it is trusted.
#pragma once

#include <string>

namespace gw {

class LockDirectory {
public:
    /// Creates `path` if missing (mode 1777: every user, sticky) and refuses one that is a
    /// symlink, not a directory, owned by another non-root user, or world-writable without the
    /// sticky bit. Throws Error with the reason and how to fix it.
    explicit LockDirectory(std::string path);

    /// Whether something exists at `path` (for readers that must not create the directory).
    [[nodiscard]] static bool exists(const std::string& path);

    [[nodiscard]] const std::string& path() const { return path_; }
    /// The path of the entry `name` inside the directory.
    [[nodiscard]] std::string entry(const std::string& name) const { return path_ + "/" + name; }
    /// Whether this gpu-waiter created the directory (and so owns it).
    [[nodiscard]] bool created() const { return created_; }

private:
    std::string path_;
    bool created_ = false;
};

}  // namespace gw
