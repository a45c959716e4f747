// The real clock: steady time, and sleeps in SignalCatcher::sleep, the only place where the
// signals gpu-waiter handles get through (signals.hpp).
#pragma once

#include "common/clock.hpp"
#include "process/signals.hpp"

namespace gw {

class SignalClock final : public Clock {
public:
    explicit SignalClock(SignalCatcher& signals) : signals_(signals) {}
    [[nodiscard]] TimePoint now() const override { return std::chrono::steady_clock::now(); }
    std::vector<NativeHandle> sleep(Duration timeout,
                                    std::span<const NativeHandle> handles) override {
        return signals_.sleep(timeout, handles);
    }

private:
    SignalCatcher& signals_;
};

}  // namespace gw
