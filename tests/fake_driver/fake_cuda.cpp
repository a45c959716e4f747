// A stand-in for libcuda.so.1: initialisation, error texts and device enumeration. Contexts and
// memory live in fake_cuda_memory.cpp. The unsuffixed legacy names (cuMemAlloc, cuMemFree,
// cuMemGetInfo, cuDevicePrimaryCtxRelease) are not exported, so code that resolves them fails.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cuda_devices.hpp"
#include "cuda_driver.hpp"

namespace fake {

CudaDriver& cuda_driver() {
    static CudaDriver instance;
    return instance;
}

void report_cuda_error(const std::string& error) {
    std::fprintf(stderr, "fake-cuda: %s\n", error.c_str());
}

}  // namespace fake

namespace {

using fake::CudaDriver;

bool snapshot_devices(CudaDriver& d, const fake::State& state) {
    const auto order = fake::cuda_visible_order(state, std::getenv("CUDA_DEVICE_ORDER"),
                                                std::getenv("CUDA_VISIBLE_DEVICES"));
    for (const fake::CudaUnit& unit : order) {
        const fake::Gpu& gpu = fake::unit_gpu(state, unit);
        const auto bytes = fake::uuid_bytes(gpu.uuid);
        if (!bytes) {
            fake::report_cuda_error("bad uuid '" + gpu.uuid + "'");
            return false;
        }
        d.devices.push_back({gpu.uuid, gpu.name, *fake::parse_pci(gpu.pci_bus_id), *bytes});
    }
    d.contexts.resize(d.devices.size());
    return true;
}

// Runs `query` under the driver lock once cuInit has succeeded and `device` is a visible one.
template <class Query>
CUresult with_device(CUdevice device, Query&& query) {
    CudaDriver& d = fake::cuda_driver();
    const std::lock_guard lock(d.mutex);
    if (!d.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!fake::valid_device(d, device)) return CUDA_ERROR_INVALID_DEVICE;
    return query(d.devices[static_cast<std::size_t>(device)]);
}

const char* error_name(CUresult code) {
    switch (code) {
        case CUDA_SUCCESS:
            return "CUDA_SUCCESS";
        case CUDA_ERROR_INVALID_VALUE:
            return "CUDA_ERROR_INVALID_VALUE";
        case CUDA_ERROR_OUT_OF_MEMORY:
            return "CUDA_ERROR_OUT_OF_MEMORY";
        case CUDA_ERROR_NOT_INITIALIZED:
            return "CUDA_ERROR_NOT_INITIALIZED";
        case CUDA_ERROR_STUB_LIBRARY:
            return "CUDA_ERROR_STUB_LIBRARY";
        case fake::kCudaErrorDevicesUnavailable:
            return "CUDA_ERROR_DEVICES_UNAVAILABLE";
        case CUDA_ERROR_NO_DEVICE:
            return "CUDA_ERROR_NO_DEVICE";
        case CUDA_ERROR_INVALID_DEVICE:
            return "CUDA_ERROR_INVALID_DEVICE";
        case fake::kCudaErrorInvalidContext:
            return "CUDA_ERROR_INVALID_CONTEXT";
        case CUDA_ERROR_UNKNOWN:
            return "CUDA_ERROR_UNKNOWN";
        default:
            return nullptr;
    }
}

const char* error_string(CUresult code) {
    switch (code) {
        case CUDA_SUCCESS:
            return "no error";
        case CUDA_ERROR_INVALID_VALUE:
            return "invalid argument";
        case CUDA_ERROR_OUT_OF_MEMORY:
            return "out of memory";
        case CUDA_ERROR_NOT_INITIALIZED:
            return "initialization error";
        case CUDA_ERROR_STUB_LIBRARY:
            return "CUDA driver is a stub library";
        case fake::kCudaErrorDevicesUnavailable:
            return "CUDA-capable device(s) is/are busy or unavailable";
        case CUDA_ERROR_NO_DEVICE:
            return "no CUDA-capable device is detected";
        case CUDA_ERROR_INVALID_DEVICE:
            return "invalid device ordinal";
        case fake::kCudaErrorInvalidContext:
            return "invalid device context";
        case CUDA_ERROR_UNKNOWN:
            return "unknown error";
        default:
            return nullptr;
    }
}

CUresult copy_text(const std::string& text, char* out, int length) {
    if (out == nullptr || length <= 0) return CUDA_ERROR_INVALID_VALUE;
    std::snprintf(out, static_cast<std::size_t>(length), "%s", text.c_str());  // truncates
    return CUDA_SUCCESS;
}

}  // namespace

FAKE_EXPORT CUresult cuInit(unsigned flags) {
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    CudaDriver& d = fake::cuda_driver();
    const std::lock_guard lock(d.mutex);
    if (d.initialized) return CUDA_SUCCESS;
    std::string error;
    const auto state = fake::load_state(&error);
    if (!state) {
        fake::report_cuda_error(error);
        return CUDA_ERROR_UNKNOWN;
    }
    if (state->cuda_init_error != 0) return state->cuda_init_error;
    if (!snapshot_devices(d, *state)) return CUDA_ERROR_UNKNOWN;
    d.initialized = true;
    return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuGetErrorString(CUresult error, const char** text) {
    if (text == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *text = error_string(error);
    return *text == nullptr ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuGetErrorName(CUresult error, const char** text) {
    if (text == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *text = error_name(error);
    return *text == nullptr ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDriverGetVersion(int* version) {
    if (version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *version = 13000;
    return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGetCount(int* count) {
    if (count == nullptr) return CUDA_ERROR_INVALID_VALUE;
    CudaDriver& d = fake::cuda_driver();
    const std::lock_guard lock(d.mutex);
    if (!d.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    *count = static_cast<int>(d.devices.size());
    return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    if (device == nullptr) return CUDA_ERROR_INVALID_VALUE;
    return with_device(ordinal, [&](const fake::CudaDevice&) {
        *device = ordinal;
        return CUDA_SUCCESS;
    });
}

// Only visible devices can be found, which is how CUDA_VISIBLE_DEVICES mistakes show up.
FAKE_EXPORT CUresult cuDeviceGetByPCIBusId(CUdevice* device, const char* bus_id) {
    if (device == nullptr || bus_id == nullptr) return CUDA_ERROR_INVALID_VALUE;
    const auto address = fake::parse_pci(bus_id);
    if (!address) return CUDA_ERROR_INVALID_VALUE;
    CudaDriver& d = fake::cuda_driver();
    const std::lock_guard lock(d.mutex);
    if (!d.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    for (std::size_t i = 0; i < d.devices.size(); ++i) {
        if (d.devices[i].pci == *address) {
            *device = static_cast<CUdevice>(i);
            return CUDA_SUCCESS;
        }
    }
    return CUDA_ERROR_INVALID_DEVICE;
}

FAKE_EXPORT CUresult cuDeviceGetPCIBusId(char* bus_id, int length, CUdevice device) {
    return with_device(device, [&](const fake::CudaDevice& dev) {
        return copy_text(fake::format_pci(dev.pci, 4), bus_id, length);
    });
}

FAKE_EXPORT CUresult cuDeviceGetUuid_v2(CUuuid* uuid, CUdevice device) {
    if (uuid == nullptr) return CUDA_ERROR_INVALID_VALUE;
    return with_device(device, [&](const fake::CudaDevice& dev) {
        std::memcpy(uuid->bytes, dev.uuid_bytes.data(), sizeof uuid->bytes);
        return CUDA_SUCCESS;
    });
}

FAKE_EXPORT CUresult cuDeviceGetName(char* name, int length, CUdevice device) {
    return with_device(
        device, [&](const fake::CudaDevice& dev) { return copy_text(dev.name, name, length); });
}
