#include <dlfcn.h>

#include "common/error.hpp"
#include "driver/dynamic_library.hpp"

namespace gw {

DynamicLibrary::DynamicLibrary(const std::string& path, const std::string& hint) : path_(path) {
    // RTLD_LOCAL keeps the driver's symbols out of the global namespace; RTLD_NOW reports a
    // broken library here rather than at the first call.
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
        const char* reason = dlerror();
        throw Error("cannot load " + path + ": " + (reason ? reason : "unknown reason"), hint);
    }
}

DynamicLibrary::~DynamicLibrary() {
    if (handle_ != nullptr) dlclose(handle_);
}

void* DynamicLibrary::symbol(const char* name) const {
    return dlsym(handle_, name);
}

}  // namespace gw

#include <cstdlib>

namespace gw {

std::string driver_library_path(DriverLibrary which) {
    const char* env =
        which == DriverLibrary::nvml ? "GPU_WAITER_NVML_LIBRARY" : "GPU_WAITER_CUDA_LIBRARY";
    if (const char* value = std::getenv(env); value != nullptr && *value != '\0') return value;
#if defined(__APPLE__)
    return which == DriverLibrary::nvml ? "libnvidia-ml.dylib" : "libcuda.dylib";
#else
    return which == DriverLibrary::nvml ? "libnvidia-ml.so.1" : "libcuda.so.1";
#endif
}

}  // namespace gw
