#include <nlohmann/json.hpp>

#include "lock/shared_file.hpp"

namespace gw {

std::string json_text(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace gw
