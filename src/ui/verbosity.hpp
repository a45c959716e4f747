// How much gpu-waiter tells the user: -q, the default, -v.
#pragma once

namespace gw {

enum class Verbosity { quiet, normal, verbose };

}  // namespace gw
