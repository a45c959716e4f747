#include "driver/dynamic_library.hpp"

#include "common/error.hpp"

namespace gw {

void DynamicLibrary::resolve(std::span<const SymbolSpec> specs) const {
    for (const SymbolSpec& spec : specs) {
        *spec.target = nullptr;
        for (const char* name : spec.names) {
            if ((*spec.target = symbol(name)) != nullptr) break;
        }
        if (*spec.target == nullptr && spec.required) {
            throw Error(path_ + ": missing symbol " + spec.names.front(),
                        "the driver library is too old or not NVIDIA's; update the NVIDIA driver");
        }
    }
}

}  // namespace gw
