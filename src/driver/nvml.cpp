#include "driver/nvml.hpp"

#include <algorithm>
#include <array>
#include <functional>

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw {
namespace {

constexpr const char* kLoadHint =
    "is the NVIDIA driver installed (nvidia-smi works)? GPU_WAITER_NVML_LIBRARY names another file";

/// Largest pid any kernel hands out (Linux pid_max limit); larger values mean a misread record.
constexpr unsigned kMaxPid = 1u << 22;

/// Process-list symbols by record layout, newest first.
enum class RecordLayout { v2, v1 };

}  // namespace

struct Nvml::Api {
    nvmlInit_fn init = nullptr;
    nvmlShutdown_fn shutdown = nullptr;
    nvmlErrorString_fn error_string = nullptr;
    nvmlSystemGetString_fn driver_version = nullptr;
    nvmlSystemGetString_fn nvml_version = nullptr;
    nvmlDeviceGetCount_fn count = nullptr;
    nvmlDeviceGetHandleByIndex_fn handle_by_index = nullptr;
    nvmlDeviceGetString_fn uuid = nullptr;
    nvmlDeviceGetString_fn name = nullptr;
    nvmlDeviceGetPciInfo_fn pci_info = nullptr;
    nvmlDeviceGetMemoryInfo_fn memory_v1 = nullptr;
    nvmlDeviceGetMemoryInfo_v2_fn memory_v2 = nullptr;
    nvmlDeviceGetUtilizationRates_fn utilization = nullptr;
    nvmlDeviceGetRunningProcessDetailList_fn process_details = nullptr;
    std::array<nvmlDeviceGetProcesses_fn, 2> processes_v2{};  // compute, graphics (24-byte)
    std::array<nvmlDeviceGetProcesses_fn, 2> processes_v1{};  // compute, graphics (16-byte)
};

namespace {

template <std::size_t N>
SymbolSpec spec(const std::array<const char*, N>& names, auto& target, bool required) {
    return SymbolSpec{names, reinterpret_cast<void**>(&target), required};
}

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

void add_process(std::vector<GpuProcess>& out, unsigned pid, unsigned long long memory) {
    if (pid == 0 || pid > kMaxPid) return;  // a record read with the wrong layout
    std::optional<std::uint64_t> used;
    if (memory != NVML_VALUE_NOT_AVAILABLE) used = memory;
    auto same = [pid](const GpuProcess& p) { return p.pid == pid; };
    if (auto it = std::find_if(out.begin(), out.end(), same); it != out.end()) {
        if (used) it->used_memory = std::max(it->used_memory.value_or(0), *used);
        return;  // a process in both the compute and the graphics list
    }
    out.push_back(GpuProcess{pid, used});
}

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
        spec(kInit, a.init, true),
        spec(kShutdown, a.shutdown, true),
        spec(kErrorString, a.error_string, true),
        spec(kDriverVersion, a.driver_version, false),
        spec(kNvmlVersion, a.nvml_version, false),
        spec(kCount, a.count, true),
        spec(kHandle, a.handle_by_index, true),
        spec(kUuid, a.uuid, true),
        spec(kName, a.name, true),
        spec(kPci, a.pci_info, true),
        spec(kMemoryV1, a.memory_v1, true),
        spec(kMemoryV2, a.memory_v2, false),
        spec(kUtilization, a.utilization, false),
        spec(kDetails, a.process_details, false),
        spec(kComputeV2, a.processes_v2[0], false),
        spec(kGraphicsV2, a.processes_v2[1], false),
        spec(kComputeV1, a.processes_v1[0], false),
        spec(kGraphicsV1, a.processes_v1[1], false),
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
    handles_.clear();
}

void Nvml::reload_if_unloaded() {
    if (library_) return;
    load();
    // The same GPUs under the same indices, or none: a GPU that vanished or changed meanwhile
    // is "not opened" from now on.
    unsigned count = 0;
    if (api_->count(&count) != NVML_SUCCESS) count = 0;
    handles_.assign(uuids_.size(), nullptr);
    for (unsigned i = 0; i < count && i < uuids_.size(); ++i) {
        nvmlDevice_t dev = nullptr;
        std::array<char, NVML_UUID_BUFFER_SIZE> uuid{};
        if (api_->handle_by_index(i, &dev) == NVML_SUCCESS &&
            api_->uuid(dev, uuid.data(), NVML_UUID_BUFFER_SIZE) == NVML_SUCCESS &&
            uuids_[i] == uuid.data()) {
            handles_[i] = dev;
        }
    }
}

std::string Nvml::failure(const char* call, nvmlReturn_t rc) const {
    const char* text = api_->error_string != nullptr ? api_->error_string(rc) : nullptr;
    return fmt::format("{}: {}", call, text != nullptr ? text : fmt::format("error {}", rc));
}

nvmlDevice_t Nvml::handle(unsigned index) {
    return index < handles_.size() ? handles_[index] : nullptr;
}

GpuInventory Nvml::inventory() {
    reload_if_unloaded();
    GpuInventory result;
    unsigned count = 0;
    if (nvmlReturn_t rc = api_->count(&count); rc != NVML_SUCCESS) {
        throw Error(failure("nvmlDeviceGetCount_v2", rc), "does nvidia-smi list the GPUs?");
    }
    handles_.assign(count, nullptr);
    uuids_.assign(count, {});
    for (unsigned i = 0; i < count; ++i) {
        nvmlDevice_t dev = nullptr;
        GpuIdentity id;
        id.index = i;
        std::array<char, NVML_UUID_BUFFER_SIZE> uuid{};
        std::array<char, NVML_NAME_BUFFER_SIZE> name{};
        nvmlPciInfo_t pci{};
        nvmlReturn_t rc = api_->handle_by_index(i, &dev);
        const char* call = "nvmlDeviceGetHandleByIndex_v2";
        if (rc == NVML_SUCCESS)
            call = "nvmlDeviceGetUUID", rc = api_->uuid(dev, uuid.data(), NVML_UUID_BUFFER_SIZE);
        if (rc == NVML_SUCCESS)
            call = "nvmlDeviceGetName", rc = api_->name(dev, name.data(), NVML_NAME_BUFFER_SIZE);
        if (rc == NVML_SUCCESS) call = "nvmlDeviceGetPciInfo_v3", rc = api_->pci_info(dev, &pci);
        if (rc != NVML_SUCCESS) {
            result.skipped.push_back(fmt::format("GPU {}: {}", i, failure(call, rc)));
            continue;
        }
        handles_[i] = dev;
        uuids_[i] = uuid.data();
        id.uuid = uuid.data();
        id.name = name.data();
        pci.busId[sizeof(pci.busId) - 1] = '\0';
        id.pci_bus_id = pci.busId;
        result.gpus.push_back(std::move(id));
    }
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
    nvmlDevice_t dev = handle(gpu.index);
    if (dev == nullptr) {
        status.error = "not opened";
        return status;
    }
    if (has(query, GpuQuery::memory)) status.error = read_memory(dev, status);
    if (status.error.empty() && has(query, GpuQuery::utilization) && api_->utilization) {
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

std::string Nvml::read_processes(nvmlDevice_t dev, GpuStatus& out) {
    std::vector<GpuProcess> list;
    for (int kind : {0, 1}) {
        if (std::string err = read_process_list(dev, kind, list); !err.empty()) return err;
    }
    out.processes = std::move(list);
    return {};
}

namespace {

/// One sizing-or-reading attempt with records of type Record: `call(buffer, count)` takes the
/// buffer's capacity in `count` and leaves there how many processes there are. On success the
/// processes are added to `out`; on INSUFFICIENT_SIZE `capacity` grows for the next attempt.
template <typename Record, typename Call>
nvmlReturn_t read_records(Call call, unsigned& capacity, std::vector<GpuProcess>& out) {
    std::vector<Record> records(capacity);
    unsigned count = capacity;
    nvmlReturn_t rc = call(records.empty() ? nullptr : records.data(), count);
    if (rc == NVML_SUCCESS) {
        for (unsigned i = 0; i < std::min(count, capacity); ++i)
            add_process(out, records[i].pid, records[i].usedGpuMemory);
    } else {
        capacity = count + 4;  // room for processes that start meanwhile
    }
    return rc;
}

}  // namespace

std::string Nvml::read_process_list(nvmlDevice_t dev, int kind, std::vector<GpuProcess>& out) {
    const auto k = static_cast<std::size_t>(kind);
    const char* call = nullptr;
    std::function<nvmlReturn_t(unsigned&)> attempt;
    if (api_->process_details != nullptr) {
        call = "nvmlDeviceGetRunningProcessDetailList";
        attempt = [&](unsigned& capacity) {
            return read_records<nvmlProcessDetail_v1_t>(
                [&](nvmlProcessDetail_v1_t* buffer, unsigned& count) {
                    nvmlProcessDetailList_v1_t list{nvmlProcessDetailList_v1,
                                                    static_cast<unsigned>(kind), count, buffer};
                    nvmlReturn_t rc = api_->process_details(dev, &list);
                    count = list.numProcArrayEntries;
                    return rc;
                },
                capacity, out);
        };
    } else if (auto fn = api_->processes_v2[k]) {
        call = kind == 0 ? kComputeV2[0] : kGraphicsV2[0];
        attempt = [&, fn](unsigned& capacity) {
            return read_records<nvmlProcessInfo_v2_t>(
                [&](nvmlProcessInfo_v2_t* buffer, unsigned& count) {
                    return fn(dev, &count, buffer);
                },
                capacity, out);
        };
    } else if (auto fn1 = api_->processes_v1[k]) {
        call = kind == 0 ? kComputeV1[0] : kGraphicsV1[0];
        attempt = [&, fn1](unsigned& capacity) {
            return read_records<nvmlProcessInfo_v1_t>(
                [&](nvmlProcessInfo_v1_t* buffer, unsigned& count) {
                    return fn1(dev, &count, buffer);
                },
                capacity, out);
        };
    } else {
        return kind == 0 ? "no NVML compute process query in this driver" : std::string{};
    }
    // The list can grow between the sizing call and the reading call: a few attempts.
    unsigned capacity = 0;
    for (int i = 0; i < 8; ++i) {
        nvmlReturn_t rc = attempt(capacity);
        if (rc == NVML_SUCCESS) return {};
        if (rc != NVML_ERROR_INSUFFICIENT_SIZE) return failure(call, rc);
    }
    return "process list kept changing while being read";
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
