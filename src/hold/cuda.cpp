#include "hold/cuda.hpp"

#include <array>

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw {
namespace {

template <std::size_t N>
SymbolSpec spec(const std::array<const char*, N>& names, auto& target) {
    return SymbolSpec{names, reinterpret_cast<void**>(&target), true};
}

// Only explicit _v2 names for calls whose unsuffixed symbols are legacy 32-bit-size ABIs.
constexpr std::array kInit{"cuInit"};
constexpr std::array kErrorString{"cuGetErrorString"};
constexpr std::array kErrorName{"cuGetErrorName"};
constexpr std::array kByBusId{"cuDeviceGetByPCIBusId"};
constexpr std::array kRetain{"cuDevicePrimaryCtxRetain"};
constexpr std::array kRelease{"cuDevicePrimaryCtxRelease_v2"};
constexpr std::array kSetCurrent{"cuCtxSetCurrent"};
constexpr std::array kMemInfo{"cuMemGetInfo_v2"};
constexpr std::array kAlloc{"cuMemAlloc_v2"};
constexpr std::array kFree{"cuMemFree_v2"};

constexpr const char* kLoadHint =
    "is the NVIDIA driver installed? GPU_WAITER_CUDA_LIBRARY names another file; --no-hold "
    "runs without holding";

}  // namespace

Cuda::Cuda() : api_(std::make_unique<Api>()) {
    library_ =
        std::make_unique<DynamicLibrary>(driver_library_path(DriverLibrary::cuda), kLoadHint);
    Api& a = *api_;
    const std::array specs{
        spec(kInit, a.init),
        spec(kErrorString, a.error_string),
        spec(kErrorName, a.error_name),
        spec(kByBusId, a.device_by_bus_id),
        spec(kRetain, a.retain),
        spec(kRelease, a.release),
        spec(kSetCurrent, a.set_current),
        spec(kMemInfo, a.mem_info),
        spec(kAlloc, a.alloc),
        spec(kFree, a.free),
    };
    library_->resolve(specs);
    if (CUresult rc = a.init(0); rc != CUDA_SUCCESS) {
        throw Error(failure("cuInit", rc), rc == CUDA_ERROR_STUB_LIBRARY
                                               ? "that is the CUDA toolkit's stub, not the "
                                                 "driver's libcuda.so.1"
                                               : kLoadHint);
    }
}

Cuda::~Cuda() = default;

std::string Cuda::failure(const char* call, CUresult rc) const {
    const char* name = nullptr;
    const char* text = nullptr;
    if (api_->error_name) api_->error_name(rc, &name);
    if (api_->error_string) api_->error_string(rc, &text);
    return fmt::format("{}: {} ({})", call, name ? name : fmt::format("error {}", rc),
                       text ? text : "no description");
}

DeviceHold::DeviceHold(const Cuda& cuda, const std::string& pci_bus_id, double fraction)
    : cuda_(cuda) {
    const Cuda::Api& a = cuda.api();
    auto check = [&](const char* call, CUresult rc) {
        if (rc != CUDA_SUCCESS) throw Error(cuda.failure(call, rc));
    };
    check("cuDeviceGetByPCIBusId", a.device_by_bus_id(&device_, pci_bus_id.c_str()));
    CUcontext context = nullptr;
    check("cuDevicePrimaryCtxRetain", a.retain(&context, device_));
    retained_ = true;
    try {
        check("cuCtxSetCurrent", a.set_current(context));
        std::size_t free = 0, total = 0;
        check("cuMemGetInfo_v2", a.mem_info(&free, &total));
        bytes_ = static_cast<std::uint64_t>(static_cast<double>(free) * fraction);
        bytes_ &= ~((std::uint64_t{1} << 21) - 1);  // whole 2 MiB pages, as the driver maps them
        if (bytes_ > 0) check("cuMemAlloc_v2", a.alloc(&pointer_, bytes_));
    } catch (...) {
        free_all();  // a half-made hold must not keep its context
        throw;
    }
}

DeviceHold::~DeviceHold() {
    free_all();
}

void DeviceHold::free_all() {
    const Cuda::Api& a = cuda_.api();
    if (pointer_ != 0) a.free(pointer_);
    pointer_ = 0;
    if (retained_) {
        a.set_current(nullptr);
        a.release(device_);
    }
    retained_ = false;
}

}  // namespace gw
