// The whole tool behind one call, so that main() is a line and tests can link everything else.
#pragma once

namespace gw {

/// Parses the command line, does what it asks, and returns the exit status. Never throws.
[[nodiscard]] int run_app(int argc, const char* const* argv);

}  // namespace gw
