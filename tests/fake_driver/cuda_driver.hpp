// What the fake libcuda remembers inside one process, shared by its two source files.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "driver/cuda_abi.hpp"
#include "fake_state.hpp"

namespace fake {

inline constexpr CUresult kCudaErrorDevicesUnavailable = 46;  // not in cuda_abi.hpp
inline constexpr CUresult kCudaErrorInvalidContext = 201;     // not in cuda_abi.hpp

struct CudaDevice {
    std::string uuid;
    std::string name;
    PciAddress pci;
    std::array<unsigned char, 16> uuid_bytes{};
};

struct CudaContext {
    int refcount = 0;
    std::map<CUdeviceptr, std::uint64_t> allocations;  // pointer -> bytes
};

// CUDA enumerates devices once, at cuInit; later edits of the state file change memory and
// processes but not the numbering a running process sees.
struct CudaDriver {
    std::mutex mutex;
    bool initialized = false;
    std::vector<CudaDevice> devices;
    std::vector<CudaContext> contexts;  // the primary context of each device
    CUdeviceptr next_pointer = 0x7f0000000000ULL;
};

/// The process-wide instance; lock its mutex before touching it.
[[nodiscard]] CudaDriver& cuda_driver();

void report_cuda_error(const std::string& error);

[[nodiscard]] inline bool valid_device(const CudaDriver& d, CUdevice device) {
    return device >= 0 && static_cast<std::size_t>(device) < d.devices.size();
}

}  // namespace fake
