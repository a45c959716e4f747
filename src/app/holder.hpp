// The holder process as HeldGpus uses it, so that unit tests can answer for it. The real side
// starts `gpu-waiter --internal-holder` (hold/holder_client.hpp).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/unique_handle.hpp"
#include "hold/protocol.hpp"
#include "process/signals.hpp"

namespace gw {

class Holder {
public:
    virtual ~Holder() = default;
    [[nodiscard]] virtual long pid() const = 0;
    virtual void send(const hold::Request& request) = 0;
    /// Ready when replies are waiting: for the wait loop's sleep.
    [[nodiscard]] virtual NativeHandle reply_fd() const = 0;
    /// Every complete reply received so far; never blocks.
    [[nodiscard]] virtual std::vector<hold::Reply> take_replies() = 0;
    /// True once the holder is gone (it died).
    [[nodiscard]] virtual bool gone() const = 0;
};

/// Starts a holder that sees the CUDA devices `visible` names (CUDA_VISIBLE_DEVICES), or every
/// whole GPU when it is empty; throws Error when it cannot.
using StartHolder = std::function<std::unique_ptr<Holder>(const std::string& visible)>;

/// Starts the real holder process, a child that `signals` knows of.
[[nodiscard]] StartHolder holder_process(const SignalCatcher& signals);

}  // namespace gw
