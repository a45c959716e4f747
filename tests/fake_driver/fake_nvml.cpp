// A stand-in for libnvidia-ml.so.1 that answers from the state file (fake_state.hpp). It exports
// only the calls gpu-waiter may resolve; nvmlDeviceGetRunningProcessDetailList is left out on
// purpose so the real code's fallback to the _v3 process queries is exercised.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "driver/nvml_abi.hpp"
#include "fake_platform.hpp"
#include "fake_state.hpp"

namespace {

// Not in nvml_abi.hpp because gpu-waiter never sees it from a call it makes correctly.
constexpr nvmlReturn_t kArgumentVersionMismatch = 25;
constexpr unsigned kNoInstance = 0xFFFFFFFFU;   // gpuInstanceId on a GPU without MIG
constexpr unsigned kPciDeviceId = 0x233010DEU;  // H100 SXM, NVIDIA's vendor id in the low half

std::atomic<int> g_init_count{0};  // nvmlInit/nvmlShutdown nest like the real library's

// Lets tests and benchmarks count driver calls; opened per call so the file can be swapped.
void log_call(const char* function) {
    const char* path = std::getenv("FAKE_NVML_CALL_LOG");
    if (path == nullptr || *path == '\0') return;
    fake::append_line(path, std::string(function) + "\n");
}

nvmlReturn_t load_for_call(fake::State& state) {
    if (g_init_count.load() == 0) return NVML_ERROR_UNINITIALIZED;
    std::string error;
    auto loaded = fake::load_state(&error);
    if (!loaded) return NVML_ERROR_UNKNOWN;
    state = std::move(*loaded);
    return NVML_SUCCESS;
}

// A GPU's handle is its index + 1; a MIG device's adds (slot + 1) << 16, so it names its parent.
nvmlDevice_t encode_handle(unsigned index, unsigned mig_slot = kNoInstance) {
    std::uintptr_t raw = static_cast<std::uintptr_t>(index) + 1;
    if (mig_slot != kNoInstance) raw |= (static_cast<std::uintptr_t>(mig_slot) + 1) << 16;
    return reinterpret_cast<nvmlDevice_t>(raw);
}

std::uintptr_t parent_part(nvmlDevice_t device) {
    return reinterpret_cast<std::uintptr_t>(device) & 0xFFFF;
}

bool is_mig_handle(nvmlDevice_t device) {
    return (reinterpret_cast<std::uintptr_t>(device) >> 16) != 0;
}

// Runs `query` on the GPU or MIG instance behind `device`. A handle past the end of "gpus" (the
// test removed the GPU) behaves like a GPU that fell off the bus; a MIG handle whose instance was
// destroyed is no longer valid (NVML: it "must be requested again").
template <class Query>
nvmlReturn_t with_gpu(nvmlDevice_t device, Query&& query) {
    try {
        fake::State state;
        if (const nvmlReturn_t rc = load_for_call(state); rc != NVML_SUCCESS) return rc;
        const auto raw = reinterpret_cast<std::uintptr_t>(device);
        const std::uintptr_t parent = parent_part(device);
        if (parent == 0 || raw > 0xFFFFFF) return NVML_ERROR_INVALID_ARGUMENT;
        if (parent > state.gpus.size()) return NVML_ERROR_GPU_IS_LOST;
        const fake::Gpu& gpu = state.gpus[parent - 1];
        if (gpu.lost) return NVML_ERROR_GPU_IS_LOST;
        if (!is_mig_handle(device)) return query(gpu);
        const std::size_t slot = (raw >> 16) - 1;
        if (gpu.mig_mode != true || slot >= gpu.mig_devices.size() || !gpu.mig_devices[slot])
            return NVML_ERROR_INVALID_ARGUMENT;
        return query(*gpu.mig_devices[slot]);
    } catch (const std::exception&) {
        return NVML_ERROR_UNKNOWN;
    }
}

// The GPU behind a parent handle, for the MIG queries that only a GPU answers.
template <class Query>
nvmlReturn_t with_parent(nvmlDevice_t device, Query&& query) {
    if (is_mig_handle(device)) return NVML_ERROR_INVALID_ARGUMENT;
    return with_gpu(device, [&](const fake::Gpu& gpu) {
        return query(gpu, static_cast<unsigned>(parent_part(device) - 1));
    });
}

nvmlReturn_t copy_string(const std::string& text, char* buffer, unsigned length) {
    if (buffer == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
    if (length <= text.size()) return NVML_ERROR_INSUFFICIENT_SIZE;
    std::memcpy(buffer, text.c_str(), text.size() + 1);
    return NVML_SUCCESS;
}

nvmlReturn_t init(const char* function) {
    log_call(function);
    std::string error;
    const auto state = fake::load_state(&error);
    if (!state) {
        std::fprintf(stderr, "fake-nvml: %s\n", error.c_str());
        return NVML_ERROR_UNKNOWN;
    }
    if (state->init_error != 0) return state->init_error;
    ++g_init_count;
    return NVML_SUCCESS;
}

nvmlReturn_t device_count(const char* function, unsigned* count) {
    log_call(function);
    if (count == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
    fake::State state;
    if (const nvmlReturn_t rc = load_for_call(state); rc != NVML_SUCCESS) return rc;
    *count = static_cast<unsigned>(state.gpus.size());
    return NVML_SUCCESS;
}

nvmlReturn_t handle_by_index(const char* function, unsigned index, nvmlDevice_t* device) {
    log_call(function);
    if (device == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
    fake::State state;
    if (const nvmlReturn_t rc = load_for_call(state); rc != NVML_SUCCESS) return rc;
    if (index >= state.gpus.size()) return NVML_ERROR_INVALID_ARGUMENT;
    if (state.gpus[index].no_permission) return NVML_ERROR_NO_PERMISSION;
    *device = encode_handle(index);
    return NVML_SUCCESS;
}

bool listed_in(fake::ProcessKind kind, fake::ProcessKind list) {
    return kind == list || kind == fake::ProcessKind::both;
}

// The count protocol of the real _v3 calls: too small a buffer (a null one included) reports
// INSUFFICIENT_SIZE with the needed count, unless there is nothing to report.
nvmlReturn_t running_processes(const fake::Gpu& gpu, fake::ProcessKind list, unsigned* count,
                               nvmlProcessInfo_v2_t* infos) {
    if (count == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
    std::vector<nvmlProcessInfo_v2_t> records;
    auto add = [&](const fake::Gpu& unit, unsigned instance) {
        for (const fake::Process& p : unit.processes) {
            if (!listed_in(p.kind, list) || !fake::is_live(p)) continue;
            records.push_back(
                {p.pid, p.used_memory.value_or(NVML_VALUE_NOT_AVAILABLE), instance, instance});
        }
    };
    add(gpu, kNoInstance);
    // A GPU in MIG mode lists the processes of all its instances, each with its instance's ids
    // (the fake numbers both the GPU and the compute instance by the slot).
    for (unsigned slot = 0; slot < gpu.mig_devices.size(); ++slot) {
        if (gpu.mig_mode == true && gpu.mig_devices[slot]) add(*gpu.mig_devices[slot], slot);
    }
    const auto needed = static_cast<unsigned>(records.size());
    if (*count < needed) {
        *count = needed;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    *count = needed;
    if (needed == 0) return NVML_SUCCESS;
    if (infos == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
    std::memcpy(infos, records.data(), records.size() * sizeof(nvmlProcessInfo_v2_t));
    return NVML_SUCCESS;
}

void fill_pci(const fake::Gpu& gpu, nvmlPciInfo_t* pci) {
    const fake::PciAddress address = *fake::parse_pci(gpu.pci_bus_id);  // validated on load
    *pci = nvmlPciInfo_t{};
    const std::string legacy = fake::format_pci(address, 4);
    std::snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%s", legacy.c_str());
    std::snprintf(pci->busId, sizeof pci->busId, "%s", gpu.pci_bus_id.c_str());
    pci->domain = address.domain;
    pci->bus = address.bus;
    pci->device = address.device;
    pci->pciDeviceId = kPciDeviceId;
    pci->pciSubSystemId = 0x16C110DEU;
}

}  // namespace

FAKE_EXPORT nvmlReturn_t nvmlInit_v2() {
    return init("nvmlInit_v2");
}
FAKE_EXPORT nvmlReturn_t nvmlInit() {
    return init("nvmlInit");
}

FAKE_EXPORT nvmlReturn_t nvmlShutdown() {
    log_call("nvmlShutdown");
    int count = g_init_count.load();
    do {
        if (count == 0) return NVML_ERROR_UNINITIALIZED;
    } while (!g_init_count.compare_exchange_weak(count, count - 1));
    return NVML_SUCCESS;
}

FAKE_EXPORT const char* nvmlErrorString(nvmlReturn_t result) {
    log_call("nvmlErrorString");
    switch (result) {
        case NVML_SUCCESS:
            return "Success";
        case NVML_ERROR_UNINITIALIZED:
            return "Uninitialized";
        case NVML_ERROR_INVALID_ARGUMENT:
            return "Invalid Argument";
        case NVML_ERROR_NOT_SUPPORTED:
            return "Not Supported";
        case NVML_ERROR_NO_PERMISSION:
            return "Insufficient Permissions";
        case NVML_ERROR_NOT_FOUND:
            return "Not Found";
        case NVML_ERROR_INSUFFICIENT_SIZE:
            return "Insufficient Size";
        case NVML_ERROR_DRIVER_NOT_LOADED:
            return "Driver Not Loaded";
        case NVML_ERROR_LIBRARY_NOT_FOUND:
            return "NVML Shared Library Not Found";
        case NVML_ERROR_FUNCTION_NOT_FOUND:
            return "Function Not Found";
        case NVML_ERROR_GPU_IS_LOST:
            return "GPU is lost";
        case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
            return "RM has detected an NVML/RM version mismatch";
        case kArgumentVersionMismatch:
            return "Argument version mismatch";
        default:
            return "Unknown Error";
    }
}

FAKE_EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned length) {
    log_call("nvmlSystemGetDriverVersion");
    fake::State state;
    if (const nvmlReturn_t rc = load_for_call(state); rc != NVML_SUCCESS) return rc;
    return copy_string(state.driver_version, version, length);
}

FAKE_EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char* version, unsigned length) {
    log_call("nvmlSystemGetNVMLVersion");
    fake::State state;
    if (const nvmlReturn_t rc = load_for_call(state); rc != NVML_SUCCESS) return rc;
    return copy_string(state.nvml_version, version, length);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned* count) {
    return device_count("nvmlDeviceGetCount_v2", count);
}
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned* count) {
    return device_count("nvmlDeviceGetCount", count);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t* device) {
    return handle_by_index("nvmlDeviceGetHandleByIndex_v2", index, device);
}
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned index, nvmlDevice_t* device) {
    return handle_by_index("nvmlDeviceGetHandleByIndex", index, device);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned length) {
    log_call("nvmlDeviceGetUUID");
    return with_gpu(device,
                    [&](const fake::Gpu& gpu) { return copy_string(gpu.uuid, uuid, length); });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned length) {
    log_call("nvmlDeviceGetName");
    return with_gpu(device,
                    [&](const fake::Gpu& gpu) { return copy_string(gpu.name, name, length); });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci) {
    log_call("nvmlDeviceGetPciInfo_v3");
    return with_gpu(device, [&](const fake::Gpu& gpu) {
        if (pci == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
        fill_pci(gpu, pci);
        return NVML_SUCCESS;
    });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
    log_call("nvmlDeviceGetMemoryInfo");
    return with_gpu(device, [&](const fake::Gpu& gpu) {
        if (memory == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
        const fake::MemoryUse use = fake::memory_use(gpu);
        *memory = nvmlMemory_t{use.total, use.free, use.used + use.reserved};
        return NVML_SUCCESS;
    });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t* memory) {
    log_call("nvmlDeviceGetMemoryInfo_v2");
    return with_gpu(device, [&](const fake::Gpu& gpu) {
        if (memory == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
        if (memory->version != nvmlMemory_v2) return kArgumentVersionMismatch;
        const fake::MemoryUse use = fake::memory_use(gpu);
        *memory = nvmlMemory_v2_t{nvmlMemory_v2, use.total, use.reserved, use.free, use.used};
        return NVML_SUCCESS;
    });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
                                                       nvmlUtilization_t* utilization) {
    log_call("nvmlDeviceGetUtilizationRates");
    if (is_mig_handle(device)) return NVML_ERROR_NOT_SUPPORTED;  // not measured per instance
    return with_gpu(device, [&](const fake::Gpu& gpu) {
        if (utilization == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
        *utilization = nvmlUtilization_t{gpu.utilization, gpu.memory_utilization};
        return NVML_SUCCESS;
    });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device,
                                                                 unsigned* count,
                                                                 nvmlProcessInfo_v2_t* infos) {
    log_call("nvmlDeviceGetComputeRunningProcesses_v3");
    return with_gpu(device, [&](const fake::Gpu& gpu) {
        return running_processes(gpu, fake::ProcessKind::compute, count, infos);
    });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device,
                                                                  unsigned* count,
                                                                  nvmlProcessInfo_v2_t* infos) {
    log_call("nvmlDeviceGetGraphicsRunningProcesses_v3");
    return with_gpu(device, [&](const fake::Gpu& gpu) {
        return running_processes(gpu, fake::ProcessKind::graphics, count, infos);
    });
}

FAKE_EXPORT nvmlReturn_t nvmlSystemGetProcessName(unsigned pid, char* name, unsigned length) {
    log_call("nvmlSystemGetProcessName");
    fake::State state;
    if (const nvmlReturn_t rc = load_for_call(state); rc != NVML_SUCCESS) return rc;
    if (name == nullptr || length == 0) return NVML_ERROR_INVALID_ARGUMENT;
    const std::string text = fake::process_name(pid);
    if (text.empty()) return NVML_ERROR_NOT_FOUND;
    return copy_string(text, name, length);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned* current,
                                              unsigned* pending) {
    log_call("nvmlDeviceGetMigMode");
    return with_parent(device, [&](const fake::Gpu& gpu, unsigned) {
        if (current == nullptr || pending == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
        if (!gpu.mig_mode) return NVML_ERROR_NOT_SUPPORTED;
        *current = *gpu.mig_mode ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE;
        *pending = *current;
        return NVML_SUCCESS;
    });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned* count) {
    log_call("nvmlDeviceGetMaxMigDeviceCount");
    return with_parent(device, [&](const fake::Gpu& gpu, unsigned) {
        if (count == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
        if (!gpu.mig_mode) return NVML_ERROR_NOT_SUPPORTED;
        *count = *gpu.mig_mode ? gpu.mig_max_devices : 0;  // none while MIG is off
        return NVML_SUCCESS;
    });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned index,
                                                             nvmlDevice_t* mig) {
    log_call("nvmlDeviceGetMigDeviceHandleByIndex");
    return with_parent(device, [&](const fake::Gpu& gpu, unsigned parent) {
        if (mig == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
        if (gpu.mig_mode != true) return NVML_ERROR_NOT_SUPPORTED;
        if (index >= gpu.mig_max_devices) return NVML_ERROR_INVALID_ARGUMENT;
        if (index >= gpu.mig_devices.size() || !gpu.mig_devices[index])
            return NVML_ERROR_NOT_FOUND;  // no MIG device in this slot
        *mig = encode_handle(parent, index);
        return NVML_SUCCESS;
    });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t mig,
                                                                      nvmlDevice_t* device) {
    log_call("nvmlDeviceGetDeviceHandleFromMigDeviceHandle");
    if (!is_mig_handle(mig) || device == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
    return with_gpu(mig, [&](const fake::Gpu&) {
        *device = reinterpret_cast<nvmlDevice_t>(parent_part(mig));
        return NVML_SUCCESS;
    });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t device, unsigned* is_mig) {
    log_call("nvmlDeviceIsMigDeviceHandle");
    if (is_mig == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
    return with_gpu(device, [&](const fake::Gpu&) {
        *is_mig = is_mig_handle(device) ? 1U : 0U;
        return NVML_SUCCESS;
    });
}
