#include "driver/cuda.hpp"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

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
    Entry<cuDeviceGetCount_fn> device_count{{"cuDeviceGetCount"}};
    Entry<cuDeviceGet_fn> device{{"cuDeviceGet"}};
    Entry<cuDeviceGetUuid_fn> device_uuid{{"cuDeviceGetUuid_v2"}};
    Entry<cuDevicePrimaryCtxRetain_fn> retain{{"cuDevicePrimaryCtxRetain"}};
    Entry<cuDevicePrimaryCtxRelease_fn> release{{"cuDevicePrimaryCtxRelease_v2"}};
    Entry<cuCtxSetCurrent_fn> set_current{{"cuCtxSetCurrent"}};
    Entry<cuMemGetInfo_fn> mem_info{{"cuMemGetInfo_v2"}};
    Entry<cuMemAlloc_fn> alloc{{"cuMemAlloc_v2"}};
    Entry<cuMemFree_fn> free{{"cuMemFree_v2"}};

    void resolve(const DynamicLibrary& library) {
        const std::array specs{init.spec(),         error_string.spec(), error_name.spec(),
                               device_count.spec(), device.spec(),       device_uuid.spec(),
                               retain.spec(),       release.spec(),      set_current.spec(),
                               mem_info.spec(),     alloc.spec(),        free.spec()};
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

std::optional<std::array<unsigned char, 16>> uuid_bytes(std::string_view uuid) {
    // NVML's UUIDs: "GPU-" or "MIG-", then 32 hex digits in groups of 8-4-4-4-12.
    if (!uuid.starts_with("GPU-") && !uuid.starts_with("MIG-")) return std::nullopt;
    uuid.remove_prefix(4);
    constexpr std::array<std::size_t, 5> kGroups{8, 4, 4, 4, 12};
    std::array<unsigned char, 16> bytes{};
    std::size_t digits = 0;
    for (std::size_t g = 0; g < kGroups.size(); ++g) {
        if (g > 0) {
            if (uuid.empty() || uuid.front() != '-') return std::nullopt;
            uuid.remove_prefix(1);
        }
        for (std::size_t i = 0; i < kGroups[g]; ++i, ++digits) {
            const int v = uuid.empty() ? -1 : hex_digit(uuid.front());
            if (v < 0) return std::nullopt;
            uuid.remove_prefix(1);
            bytes[digits / 2] = static_cast<unsigned char>(bytes[digits / 2] * 16 + v);
        }
    }
    if (!uuid.empty()) return std::nullopt;
    return bytes;
}

namespace {

// The visible CUDA device with this UUID. CUDA reports a MIG instance's own UUID through
// cuDeviceGetUuid_v2 (the unsuffixed call gives its parent's), so one search serves both kinds.
CUdevice find_device(const Cuda& cuda, const std::string& uuid) {
    const Cuda::Api& a = cuda.api();
    const auto wanted = uuid_bytes(uuid);
    if (!wanted) throw Error(fmt::format("'{}' is not a GPU or MIG UUID", uuid));
    int count = 0;
    if (CUresult rc = a.device_count.call(&count); rc != CUDA_SUCCESS)
        throw Error(cuda.failure("cuDeviceGetCount", rc));
    for (int ordinal = 0; ordinal < count; ++ordinal) {
        CUdevice device = -1;
        CUuuid found{};
        if (a.device.call(&device, ordinal) != CUDA_SUCCESS) continue;
        if (a.device_uuid.call(&found, device) != CUDA_SUCCESS) continue;
        if (std::memcmp(found.bytes, wanted->data(), wanted->size()) == 0) return device;
    }
    throw Error(fmt::format("no CUDA device has UUID {} (CUDA sees {} device(s))", uuid, count),
                "CUDA_VISIBLE_DEVICES of the holder hides it, or the GPU left");
}

}  // namespace

DeviceHold::DeviceHold(const Cuda& cuda, const std::string& uuid, double fraction) : cuda_(cuda) {
    const Cuda::Api& a = cuda.api();
    auto check = [&](const char* call, CUresult rc) {
        if (rc != CUDA_SUCCESS) throw Error(cuda.failure(call, rc));
    };
    device_ = find_device(cuda, uuid);
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
