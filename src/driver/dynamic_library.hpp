// A shared library loaded at run time (dlopen / LoadLibrary). The NVIDIA driver's libraries are
// the tool's only run-time dependency, and they are optional until a GPU is needed.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>

namespace gw {

/// One symbol to resolve: the names to try, newest ABI version first, and where to store it.
struct SymbolSpec {
    std::span<const char* const> names;  // e.g. {"nvmlInit_v2", "nvmlInit"}
    void** target;                       // receives the address, or nullptr if none is found
    bool required;
};

/// A row of a symbol table: the function pointer `target`, of the ABI's type, resolved by the
/// first of `names` that the library provides.
template <std::size_t N, class Fn>
[[nodiscard]] SymbolSpec symbol_spec(const std::array<const char*, N>& names, Fn& target,
                                     bool required) {
    return SymbolSpec{names, reinterpret_cast<void**>(&target), required};
}

class DynamicLibrary {
public:
    /// Loads `path` (a file name searched the platform's way, or a path). Throws Error naming the
    /// library and the loader's reason, with `hint` attached.
    DynamicLibrary(const std::string& path, const std::string& hint);
    ~DynamicLibrary();
    DynamicLibrary(const DynamicLibrary&) = delete;
    DynamicLibrary& operator=(const DynamicLibrary&) = delete;

    /// The address of `name`, or nullptr.
    [[nodiscard]] void* symbol(const char* name) const;

    /// Resolves every spec; throws Error naming the first required symbol that none of its names
    /// provides.
    void resolve(std::span<const SymbolSpec> specs) const;

    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
    void* handle_ = nullptr;
};

}  // namespace gw

namespace gw {

enum class DriverLibrary { nvml, cuda };

/// The file to load for `which`: GPU_WAITER_NVML_LIBRARY / GPU_WAITER_CUDA_LIBRARY when set,
/// else the platform's name for NVIDIA's library (libnvidia-ml.so.1 and libcuda.so.1 on Linux,
/// the versioned names because the unversioned libcuda.so may be the toolkit's stub).
[[nodiscard]] std::string driver_library_path(DriverLibrary which);

}  // namespace gw
