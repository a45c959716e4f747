#include "slurm/srun_plan.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace gw {
namespace {

// Runs on the compute node, where Slurm has set the step's variables. A shell, not gpu-waiter,
// so that the node needs nothing installed. GPU_WAITER_GPUS takes Slurm's node-wide numbers
// (nvidia-smi's, where Slurm numbers GPUs in PCI bus order); -I's STR becomes
// CUDA_VISIBLE_DEVICES, the numbers CUDA inside the step uses. Arguments are rotated through
// "$@" one by one so that none is ever split or globbed. A gpu-waiter inside the step runs
// locally, over the step's GPUs, whatever backend this one was told.
constexpr const char* kStepScript = R"(s=$1; shift
GPU_WAITER_GPUS=${SLURM_STEP_GPUS:-${SLURM_JOB_GPUS:-$CUDA_VISIBLE_DEVICES}}
export GPU_WAITER_GPUS
unset SLURM_EXIT_IMMEDIATE SLURM_EXIT_ERROR GPU_WAITER_UUIDS GPU_WAITER_BACKEND
if [ -n "$s" ]; then
  i=0; n=$#
  while [ "$i" -lt "$n" ]; do
    a=$1; shift
    if [ "$i" -gt 0 ]; then
      r=
      while :; do
        case $a in
          *"$s"*) r=$r${a%%"$s"*}$CUDA_VISIBLE_DEVICES; a=${a#*"$s"} ;;
          *) break ;;
        esac
      done
      a=$r$a
    fi
    set -- "$@" "$a"; i=$((i + 1))
  done
fi
exec "$@")";

/// srun waits in whole seconds; a shorter --timeout still gives Slurm one second.
long long immediate_seconds(Duration timeout) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(timeout).count();
    long long seconds = (ms + 999) / 1000;
    return seconds < 1 ? 1 : seconds;
}

std::string command_name(const std::string& command) {
    std::size_t slash = command.find_last_of('/');
    return slash == std::string::npos ? command : command.substr(slash + 1);
}

/// One word for sh, whatever bytes it holds: single quotes, each ' as '\''.
std::string sh_word(const std::string& word) {
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

/// The batch script's body: the step, then a last line in the log with the exit status.
std::string batch_body(const Options& o) {
    std::string step =
        "/bin/sh -c " + sh_word(kStepScript) + " gpu-waiter " + sh_word(o.replace.value_or(""));
    for (const std::string& arg : o.command) step += " " + sh_word(arg);
    return step +
           "\ns=$?\necho \"gpu-waiter: Slurm job $SLURM_JOB_ID ended $(date -u "
           "+%Y-%m-%dT%H:%M:%SZ): exit status $s\"\nexit $s";
}

std::vector<std::string> job_options(const Options& o) {
    // Without --name, Slurm would call every job "sh", after the step script.
    return {"--gpus=" + std::to_string(o.count),
            "--job-name=" + o.name.value_or(command_name(o.command.front()))};
}

std::vector<std::pair<std::string, std::string>> slurm_exit_codes() {
    return {{"SLURM_EXIT_IMMEDIATE", std::to_string(kSrunNoAllocation)},
            {"SLURM_EXIT_ERROR", std::to_string(kSrunError)},
            // Slurm passes the environment on: the step's CUDA numbers follow the PCI bus, like
            // Slurm's and nvidia-smi's.
            {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"}};
}

}  // namespace

const char* srun_step_script() {
    return kStepScript;
}

LaunchRequest plan_srun(const Options& o) {
    LaunchRequest request;
    std::vector<std::string>& argv = request.argv;
    argv = {"srun"};
    for (std::string& option : job_options(o)) argv.push_back(std::move(option));
    if (o.timeout) argv.push_back("--immediate=" + std::to_string(immediate_seconds(*o.timeout)));
    if (o.verbosity == Verbosity::quiet) argv.push_back("--quiet");
    // After ours, so that the user's own choice wins where both name one.
    argv.insert(argv.end(), o.slurm_args.begin(), o.slurm_args.end());
    argv.insert(argv.end(), {"/bin/sh", "-c", kStepScript, "gpu-waiter", o.replace.value_or("")});
    argv.insert(argv.end(), o.command.begin(), o.command.end());
    request.set_env = slurm_exit_codes();
    return request;
}

LaunchRequest plan_sbatch(const Options& o, const std::string& log) {
    LaunchRequest request;
    std::vector<std::string>& argv = request.argv;
    argv = {"sbatch"};
    for (std::string& option : job_options(o)) argv.push_back(std::move(option));
    argv.push_back("--output=" + log);
    if (o.verbosity == Verbosity::quiet) argv.push_back("--quiet");
    argv.insert(argv.end(), o.slurm_args.begin(), o.slurm_args.end());
    argv.push_back("--wrap=" + batch_body(o));
    request.set_env = slurm_exit_codes();
    return request;
}

LaunchRequest plan_scancel(const std::string& target, const std::string& user, bool superuser) {
    LaunchRequest request;
    bool id = !target.empty() && target.find_first_not_of("0123456789") == std::string::npos;
    // Slurm refuses another user's job by id itself; a name is matched among one's own jobs.
    request.argv = {"scancel"};
    if (!id && !superuser) request.argv.push_back("--user=" + user);
    request.argv.push_back(id ? target : "--name=" + target);
    return request;
}

}  // namespace gw
