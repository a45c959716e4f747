// What the command line says before it is checked and converted: texts, as typed. Shared by
// the parts of cli/ that read, check and convert it (not used outside cli/).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/options.hpp"

namespace gw {

struct RawOptions {
    std::string count, gpus, min_free, max_util, idle_for, poll, timeout, hold_fraction;
    std::string hold_max, visible, lock_dir, name, log, watch, user, cancel, replace, complete;
    bool quiet = false, verbose = false, status = false, version = false, no_hold = false;
    bool holder = false, detach = false, background = false, json = false, mine = false;
    bool slurm = false;
    std::string slurm_arg;                // the last --slurm-arg (CLI11 needs a target)
    std::vector<std::string> slurm_args;  // every --slurm-arg, in order
    std::set<std::string> given;  // the options given, by their longest name ("--count")

    [[nodiscard]] bool has(const std::string& option) const { return given.contains(option); }
};

/// The mode the flags ask for. Throws Error when they ask for two.
[[nodiscard]] Mode mode_of(const RawOptions& raw);

/// Refuses options that contradict each other or the mode, saying why. Throws Error.
void check_combinations(const RawOptions& raw, Mode mode, const std::vector<std::string>& command);

/// Turns the texts into `o`'s values. Throws Error naming the option and what it accepts.
void convert(const RawOptions& raw, Options& o, EnvLookup env);

/// Which backend runs the command and what it is told; locally, where the candidate GPUs come
/// from (-g, an inherited CUDA_VISIBLE_DEVICES, an enclosing Slurm job). Throws Error.
void convert_backend(const RawOptions& raw, Options& o, EnvLookup env);

/// The known option closest to a mistyped one ("--cout" -> "--count"), if one is close.
[[nodiscard]] std::optional<std::string> closest_option(const std::string& typed,
                                                        const std::vector<std::string>& known);

}  // namespace gw
