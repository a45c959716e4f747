// The two primitives ExitWatch needs from a platform where each watched process has a handle
// of its own that becomes ready when it ends (Linux: a pidfd; Windows: a process handle).
#pragma once

#include "common/unique_handle.hpp"

namespace gw {

/// A handle that becomes readable (signalled) when process `pid` ends; invalid when the process
/// is not visible to us, is gone, or the system cannot do it.
[[nodiscard]] UniqueHandle open_exit_handle(long pid);

/// Whether the process behind `handle` has ended. Never blocks.
[[nodiscard]] bool exit_signalled(NativeHandle handle);

}  // namespace gw
