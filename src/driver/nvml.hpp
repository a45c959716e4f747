// The real GpuDriver: NVIDIA's NVML, loaded at run time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "driver/dynamic_library.hpp"
#include "driver/gpu.hpp"
#include "driver/nvml_abi.hpp"

namespace gw {

class Nvml final : public GpuDriver {
public:
    /// Loads the library (driver_library_path) and initialises NVML. Throws Error naming the
    /// library or the failing NVML call, with a hint on what to check.
    Nvml();
    ~Nvml() override;
    Nvml(const Nvml&) = delete;
    Nvml& operator=(const Nvml&) = delete;

    [[nodiscard]] GpuInventory inventory() override;
    [[nodiscard]] GpuStatus probe(const GpuIdentity& gpu, GpuQuery query) override;
    [[nodiscard]] std::string version() override;
    /// Shuts NVML down and unloads the library; the next call loads it again (~25 ms).
    void unload() override;

private:
    struct Api;
    using Handles = std::map<std::string, nvmlDevice_t>;  // by unit UUID
    void load();
    void reload_if_unloaded();
    [[nodiscard]] std::string failure(const char* call, nvmlReturn_t rc) const;
    /// Every unit of the machine, with its handle in `handles`. Throws Error when NVML cannot
    /// count the GPUs.
    [[nodiscard]] GpuInventory enumerate(Handles& handles);
    void add_gpu(unsigned index, GpuInventory& out, Handles& handles);
    /// Adds the MIG instances of `gpu` when it is in MIG mode; false when it is not.
    [[nodiscard]] bool add_mig_instances(nvmlDevice_t dev, const GpuIdentity& gpu,
                                         GpuInventory& out, Handles& handles);
    /// Empty when `dev` is still the MIG instance `gpu` (MIG can be reconfigured any time).
    [[nodiscard]] std::string check_instance(nvmlDevice_t dev, const GpuIdentity& gpu);
    [[nodiscard]] std::string read_memory(nvmlDevice_t dev, GpuStatus& out);
    [[nodiscard]] std::string read_processes(nvmlDevice_t dev, GpuStatus& out);
    [[nodiscard]] std::string read_process_list(nvmlDevice_t dev, int kind,
                                                std::vector<GpuProcess>& out);

    std::unique_ptr<DynamicLibrary> library_;
    std::unique_ptr<Api> api_;
    Handles handles_;                       // filled by inventory()
    std::map<std::string, unsigned> gpu_index_;  // by unit UUID: the units handed out, and where
};

}  // namespace gw
