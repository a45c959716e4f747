#include "app/holder.hpp"

#include "hold/holder_client.hpp"

namespace gw {
namespace {

class RealHolder final : public Holder {
public:
    RealHolder(const SignalCatcher& signals, const std::string& visible)
        : process_(signals, visible) {}
    [[nodiscard]] long pid() const override { return process_.pid(); }
    void send(const hold::Request& request) override { process_.send(request); }
    [[nodiscard]] NativeHandle reply_fd() const override { return process_.reply_fd(); }
    [[nodiscard]] std::vector<hold::Reply> take_replies() override {
        return process_.take_replies();
    }
    [[nodiscard]] bool gone() const override { return process_.gone(); }

private:
    HolderProcess process_;
};

}  // namespace

StartHolder holder_process(const SignalCatcher& signals) {
    return [&signals](const std::string& visible) -> std::unique_ptr<Holder> {
        return std::make_unique<RealHolder>(signals, visible);
    };
}

}  // namespace gw
