// Primary contexts and device memory of the fake libcuda. Each retained context is written into
// the state file as a compute process of this pid ("cuda": true), so the fake NVML sees it the
// way a real driver shows a context; a process that exits without releasing leaves its entry
// behind, and NVML ignores it once the pid is gone.
#include <cstdint>

#include "cuda_driver.hpp"
#include "fake_platform.hpp"

namespace {

using fake::CudaDriver;
using nlohmann::json;

constexpr CUdeviceptr kPointerAlignment = 2ULL << 20;

thread_local CUcontext t_current = nullptr;

CUcontext encode_context(CUdevice device) {
    return reinterpret_cast<CUcontext>(static_cast<std::uintptr_t>(device) + 1);
}

CUdevice decode_context(CUcontext context) {
    return static_cast<CUdevice>(reinterpret_cast<std::uintptr_t>(context)) - 1;
}

// The device behind this thread's current context, or -1 when it is unset or released.
CUdevice current_device(const CudaDriver& d) {
    const CUdevice device = decode_context(t_current);
    if (t_current == nullptr || !fake::valid_device(d, device)) return -1;
    return d.contexts[static_cast<std::size_t>(device)].refcount > 0 ? device : -1;
}

json& process_list(json& gpu) {
    json& list = gpu["processes"];
    if (!list.is_array()) list = json::array();
    return list;
}

bool is_own_entry(const json& entry) {
    return entry.value("cuda", false) && entry.value("pid", 0U) == fake::current_pid();
}

json* own_entry(json& gpu) {
    for (json& entry : process_list(gpu)) {
        if (is_own_entry(entry)) return &entry;
    }
    return nullptr;
}

void erase_own_entry(json& gpu) {
    json& list = process_list(gpu);
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (is_own_entry(list[i])) {
            list.erase(i);
            return;
        }
    }
}

// The GPU or MIG instance with this UUID.
json* find_gpu(json& state, const std::string& uuid) {
    if (!state.contains("gpus")) return nullptr;
    for (json& gpu : state["gpus"]) {
        if (gpu.value("uuid", std::string()) == uuid) return &gpu;
        if (!gpu.contains("mig_devices")) continue;
        for (json& instance : gpu["mig_devices"]) {
            if (instance.is_object() && instance.value("uuid", std::string()) == uuid)
                return &instance;
        }
    }
    return nullptr;
}

// Free bytes as the fake NVML would report them; parsing keeps the arithmetic in one place.
std::uint64_t free_memory(const json& state, const json& gpu) {
    json single = state;
    single["gpus"] = json::array({gpu});
    return fake::memory_use(fake::parse_state(single).gpus.at(0)).free;
}

// Locked read-modify-write of the GPU `uuid` in the state file. `change` returns a CUresult;
// anything but success leaves the file as it was.
template <class Change>
CUresult update_gpu(const std::string& uuid, Change&& change) {
    CUresult rc = CUDA_SUCCESS;
    std::string error;
    const bool written = fake::update_state(
        [&](json& state) {
            json* gpu = find_gpu(state, uuid);
            rc = gpu == nullptr ? CUDA_ERROR_UNKNOWN : change(state, *gpu);
            return rc == CUDA_SUCCESS;
        },
        &error);
    if (!written) {
        fake::report_cuda_error(error);
        return CUDA_ERROR_UNKNOWN;
    }
    return rc;
}

// A context costs memory; like the real driver, creating one on a full GPU fails.
CUresult add_context_entry(const std::string& uuid) {
    return update_gpu(uuid, [](json& state, json& gpu) {
        erase_own_entry(gpu);  // left by an earlier process that had this pid
        const std::uint64_t cost = fake::parse_state(state).context_memory;
        if (cost > free_memory(state, gpu)) return CUDA_ERROR_OUT_OF_MEMORY;
        process_list(gpu).push_back({{"pid", fake::current_pid()},
                                     {"used_memory", cost},
                                     {"type", "compute"},
                                     {"cuda", true}});
        return CUDA_SUCCESS;
    });
}

CUresult remove_context_entry(const std::string& uuid) {
    return update_gpu(uuid, [](json&, json& gpu) {
        erase_own_entry(gpu);
        return CUDA_SUCCESS;
    });
}

CUresult charge(const std::string& uuid, std::uint64_t bytes) {
    return update_gpu(uuid, [bytes](json& state, json& gpu) {
        const CUresult injected = state.value("alloc_error", CUDA_SUCCESS);
        if (injected != CUDA_SUCCESS) return injected;
        if (bytes > free_memory(state, gpu)) return CUDA_ERROR_OUT_OF_MEMORY;
        json* entry = own_entry(gpu);
        if (entry == nullptr) return CUDA_ERROR_UNKNOWN;  // a test deleted our context
        (*entry)["used_memory"] = entry->value("used_memory", std::uint64_t{0}) + bytes;
        return CUDA_SUCCESS;
    });
}

CUresult refund(const std::string& uuid, std::uint64_t bytes) {
    return update_gpu(uuid, [bytes](json&, json& gpu) {
        if (json* entry = own_entry(gpu)) {
            const auto used = entry->value("used_memory", std::uint64_t{0});
            (*entry)["used_memory"] = used > bytes ? used - bytes : 0;
        }
        return CUDA_SUCCESS;
    });
}

CUdeviceptr next_pointer(CudaDriver& d, std::size_t bytes) {
    const CUdeviceptr pointer = d.next_pointer;
    d.next_pointer += (bytes + kPointerAlignment - 1) / kPointerAlignment * kPointerAlignment;
    return pointer;
}

// Runs `body` under the driver lock once cuInit has succeeded.
template <class Body>
CUresult initialized(Body&& body) {
    CudaDriver& d = fake::cuda_driver();
    const std::lock_guard lock(d.mutex);
    if (!d.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    return body(d);
}

}  // namespace

FAKE_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice device) {
    return initialized([&](CudaDriver& d) {
        if (!fake::valid_device(d, device)) return CUDA_ERROR_INVALID_DEVICE;
        if (context == nullptr) return CUDA_ERROR_INVALID_VALUE;
        const auto index = static_cast<std::size_t>(device);
        if (d.contexts[index].refcount == 0) {
            const CUresult rc = add_context_entry(d.devices[index].uuid);
            if (rc != CUDA_SUCCESS) return rc;
        }
        ++d.contexts[index].refcount;
        *context = encode_context(device);
        return CUDA_SUCCESS;
    });
}

// Dropping the last reference frees the context's memory at once, allocations included.
FAKE_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
    return initialized([&](CudaDriver& d) {
        if (!fake::valid_device(d, device)) return CUDA_ERROR_INVALID_DEVICE;
        fake::CudaContext& context = d.contexts[static_cast<std::size_t>(device)];
        if (context.refcount == 0) return fake::kCudaErrorInvalidContext;
        if (--context.refcount > 0) return CUDA_SUCCESS;
        context.allocations.clear();
        return remove_context_entry(d.devices[static_cast<std::size_t>(device)].uuid);
    });
}

FAKE_EXPORT CUresult cuCtxSetCurrent(CUcontext context) {
    return initialized([&](CudaDriver& d) {
        if (context != nullptr) {
            const CUdevice device = decode_context(context);
            if (!fake::valid_device(d, device) ||
                d.contexts[static_cast<std::size_t>(device)].refcount == 0) {
                return fake::kCudaErrorInvalidContext;
            }
        }
        t_current = context;
        return CUDA_SUCCESS;
    });
}

FAKE_EXPORT CUresult cuMemGetInfo_v2(std::size_t* free, std::size_t* total) {
    return initialized([&](CudaDriver& d) {
        const CUdevice device = current_device(d);
        if (device < 0) return fake::kCudaErrorInvalidContext;
        if (free == nullptr || total == nullptr) return CUDA_ERROR_INVALID_VALUE;
        std::string error;
        const auto state = fake::load_state(&error);
        if (!state) {
            fake::report_cuda_error(error);
            return CUDA_ERROR_UNKNOWN;
        }
        const fake::Gpu* gpu =
            fake::find_unit(*state, d.devices[static_cast<std::size_t>(device)].uuid);
        if (gpu == nullptr) return CUDA_ERROR_UNKNOWN;  // the test removed the GPU under us
        const fake::MemoryUse use = fake::memory_use(*gpu);
        *free = use.free;
        *total = use.total;
        return CUDA_SUCCESS;
    });
}

FAKE_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* pointer, std::size_t bytes) {
    return initialized([&](CudaDriver& d) {
        const CUdevice device = current_device(d);
        if (device < 0) return fake::kCudaErrorInvalidContext;
        if (pointer == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
        const auto index = static_cast<std::size_t>(device);
        const CUresult rc = charge(d.devices[index].uuid, bytes);
        if (rc != CUDA_SUCCESS) return rc;
        *pointer = next_pointer(d, bytes);
        d.contexts[index].allocations[*pointer] = bytes;
        return CUDA_SUCCESS;
    });
}

FAKE_EXPORT CUresult cuMemFree_v2(CUdeviceptr pointer) {
    return initialized([&](CudaDriver& d) {
        for (std::size_t i = 0; i < d.contexts.size(); ++i) {
            auto& allocations = d.contexts[i].allocations;
            const auto found = allocations.find(pointer);
            if (found == allocations.end()) continue;
            const std::uint64_t bytes = found->second;
            allocations.erase(found);
            return refund(d.devices[i].uuid, bytes);
        }
        return CUDA_ERROR_INVALID_VALUE;
    });
}
