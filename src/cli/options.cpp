#include "cli/options.hpp"

#include <array>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/error.hpp"
#include "policy/candidates.hpp"

namespace gw {
namespace {

constexpr const char* kUsageHint = "try 'gpu-waiter --help'";

/// Raw option texts, converted after CLI11 has parsed them so every error reads the same way.
struct RawOptions {
    std::string gpus, min_free, idle_for = "0s", poll = "500ms", timeout, hold_max;
    int max_util = -1;
    std::string visible = "index";
    bool quiet = false, verbose = false, status = false, version = false, no_hold = false;
    bool holder = false;
    std::optional<std::string> replace;
    bool slurm = false;
    std::string slurm_arg;                // the last --slurm-arg (CLI11 needs a target)
    std::vector<std::string> slurm_args;  // every --slurm-arg, in order
};

Duration to_duration(const std::string& text, const char* option) {
    auto d = parse_duration(text);
    if (!d) {
        throw Error(fmt::format("{}: '{}' is not a duration", option, text),
                    "use e.g. 500ms, 2s, 1.5m, 3h, or a number of seconds");
    }
    return *d;
}

SizeSpec to_size(const std::string& text, const char* option) {
    auto s = parse_size(text);
    if (!s) {
        throw Error(fmt::format("{}: '{}' is not a size", option, text),
                    "use e.g. 20GiB, 512MiB, 1.5G or 40%");
    }
    return *s;
}

/// CLI11's usage line knows nothing of a trailing command: say it ourselves.
class Formatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App*, std::string) const override {
        return "Usage: gpu-waiter [OPTIONS] [--] COMMAND [ARG...]\n";
    }
};

std::string usage_footer() {
    return "\nCOMMAND runs with CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER=PCI_BUS_ID, "
           "GPU_WAITER_GPUS\n"
           "and GPU_WAITER_UUIDS set. Exit status: the command's; 124 --timeout passed while\n"
           "waiting; 125 gpu-waiter failed; 126 COMMAND not executable; 127 COMMAND not found;\n"
           "128+N killed by (or, while waiting, received) signal N.\n"
           "With --slurm, COMMAND runs through srun --gpus=N with the variables Slurm sets.\n"
           "Environment: GPU_WAITER_LOCK_DIR, GPU_WAITER_NVML_LIBRARY, GPU_WAITER_CUDA_LIBRARY,\n"
           "GPU_WAITER_BACKEND (local or slurm), GPU_WAITER_SLURM_ARGS.";
}

void add_options(CLI::App& app, RawOptions& raw, Options& o, EnvLookup env) {
    app.add_option("-n,--count", o.count, "how many GPUs the command needs")
        ->check(CLI::Range(1u, 1024u));
    app.add_option("-g,--gpus", raw.gpus,
                   "candidate GPUs: indices as nvidia-smi numbers them, GPU-… UUIDs or unique "
                   "prefixes (default: all, or those CUDA_VISIBLE_DEVICES names)");
    app.add_option("--min-free-memory", raw.min_free,
                   "sharing mode: a GPU qualifies with at least SIZE free (20GiB, 512MiB, 40%)");
    app.add_option("--max-util", raw.max_util, "also require GPU utilization <= PCT")
        ->check(CLI::Range(0, 100));
    app.add_option("--idle-for", raw.idle_for, "a GPU must stay available this long (0s)");
    app.add_option("--poll", raw.poll, "how often the GPUs are looked at (500ms)");
    app.add_option("--timeout", raw.timeout, "give up waiting after DURATION (exit 124)");
    app.add_option(
           "--hold-fraction", o.hold_fraction,
           "fraction of a chosen GPU's free memory to hold until the command uses it (0.25)")
        ->check(CLI::Range(0.0, 0.95));
    app.add_option("--hold-max", raw.hold_max, "release holds after DURATION at the latest");
    app.add_flag("--no-hold", raw.no_hold, "do not hold memory on the chosen GPUs");
    app.add_option("--visible-devices", raw.visible,
                   "how CUDA_VISIBLE_DEVICES names the GPUs: index or uuid (index)")
        ->check(CLI::IsMember({"index", "uuid"}));
    app.add_option("-I", raw.replace,
                   "replace STR in the command's arguments with the GPUs' CUDA numbers");
    app.add_option("--lock-dir", o.lock_dir,
                   fmt::format("lock directory shared by all waiters (GPU_WAITER_LOCK_DIR, {})",
                               default_lock_dir(env)));
    app.add_option("--name", o.name, "the job's name (with --slurm: Slurm's job name)")
        ->type_name("NAME");
    app.add_flag("--slurm", raw.slurm,
                 "run COMMAND through Slurm's srun instead of on this machine "
                 "(GPU_WAITER_BACKEND=slurm)");
    // Collected one by one: each occurrence is one srun argument, never split.
    app.add_option("--slurm-arg", raw.slurm_arg,
                   "with --slurm: pass ARG to srun, e.g. --slurm-arg=--partition=gpu (repeatable)")
        ->each([&raw](const std::string& arg) { raw.slurm_args.push_back(arg); })
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
        ->type_name("ARG");
    app.add_flag("--status", raw.status, "show GPUs, their users, lock holders and the queue");
    app.add_flag("--json", o.json, "with --status: one JSON document");
    app.add_flag("-q,--quiet", raw.quiet, "print errors only");
    app.add_flag("-v,--verbose", raw.verbose, "print more detail");
    app.add_flag("-V,--version", raw.version, "print the version, the driver's and NVML's");
    app.add_flag("--internal-holder", raw.holder)->group("");  // the holder process (internal)
}

/// The candidate list: -g, else an inherited CUDA_VISIBLE_DEVICES. Only a run chooses GPUs, so
/// only a run objects to a list that names none.
void convert_gpus(bool gpus_given, const RawOptions& raw, Options& o, EnvLookup env) {
    if (gpus_given) {
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

void convert(const RawOptions& raw, Options& o, EnvLookup env) {
    if (!raw.min_free.empty()) o.rule.min_free_memory = to_size(raw.min_free, "--min-free-memory");
    if (raw.max_util >= 0) o.rule.max_utilization = static_cast<unsigned>(raw.max_util);
    o.idle_for = to_duration(raw.idle_for, "--idle-for");
    o.poll = to_duration(raw.poll, "--poll");
    if (o.poll < std::chrono::milliseconds(10)) {
        throw Error("--poll: at least 10ms", "the default, 500ms, costs almost nothing");
    }
    if (!raw.timeout.empty()) o.timeout = to_duration(raw.timeout, "--timeout");
    if (!raw.hold_max.empty()) o.hold_max = to_duration(raw.hold_max, "--hold-max");
    // CLI11's range check lets NaN through (every comparison with it is false).
    if (!std::isfinite(o.hold_fraction)) {
        throw Error("--hold-fraction: not a number", "give a fraction from 0 to 0.95, e.g. 0.25");
    }
    o.hold = !raw.no_hold;
    o.visible_devices = raw.visible == "uuid" ? VisibleDevices::uuid : VisibleDevices::index;
    o.replace = raw.replace;
    if (o.replace && o.replace->empty()) throw Error("-I: the replace string is empty");
    if (o.lock_dir.empty()) o.lock_dir = env("GPU_WAITER_LOCK_DIR").value_or(default_lock_dir(env));
    o.verbosity = raw.quiet     ? Verbosity::quiet
                  : raw.verbose ? Verbosity::verbose
                                : Verbosity::normal;
}

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

Backend backend_of(const RawOptions& raw, Mode mode, EnvLookup env) {
    if (raw.slurm) return Backend::slurm;
    // The holder serves a local run, whatever the environment it inherited says.
    if (mode == Mode::holder || mode == Mode::version) return Backend::local;
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

void check_slurm_options(const CLI::App& app) {
    for (const CLI::Option* given : app.get_options()) {
        if (given->count() == 0) continue;
        std::string name = given->get_name();  // the long name, "--gpus" for -g too
        for (const Refusal& r : kNotWithSlurm) {
            if (name != r.option) continue;
            throw Error(fmt::format("{} has no meaning with --slurm: {}", r.option, r.reason),
                        "drop it, or pass Slurm's own options with --slurm-arg=...");
        }
    }
}

/// What the backend changes: Slurm gets its own options checked and passed on; a local run
/// inside a Slurm job learns the job's GPUs.
void convert_backend(const CLI::App& app, const RawOptions& raw, Options& o, EnvLookup env) {
    if (o.backend == Backend::slurm) {
        // Neither the inherited CUDA_VISIBLE_DEVICES nor an enclosing job limits what srun asks.
        check_slurm_options(app);
        o.slurm_args = slurm_args(raw, env);
    } else {
        if (!raw.slurm_args.empty()) {
            throw Error("--slurm-arg needs --slurm", "add --slurm, or set GPU_WAITER_BACKEND=slurm");
        }
        convert_gpus(app.count("--gpus") > 0, raw, o, env);
        if (o.mode == Mode::run) o.slurm_allocation = read_slurm_allocation(env);
    }
}

Mode mode_of(const RawOptions& raw) {
    if (raw.holder) return Mode::holder;
    if (raw.version) return Mode::version;
    if (raw.status) return Mode::status;
    return Mode::run;
}

}  // namespace

std::optional<std::string> process_env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

std::variant<Options, int> parse_options(int argc, const char* const* argv, EnvLookup env) {
    CLI::App app{
        "Wait until GPUs are free, hold them, and run COMMAND on them.\n"
        "Also: gpu-waiter --status [--json] | --help | --version\n",
        "gpu-waiter"};
    app.footer(usage_footer());
    app.formatter(std::make_shared<Formatter>());
    // Everything from the first non-option on is the command's, options included.
    app.prefix_command();
    Options o;
    RawOptions raw;
    add_options(app, raw, o, env);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::ParseError& e) {
        throw Error(e.what(), kUsageHint);
    }
    o.command = app.remaining();
    // CLI11 hands an unknown option on as the command's first word: a typo like --cout would
    // then run as a command called "--cout". A command that starts with '-' goes after "--".
    if (!o.command.empty() && o.command.front() != "--" && o.command.front().starts_with("-") &&
        o.command.front() != "-") {
        throw Error(fmt::format("unknown option {}", o.command.front()),
                    "options go before COMMAND; put -- before a command that starts with '-'");
    }
    if (!o.command.empty() && o.command.front() == "--") o.command.erase(o.command.begin());
    o.mode = mode_of(raw);
    o.backend = backend_of(raw, o.mode, env);
    convert(raw, o, env);
    convert_backend(app, raw, o, env);

    if (o.mode == Mode::run && o.command.empty()) throw Error("no COMMAND given", kUsageHint);
    if (o.mode == Mode::status && !o.command.empty()) {
        throw Error("--status takes no COMMAND", kUsageHint);
    }
    return o;
}

}  // namespace gw
