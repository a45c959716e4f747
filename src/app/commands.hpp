// The things gpu-waiter can be asked to do, one function each.
#pragma once

#include "cli/options.hpp"
#include "ui/reporter.hpp"

namespace gw {

/// Refuses a COMMAND that cannot be found or executed (127, 126), before anything else.
void check_launchable(const Options& options);
/// Refuses a request no wait can serve (more GPUs than the candidates, a rule no GPU can meet),
/// as run_command would; for --detach, which must say so before it returns.
void check_servable(const Options& options, Reporter& reporter);
/// Waits for GPUs, runs the command on them, returns its exit status.
[[nodiscard]] int run_command(const Options& options, Reporter& reporter);
/// --status: the GPUs, their users, lock holders and the queue.
[[nodiscard]] int show_status(const Options& options, Reporter& reporter);
/// --cancel ID|NAME: ends one's own job, waiting or running.
[[nodiscard]] int cancel_job(const Options& options, Reporter& reporter);
/// --detach: starts the job in a session of its own, writing to its log; returns at once.
[[nodiscard]] int detach_job(const Options& options, Reporter& reporter);
/// The detached job itself: run_command, with the log's closing lines.
[[nodiscard]] int run_in_background(const Options& options, Reporter& reporter);
/// For the shell completions: GPU indices and UUIDs ("gpus"), or one's own jobs' ids and
/// names ("jobs"), one per line. Prints nothing rather than fail.
[[nodiscard]] int complete_words(const Options& options);
/// --version: ours, and the driver's when one can be loaded.
[[nodiscard]] int show_version();

}  // namespace gw
