// Locks and whole-file reads and writes on Windows, as the lock files and the queue use them.
// Windows locks are mandatory: nobody else can read a locked byte. So the lock covers one byte
// far past any content, and a file's content stays readable while it is locked (--status reads
// lock records without locking). Windows only.
#pragma once

#include <windows.h>

#include <string>

namespace gw::win32 {

enum class LockWait { no, yes };

/// Takes the exclusive lock of `file`. With LockWait::no, false when another handle holds it.
/// Throws Error naming `path` on any other failure. Closing the handle (or the process ending,
/// in any way) releases the lock.
[[nodiscard]] bool lock_file(HANDLE file, LockWait wait, const std::string& path);

/// Releases the lock taken by lock_file.
void unlock_file(HANDLE file);

/// The whole content, read from the start (the file position is neither used nor moved).
[[nodiscard]] std::string read_file(HANDLE file);

/// Makes `text` the whole content. False, with GetLastError() set, when that fails.
[[nodiscard]] bool replace_content(HANDLE file, const std::string& text);

/// Opens an existing file for reading without following a symbolic link or junction in its
/// place, shared so that others may write, rename and delete it meanwhile. Invalid when it
/// cannot be opened.
[[nodiscard]] HANDLE open_for_reading(const std::string& path);

}  // namespace gw::win32
