// The real GpuDriver: NVIDIA's NVML, loaded at run time.
#pragma once

#include <memory>
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
    void load();
    void reload_if_unloaded();
    [[nodiscard]] std::string failure(const char* call, nvmlReturn_t rc) const;
    [[nodiscard]] nvmlDevice_t handle(unsigned index);
    [[nodiscard]] std::string read_memory(nvmlDevice_t dev, GpuStatus& out);
    [[nodiscard]] std::string read_processes(nvmlDevice_t dev, GpuStatus& out);
    [[nodiscard]] std::string read_process_list(nvmlDevice_t dev, int kind,
                                                std::vector<GpuProcess>& out);

    std::unique_ptr<DynamicLibrary> library_;
    std::unique_ptr<Api> api_;
    std::vector<nvmlDevice_t> handles_;  // by NVML index, filled by inventory()
    std::vector<std::string> uuids_;     // by NVML index: the GPUs the handles must be
};

}  // namespace gw
