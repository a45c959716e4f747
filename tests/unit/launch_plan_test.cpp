// app/launch_plan: the command line and environment of the "Launching" table.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "app/launch_plan.hpp"

namespace {

using Strings = std::vector<std::string>;

// NVML 0 is at bus 81, NVML 1 at 17, NVML 2 at 3B: CUDA numbers them 2, 0, 1.
const gw::GpuInventory& machine() {
    static const gw::GpuInventory inventory{
        {
            {0, "GPU-aaaa", "H100", "00000000:81:00.0"},
            {1, "GPU-bbbb", "H100", "00000000:17:00.0"},
            {2, "GPU-cccc", "H100", "00000000:3B:00.0"},
        },
        {},
    };
    return inventory;
}

const gw::GpuIdentity& nvml(unsigned index) {
    return machine().gpus.at(index);
}

gw::ChosenGpu chosen(unsigned index, unsigned ordinal) {
    return gw::ChosenGpu{nvml(index), ordinal};
}

std::map<std::string, std::string> env_of(const gw::LaunchRequest& request) {
    std::map<std::string, std::string> env;
    for (const auto& [name, value] : request.set_env) {
        EXPECT_TRUE(env.emplace(name, value).second) << name << " set twice";
    }
    return env;
}

gw::Options with_command(Strings command) {
    gw::Options o;
    o.command = std::move(command);
    return o;
}

TEST(OrderForCuda, SortsByPciDerivedOrdinal) {
    auto order = gw::order_for_cuda(machine(), {nvml(0), nvml(2), nvml(1)});
    ASSERT_EQ(order.size(), 3u);
    EXPECT_EQ(order[0].identity.index, 1u);
    EXPECT_EQ(order[0].cuda_ordinal, 0u);
    EXPECT_EQ(order[1].identity.index, 2u);
    EXPECT_EQ(order[1].cuda_ordinal, 1u);
    EXPECT_EQ(order[2].identity.index, 0u);
    EXPECT_EQ(order[2].cuda_ordinal, 2u);
}

TEST(OrderForCuda, SubsetKeepsMachineWideOrdinals) {
    auto order = gw::order_for_cuda(machine(), {nvml(0), nvml(2)});
    ASSERT_EQ(order.size(), 2u);
    EXPECT_EQ(order[0].identity.uuid, "GPU-cccc");
    EXPECT_EQ(order[0].cuda_ordinal, 1u);
    EXPECT_EQ(order[1].identity.uuid, "GPU-aaaa");
    EXPECT_EQ(order[1].cuda_ordinal, 2u);
}

TEST(OrderForCuda, SingleGpu) {
    auto order = gw::order_for_cuda(machine(), {nvml(0)});
    ASSERT_EQ(order.size(), 1u);
    EXPECT_EQ(order[0].cuda_ordinal, 2u);
}

TEST(PlanLaunch, EnvironmentWithCudaOrdinals) {
    auto gpus = gw::order_for_cuda(machine(), {nvml(0), nvml(2)});
    gw::LaunchRequest req =
        gw::plan_launch(gw::launch_settings(with_command({"python", "train.py"})), gpus);
    EXPECT_EQ(req.argv, (Strings{"python", "train.py"}));
    auto env = env_of(req);
    EXPECT_EQ(env.size(), 4u);
    EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"], "1,2");
    EXPECT_EQ(env["CUDA_DEVICE_ORDER"], "PCI_BUS_ID");
    EXPECT_EQ(env["GPU_WAITER_GPUS"], "2,0");
    EXPECT_EQ(env["GPU_WAITER_UUIDS"], "GPU-cccc,GPU-aaaa");
}

TEST(PlanLaunch, NvmlIndexIsNeverUsedAsCudaNumber) {
    auto gpus = gw::order_for_cuda(machine(), {nvml(1)});
    auto env = env_of(gw::plan_launch(gw::launch_settings(with_command({"cmd"})), gpus));
    EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"], "0");
    EXPECT_EQ(env["GPU_WAITER_GPUS"], "1");
    EXPECT_EQ(env["GPU_WAITER_UUIDS"], "GPU-bbbb");
}

TEST(PlanLaunch, VisibleDevicesAsUuids) {
    gw::Options o = with_command({"cmd"});
    o.visible_devices = gw::VisibleDevices::uuid;
    auto gpus = gw::order_for_cuda(machine(), {nvml(0), nvml(1)});
    auto env = env_of(gw::plan_launch(gw::launch_settings(o), gpus));
    EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"], "GPU-bbbb,GPU-aaaa");
    EXPECT_EQ(env["CUDA_DEVICE_ORDER"], "PCI_BUS_ID");
    EXPECT_EQ(env["GPU_WAITER_GPUS"], "1,0");
    EXPECT_EQ(env["GPU_WAITER_UUIDS"], "GPU-bbbb,GPU-aaaa");
}

TEST(PlanLaunch, UsesTheGivenOrderAndOrdinals) {
    std::vector<gw::ChosenGpu> gpus{chosen(2, 5), chosen(0, 7)};
    auto env = env_of(gw::plan_launch(gw::launch_settings(with_command({"cmd"})), gpus));
    EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"], "5,7");
    EXPECT_EQ(env["GPU_WAITER_GPUS"], "2,0");
    EXPECT_EQ(env["GPU_WAITER_UUIDS"], "GPU-cccc,GPU-aaaa");
}

TEST(PlanLaunch, ReplaceStringInArguments) {
    gw::Options o = with_command({"deepspeed", "--include", "localhost:{}", "{}-{}", "plain"});
    o.replace = "{}";
    auto gpus = gw::order_for_cuda(machine(), {nvml(2), nvml(1)});
    gw::LaunchRequest req = gw::plan_launch(gw::launch_settings(o), gpus);
    EXPECT_EQ(req.argv, (Strings{"deepspeed", "--include", "localhost:0,1", "0,1-0,1", "plain"}));
}

TEST(PlanLaunch, ReplaceLeavesTheProgramNameAlone) {
    gw::Options o = with_command({"./run{}.sh", "{}"});
    o.replace = "{}";
    gw::LaunchRequest req = gw::plan_launch(gw::launch_settings(o), {chosen(1, 0)});
    EXPECT_EQ(req.argv, (Strings{"./run{}.sh", "0"}));
}

TEST(PlanLaunch, ReplacementIsNotReplacedAgain) {
    // The CUDA numbers "1,2" contain the replace string "1": each occurrence is replaced once.
    gw::Options o = with_command({"cmd", "a1b1"});
    o.replace = "1";
    gw::LaunchRequest req = gw::plan_launch(gw::launch_settings(o), {chosen(2, 1), chosen(0, 2)});
    EXPECT_EQ(req.argv, (Strings{"cmd", "a1,2b1,2"}));
}

TEST(PlanLaunch, WithoutReplaceArgumentsAreUntouched) {
    gw::LaunchRequest req =
        gw::plan_launch(gw::launch_settings(with_command({"cmd", "{}", "%"})), {chosen(1, 0)});
    EXPECT_EQ(req.argv, (Strings{"cmd", "{}", "%"}));
}

}  // namespace
