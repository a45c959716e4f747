// The Windows side of SignalCatcher, shared with the launcher. Windows has no SIGCHLD: a child
// registers its process handle here instead, and SignalCatcher::sleep wakes when it ends.
#pragma once

#include <windows.h>

namespace gw {

/// From now on, the end of `process` wakes SignalCatcher::sleep and is reported once by
/// take_child_event. Main thread only, like the rest of SignalCatcher.
void watch_child(HANDLE process);

/// Stops watching `process` (before its handle is closed). Does nothing if not watched.
void forget_child(HANDLE process);

}  // namespace gw
