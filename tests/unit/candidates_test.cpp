// policy/candidates: -g lists and inherited CUDA_VISIBLE_DEVICES resolved over an inventory.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "policy/candidates.hpp"

namespace {

using Strings = std::vector<std::string>;

// NVML numbers these GPUs 0, 1, 2, 3; on the PCI bus the order is 1 (17), 3 (3B), 2 (65), 0 (81).
// So CUDA under PCI_BUS_ID numbers them: NVML 1 -> 0, NVML 3 -> 1, NVML 2 -> 2, NVML 0 -> 3.
const gw::GpuInventory& machine() {
    static const gw::GpuInventory inventory{
        {
            {0, "GPU-aaaa0000-1111-2222-3333-444444444444", "H100", "00000000:81:00.0"},
            {1, "GPU-bbbb0000-1111-2222-3333-444444444444", "H100", "00000000:17:00.0"},
            {2, "GPU-aaab0000-1111-2222-3333-444444444444", "H100", "00000000:65:00.0"},
            {3, "GPU-cccc0000-1111-2222-3333-444444444444", "H100", "00000000:3B:00.0"},
        },
        {},
    };
    return inventory;
}

std::vector<unsigned> indices(const std::vector<gw::GpuIdentity>& gpus) {
    std::vector<unsigned> out;
    for (const gw::GpuIdentity& g : gpus) out.push_back(g.index);
    return out;
}

std::vector<unsigned> resolve(const Strings& entries, gw::CandidateSource source) {
    return indices(gw::resolve_candidates(machine(), entries, source));
}

/// Success when resolving throws gw::Error with exit status 125 and a message naming `mention`.
::testing::AssertionResult rejected(const Strings& entries, gw::CandidateSource source,
                                    const std::string& mention) {
    try {
        auto got = gw::resolve_candidates(machine(), entries, source);
        return ::testing::AssertionFailure() << "no error; resolved " << got.size() << " GPU(s)";
    } catch (const gw::Error& e) {
        if (e.code() != gw::ExitCode::tool_failed) {
            return ::testing::AssertionFailure() << "exit code " << static_cast<int>(e.code());
        }
        if (std::string(e.what()).find(mention) == std::string::npos) {
            return ::testing::AssertionFailure()
                   << "message lacks '" << mention << "': " << e.what();
        }
        return ::testing::AssertionSuccess();
    }
}

TEST(ResolveCandidates, AllIsTheWholeInventoryInNvmlOrder) {
    EXPECT_EQ(resolve({}, gw::CandidateSource::all), (std::vector<unsigned>{0, 1, 2, 3}));
}

TEST(ResolveCandidates, OptionIndicesAreNvmlIndices) {
    EXPECT_EQ(resolve({"0"}, gw::CandidateSource::option), (std::vector<unsigned>{0}));
    EXPECT_EQ(resolve({"3", "1"}, gw::CandidateSource::option), (std::vector<unsigned>{3, 1}));
}

TEST(ResolveCandidates, KeepsTheOrderGiven) {
    EXPECT_EQ(resolve({"2", "0", "3"}, gw::CandidateSource::option),
              (std::vector<unsigned>{2, 0, 3}));
}

TEST(ResolveCandidates, ResolvedIdentityIsComplete) {
    auto got = gw::resolve_candidates(machine(), {"3"}, gw::CandidateSource::option);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].uuid, "GPU-cccc0000-1111-2222-3333-444444444444");
    EXPECT_EQ(got[0].pci_bus_id, "00000000:3B:00.0");
    EXPECT_EQ(got[0].name, "H100");
}

TEST(ResolveCandidates, FullUuid) {
    EXPECT_EQ(resolve({"GPU-cccc0000-1111-2222-3333-444444444444"}, gw::CandidateSource::option),
              (std::vector<unsigned>{3}));
}

TEST(ResolveCandidates, UuidIsCaseInsensitive) {
    EXPECT_EQ(resolve({"gpu-CCCC0000-1111-2222-3333-444444444444"}, gw::CandidateSource::option),
              (std::vector<unsigned>{3}));
}

TEST(ResolveCandidates, UniqueUuidPrefix) {
    EXPECT_EQ(resolve({"GPU-bb"}, gw::CandidateSource::option), (std::vector<unsigned>{1}));
    EXPECT_EQ(resolve({"GPU-aaab"}, gw::CandidateSource::option), (std::vector<unsigned>{2}));
    EXPECT_EQ(resolve({"GPU-aaaa", "GPU-c"}, gw::CandidateSource::option),
              (std::vector<unsigned>{0, 3}));
}

TEST(ResolveCandidates, AmbiguousPrefixIsAnError) {
    EXPECT_TRUE(rejected({"GPU-aaa"}, gw::CandidateSource::option, "GPU-aaa"));
    EXPECT_TRUE(rejected({"GPU-"}, gw::CandidateSource::option, "more than one"));
}

TEST(ResolveCandidates, UnknownUuidIsAnError) {
    EXPECT_TRUE(rejected({"GPU-ffff"}, gw::CandidateSource::option, "GPU-ffff"));
}

TEST(ResolveCandidates, UnknownIndexIsAnError) {
    EXPECT_TRUE(rejected({"4"}, gw::CandidateSource::option, "4"));
    EXPECT_TRUE(rejected({"0", "17"}, gw::CandidateSource::option, "17"));
    EXPECT_TRUE(rejected({"4"}, gw::CandidateSource::environment, "CUDA_VISIBLE_DEVICES"));
}

TEST(ResolveCandidates, IndexInNvmlNumberingWhenNvmlIndicesHaveGaps) {
    // A GPU the driver could not open leaves a gap: -g 2 is NVML's GPU 2, not the third entry.
    gw::GpuInventory gappy{
        {
            {0, "GPU-0", "A", "00000000:17:00.0"},
            {2, "GPU-2", "A", "00000000:65:00.0"},
        },
        {"GPU 1: lost"},
    };
    auto got = gw::resolve_candidates(gappy, {"2"}, gw::CandidateSource::option);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].uuid, "GPU-2");
    EXPECT_THROW((void)gw::resolve_candidates(gappy, {"1"}, gw::CandidateSource::option),
                 gw::Error);
}

TEST(ResolveCandidates, DuplicatesAreAnError) {
    EXPECT_TRUE(rejected({"1", "1"}, gw::CandidateSource::option, "twice"));
    EXPECT_TRUE(rejected({"0", "GPU-aaaa0000"}, gw::CandidateSource::option, "twice"));
    EXPECT_TRUE(rejected({"GPU-cc", "GPU-cccc"}, gw::CandidateSource::option, "twice"));
}

TEST(ResolveCandidates, MigIsAnError) {
    EXPECT_TRUE(
        rejected({"MIG-aaaa0000-1111-2222-3333-444444444444"}, gw::CandidateSource::option, "MIG"));
    EXPECT_TRUE(rejected({"mig-1234"}, gw::CandidateSource::environment, "MIG"));
}

TEST(ResolveCandidates, GarbageIsAnError) {
    EXPECT_TRUE(rejected({"first"}, gw::CandidateSource::option, "first"));
    EXPECT_TRUE(rejected({"-1"}, gw::CandidateSource::option, "-1"));
    EXPECT_TRUE(rejected({"1x"}, gw::CandidateSource::option, "1x"));
    EXPECT_TRUE(rejected({"aaaa0000"}, gw::CandidateSource::option, "aaaa0000"));
}

TEST(ResolveCandidates, EnvironmentIndicesAreInPciOrder) {
    // CUDA_VISIBLE_DEVICES=0 is CUDA's device 0: the lowest PCI bus id, NVML's GPU 1.
    EXPECT_EQ(resolve({"0"}, gw::CandidateSource::environment), (std::vector<unsigned>{1}));
    EXPECT_EQ(resolve({"1"}, gw::CandidateSource::environment), (std::vector<unsigned>{3}));
    EXPECT_EQ(resolve({"2"}, gw::CandidateSource::environment), (std::vector<unsigned>{2}));
    EXPECT_EQ(resolve({"3"}, gw::CandidateSource::environment), (std::vector<unsigned>{0}));
    EXPECT_EQ(resolve({"3", "0"}, gw::CandidateSource::environment), (std::vector<unsigned>{0, 1}));
}

TEST(ResolveCandidates, EnvironmentUuids) {
    EXPECT_EQ(resolve({"GPU-bbbb", "GPU-aaaa0000"}, gw::CandidateSource::environment),
              (std::vector<unsigned>{1, 0}));
}

TEST(ResolveCandidates, EnvironmentDuplicatesAreAnError) {
    // CUDA index 0 is NVML's GPU 1, named again by UUID.
    EXPECT_TRUE(rejected({"0", "GPU-bbbb"}, gw::CandidateSource::environment, "twice"));
}

TEST(CudaOrdinal, ByPciOrderNotNvmlIndex) {
    const auto& gpus = machine().gpus;
    EXPECT_EQ(gw::cuda_ordinal(machine(), gpus[0]), 3u);
    EXPECT_EQ(gw::cuda_ordinal(machine(), gpus[1]), 0u);
    EXPECT_EQ(gw::cuda_ordinal(machine(), gpus[2]), 2u);
    EXPECT_EQ(gw::cuda_ordinal(machine(), gpus[3]), 1u);
}

TEST(CudaOrdinal, EqualsNvmlIndexOnAnOrdinaryMachine) {
    gw::GpuInventory ordinary{
        {
            {0, "GPU-0", "A", "00000000:17:00.0"},
            {1, "GPU-1", "A", "00000000:3B:00.0"},
            {2, "GPU-2", "A", "00000000:B1:00.0"},
        },
        {},
    };
    for (const gw::GpuIdentity& g : ordinary.gpus) {
        EXPECT_EQ(gw::cuda_ordinal(ordinary, g), g.index) << g.uuid;
    }
}

TEST(PciLess, ComparesBusNumerically) {
    EXPECT_TRUE(gw::pci_less("00000000:17:00.0", "00000000:3B:00.0"));
    EXPECT_FALSE(gw::pci_less("00000000:3B:00.0", "00000000:17:00.0"));
    EXPECT_TRUE(gw::pci_less("00000000:09:00.0", "00000000:0A:00.0"));
    // Case does not matter: 0x0a < 0x0B, although 'a' > 'B' as characters.
    EXPECT_TRUE(gw::pci_less("00000000:0a:00.0", "00000000:0B:00.0"));
    EXPECT_FALSE(gw::pci_less("00000000:0B:00.0", "00000000:0a:00.0"));
}

TEST(PciLess, DomainWidthDoesNotMatter) {
    // CUDA writes 4 domain digits, NVML 8; ':' sorts after '0' as a character.
    EXPECT_TRUE(gw::pci_less("0000:17:00.0", "00000000:3B:00.0"));
    EXPECT_FALSE(gw::pci_less("00000000:3B:00.0", "0000:17:00.0"));
    EXPECT_FALSE(gw::pci_less("0000:17:00.0", "00000000:17:00.0"));
    EXPECT_FALSE(gw::pci_less("00000000:17:00.0", "0000:17:00.0"));
}

TEST(PciLess, DomainThenBusThenDeviceThenFunction) {
    EXPECT_TRUE(gw::pci_less("00000000:FF:1F.7", "00000001:00:00.0"));
    EXPECT_TRUE(gw::pci_less("00000000:17:00.7", "00000000:17:01.0"));
    EXPECT_TRUE(gw::pci_less("00000000:17:0A.0", "00000000:17:10.0"));
    EXPECT_TRUE(gw::pci_less("00000000:17:00.0", "00000000:17:00.1"));
    EXPECT_FALSE(gw::pci_less("00000000:17:00.0", "00000000:17:00.0"));
}

TEST(SplitList, TrimsAndDropsEmptyEntries) {
    EXPECT_EQ(gw::split_list("0, 2,GPU-ab"), (Strings{"0", "2", "GPU-ab"}));
    EXPECT_EQ(gw::split_list(" 1 ,\t3\t"), (Strings{"1", "3"}));
    EXPECT_EQ(gw::split_list("1,,2,"), (Strings{"1", "2"}));
    EXPECT_EQ(gw::split_list(",0"), (Strings{"0"}));
}

TEST(SplitList, EmptyAndBlank) {
    EXPECT_TRUE(gw::split_list("").empty());
    EXPECT_TRUE(gw::split_list(",").empty());
    EXPECT_TRUE(gw::split_list(" , ,").empty());
}

TEST(SplitList, SingleEntry) {
    EXPECT_EQ(gw::split_list("GPU-0123"), (Strings{"GPU-0123"}));
}

}  // namespace
