// The subset of NVIDIA's NVML C API that gpu-waiter uses, declared here because no NVIDIA header
// is available at build time. Layouts follow nvml.h as shipped with CUDA 12.x / driver R535-R580;
// each struct names the header version it was taken from. Keep every NVML declaration in this file.
#pragma once

#include <cstdint>

extern "C" {

using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;

// nvmlReturn_t values (nvml.h, all versions).
inline constexpr nvmlReturn_t NVML_SUCCESS = 0;
inline constexpr nvmlReturn_t NVML_ERROR_UNINITIALIZED = 1;
inline constexpr nvmlReturn_t NVML_ERROR_INVALID_ARGUMENT = 2;
inline constexpr nvmlReturn_t NVML_ERROR_NOT_SUPPORTED = 3;
inline constexpr nvmlReturn_t NVML_ERROR_NO_PERMISSION = 4;
inline constexpr nvmlReturn_t NVML_ERROR_NOT_FOUND = 6;
inline constexpr nvmlReturn_t NVML_ERROR_INSUFFICIENT_SIZE = 7;
inline constexpr nvmlReturn_t NVML_ERROR_DRIVER_NOT_LOADED = 9;
inline constexpr nvmlReturn_t NVML_ERROR_LIBRARY_NOT_FOUND = 12;
inline constexpr nvmlReturn_t NVML_ERROR_FUNCTION_NOT_FOUND = 13;
inline constexpr nvmlReturn_t NVML_ERROR_GPU_IS_LOST = 15;
inline constexpr nvmlReturn_t NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18;
inline constexpr nvmlReturn_t NVML_ERROR_UNKNOWN = 999;

// Buffer sizes (nvml.h: NVML_DEVICE_UUID_V2_BUFFER_SIZE, NVML_DEVICE_NAME_V2_BUFFER_SIZE,
// NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE, NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE).
inline constexpr unsigned NVML_UUID_BUFFER_SIZE = 96;
inline constexpr unsigned NVML_NAME_BUFFER_SIZE = 96;
inline constexpr unsigned NVML_PCI_BUS_ID_BUFFER_SIZE = 32;
inline constexpr unsigned NVML_VERSION_BUFFER_SIZE = 80;

// nvmlPciInfo_t as filled by nvmlDeviceGetPciInfo_v3 (CUDA 11+ headers): 68 bytes.
struct nvmlPciInfo_t {
    char busIdLegacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[NVML_PCI_BUS_ID_BUFFER_SIZE];  // "00000000:17:00.0"
};
static_assert(sizeof(nvmlPciInfo_t) == 68);

// nvmlMemory_t (v1, all headers): "used" includes the driver's reserved memory.
struct nvmlMemory_t {
    unsigned long long total;  // bytes
    unsigned long long free;   // bytes
    unsigned long long used;   // bytes
};

// nvmlMemory_v2_t (CUDA 11.6+ headers): reserved memory is reported on its own.
struct nvmlMemory_v2_t {
    unsigned int version;  // must be nvmlMemory_v2
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
};
static_assert(sizeof(nvmlMemory_v2_t) == 40);
inline constexpr unsigned int nvmlMemory_v2 = sizeof(nvmlMemory_v2_t) | (2u << 24);

// nvmlUtilization_t (all headers): percentages over the driver's last sample period.
struct nvmlUtilization_t {
    unsigned int gpu;
    unsigned int memory;
};

// nvmlProcessInfo_t as written by the _v2 and _v3 process queries (CUDA 11.4+ headers): 24 bytes.
struct nvmlProcessInfo_v2_t {
    unsigned int pid;
    unsigned long long usedGpuMemory;  // bytes, or NVML_VALUE_NOT_AVAILABLE
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
};
static_assert(sizeof(nvmlProcessInfo_v2_t) == 24);

// nvmlProcessInfo_v1_t as written by the unsuffixed process queries (pre-11.4 headers): 16 bytes.
struct nvmlProcessInfo_v1_t {
    unsigned int pid;
    unsigned long long usedGpuMemory;
};
static_assert(sizeof(nvmlProcessInfo_v1_t) == 16);

inline constexpr unsigned long long NVML_VALUE_NOT_AVAILABLE = ~0ULL;

// nvmlProcessDetail_v1_t / nvmlProcessDetailList_v1_t (CUDA 12.4+ headers, R550+ drivers). The
// explicit version avoids the record-size confusion some R535 drivers had with the _v3 calls.
struct nvmlProcessDetail_v1_t {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
    unsigned long long usedGpuCcProtectedMemory;
};
static_assert(sizeof(nvmlProcessDetail_v1_t) == 32);

struct nvmlProcessDetailList_v1_t {
    unsigned int version;  // nvmlProcessDetailList_v1
    unsigned int mode;     // NVML_PROCESS_MODE_*
    unsigned int numProcArrayEntries;
    nvmlProcessDetail_v1_t* procArray;
};
static_assert(sizeof(nvmlProcessDetailList_v1_t) == 24);
inline constexpr unsigned int nvmlProcessDetailList_v1 =
    sizeof(nvmlProcessDetailList_v1_t) | (1u << 24);
inline constexpr unsigned int NVML_PROCESS_MODE_COMPUTE = 0;
inline constexpr unsigned int NVML_PROCESS_MODE_GRAPHICS = 1;

// MIG modes as nvmlDeviceGetMigMode reports them (nvml.h, CUDA 11.0+ headers).
inline constexpr unsigned int NVML_DEVICE_MIG_DISABLE = 0;
inline constexpr unsigned int NVML_DEVICE_MIG_ENABLE = 1;

// Function types, one per symbol gpu-waiter resolves.
using nvmlInit_fn = nvmlReturn_t (*)();
using nvmlShutdown_fn = nvmlReturn_t (*)();
using nvmlErrorString_fn = const char* (*)(nvmlReturn_t);
using nvmlSystemGetString_fn = nvmlReturn_t (*)(char*, unsigned int);
using nvmlDeviceGetCount_fn = nvmlReturn_t (*)(unsigned int*);
using nvmlDeviceGetHandleByIndex_fn = nvmlReturn_t (*)(unsigned int, nvmlDevice_t*);
using nvmlDeviceGetString_fn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int);
using nvmlDeviceGetPciInfo_fn = nvmlReturn_t (*)(nvmlDevice_t, nvmlPciInfo_t*);
using nvmlDeviceGetMemoryInfo_fn = nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*);
using nvmlDeviceGetMemoryInfo_v2_fn = nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_v2_t*);
using nvmlDeviceGetUtilizationRates_fn = nvmlReturn_t (*)(nvmlDevice_t, nvmlUtilization_t*);
// The record type behind void* depends on the symbol's version (see the structs above).
using nvmlDeviceGetProcesses_fn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, void*);
using nvmlDeviceGetRunningProcessDetailList_fn = nvmlReturn_t (*)(nvmlDevice_t,
                                                                  nvmlProcessDetailList_v1_t*);

// Multi-Instance GPU (CUDA 11.0+ headers, R450+ drivers). A MIG device handle stands for one
// compute instance and answers the per-device queries above for that instance alone.
using nvmlDeviceGetMigMode_fn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int* current,
                                                 unsigned int* pending);
using nvmlDeviceGetMaxMigDeviceCount_fn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*);
// NVML_ERROR_NOT_FOUND for an index with no MIG device behind it.
using nvmlDeviceGetMigDeviceHandleByIndex_fn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int,
                                                                nvmlDevice_t*);
using nvmlDeviceGetDeviceHandleFromMigDeviceHandle_fn = nvmlReturn_t (*)(nvmlDevice_t,
                                                                         nvmlDevice_t*);
using nvmlDeviceIsMigDeviceHandle_fn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*);

}  // extern "C"
