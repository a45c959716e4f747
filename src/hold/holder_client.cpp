#include "hold/holder_client.hpp"

#include "process/process_table.hpp"

namespace gw {

LaunchRequest holder_launch_request() {
    LaunchRequest request;
    request.argv = {self_executable(), "--internal-holder"};
    // CUDA numbers devices among the visible ones in CUDA_DEVICE_ORDER: with every GPU visible
    // and PCI order, the holder's device numbers are the ordinals the command will use.
    request.set_env = {{"CUDA_DEVICE_ORDER", "PCI_BUS_ID"}};
    request.unset_env = {"CUDA_VISIBLE_DEVICES"};
    return request;
}

}  // namespace gw
