// The CUDA driver API, loaded at run time, as the holder needs it: contexts and allocations. The
// entry points are declared in cuda_abi.hpp and resolved through DynamicLibrary's symbol table.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "driver/cuda_abi.hpp"
#include "driver/dynamic_library.hpp"

namespace gw {

class Cuda {
public:
    /// Loads libcuda (driver_library_path) and calls cuInit. Throws Error naming the library or
    /// the failing call with CUDA's own error name and text.
    Cuda();
    ~Cuda();
    Cuda(const Cuda&) = delete;
    Cuda& operator=(const Cuda&) = delete;

    struct Api;
    [[nodiscard]] const Api& api() const { return *api_; }
    /// "cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
    [[nodiscard]] std::string failure(const char* call, CUresult rc) const;

private:
    std::unique_ptr<DynamicLibrary> library_;
    std::unique_ptr<Api> api_;
};

/// Memory held on one GPU through its primary context. Destroying it frees the memory and
/// releases the context, so the GPU no longer lists the holder among its processes.
class DeviceHold {
public:
    /// Allocates `fraction` of the free memory of the GPU at `pci_bus_id`. Throws Error when the
    /// GPU is unknown to CUDA or the memory cannot be had (someone else took it first).
    DeviceHold(const Cuda& cuda, const std::string& pci_bus_id, double fraction);
    ~DeviceHold();
    DeviceHold(const DeviceHold&) = delete;
    DeviceHold& operator=(const DeviceHold&) = delete;

    [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
    /// CUDA's ordinal of the device (CUDA_DEVICE_ORDER=PCI_BUS_ID, no CUDA_VISIBLE_DEVICES).
    [[nodiscard]] int ordinal() const { return device_; }

private:
    void free_all();
    const Cuda& cuda_;
    CUdevice device_ = -1;
    bool retained_ = false;
    CUdeviceptr pointer_ = 0;
    std::uint64_t bytes_ = 0;
};

}  // namespace gw
