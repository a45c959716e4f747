// The CUDA driver API, loaded at run time, as the holder needs it: contexts and allocations. The
// entry points are declared in cuda_abi.hpp and resolved through DynamicLibrary's symbol table.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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

/// The 16 bytes of "GPU-…" or "MIG-…" (8-4-4-4-12 hex digits), as cuDeviceGetUuid_v2 gives
/// them; nullopt for anything else.
[[nodiscard]] std::optional<std::array<unsigned char, 16>> uuid_bytes(std::string_view uuid);

/// Memory held on one GPU or MIG instance through its primary context. Destroying it frees the
/// memory and releases the context, so the GPU no longer lists the holder among its processes.
class DeviceHold {
public:
    /// Allocates `fraction` of the free memory of the CUDA device whose UUID is `uuid`. Throws
    /// Error when no visible device has it or the memory cannot be had (someone else took it
    /// first).
    DeviceHold(const Cuda& cuda, const std::string& uuid, double fraction);
    ~DeviceHold();
    DeviceHold(const DeviceHold&) = delete;
    DeviceHold& operator=(const DeviceHold&) = delete;

    [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
    /// CUDA's ordinal of the device among those visible to the holder.
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
