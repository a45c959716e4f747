// Opening files in a directory that every user writes (/tmp-like, sticky). Anything may sit
// there under an expected name: a FIFO, a device, a directory, a symlink, a hard link to some
// other file, a huge or garbled file. None of it may hang gpu-waiter, be written through, or
// end a wait in an error: such an entry is "unusable", reported, and skipped.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/unique_handle.hpp"

namespace gw {

/// The most gpu-waiter reads of a lock record or a ticket; anything longer is not one of ours.
inline constexpr std::size_t kMaxSharedFileSize = 64 * 1024;

/// Opens `path` read-write, creating it (mode 0666 whatever the umask) if missing, safely in a
/// shared sticky directory: never follows a symlink, never blocks (a FIFO), accepts only a
/// regular file with one link; opens an existing file without O_CREAT (which
/// fs.protected_regular refuses on other users' files); falls back to read-only for a file we
/// may not write. The descriptor is close-on-exec. On Windows: never follows a reparse point,
/// shares the file for reading, writing and deleting (the queue renames and deletes tickets
/// others have open), and the handle is not inheritable.
/// An entry that cannot be used so gives an invalid handle and its reason in `unusable`. Throws
/// Error only when the system fails us (no descriptors left, say).
[[nodiscard]] UniqueHandle open_shared_file(const std::string& path, std::string& unusable);

/// Opens an existing entry for reading only, with the same care. Invalid handle (and the reason
/// in `unusable`, empty when the entry is simply gone) when it cannot be read safely.
[[nodiscard]] UniqueHandle open_shared_for_reading(const std::string& path,
                                                   std::string& unusable);

/// `j` as one line of JSON for a shared file. Arguments and names are bytes, not always UTF-8:
/// what is not valid UTF-8 is replaced (U+FFFD), so that any command can be recorded.
[[nodiscard]] std::string json_text(const nlohmann::json& j);

/// The content of an open shared file, at most kMaxSharedFileSize bytes of it.
[[nodiscard]] std::string read_shared_file(NativeHandle file);

}  // namespace gw
