// fake_cuda_probe: "a CUDA program" for end-to-end tests. It loads the CUDA library the way a real
// program would (dlopen of GPU_WAITER_CUDA_LIBRARY) and reports what that process sees:
//   fake_cuda_probe list
//   fake_cuda_probe use ORDINAL[,ORDINAL...] [--bytes N] [--sleep S] [--delay S] [--after FILE]
//   fake_cuda_probe record FILE [--sleep S]
// Exit status: 0 success, 2 usage, 3 library not loadable, 4 a CUDA call failed.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include "driver/cuda_abi.hpp"

namespace {

struct Uuid {
    unsigned char bytes[16];
};
using cuDeviceGetUuid_fn = CUresult (*)(Uuid*, CUdevice);
using cuGetErrorName_fn = CUresult (*)(CUresult, const char**);

struct Cuda {
    cuInit_fn init;
    cuGetErrorName_fn error_name;
    cuDeviceGetCount_fn device_count;
    cuDeviceGetUuid_fn uuid;
    cuDeviceGetPCIBusId_fn bus_id;
    cuDevicePrimaryCtxRetain_fn retain;
    cuCtxSetCurrent_fn set_current;
    cuMemAlloc_fn alloc;
};

struct Options {
    std::vector<std::string> positional;
    std::map<std::string, std::string> named;  // "--bytes" -> "1024"
};

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: fake_cuda_probe list\n"
                 "       fake_cuda_probe use ORDINAL[,ORDINAL...] [--bytes N] [--sleep S] "
                 "[--delay S] [--after FILE]\n"
                 "       fake_cuda_probe record FILE [--sleep S]\n");
    std::exit(2);
}

[[noreturn]] void fail_load(const std::string& what) {
    std::fprintf(stderr, "fake_cuda_probe: %s\n", what.c_str());
    std::exit(3);
}

template <class Fn>
Fn symbol(void* library, const char* name) {
    void* address = dlsym(library, name);
    if (address == nullptr) fail_load(std::string("dlsym ") + name + ": " + dlerror());
    return reinterpret_cast<Fn>(address);
}

Cuda load_cuda() {
    const char* path = std::getenv("GPU_WAITER_CUDA_LIBRARY");
    if (path == nullptr || *path == '\0') fail_load("GPU_WAITER_CUDA_LIBRARY is not set");
    void* library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) fail_load(std::string("dlopen: ") + dlerror());
    return Cuda{symbol<cuInit_fn>(library, "cuInit"),
                symbol<cuGetErrorName_fn>(library, "cuGetErrorName"),
                symbol<cuDeviceGetCount_fn>(library, "cuDeviceGetCount"),
                symbol<cuDeviceGetUuid_fn>(library, "cuDeviceGetUuid_v2"),
                symbol<cuDeviceGetPCIBusId_fn>(library, "cuDeviceGetPCIBusId"),
                symbol<cuDevicePrimaryCtxRetain_fn>(library, "cuDevicePrimaryCtxRetain"),
                symbol<cuCtxSetCurrent_fn>(library, "cuCtxSetCurrent"),
                symbol<cuMemAlloc_fn>(library, "cuMemAlloc_v2")};
}

// Every CUDA failure ends the probe the same way, so tests can match on the CUresult name.
void check(const Cuda& cuda, CUresult rc, const char* call) {
    if (rc == CUDA_SUCCESS) return;
    const char* name = nullptr;
    if (cuda.error_name(rc, &name) != CUDA_SUCCESS || name == nullptr) name = "unknown CUresult";
    std::fprintf(stderr, "fake_cuda_probe: %s: %s (%d)\n", call, name, rc);
    std::exit(4);
}

std::string uuid_text(const Cuda& cuda, CUdevice device) {
    Uuid uuid{};
    check(cuda, cuda.uuid(&uuid, device), "cuDeviceGetUuid_v2");
    std::string text = "GPU-";
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", uuid.bytes[i]);
        text += hex;
    }
    return text;
}

int device_count(const Cuda& cuda) {
    int count = 0;
    check(cuda, cuda.device_count(&count), "cuDeviceGetCount");
    return count;
}

// Whole-string numbers only: "1e99" or "3x" are usage errors, not 1 and 3.
template <class Number>
Number parse_number(const std::string& text) {
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        std::fprintf(stderr, "fake_cuda_probe: bad number '%s'\n", text.c_str());
        std::exit(2);
    }
    return value;
}

void sleep_seconds(const std::string& seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(parse_number<double>(seconds)));
}

long long epoch_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (!arg.starts_with("--")) {
            options.positional.push_back(arg);
        } else if (i + 1 < argc) {
            options.named[arg] = argv[++i];
        } else {
            usage();
        }
    }
    return options;
}

std::string option(const Options& options, const std::string& name, const std::string& fallback) {
    const auto found = options.named.find(name);
    return found == options.named.end() ? fallback : found->second;
}

int run_list(const Cuda& cuda) {
    for (CUdevice device = 0; device < device_count(cuda); ++device) {
        char bus[32] = {};
        check(cuda, cuda.bus_id(bus, sizeof bus, device), "cuDeviceGetPCIBusId");
        std::printf("%d %s %s\n", device, uuid_text(cuda, device).c_str(), bus);
    }
    return 0;
}

std::vector<int> split_ordinals(const std::string& list) {
    std::vector<int> ordinals;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = list.find(',', start);
        ordinals.push_back(parse_number<int>(list.substr(start, comma - start)));
        if (comma == std::string::npos) return ordinals;
        start = comma + 1;
    }
}

void use_device(const Cuda& cuda, CUdevice device, std::size_t bytes) {
    CUcontext context = nullptr;
    check(cuda, cuda.retain(&context, device), "cuDevicePrimaryCtxRetain");
    check(cuda, cuda.set_current(context), "cuCtxSetCurrent");
    if (bytes > 0) {
        CUdeviceptr pointer = 0;
        check(cuda, cuda.alloc(&pointer, bytes), "cuMemAlloc_v2");
    }
    std::printf("using %s\n", uuid_text(cuda, device).c_str());
    std::fflush(stdout);
}

// A test creates FILE once it has seen what it must see before the GPU is used (both holds, say):
// a handshake instead of a delay that a loaded machine may outrun.
void wait_for_file(const std::string& path) {
    if (path.empty()) return;
    while (access(path.c_str(), F_OK) != 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// Leaves contexts and memory to be reclaimed by exit, as a crashing or careless program would.
int run_use(const Cuda& cuda, const Options& options) {
    if (options.positional.size() != 1) usage();
    wait_for_file(option(options, "--after", ""));
    sleep_seconds(option(options, "--delay", "0"));
    const auto bytes =
        parse_number<std::size_t>(option(options, "--bytes", std::to_string(1ULL << 30)));
    for (const int ordinal : split_ordinals(options.positional[0])) {
        use_device(cuda, ordinal, bytes);
    }
    sleep_seconds(option(options, "--sleep", "0"));
    return 0;
}

// One write() on an O_APPEND descriptor keeps lines from concurrent probes whole.
int run_record(const Cuda& cuda, const Options& options, long long start_ns) {
    if (options.positional.size() != 1) usage();
    std::string uuids;
    for (CUdevice device = 0; device < device_count(cuda); ++device) {
        uuids += (device == 0 ? "" : ",") + uuid_text(cuda, device);
    }
    sleep_seconds(option(options, "--sleep", "0"));
    const std::string line =
        std::to_string(start_ns) + " " + std::to_string(epoch_ns()) + " " + uuids + "\n";
    const int fd =
        open(options.positional[0].c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        std::perror(("fake_cuda_probe: " + options.positional[0]).c_str());
        return 1;
    }
    close(fd);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const long long start_ns = epoch_ns();
    if (argc < 2) usage();
    const std::string command = argv[1];
    if (command != "list" && command != "use" && command != "record") usage();
    const Options options = parse_options(argc, argv);
    const Cuda cuda = load_cuda();
    check(cuda, cuda.init(0), "cuInit");
    if (command == "list") return run_list(cuda);
    if (command == "use") return run_use(cuda, options);
    return run_record(cuda, options, start_ns);
}
