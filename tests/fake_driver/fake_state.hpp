// The machine the fake NVIDIA driver pretends to be: a small JSON file (path in FAKE_NVIDIA_STATE)
// that end-to-end tests edit while gpu-waiter runs. Both fake libraries re-read it on every call,
// so a test changes the "hardware" by rewriting the file; README.md documents the format.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

// Everything else in the fake libraries is hidden (-fvisibility=hidden), so the .so files export
// exactly the C API that a real libnvidia-ml / libcuda would offer and nothing to trip over. A
// DLL exports only what is marked for export, to the same effect.
#ifdef _WIN32
#define FAKE_EXPORT extern "C" __declspec(dllexport)
#else
#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))
#endif

namespace fake {

enum class ProcessKind { compute, graphics, both };

struct Process {
    unsigned pid = 0;
    std::optional<std::uint64_t> used_memory;  // bytes; nullopt: the driver cannot tell
    ProcessKind kind = ProcessKind::compute;
    bool cuda = false;  // written by the fake CUDA library; dies with its process
};

struct Gpu {
    std::string uuid;  // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    std::string name;
    std::string pci_bus_id;             // as NVML writes it: "00000000:81:00.0"
    std::uint64_t memory_total = 0;     // bytes
    std::uint64_t memory_reserved = 0;  // bytes the driver keeps for itself
    std::uint64_t memory_used = 0;      // bytes used by processes nobody can see
    unsigned utilization = 0;           // percent
    unsigned memory_utilization = 0;    // percent
    bool lost = false;
    bool no_permission = false;
    std::vector<Process> processes;
    // MIG: nullopt for a GPU without MIG support (NVML answers NOT_SUPPORTED); else the current
    // mode. With MIG on, `mig_devices` are the instances by NVML's MIG device index, an empty slot
    // being nullopt; each is a Gpu of its own (uuid "MIG-…", memory, processes), its pci_bus_id
    // the parent's.
    std::optional<bool> mig_mode;
    unsigned mig_max_devices = 7;  // nvmlDeviceGetMaxMigDeviceCount with MIG on
    std::vector<std::optional<Gpu>> mig_devices;
};

struct State {
    int init_error = 0;
    int cuda_init_error = 0;
    int alloc_error = 0;
    std::string driver_version;
    std::string nvml_version;
    std::uint64_t context_memory = 0;  // bytes one CUDA context costs
    std::vector<Gpu> gpus;
};

/// Memory as NVML's v2 query reports it; free never goes below zero.
struct MemoryUse {
    std::uint64_t total = 0;
    std::uint64_t reserved = 0;
    std::uint64_t used = 0;
    std::uint64_t free = 0;
};

struct PciAddress {
    unsigned domain = 0;
    unsigned bus = 0;
    unsigned device = 0;
    unsigned function = 0;
    auto operator<=>(const PciAddress&) const = default;
};

/// The state file's path from FAKE_NVIDIA_STATE, or nullopt with *error set.
[[nodiscard]] std::optional<std::string> state_path(std::string* error);

/// Reads and validates the state file; nullopt with *error set when missing or malformed.
[[nodiscard]] std::optional<State> load_state(std::string* error);

/// Converts the JSON form, filling defaults; throws nlohmann::json::exception on wrong types.
[[nodiscard]] State parse_state(const nlohmann::json& json);

/// Locked read-modify-write of the state file. Entries of dead CUDA processes are pruned before
/// `modify` sees the document; `modify` returns false to leave the file unchanged.
[[nodiscard]] bool update_state(const std::function<bool(nlohmann::json&)>& modify,
                                std::string* error);

/// False once the process is gone or a zombie, the moment a real driver drops its contexts.
[[nodiscard]] bool process_alive(unsigned pid);

/// Whether NVML still reports the entry: CUDA-made entries vanish with their process.
[[nodiscard]] bool is_live(const Process& process);

[[nodiscard]] MemoryUse memory_use(const Gpu& gpu);

/// The GPU or MIG instance with this UUID, or nullptr.
[[nodiscard]] const Gpu* find_unit(const State& state, const std::string& uuid);

/// Accepts "00000000:81:00.0" and "0000:81:00.0" (any case).
[[nodiscard]] std::optional<PciAddress> parse_pci(std::string_view text);

/// `domain_digits` is 8 for NVML's busId, 4 for CUDA's and NVML's legacy form.
[[nodiscard]] std::string format_pci(const PciAddress& address, int domain_digits);

}  // namespace fake
