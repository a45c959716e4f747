// gpu-waiter's side of the holder: starts `gpu-waiter --internal-holder`, sends it requests and
// collects its replies without ever blocking the wait loop.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/unique_handle.hpp"
#include "hold/holder_pipe.hpp"
#include "hold/protocol.hpp"
#include "process/child.hpp"

namespace gw {

/// How the holder is started: this binary with --internal-holder, seeing the devices `visible`
/// names (one MIG instance: a CUDA process can use only one), or every whole GPU in PCI order
/// when it is empty. HolderProcess adds the pipes.
[[nodiscard]] LaunchRequest holder_launch_request(const std::string& visible);

class HolderProcess {
public:
    /// Starts the holder. It loads CUDA on its own time; requests queue in the pipe meanwhile.
    HolderProcess(const SignalCatcher& signals, const std::string& visible);
    /// Closes the holder's input and makes sure it is gone (its memory and contexts with it)
    /// before returning, so that nobody sees a hold after gpu-waiter let its GPUs go.
    ~HolderProcess();
    HolderProcess(const HolderProcess&) = delete;
    HolderProcess& operator=(const HolderProcess&) = delete;

    [[nodiscard]] long pid() const { return child_->pid(); }
    void send(const hold::Request& request);
    /// Readable (signalled, on Windows) when replies are waiting: for the wait loop's sleep.
    [[nodiscard]] NativeHandle reply_fd() const;
    /// Every complete reply received so far; never blocks.
    [[nodiscard]] std::vector<hold::Reply> take_replies();
    /// True once the holder has closed its output (it died).
    [[nodiscard]] bool gone() const { return eof_; }

private:
    UniqueHandle requests_;
    std::unique_ptr<ReplyReader> replies_;  // outlives the child: a read may still be pending
    std::unique_ptr<Child> child_;
    std::string partial_;
    bool eof_ = false;
};

}  // namespace gw
