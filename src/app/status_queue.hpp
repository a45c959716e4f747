// The queue as --status shows it: each waiting job with its place, what it wants, and why it
// still waits (the first-come-first-served policy replayed over what the GPUs show now).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "driver/gpu.hpp"
#include "queue/queue.hpp"

namespace gw {

/// "alice's train-3", or "alice's job 4242" for a job without a name.
[[nodiscard]] std::string job_label(const std::string& user, const std::string& name, long pid);

/// The queue's entries as JSON, `gpus` being collect_status's GPU documents (with verdicts).
/// Only `user`'s entries when set; places stay those of the whole queue.
[[nodiscard]] nlohmann::json queue_json(const std::vector<QueueEntry>& queue,
                                        const GpuInventory& inventory, const nlohmann::json& gpus,
                                        const std::optional<std::string>& user);

}  // namespace gw
