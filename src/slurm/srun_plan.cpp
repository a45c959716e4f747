#include "slurm/srun_plan.hpp"

#include <chrono>
#include <string>

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

}  // namespace

const char* srun_step_script() {
    return kStepScript;
}

LaunchRequest plan_srun(const Options& o) {
    LaunchRequest request;
    std::vector<std::string>& argv = request.argv;
    argv = {"srun", "--gpus=" + std::to_string(o.count)};
    // Without --name, Slurm would call every job "sh", after the step script.
    argv.push_back("--job-name=" + o.name.value_or(command_name(o.command.front())));
    if (o.timeout) argv.push_back("--immediate=" + std::to_string(immediate_seconds(*o.timeout)));
    if (o.verbosity == Verbosity::quiet) argv.push_back("--quiet");
    // After ours, so that the user's own choice wins where both name one.
    argv.insert(argv.end(), o.slurm_args.begin(), o.slurm_args.end());
    argv.insert(argv.end(), {"/bin/sh", "-c", kStepScript, "gpu-waiter", o.replace.value_or("")});
    argv.insert(argv.end(), o.command.begin(), o.command.end());
    request.set_env = {
        {"SLURM_EXIT_IMMEDIATE", std::to_string(kSrunNoAllocation)},
        {"SLURM_EXIT_ERROR", std::to_string(kSrunError)},
        // srun passes the environment on: the step's CUDA numbers follow the PCI bus, like
        // Slurm's and nvidia-smi's.
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
    };
    return request;
}

}  // namespace gw
