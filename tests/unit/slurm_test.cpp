// slurm/: the srun command line, and the GPUs a run inside a Slurm job may use.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "slurm/allocation.hpp"
#include "slurm/srun_plan.hpp"

namespace {

using Strings = std::vector<std::string>;

// NVML numbers these GPUs 0..3; on the PCI bus the order is NVML 1, 3, 2, 0. Slurm, like CUDA
// under PCI_BUS_ID, numbers them in PCI bus order: Slurm 0 = NVML 1, 1 = 3, 2 = 2, 3 = 0.
gw::GpuInventory machine() {
    return gw::GpuInventory{
        {
            {0, "GPU-aaaa", "H100", "00000000:81:00.0"},
            {1, "GPU-bbbb", "H100", "00000000:17:00.0"},
            {2, "GPU-cccc", "H100", "00000000:65:00.0"},
            {3, "GPU-dddd", "H100", "00000000:3B:00.0"},
        },
        {},
    };
}

/// What NVML shows inside a job whose devices are confined (cgroup ConstrainDevices): its own
/// GPUs only, numbered from 0 in PCI bus order.
gw::GpuInventory confined(std::vector<gw::GpuIdentity> gpus) {
    for (unsigned i = 0; i < gpus.size(); ++i) gpus[i].index = i;
    return gw::GpuInventory{gpus, {}};
}

std::vector<unsigned> indices(const std::vector<gw::GpuIdentity>& gpus) {
    std::vector<unsigned> out;
    for (const gw::GpuIdentity& g : gpus) out.push_back(g.index);
    return out;
}

gw::SlurmAllocation job(std::vector<unsigned> gpus, std::string variable = "SLURM_STEP_GPUS") {
    return gw::SlurmAllocation{"12", gpus.empty() ? "" : variable, std::move(gpus)};
}

std::vector<unsigned> allocated(const gw::GpuInventory& inventory,
                                const gw::SlurmAllocation& allocation, const Strings& entries = {},
                                gw::CandidateSource source = gw::CandidateSource::all) {
    auto candidates = gw::resolve_candidates(inventory, entries, source);
    return indices(gw::restrict_to_allocation(inventory, allocation, candidates, source).gpus);
}

::testing::AssertionResult refused(const gw::GpuInventory& inventory,
                                   const gw::SlurmAllocation& allocation, const Strings& entries,
                                   gw::CandidateSource source) {
    try {
        auto candidates = gw::resolve_candidates(inventory, entries, source);
        auto got = gw::restrict_to_allocation(inventory, allocation, candidates, source);
        return ::testing::AssertionFailure() << "allowed " << got.gpus.size() << " GPU(s)";
    } catch (const gw::Error& e) {
        if (e.code() != gw::ExitCode::tool_failed) return ::testing::AssertionFailure();
        return ::testing::AssertionSuccess() << e.what();
    }
}

// -- inside a Slurm job ------------------------------------------------------------------------

TEST(SlurmAllocation, SlurmNumbersAreRanksOnThePciBusWhenNvmlSeesTheWholeNode) {
    EXPECT_EQ(allocated(machine(), job({0, 1})), (std::vector<unsigned>{1, 3}));
    EXPECT_EQ(allocated(machine(), job({2, 3})), (std::vector<unsigned>{2, 0}));
    EXPECT_EQ(allocated(machine(), job({3}, "SLURM_JOB_GPUS")), (std::vector<unsigned>{0}));
}

TEST(SlurmAllocation, ConfinedDevicesShowOnlyTheJobsGpus) {
    auto inventory = confined({machine().gpus[2], machine().gpus[0]});  // Slurm's 2 and 3
    EXPECT_EQ(allocated(inventory, job({2, 3})), (std::vector<unsigned>{0, 1}));
    // Slurm's CUDA_VISIBLE_DEVICES there is renumbered from 0, as CUDA sees the job's GPUs.
    EXPECT_EQ(allocated(inventory, job({2, 3}), {"1"}, gw::CandidateSource::environment),
              (std::vector<unsigned>{1}));
}

TEST(SlurmAllocation, InheritedVisibleDevicesNarrowWithinTheJob) {
    // Unconfined, Slurm sets CUDA_VISIBLE_DEVICES to its own numbers: 2,3 -> NVML 2, 0.
    EXPECT_EQ(allocated(machine(), job({2, 3}), {"2", "3"}, gw::CandidateSource::environment),
              (std::vector<unsigned>{2, 0}));
    EXPECT_EQ(allocated(machine(), job({2, 3}), {"3"}, gw::CandidateSource::environment),
              (std::vector<unsigned>{0}));
    EXPECT_TRUE(refused(machine(), job({2, 3}), {"0"}, gw::CandidateSource::environment));
}

TEST(SlurmAllocation, GpusOptionMustStayWithinTheJob) {
    EXPECT_EQ(allocated(machine(), job({2, 3}), {"0"}, gw::CandidateSource::option),
              (std::vector<unsigned>{0}));
    EXPECT_TRUE(refused(machine(), job({2, 3}), {"1"}, gw::CandidateSource::option));
}

TEST(SlurmAllocation, WithoutSlurmsListTheVisibleDevicesDecide) {
    EXPECT_EQ(allocated(machine(), job({}), {"0"}, gw::CandidateSource::environment),
              (std::vector<unsigned>{1}));
}

TEST(SlurmAllocation, AJobWithoutGpusIsRefused) {
    EXPECT_TRUE(refused(machine(), job({}), {}, gw::CandidateSource::all));
}

TEST(SlurmAllocation, ANumberBeyondWhatNvmlShowsIsRefused) {
    EXPECT_TRUE(refused(machine(), job({1, 4}), {}, gw::CandidateSource::all));
}

// -- the srun command line ---------------------------------------------------------------------

gw::Options slurm_options(Strings command) {
    gw::Options o;
    o.backend = gw::Backend::slurm;
    o.command = std::move(command);
    return o;
}

/// srun's own options: everything before the step's /bin/sh.
Strings srun_options(const gw::LaunchRequest& r) {
    auto sh = std::find(r.argv.begin(), r.argv.end(), "/bin/sh");
    return Strings(r.argv.begin() + 1, sh);
}

/// The step: /bin/sh -c SCRIPT $0 STR COMMAND...
Strings step(const gw::LaunchRequest& r) {
    auto sh = std::find(r.argv.begin(), r.argv.end(), "/bin/sh");
    return Strings(sh, r.argv.end());
}

TEST(SrunPlan, CountNameAndCommand) {
    gw::Options o = slurm_options({"/usr/bin/python3", "train.py", "-n", "3"});
    o.count = 2;
    gw::LaunchRequest r = gw::plan_srun(o);
    EXPECT_EQ(r.argv.front(), "srun");
    EXPECT_EQ(srun_options(r), (Strings{"--gpus=2", "--job-name=python3"}));
    EXPECT_EQ(step(r), (Strings{"/bin/sh", "-c", gw::srun_step_script(), "gpu-waiter", "",
                                "/usr/bin/python3", "train.py", "-n", "3"}));
    o.name = "exp 1";
    EXPECT_EQ(srun_options(gw::plan_srun(o)), (Strings{"--gpus=2", "--job-name=exp 1"}));
}

TEST(SrunPlan, TimeoutBecomesWholeSecondsOfImmediate) {
    gw::Options o = slurm_options({"true"});
    o.timeout = std::chrono::milliseconds(1500);
    EXPECT_EQ(srun_options(gw::plan_srun(o)).back(), "--immediate=2");
    o.timeout = std::chrono::milliseconds(0);
    EXPECT_EQ(srun_options(gw::plan_srun(o)).back(), "--immediate=1");
    o.timeout = std::chrono::hours(2);
    EXPECT_EQ(srun_options(gw::plan_srun(o)).back(), "--immediate=7200");
}

TEST(SrunPlan, UserArgumentsComeLastAndQuietIsPassedOn) {
    gw::Options o = slurm_options({"true"});
    o.slurm_args = {"--partition=gpu", "--gpus=a100:1"};
    o.verbosity = gw::Verbosity::quiet;
    EXPECT_EQ(srun_options(gw::plan_srun(o)), (Strings{"--gpus=1", "--job-name=true", "--quiet",
                                                       "--partition=gpu", "--gpus=a100:1"}));
}

TEST(SrunPlan, ReplaceStringGoesToTheStep) {
    gw::Options o = slurm_options({"deepspeed", "--include", "localhost:{}"});
    o.replace = "{}";
    EXPECT_EQ(step(gw::plan_srun(o))[4], "{}");
}

TEST(SrunPlan, SrunsOwnFailuresReadAsGpuWaiters) {
    auto env = gw::plan_srun(slurm_options({"true"})).set_env;
    auto has = [&](const std::string& name, const std::string& value) {
        return std::find(env.begin(), env.end(), std::pair{name, value}) != env.end();
    };
    EXPECT_TRUE(has("SLURM_EXIT_IMMEDIATE", "124"));
    EXPECT_TRUE(has("SLURM_EXIT_ERROR", "125"));
    EXPECT_TRUE(has("CUDA_DEVICE_ORDER", "PCI_BUS_ID"));
}

TEST(SbatchPlan, JobOptionsLogUserArgumentsThenTheBatchScript) {
    gw::Options o = slurm_options({"python3", "it's a \"test\"", "$HOME"});
    o.count = 2;
    o.name = "nightly";
    o.slurm_args = {"--partition=gpu"};
    gw::LaunchRequest r = gw::plan_sbatch(o, "/logs/nightly-%j.log");
    ASSERT_EQ(r.argv.size(), 6u);
    EXPECT_EQ(Strings(r.argv.begin(), r.argv.end() - 1),
              (Strings{"sbatch", "--gpus=2", "--job-name=nightly", "--output=/logs/nightly-%j.log",
                       "--partition=gpu"}));
    const std::string& wrap = r.argv.back();
    EXPECT_EQ(wrap.rfind("--wrap=/bin/sh -c '", 0), 0u) << wrap;
    // Each word in single quotes, a quote inside as '\'': nothing is expanded on the node.
    EXPECT_NE(wrap.find(" 'python3' 'it'\\''s a \"test\"' '$HOME'\n"), std::string::npos) << wrap;
    EXPECT_NE(wrap.find("exit status $s"), std::string::npos) << wrap;
    EXPECT_EQ(r.set_env, gw::plan_srun(o).set_env);
}

TEST(ScancelPlan, IdsAsTheyAreNamesAmongOnesOwnJobs) {
    EXPECT_EQ(gw::plan_scancel("42", "ann", false).argv, (Strings{"scancel", "42"}));
    EXPECT_EQ(gw::plan_scancel("nightly", "ann", false).argv,
              (Strings{"scancel", "--user=ann", "--name=nightly"}));
    EXPECT_EQ(gw::plan_scancel("nightly", "root", true).argv,
              (Strings{"scancel", "--name=nightly"}));
}

}  // namespace
