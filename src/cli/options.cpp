#include "cli/options.hpp"

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/options_raw.hpp"
#include "common/error.hpp"

namespace gw {
namespace {

constexpr const char* kUsageHint = "try 'gpu-waiter --help'";

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

/// The defaults shown by --help are the ones Options starts with: one place for each.
void add_choice_options(CLI::App& app, RawOptions& raw) {
    const Options d;
    app.add_option("-n,--count", raw.count,
                   fmt::format("how many GPUs the command needs (default {})", d.count))
        ->type_name("N");
    app.add_option("-g,--gpus", raw.gpus,
                   "candidate GPUs: indices as nvidia-smi numbers them, GPU-… UUIDs or unique "
                   "prefixes (default: all, or those CUDA_VISIBLE_DEVICES names)")
        ->type_name("LIST");
    app.add_option("--min-free-memory", raw.min_free,
                   "sharing mode: a GPU qualifies with at least SIZE free (20GiB, 512MiB, 40%)")
        ->type_name("SIZE");
    app.add_option("--max-util", raw.max_util, "also require GPU utilization <= PCT")
        ->type_name("PCT");
    app.add_option("--idle-for", raw.idle_for,
                   fmt::format("a GPU must stay available this long (default {})",
                               format_duration(d.idle_for)))
        ->type_name("DURATION");
    app.add_option(
           "--poll", raw.poll,
           fmt::format("how often the GPUs are looked at (default {})", format_duration(d.poll)))
        ->type_name("DURATION");
    app.add_option("--timeout", raw.timeout, "give up waiting after DURATION (exit 124)")
        ->type_name("DURATION");
}

void add_launch_options(CLI::App& app, RawOptions& raw, EnvLookup env) {
    const Options d;
    app.add_option("--hold-fraction", raw.hold_fraction,
                   fmt::format("fraction of a chosen GPU's free memory to hold until the command "
                               "uses it (default {})",
                               d.hold_fraction))
        ->type_name("F");
    app.add_option("--hold-max", raw.hold_max, "release holds after DURATION at the latest")
        ->type_name("DURATION");
    app.add_flag("--no-hold", raw.no_hold, "do not hold memory on the chosen GPUs");
    app.add_option("--visible-devices", raw.visible,
                   "how CUDA_VISIBLE_DEVICES names the GPUs: index (default) or uuid")
        ->type_name("index|uuid");
    app.add_option("-I", raw.replace,
                   "replace STR in the command's arguments with the GPUs' CUDA numbers")
        ->type_name("STR");
    app.add_option("--lock-dir", raw.lock_dir,
                   fmt::format("lock directory shared by all waiters (GPU_WAITER_LOCK_DIR; "
                               "default {})",
                               default_lock_dir(env)))
        ->type_name("DIR");
}

void add_job_options(CLI::App& app, RawOptions& raw, EnvLookup env) {
    app.add_option("--name", raw.name,
                   "label the job in --status and for --cancel (with --slurm: Slurm's job name)")
        ->type_name("NAME");
    app.add_flag("--detach", raw.detach,
                 "return at once; the job waits and runs on its own, writing to a log");
    app.add_option("--log", raw.log,
                   fmt::format("with --detach: the log file (default {}/NAME-ID.log)",
                               default_log_dir(env)))
        ->type_name("FILE");
    app.add_option("--cancel", raw.cancel,
                   fmt::format("end one's own job: waiting, it leaves the queue; running, its "
                               "command gets SIGTERM, then SIGKILL after {}",
                               format_duration(kCancelGrace)))
        ->type_name("ID|NAME");
    app.add_flag("--status", raw.status, "show GPUs, their users, lock holders and the queue");
    app.add_option("--watch", raw.watch,
                   fmt::format("with --status: redraw every DURATION (default {})",
                               format_duration(kWatchDefault)))
        ->type_name("[DURATION]")
        ->expected(0, 1);
    app.add_flag("--json", raw.json, "with --status: one JSON document");
    app.add_flag("--mine", raw.mine, "with --status: only my jobs");
    app.add_option("--user", raw.user, "with --status: only USER's jobs")->type_name("USER");
}

void add_backend_options(CLI::App& app, RawOptions& raw) {
    app.add_flag("--slurm", raw.slurm,
                 "run COMMAND through Slurm's srun instead of on this machine "
                 "(GPU_WAITER_BACKEND=slurm)");
    // Collected one by one: each occurrence is one srun argument, never split.
    app.add_option("--slurm-arg", raw.slurm_arg,
                   "with --slurm: pass ARG to srun, e.g. --slurm-arg=--partition=gpu (repeatable)")
        ->each([&raw](const std::string& arg) { raw.slurm_args.push_back(arg); })
        ->type_name("ARG");
}

void add_options(CLI::App& app, RawOptions& raw, EnvLookup env) {
    // The last of a repeated option wins, as with most tools.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    add_choice_options(app, raw);
    add_launch_options(app, raw, env);
    add_job_options(app, raw, env);
    add_backend_options(app, raw);
    app.add_flag("-q,--quiet", raw.quiet, "print errors only");
    app.add_flag("-v,--verbose", raw.verbose, "print more detail");
    app.add_flag("-V,--version", raw.version, "print the version, the driver's and NVML's");
    app.add_flag("--internal-holder", raw.holder)->group("");        // the holder process
    app.add_flag("--internal-detached", raw.background)->group("");  // a --detach job itself
    app.add_option("--internal-complete", raw.complete)->group("");  // for shell completions
}

std::vector<std::string> option_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::Option* option : app.get_options()) {
        if (option->get_group().empty()) continue;
        for (const std::string& n : option->get_lnames()) names.push_back("--" + n);
        for (const std::string& n : option->get_snames()) names.push_back("-" + n);
    }
    return names;
}

/// CLI11's own texts name its internals ("1 required TEXT missing"): say it in our words.
Error usage_error(const CLI::ParseError& e) {
    std::string what = e.what();
    std::string option = what.substr(0, what.find(':'));
    if (option.starts_with("-") && option.size() < what.size()) {
        if (what.find("missing") != std::string::npos) {
            return Error(fmt::format("{} needs a value", option), kUsageHint);
        }
        return Error(fmt::format("{}: not understood ({})", option, what.substr(option.size() + 2)),
                     kUsageHint);
    }
    return Error(fmt::format("cannot read the command line: {}", what), kUsageHint);
}

/// CLI11 hands an unknown option on as the command's first word: a typo like --cout would then
/// run as a command called "--cout". A command that starts with '-' goes after "--".
void refuse_unknown_option(const CLI::App& app, const std::vector<std::string>& command) {
    if (command.empty() || command.front() == "--" || command.front() == "-" ||
        !command.front().starts_with("-")) {
        return;
    }
    const std::string& typed = command.front();
    auto close = closest_option(typed, option_names(app));
    throw Error(fmt::format("unknown option {}", typed.substr(0, typed.find('='))),
                close ? fmt::format("did you mean {}?", *close)
                      : "options go before COMMAND; put -- before a command that starts with '-'");
}

std::set<std::string> given_options(const CLI::App& app) {
    std::set<std::string> given;
    for (const CLI::Option* option : app.get_options()) {
        if (option->count() == 0) continue;
        const auto& longs = option->get_lnames();
        given.insert(longs.empty() ? "-" + option->get_snames().front() : "--" + longs.front());
    }
    return given;
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
        "Also: gpu-waiter --status [--watch] [--json] [--mine] | --cancel ID|NAME | --help | "
        "--version\n",
        "gpu-waiter"};
    app.footer(usage_footer());
    app.formatter(std::make_shared<Formatter>());
    // Everything from the first non-option on is the command's, options included.
    app.prefix_command();
    RawOptions raw;
    add_options(app, raw, env);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::ParseError& e) {
        throw usage_error(e);
    }
    Options o;
    o.arguments.assign(argv + (argc > 0 ? 1 : 0), argv + argc);
    o.command = app.remaining();
    refuse_unknown_option(app, o.command);
    if (!o.command.empty() && o.command.front() == "--") o.command.erase(o.command.begin());
    raw.given = given_options(app);
    o.mode = mode_of(raw);
    check_combinations(raw, o.mode, o.command);
    convert(raw, o, env);
    convert_backend(raw, o, env);
    return o;
}

}  // namespace gw
