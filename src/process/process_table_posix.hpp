// What the POSIX process tables (Linux, the BSDs, macOS) share.
#pragma once

#include <sys/types.h>

#include <string>

namespace gw {

/// The login name of `uid`, or the number when it has none.
[[nodiscard]] std::string user_name(uid_t uid);

}  // namespace gw
