// Where the command runs (this machine, or Slurm through srun) and which GPUs it may get.
#include <array>
#include <sstream>

#include <fmt/format.h>

#include "cli/options_raw.hpp"
#include "common/error.hpp"
#include "policy/candidates.hpp"

namespace gw {
namespace {

/// Options that mean nothing when Slurm finds the GPUs and starts the command, and why.
struct Refusal {
    const char* option;
    const char* reason;
};
constexpr std::array<Refusal, 11> kNotWithSlurm{{
    {"--gpus", "Slurm chooses the GPUs"},
    {"--min-free-memory", "Slurm gives whole GPUs, not a share of one"},
    {"--max-util", "Slurm gives whole GPUs, not a share of one"},
    {"--idle-for", "Slurm decides when the job starts"},
    {"--poll", "Slurm decides when the job starts"},
    {"--hold-fraction", "Slurm keeps the GPUs for the job: there is nothing to hold"},
    {"--hold-max", "Slurm keeps the GPUs for the job: there is nothing to hold"},
    {"--no-hold", "Slurm keeps the GPUs for the job: there is nothing to hold"},
    {"--visible-devices", "Slurm sets CUDA_VISIBLE_DEVICES"},
    {"--lock-dir", "Slurm, not a lock directory, keeps jobs apart"},
    {"--json", "the status comes from sinfo and squeue, in their own format"},
}};

/// What Slurm does itself, with its own commands: refused rather than silently ignored.
constexpr std::array<Refusal, 3> kSlurmDoesItself{{
    {"--watch", "squeue --iterate=SECONDS redraws Slurm's queue"},
    {"--mine", "squeue --me shows only your Slurm jobs"},
    {"--user", "squeue --user=USER shows one user's Slurm jobs"},
}};

Backend backend_of(const RawOptions& raw, Mode mode, EnvLookup env) {
    if (raw.slurm) return Backend::slurm;
    // The holder serves a local run, whatever the environment it inherited says.
    if (mode == Mode::holder || mode == Mode::version || mode == Mode::complete) {
        return Backend::local;
    }
    std::string chosen = env("GPU_WAITER_BACKEND").value_or("");
    if (chosen.empty() || chosen == "local") return Backend::local;
    if (chosen == "slurm") return Backend::slurm;
    throw Error(fmt::format("GPU_WAITER_BACKEND={}: not a backend", chosen),
                "use local (the default) or slurm");
}

/// GPU_WAITER_SLURM_ARGS split at white space (no quoting), then each --slurm-arg.
std::vector<std::string> slurm_args(const RawOptions& raw, EnvLookup env) {
    std::vector<std::string> out;
    std::istringstream words(env("GPU_WAITER_SLURM_ARGS").value_or(""));
    for (std::string word; words >> word;) out.push_back(word);
    for (const std::string& arg : raw.slurm_args) out.push_back(arg);
    return out;
}

void check_slurm_options(const RawOptions& raw) {
    for (const Refusal& r : kNotWithSlurm) {
        if (!raw.has(r.option)) continue;
        throw Error(fmt::format("{} has no meaning with --slurm: {}", r.option, r.reason),
                    "drop it, or pass Slurm's own options with --slurm-arg=...");
    }
    for (const Refusal& r : kSlurmDoesItself) {
        if (!raw.has(r.option)) continue;
        throw Error(fmt::format("{} is not available with --slurm", r.option), r.reason);
    }
    if (raw.detach && raw.has("--timeout")) {
        throw Error(
            "--timeout has no meaning with --slurm --detach: the job waits in Slurm's queue",
            "give Slurm a deadline instead: --slurm-arg=--deadline=now+1hour");
    }
}

/// The candidate list: -g, else an inherited CUDA_VISIBLE_DEVICES. Only a run chooses GPUs, so
/// only a run objects to a list that names none.
void convert_gpus(const RawOptions& raw, Options& o, EnvLookup env) {
    if (raw.has("--gpus")) {
        o.gpus = split_list(raw.gpus);
        if (o.gpus.empty() && o.mode == Mode::run) {
            throw Error("-g/--gpus names no GPU", "give indices or UUIDs, e.g. -g 0,1");
        }
    } else if (auto cvd = env("CUDA_VISIBLE_DEVICES")) {
        o.gpus = split_list(*cvd);
        o.gpus_from_environment = true;
        if (o.gpus.empty() && o.mode == Mode::run) {
            throw Error("CUDA_VISIBLE_DEVICES is set but empty: it hides every GPU",
                        "unset it, or name GPUs with -g");
        }
    }
}

}  // namespace

void convert_backend(const RawOptions& raw, Options& o, EnvLookup env) {
    o.backend = backend_of(raw, o.mode, env);
    if (o.backend == Backend::slurm) {
        // Neither the inherited CUDA_VISIBLE_DEVICES nor an enclosing job limits what srun asks.
        check_slurm_options(raw);
        o.slurm_args = slurm_args(raw, env);
        return;
    }
    if (!raw.slurm_args.empty()) {
        throw Error("--slurm-arg needs --slurm", "add --slurm, or set GPU_WAITER_BACKEND=slurm");
    }
    convert_gpus(raw, o, env);
    if (o.mode == Mode::run) o.slurm_allocation = read_slurm_allocation(env);
}

}  // namespace gw
