// Opening files in a directory that every user writes (/tmp-like, sticky).
#pragma once

#include <string>

#include "common/unique_fd.hpp"

namespace gw {

/// Opens `path` read-write, creating it (mode 0666 whatever the umask) if missing, safely in a
/// shared sticky directory: never follows a symlink; opens an existing file without O_CREAT
/// (which fs.protected_regular refuses on other users' files); falls back to read-only for a
/// file we may not write. The descriptor is close-on-exec. Throws Error naming the call.
[[nodiscard]] UniqueFd open_shared_file(const std::string& path);

}  // namespace gw
