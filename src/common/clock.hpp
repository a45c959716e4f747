// Time as the wait and the supervisor see it: the current moment and a sleep that the outside
// world can cut short. Behind an interface so that unit tests run a whole wait without time
// passing (a fake clock's sleep just moves its time on).
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "common/unique_handle.hpp"
#include "common/units.hpp"

namespace gw {

class Clock {
public:
    virtual ~Clock() = default;
    /// The current moment; never goes back.
    [[nodiscard]] virtual TimePoint now() const = 0;
    /// Sleeps until `timeout` passes, a signal arrives, or one of `handles` is ready (readable,
    /// or signalled on Windows). Returns the ready handles.
    virtual std::vector<NativeHandle> sleep(Duration timeout,
                                            std::span<const NativeHandle> handles) = 0;
};

}  // namespace gw
