#include "app/commands.hpp"
#include "common/error.hpp"
namespace gw {
int cancel_job(const Options&, Reporter&) { throw Error("--cancel: not yet"); }
int detach_job(const Options&, Reporter&) { throw Error("--detach: not yet"); }
int run_in_background(const Options& o, Reporter& r) { return run_command(o, r); }
}  // namespace gw
