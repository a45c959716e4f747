#include "driver/cuda.hpp"

#include <array>

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw {
namespace {

constexpr const char* kLoadHint =
    "is the NVIDIA driver installed? GPU_WAITER_CUDA_LIBRARY names another file; --no-hold "
    "runs without holding";

}  // namespace

/// The symbol table, a row per entry point, each required. Only explicit _v2 names for calls
/// whose unsuffixed symbols are legacy 32-bit-size ABIs.
struct Cuda::Api {
    /// One entry point: the one name it is resolved by, and its address once resolved.
    template <class Fn>
    struct Entry {
        std::array<const char*, 1> name;
        Fn call = nullptr;

        [[nodiscard]] SymbolSpec spec() { return symbol_spec(name, call, true); }
    };

    Entry<cuInit_fn> init{{"cuInit"}};
    Entry<cuGetErrorString_fn> error_string{{"cuGetErrorString"}};
    Entry<cuGetErrorString_fn> error_name{{"cuGetErrorName"}};
    Entry<cuDeviceGetByPCIBusId_fn> device_by_bus_id{{"cuDeviceGetByPCIBusId"}};
    Entry<cuDevicePrimaryCtxRetain_fn> retain{{"cuDevicePrimaryCtxRetain"}};
    Entry<cuDevicePrimaryCtxRelease_fn> release{{"cuDevicePrimaryCtxRelease_v2"}};
    Entry<cuCtxSetCurrent_fn> set_current{{"cuCtxSetCurrent"}};
    Entry<cuMemGetInfo_fn> mem_info{{"cuMemGetInfo_v2"}};
    Entry<cuMemAlloc_fn> alloc{{"cuMemAlloc_v2"}};
    Entry<cuMemFree_fn> free{{"cuMemFree_v2"}};

    void resolve(const DynamicLibrary& library) {
        const std::array specs{
            init.spec(),   error_string.spec(), error_name.spec(),  device_by_bus_id.spec(),
            retain.spec(), release.spec(),      set_current.spec(), mem_info.spec(),
            alloc.spec(),  free.spec()};
        library.resolve(specs);
    }
};

Cuda::Cuda() : api_(std::make_unique<Api>()) {
    library_ =
        std::make_unique<DynamicLibrary>(driver_library_path(DriverLibrary::cuda), kLoadHint);
    api_->resolve(*library_);
    if (CUresult rc = api_->init.call(0); rc != CUDA_SUCCESS) {
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
    if (api_->error_name.call) api_->error_name.call(rc, &name);
    if (api_->error_string.call) api_->error_string.call(rc, &text);
    return fmt::format("{}: {} ({})", call, name ? name : fmt::format("error {}", rc),
                       text ? text : "no description");
}

DeviceHold::DeviceHold(const Cuda& cuda, const std::string& pci_bus_id, double fraction)
    : cuda_(cuda) {
    const Cuda::Api& a = cuda.api();
    auto check = [&](const char* call, CUresult rc) {
        if (rc != CUDA_SUCCESS) throw Error(cuda.failure(call, rc));
    };
    check("cuDeviceGetByPCIBusId", a.device_by_bus_id.call(&device_, pci_bus_id.c_str()));
    CUcontext context = nullptr;
    check("cuDevicePrimaryCtxRetain", a.retain.call(&context, device_));
    retained_ = true;
    try {
        check("cuCtxSetCurrent", a.set_current.call(context));
        std::size_t free = 0, total = 0;
        check("cuMemGetInfo_v2", a.mem_info.call(&free, &total));
        bytes_ = static_cast<std::uint64_t>(static_cast<double>(free) * fraction);
        bytes_ &= ~((std::uint64_t{1} << 21) - 1);  // whole 2 MiB pages, as the driver maps them
        if (bytes_ > 0) check("cuMemAlloc_v2", a.alloc.call(&pointer_, bytes_));
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
    if (pointer_ != 0) a.free.call(pointer_);
    pointer_ = 0;
    if (retained_) {
        a.set_current.call(nullptr);
        a.release.call(device_);
    }
    retained_ = false;
}

}  // namespace gw
