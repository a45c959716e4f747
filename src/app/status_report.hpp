// --status's one document: the GPUs with a verdict each in gpu-waiter's terms (free, busy, held
// by, reserved for, handed over to), their processes, and the queue with why each job still
// waits. The text view (ui/status_view) and --json both show this document.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "driver/gpu.hpp"
#include "lock/lock_directory.hpp"

namespace gw {

/// Bumped when a field changes meaning or goes away (adding one does not bump it).
inline constexpr int kStatusSchemaVersion = 2;

struct StatusScope {
    std::string lock_dir;
    const LockDirectory* locks = nullptr;  // null: nobody has used the lock directory yet
    std::optional<std::string> user;       // --mine / --user: only this user's jobs
};

/// Looks at every GPU of `inventory` once and reads the locks and the queue.
[[nodiscard]] nlohmann::json collect_status(GpuDriver& driver, const GpuInventory& inventory,
                                            const StatusScope& scope);

/// "2024-06-07T12:34:56Z" for seconds since the epoch.
[[nodiscard]] std::string iso8601(long long epoch_seconds);

}  // namespace gw
