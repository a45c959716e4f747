// The subset of the CUDA driver API (cuda.h) that gpu-waiter's holder uses, declared here because
// the build has no CUDA toolkit. Only explicit _v2 entry points are resolved for calls whose
// unsuffixed names are legacy ABIs with 32-bit sizes (cuda.h maps them with #defines since 3.2).
#pragma once

#include <cstddef>

extern "C" {

using CUresult = int;
using CUdevice = int;
using CUcontext = struct CUctx_st*;
using CUdeviceptr = unsigned long long;  // 64-bit hosts only (cuda.h, CUDA 3.2+)

inline constexpr CUresult CUDA_SUCCESS = 0;
inline constexpr CUresult CUDA_ERROR_INVALID_VALUE = 1;
inline constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
inline constexpr CUresult CUDA_ERROR_NOT_INITIALIZED = 3;
inline constexpr CUresult CUDA_ERROR_STUB_LIBRARY = 34;
inline constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
inline constexpr CUresult CUDA_ERROR_INVALID_DEVICE = 101;
inline constexpr CUresult CUDA_ERROR_UNKNOWN = 999;

using cuInit_fn = CUresult (*)(unsigned int);
using cuGetErrorString_fn = CUresult (*)(CUresult, const char**);
using cuDeviceGetCount_fn = CUresult (*)(int*);
using cuDeviceGet_fn = CUresult (*)(CUdevice*, int);
using cuDeviceGetPCIBusId_fn = CUresult (*)(char*, int, CUdevice);
struct CUuuid {
    char bytes[16];
};
using cuDeviceGetUuid_fn = CUresult (*)(CUuuid*, CUdevice);  // resolved as _v2 (MIG UUIDs)
using cuDevicePrimaryCtxRetain_fn = CUresult (*)(CUcontext*, CUdevice);
using cuDevicePrimaryCtxRelease_fn = CUresult (*)(CUdevice);  // resolved as _v2
using cuCtxSetCurrent_fn = CUresult (*)(CUcontext);
using cuMemGetInfo_fn = CUresult (*)(size_t*, size_t*);    // resolved as _v2
using cuMemAlloc_fn = CUresult (*)(CUdeviceptr*, size_t);  // resolved as _v2
using cuMemFree_fn = CUresult (*)(CUdeviceptr);            // resolved as _v2

}  // extern "C"
