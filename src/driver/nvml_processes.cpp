// Nvml's process lists: which of the driver's three process queries to use, and the sizing
// protocol they share.
#include <algorithm>
#include <functional>

#include "driver/nvml.hpp"
#include "driver/nvml_api.hpp"

namespace gw {
namespace {

/// Largest pid any kernel hands out (Linux pid_max limit); larger values mean a misread record.
constexpr unsigned kMaxPid = 1u << 22;

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
        call = kind == 0 ? "nvmlDeviceGetComputeRunningProcesses_v3"
                         : "nvmlDeviceGetGraphicsRunningProcesses_v3";
        attempt = [&, fn](unsigned& capacity) {
            return read_records<nvmlProcessInfo_v2_t>(
                [&](nvmlProcessInfo_v2_t* buffer, unsigned& count) {
                    return fn(dev, &count, buffer);
                },
                capacity, out);
        };
    } else if (auto fn1 = api_->processes_v1[k]) {
        call = kind == 0 ? "nvmlDeviceGetComputeRunningProcesses"
                         : "nvmlDeviceGetGraphicsRunningProcesses";
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

}  // namespace gw
