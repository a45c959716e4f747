#include "hold/holder_server.hpp"

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "driver/cuda.hpp"
#include "hold/protocol.hpp"
#include "process/signals.hpp"

namespace gw {
namespace {

void reply(const hold::Reply& r) {
    std::string line = hold::encode(r);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

class Holder {
public:
    Holder() {
        try {
            cuda_ = std::make_unique<Cuda>();
        } catch (const Error& e) {
            load_error_ = e.what();
            if (!e.hint().empty()) load_error_ += " (" + e.hint() + ")";
        }
    }

    void handle(const hold::Request& req) {
        using hold::Reply;
        if (req.kind == hold::Request::Kind::release) {
            holds_.erase(req.uuid);
            reply(Reply{Reply::Kind::released, req.uuid, 0, -1, {}});
            return;
        }
        if (!cuda_) {
            reply(Reply{Reply::Kind::failed, req.uuid, 0, -1, load_error_});
            return;
        }
        try {
            holds_.erase(req.uuid);
            auto h = std::make_unique<DeviceHold>(*cuda_, req.uuid, req.fraction);
            reply(Reply{Reply::Kind::held, req.uuid, h->bytes(), h->ordinal(), {}});
            holds_[req.uuid] = std::move(h);
        } catch (const Error& e) {
            reply(Reply{Reply::Kind::failed, req.uuid, 0, -1, e.what()});
        }
    }

private:
    std::unique_ptr<Cuda> cuda_;
    std::string load_error_;
    std::map<std::string, std::unique_ptr<DeviceHold>> holds_;
};

}  // namespace

int run_holder() {
    // A terminal's Ctrl-C reaches the whole process group; the holder leaves when gpu-waiter
    // closes its input, not before, so that the hold lasts exactly as long as gpu-waiter decides.
    ignore_terminal_signals();
    Holder holder;
    for (std::string line; std::getline(std::cin, line);) {
        if (auto req = hold::decode_request(line)) holder.handle(*req);
    }
    return 0;
}

}  // namespace gw
