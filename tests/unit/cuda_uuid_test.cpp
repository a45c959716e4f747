// The holder finds its CUDA device by comparing NVML's UUID text with the 16 bytes CUDA gives.
#include <gtest/gtest.h>

#include "driver/cuda.hpp"

namespace {

TEST(CudaUuid, GpuAndMigUuidsGiveTheirSixteenBytes) {
    const auto gpu = gw::uuid_bytes("GPU-5a0f1e2d-0b1c-4c3b-9a87-0123456789aB");
    ASSERT_TRUE(gpu.has_value());
    const std::array<unsigned char, 16> want{0x5a, 0x0f, 0x1e, 0x2d, 0x0b, 0x1c, 0x4c, 0x3b,
                                             0x9a, 0x87, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab};
    EXPECT_EQ(*gpu, want);
    const auto mig = gw::uuid_bytes("MIG-5a0f1e2d-0b1c-4c3b-9a87-0123456789ab");
    ASSERT_TRUE(mig.has_value());
    EXPECT_EQ(*mig, want);  // the prefix says what kind of unit, the bytes which one
}

TEST(CudaUuid, AnythingElseIsNoUuid) {
    for (const char* bad :
         {"", "GPU-", "5a0f1e2d-0b1c-4c3b-9a87-0123456789ab",
          "gpu-5a0f1e2d-0b1c-4c3b-9a87-0123456789ab", "GPU-5a0f1e2d-0b1c-4c3b-9a87-0123456789a",
          "GPU-5a0f1e2d-0b1c-4c3b-9a87-0123456789abc", "GPU-5a0f1e2d0b1c-4c3b-9a87-0123456789ab",
          "GPU-5a0f1e2d-0b1c-4c3b-9a87-0123456789ag",
          "MIG-GPU-5a0f1e2d-0b1c-4c3b-9a87-0123456789ab/1/0", "00000000:17:00.0"}) {
        EXPECT_FALSE(gw::uuid_bytes(bad).has_value()) << bad;
    }
}

}  // namespace
