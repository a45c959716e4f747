#include "common/error.hpp"
#include "common/win32.hpp"
#include "driver/dynamic_library.hpp"

namespace gw {
namespace {

/// A bare file name ("nvml.dll") rather than a path the user gave.
bool is_bare_name(const std::string& path) {
    return path.find_first_of("/\\:") == std::string::npos;
}

/// `path` made absolute: the search flags below accept only full paths.
std::wstring full_path(const std::string& path) {
    std::wstring relative = win32::widen(path);
    DWORD n = GetFullPathNameW(relative.c_str(), 0, nullptr, nullptr);
    if (n == 0) return relative;
    std::wstring full(n, L'\0');
    n = GetFullPathNameW(relative.c_str(), n, full.data(), nullptr);
    full.resize(n);
    return full;
}

HMODULE load(const std::string& path) {
    // A bare name is searched in System32 only: never in the current or the application's
    // directory, where anyone could drop a DLL of the same name. A path is loaded as given,
    // its own directory searched first for the DLLs it needs.
    if (is_bare_name(path)) {
        return LoadLibraryExW(win32::widen(path).c_str(), nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
    }
    return LoadLibraryExW(full_path(path).c_str(), nullptr,
                          LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
}

}  // namespace

DynamicLibrary::DynamicLibrary(const std::string& path, const std::string& hint) : path_(path) {
    HMODULE module = load(path);
    if (module == nullptr) {
        DWORD code = GetLastError();
        throw Error(win32::error_text("cannot load " + path, code), hint);
    }
    handle_ = static_cast<void*>(module);
}

DynamicLibrary::~DynamicLibrary() {
    if (handle_ != nullptr) FreeLibrary(static_cast<HMODULE>(handle_));
}

void* DynamicLibrary::symbol(const char* name) const {
    // GetProcAddress returns a function pointer type; the table stores plain addresses.
    return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(handle_), name));
}

namespace {

bool file_exists(const std::wstring& path) {
    return GetFileAttributesW(path.c_str()) != INVALID_FILE_ATTRIBUTES;
}

/// nvml.dll from System32, where current drivers put it; else from nvidia-smi's folder, where
/// older drivers kept it. When neither has it, the plain name, so the error reads as usual.
std::string nvml_path() {
    wchar_t system[MAX_PATH];
    UINT n = GetSystemDirectoryW(system, MAX_PATH);
    if (n > 0 && n < MAX_PATH && file_exists(std::wstring(system, n) + L"\\nvml.dll")) {
        return "nvml.dll";
    }
    std::wstring program_files = win32::environment(L"ProgramFiles");
    if (program_files.empty()) program_files = L"C:\\Program Files";
    std::wstring nvsmi = program_files + L"\\NVIDIA Corporation\\NVSMI\\nvml.dll";
    return file_exists(nvsmi) ? win32::narrow(nvsmi) : "nvml.dll";
}

}  // namespace

std::string driver_library_path(DriverLibrary which) {
    bool nvml = which == DriverLibrary::nvml;
    std::wstring given =
        win32::environment(nvml ? L"GPU_WAITER_NVML_LIBRARY" : L"GPU_WAITER_CUDA_LIBRARY");
    if (!given.empty()) return win32::narrow(given);
    return nvml ? nvml_path() : "nvcuda.dll";
}

}  // namespace gw
