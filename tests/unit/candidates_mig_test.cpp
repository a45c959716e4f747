// policy/candidates and the rule check over a machine with a GPU in MIG mode: its instances are
// the units, named by MIG UUID, by "GPU:MIG", or all at once by the GPU's index or UUID.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "policy/availability.hpp"
#include "policy/candidates.hpp"

namespace {

using Strings = std::vector<std::string>;

constexpr const char* kParent = "GPU-aaaa0000-1111-2222-3333-444444444444";

gw::GpuIdentity instance(unsigned slot) {
    gw::GpuIdentity g{0, "MIG-" + std::to_string(slot) + "aaa0000-1111-2222-3333-444444444444",
                      "H100 MIG 2g.20gb", "00000000:81:00.0"};
    g.mig = gw::MigPlace{kParent, slot};
    return g;
}

// GPU 0 (bus 81) in MIG mode with instances in slots 0, 2 and 5; GPU 1 (bus 17) a whole GPU.
const gw::GpuInventory& machine() {
    static const gw::GpuInventory inventory{
        {instance(0), instance(2), instance(5),
         {1, "GPU-bbbb0000-1111-2222-3333-444444444444", "H100", "00000000:17:00.0"}},
        {},
    };
    return inventory;
}

Strings labels(const Strings& entries, gw::CandidateSource source) {
    Strings out;
    for (const gw::GpuIdentity& g : gw::resolve_candidates(machine(), entries, source))
        out.push_back(gw::unit_label(g));
    return out;
}

std::string error_of(const Strings& entries, gw::CandidateSource source) {
    try {
        (void)gw::resolve_candidates(machine(), entries, source);
    } catch (const gw::Error& e) {
        return e.what();
    }
    return "no error";
}

constexpr auto kOption = gw::CandidateSource::option;
constexpr auto kEnvironment = gw::CandidateSource::environment;

TEST(ResolveMig, ParentIndexMeansEveryInstance) {
    EXPECT_EQ(labels({"0"}, kOption), (Strings{"0:0", "0:2", "0:5"}));
    EXPECT_EQ(labels({"1"}, kOption), (Strings{"1"}));
}

TEST(ResolveMig, ParentUuidMeansEveryInstance) {
    EXPECT_EQ(labels({kParent}, kOption), (Strings{"0:0", "0:2", "0:5"}));
    EXPECT_EQ(labels({"GPU-aaaa"}, kOption), (Strings{"0:0", "0:2", "0:5"}));
}

TEST(ResolveMig, MigUuidAndPairNameOneInstance) {
    EXPECT_EQ(labels({instance(2).uuid}, kOption), (Strings{"0:2"}));
    EXPECT_EQ(labels({"mig-5aaa"}, kOption), (Strings{"0:5"}));
    EXPECT_EQ(labels({"0:5", "1"}, kOption), (Strings{"0:5", "1"}));
    EXPECT_EQ(labels({instance(0).uuid}, kEnvironment), (Strings{"0:0"}));
}

TEST(ResolveMig, EmptySlotsAndRepeatsAreErrors) {
    EXPECT_NE(error_of({"0:1"}, kOption).find("GPU 0 has no MIG device 1"), std::string::npos);
    EXPECT_NE(error_of({"MIG-ffff"}, kOption).find("no MIG instance"), std::string::npos);
    EXPECT_NE(error_of({"0", "0:2"}, kOption).find("twice"), std::string::npos);
}

TEST(ResolveMig, CudaOrdinalOfAMigGpuIsRefused) {
    // CUDA numbers whole GPUs; an instance has only its UUID.
    EXPECT_NE(error_of({"1"}, kEnvironment).find("MIG"), std::string::npos);
}

TEST(CheckRuleFits, MaxUtilCannotJudgeAnInstance) {
    gw::AvailabilityRule rule;
    EXPECT_NO_THROW(gw::check_rule_fits(rule, machine().gpus));
    rule.max_utilization = 50;
    EXPECT_THROW(gw::check_rule_fits(rule, machine().gpus), gw::Error);
    EXPECT_NO_THROW(gw::check_rule_fits(rule, {machine().gpus.back()}));
}

}  // namespace
