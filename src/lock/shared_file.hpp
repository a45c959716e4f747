// Opening files in a directory that every user writes (/tmp-like, sticky).
#pragma once

#include <string>

#include "common/unique_handle.hpp"

namespace gw {

/// Opens `path` read-write, creating it (mode 0666 whatever the umask) if missing, safely in a
/// shared sticky directory: never follows a symlink; opens an existing file without O_CREAT
/// (which fs.protected_regular refuses on other users' files); falls back to read-only for a
/// file we may not write. The descriptor is close-on-exec. On Windows: never follows a reparse
/// point, shares the file for reading, writing and deleting (the queue renames and deletes
/// tickets others have open), and the handle is not inheritable. Throws Error naming the call.
[[nodiscard]] UniqueHandle open_shared_file(const std::string& path);

}  // namespace gw
