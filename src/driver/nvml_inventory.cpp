// Nvml's inventory: the GPUs of the machine, and for a GPU in MIG mode its MIG instances in its
// place. NVML's MIG API: a GPU's mode (nvmlDeviceGetMigMode), how many MIG devices it can have
// (nvmlDeviceGetMaxMigDeviceCount), and a handle for each occupied slot
// (nvmlDeviceGetMigDeviceHandleByIndex, NOT_FOUND for an empty one) that answers the UUID, memory
// and process queries for that instance alone.
#include <array>

#include <fmt/format.h>

#include "common/error.hpp"
#include "driver/nvml.hpp"
#include "driver/nvml_api.hpp"

namespace gw {

GpuInventory Nvml::enumerate(Handles& handles) {
    GpuInventory result;
    unsigned count = 0;
    if (nvmlReturn_t rc = api_->count(&count); rc != NVML_SUCCESS) {
        throw Error(failure("nvmlDeviceGetCount_v2", rc), "does nvidia-smi list the GPUs?");
    }
    for (unsigned i = 0; i < count; ++i) add_gpu(i, result, handles);
    return result;
}

void Nvml::add_gpu(unsigned index, GpuInventory& out, Handles& handles) {
    nvmlDevice_t dev = nullptr;
    GpuIdentity id;
    id.index = index;
    std::array<char, NVML_UUID_BUFFER_SIZE> uuid{};
    std::array<char, NVML_NAME_BUFFER_SIZE> name{};
    nvmlPciInfo_t pci{};
    nvmlReturn_t rc = api_->handle_by_index(index, &dev);
    const char* call = "nvmlDeviceGetHandleByIndex_v2";
    if (rc == NVML_SUCCESS)
        call = "nvmlDeviceGetUUID", rc = api_->uuid(dev, uuid.data(), NVML_UUID_BUFFER_SIZE);
    if (rc == NVML_SUCCESS)
        call = "nvmlDeviceGetName", rc = api_->name(dev, name.data(), NVML_NAME_BUFFER_SIZE);
    if (rc == NVML_SUCCESS) call = "nvmlDeviceGetPciInfo_v3", rc = api_->pci_info(dev, &pci);
    if (rc != NVML_SUCCESS) {
        out.skipped.push_back(fmt::format("GPU {}: {}", index, failure(call, rc)));
        return;
    }
    id.uuid = uuid.data();
    id.name = name.data();
    pci.busId[sizeof(pci.busId) - 1] = '\0';
    id.pci_bus_id = pci.busId;
    if (add_mig_instances(dev, id, out, handles)) return;
    handles[id.uuid] = dev;
    out.gpus.push_back(std::move(id));
}

bool Nvml::add_mig_instances(nvmlDevice_t dev, const GpuIdentity& gpu, GpuInventory& out,
                             Handles& handles) {
    unsigned current = NVML_DEVICE_MIG_DISABLE, pending = NVML_DEVICE_MIG_DISABLE;
    if (api_->mig_mode == nullptr || api_->mig_mode(dev, &current, &pending) != NVML_SUCCESS ||
        current != NVML_DEVICE_MIG_ENABLE) {
        return false;  // NOT_SUPPORTED: a GPU without MIG, one unit
    }
    unsigned slots = 0;
    nvmlReturn_t rc = api_->max_mig_count ? api_->max_mig_count(dev, &slots) : NVML_ERROR_UNKNOWN;
    if (rc != NVML_SUCCESS || api_->mig_handle == nullptr) {
        out.skipped.push_back(fmt::format("GPU {} (MIG mode): {}", gpu.index,
                                          failure("nvmlDeviceGetMaxMigDeviceCount", rc)));
        return true;
    }
    std::size_t before = out.gpus.size();
    for (unsigned slot = 0; slot < slots; ++slot) {
        nvmlDevice_t mig = nullptr;
        std::array<char, NVML_UUID_BUFFER_SIZE> uuid{};
        std::array<char, NVML_NAME_BUFFER_SIZE> name{};
        const char* call = "nvmlDeviceGetMigDeviceHandleByIndex";
        rc = api_->mig_handle(dev, slot, &mig);
        if (rc == NVML_ERROR_NOT_FOUND) continue;  // an empty slot
        if (rc == NVML_SUCCESS)
            call = "nvmlDeviceGetUUID", rc = api_->uuid(mig, uuid.data(), NVML_UUID_BUFFER_SIZE);
        if (rc != NVML_SUCCESS) {
            out.skipped.push_back(fmt::format("GPU {}:{}: {}", gpu.index, slot, failure(call, rc)));
            continue;
        }
        GpuIdentity unit = gpu;
        unit.uuid = uuid.data();
        if (api_->name(mig, name.data(), NVML_NAME_BUFFER_SIZE) == NVML_SUCCESS)
            unit.name = name.data();  // "… MIG 3g.40gb" where the driver says so
        unit.mig = MigPlace{gpu.uuid, slot};
        handles[unit.uuid] = mig;
        out.gpus.push_back(std::move(unit));
    }
    if (out.gpus.size() == before)
        out.skipped.push_back(fmt::format("GPU {}: MIG mode, but no MIG instances", gpu.index));
    return true;
}

std::string Nvml::check_instance(nvmlDevice_t dev, const GpuIdentity& gpu) {
    // A destroyed instance's handle fails, and a slot may be reused by a new instance: both
    // mean the unit asked for is gone.
    std::array<char, NVML_UUID_BUFFER_SIZE> uuid{};
    nvmlReturn_t rc = api_->uuid(dev, uuid.data(), NVML_UUID_BUFFER_SIZE);
    if (rc == NVML_SUCCESS && gpu.uuid == uuid.data()) return {};
    return fmt::format("MIG instance {} no longer exists (MIG reconfigured?)", gpu.uuid);
}

}  // namespace gw
