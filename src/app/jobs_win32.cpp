#include "app/jobs.hpp"
#include "common/error.hpp"

namespace gw {

std::string end_job(const Job&, Duration) {
    // Windows has no SIGTERM to pass on; ending the job object would give the command no chance
    // to clean up. Until there is a gentle way, say so rather than kill.
    throw Error("--cancel is not available on Windows yet",
                "end the job's gpu-waiter in its console (Ctrl-C)");
}

}  // namespace gw
