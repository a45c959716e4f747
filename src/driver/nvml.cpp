#include "driver/nvml.hpp"

#include <array>

#include <fmt/format.h>

#include "common/error.hpp"
#include "driver/nvml_api.hpp"

namespace gw {
namespace {

constexpr const char* kLoadHint =
    "is the NVIDIA driver installed (nvidia-smi works)? GPU_WAITER_NVML_LIBRARY names another file";

}  // namespace

namespace {

// The symbol table: every NVML entry point gpu-waiter uses, newest version first.
constexpr std::array kInit{"nvmlInit_v2", "nvmlInit"};
constexpr std::array kShutdown{"nvmlShutdown"};
constexpr std::array kErrorString{"nvmlErrorString"};
constexpr std::array kDriverVersion{"nvmlSystemGetDriverVersion"};
constexpr std::array kNvmlVersion{"nvmlSystemGetNVMLVersion"};
constexpr std::array kCount{"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"};
constexpr std::array kHandle{"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"};
constexpr std::array kUuid{"nvmlDeviceGetUUID"};
constexpr std::array kName{"nvmlDeviceGetName"};
constexpr std::array kPci{"nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2"};
constexpr std::array kMemoryV1{"nvmlDeviceGetMemoryInfo"};
constexpr std::array kMemoryV2{"nvmlDeviceGetMemoryInfo_v2"};
constexpr std::array kUtilization{"nvmlDeviceGetUtilizationRates"};
constexpr std::array kDetails{"nvmlDeviceGetRunningProcessDetailList"};
constexpr std::array kComputeV2{"nvmlDeviceGetComputeRunningProcesses_v3",
                                "nvmlDeviceGetComputeRunningProcesses_v2"};
constexpr std::array kGraphicsV2{"nvmlDeviceGetGraphicsRunningProcesses_v3",
                                 "nvmlDeviceGetGraphicsRunningProcesses_v2"};
constexpr std::array kComputeV1{"nvmlDeviceGetComputeRunningProcesses"};
constexpr std::array kGraphicsV1{"nvmlDeviceGetGraphicsRunningProcesses"};
constexpr std::array kMigMode{"nvmlDeviceGetMigMode"};
constexpr std::array kMaxMigCount{"nvmlDeviceGetMaxMigDeviceCount"};
constexpr std::array kMigHandle{"nvmlDeviceGetMigDeviceHandleByIndex"};

}  // namespace

Nvml::Nvml() : api_(std::make_unique<Api>()) {
    load();
}

void Nvml::load() {
    *api_ = Api{};
    library_ =
        std::make_unique<DynamicLibrary>(driver_library_path(DriverLibrary::nvml), kLoadHint);
    Api& a = *api_;
    const std::array specs{
        symbol_spec(kInit, a.init, true),
        symbol_spec(kShutdown, a.shutdown, true),
        symbol_spec(kErrorString, a.error_string, true),
        symbol_spec(kDriverVersion, a.driver_version, false),
        symbol_spec(kNvmlVersion, a.nvml_version, false),
        symbol_spec(kCount, a.count, true),
        symbol_spec(kHandle, a.handle_by_index, true),
        symbol_spec(kUuid, a.uuid, true),
        symbol_spec(kName, a.name, true),
        symbol_spec(kPci, a.pci_info, true),
        symbol_spec(kMemoryV1, a.memory_v1, true),
        symbol_spec(kMemoryV2, a.memory_v2, false),
        symbol_spec(kUtilization, a.utilization, false),
        symbol_spec(kDetails, a.process_details, false),
        symbol_spec(kComputeV2, a.processes_v2[0], false),
        symbol_spec(kGraphicsV2, a.processes_v2[1], false),
        symbol_spec(kComputeV1, a.processes_v1[0], false),
        symbol_spec(kGraphicsV1, a.processes_v1[1], false),
        symbol_spec(kMigMode, a.mig_mode, false),
        symbol_spec(kMaxMigCount, a.max_mig_count, false),
        symbol_spec(kMigHandle, a.mig_handle, false),
    };
    library_->resolve(specs);
    if (nvmlReturn_t rc = a.init(); rc != NVML_SUCCESS) {
        throw Error(failure("nvmlInit_v2", rc),
                    "check that the NVIDIA kernel module is loaded and matches the library "
                    "(does nvidia-smi work?)");
    }
}

Nvml::~Nvml() {
    if (library_ && api_->shutdown != nullptr) api_->shutdown();
}

void Nvml::unload() {
    if (!library_) return;
    api_->shutdown();
    library_.reset();  // the library's pages, threads and heap go with it
    handles_.clear();  // gpu_index_ stays: reload_if_unloaded reopens those units
}

void Nvml::reload_if_unloaded() {
    if (library_) return;
    load();
    // The same units under the same GPU indices, or none: a unit that vanished or moved meanwhile
    // is "not opened" from now on.
    Handles fresh;
    GpuInventory now;
    try {
        now = enumerate(fresh);
    } catch (const Error&) {
        return;
    }
    for (const GpuIdentity& unit : now.gpus) {
        auto known = gpu_index_.find(unit.uuid);
        if (known != gpu_index_.end() && known->second == unit.index)
            handles_[unit.uuid] = fresh[unit.uuid];
    }
}

std::string Nvml::failure(const char* call, nvmlReturn_t rc) const {
    const char* text = api_->error_string != nullptr ? api_->error_string(rc) : nullptr;
    return fmt::format("{}: {}", call, text != nullptr ? text : fmt::format("error {}", rc));
}

GpuInventory Nvml::inventory() {
    reload_if_unloaded();
    handles_.clear();
    gpu_index_.clear();
    GpuInventory result = enumerate(handles_);
    for (const GpuIdentity& unit : result.gpus) gpu_index_[unit.uuid] = unit.index;
    return result;
}

GpuStatus Nvml::probe(const GpuIdentity& gpu, GpuQuery query) {
    GpuStatus status;
    try {
        reload_if_unloaded();
    } catch (const Error& e) {
        status.error = e.what();
        return status;
    }
    auto found = handles_.find(gpu.uuid);
    nvmlDevice_t dev = found == handles_.end() ? nullptr : found->second;
    if (dev == nullptr) {
        status.error = "not opened";
        return status;
    }
    if (gpu.mig) status.error = check_instance(dev, gpu);
    if (status.error.empty() && has(query, GpuQuery::memory))
        status.error = read_memory(dev, status);
    // NVML reports no utilization per MIG instance; the policy does not ask for it there.
    if (status.error.empty() && has(query, GpuQuery::utilization) && api_->utilization &&
        !gpu.mig) {
        nvmlUtilization_t u{};
        nvmlReturn_t rc = api_->utilization(dev, &u);
        if (rc == NVML_SUCCESS)
            status.utilization = u.gpu;
        else if (rc != NVML_ERROR_NOT_SUPPORTED)
            status.error = failure("nvmlDeviceGetUtilizationRates", rc);
    }
    if (status.error.empty() && has(query, GpuQuery::processes))
        status.error = read_processes(dev, status);
    return status;
}

std::string Nvml::read_memory(nvmlDevice_t dev, GpuStatus& out) {
    if (api_->memory_v2 != nullptr) {
        nvmlMemory_v2_t m{};
        m.version = nvmlMemory_v2;
        if (api_->memory_v2(dev, &m) == NVML_SUCCESS) {
            out.memory = GpuMemory{m.total, m.used, m.free, true};
            return {};
        }
        // Fall through: some drivers export the symbol but refuse the struct version.
    }
    nvmlMemory_t m{};
    if (nvmlReturn_t rc = api_->memory_v1(dev, &m); rc != NVML_SUCCESS) {
        return failure("nvmlDeviceGetMemoryInfo", rc);
    }
    out.memory = GpuMemory{m.total, m.used, m.free, false};
    return {};
}

std::string Nvml::version() {
    reload_if_unloaded();
    std::array<char, NVML_VERSION_BUFFER_SIZE> driver{}, nvml{};
    if (api_->driver_version == nullptr ||
        api_->driver_version(driver.data(), NVML_VERSION_BUFFER_SIZE) != NVML_SUCCESS)
        driver = {'?'};
    if (api_->nvml_version == nullptr ||
        api_->nvml_version(nvml.data(), NVML_VERSION_BUFFER_SIZE) != NVML_SUCCESS)
        nvml = {'?'};
    return fmt::format("driver {}, NVML {}", driver.data(), nvml.data());
}

}  // namespace gw
