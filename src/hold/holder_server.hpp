// The holder process: `gpu-waiter --internal-holder`, started by gpu-waiter with its requests on
// standard input and its replies on standard output. It carries the CUDA context and the held
// memory so that gpu-waiter itself stays light, and exits (freeing everything) as soon as its
// input closes: when gpu-waiter ends in any way, kill -9 included.
#pragma once

namespace gw {

/// Serves hold/release requests until standard input closes. Returns the exit status.
[[nodiscard]] int run_holder();

}  // namespace gw
