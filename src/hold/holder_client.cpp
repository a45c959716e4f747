#include "hold/holder_client.hpp"

#include "process/process_table.hpp"

namespace gw {

LaunchRequest holder_launch_request(const std::string& visible) {
    LaunchRequest request;
    request.argv = {self_executable(), "--internal-holder"};
    // CUDA numbers devices among the visible ones in CUDA_DEVICE_ORDER: with every GPU visible
    // and PCI order, the holder's device numbers are the ordinals the command will use.
    request.set_env = {{"CUDA_DEVICE_ORDER", "PCI_BUS_ID"}};
    if (visible.empty()) {
        request.unset_env = {"CUDA_VISIBLE_DEVICES"};
    } else {
        request.set_env.emplace_back("CUDA_VISIBLE_DEVICES", visible);
    }
    return request;
}

// The holder's ends of the pipes are closed here once it has them: its own are then the last,
// so each side sees end-of-file when the other goes.
HolderProcess::HolderProcess(const SignalCatcher& signals, const std::string& visible) {
    RequestPipe to_holder = request_pipe();
    ReplyPipe from_holder = reply_pipe();
    LaunchRequest request = holder_launch_request(visible);
    request.stdin_fd = to_holder.holder_end.get();
    request.stdout_fd = from_holder.holder_end.get();
    replies_ = std::move(from_holder.ours);
    child_ = std::make_unique<Child>(request, signals);
    requests_ = std::move(to_holder.ours);
}

HolderProcess::~HolderProcess() {
    requests_.reset();
    child_->kill_and_wait();
}

NativeHandle HolderProcess::reply_fd() const {
    return replies_->ready();
}

void HolderProcess::send(const hold::Request& request) {
    write_request(requests_.get(), hold::encode(request));
}

std::vector<hold::Reply> HolderProcess::take_replies() {
    if (!replies_->read(partial_)) eof_ = true;
    return hold::take_replies(partial_);
}

}  // namespace gw
