// The NVML entry points the Nvml class resolved, shared by the files that implement it.
#pragma once

#include <array>

#include "driver/nvml.hpp"
#include "driver/nvml_abi.hpp"

namespace gw {

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
    // Optional: drivers and GPUs without MIG lack them or answer NOT_SUPPORTED.
    nvmlDeviceGetMigMode_fn mig_mode = nullptr;
    nvmlDeviceGetMaxMigDeviceCount_fn max_mig_count = nullptr;
    nvmlDeviceGetMigDeviceHandleByIndex_fn mig_handle = nullptr;
};

}  // namespace gw
