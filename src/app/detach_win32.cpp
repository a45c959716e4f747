#include "app/commands.hpp"
#include "common/error.hpp"

namespace gw {

int detach_job(const Options&, Reporter&) {
    throw Error("--detach is not available on Windows yet",
                "start gpu-waiter in a console of its own (start gpu-waiter ...)");
}

}  // namespace gw
