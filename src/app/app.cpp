#include "app/app.hpp"

#include <exception>

#include "app/commands.hpp"
#include "common/error.hpp"
#include "hold/holder_server.hpp"
#include "slurm/backend.hpp"

namespace gw {

int run_app(int argc, const char* const* argv) {
    Reporter reporter = Reporter::for_stderr(Verbosity::normal);
    try {
        auto parsed = parse_options(argc, argv);
        if (const int* status = std::get_if<int>(&parsed)) return *status;
        const Options& options = std::get<Options>(parsed);
        reporter = Reporter::for_stderr(options.verbosity);
        switch (options.mode) {
            case Mode::run:
                if (options.backend == Backend::slurm) {
                    return options.detach ? detach_with_slurm(options, reporter)
                                          : run_with_slurm(options, reporter);
                }
                if (options.detach) return detach_job(options, reporter);
                if (options.background) return run_in_background(options, reporter);
                return run_command(options, reporter);
            case Mode::complete:
                return complete_words(options);
            case Mode::cancel:
                return options.backend == Backend::slurm ? cancel_with_slurm(options, reporter)
                                                         : cancel_job(options, reporter);
            case Mode::status:
                return options.backend == Backend::slurm ? show_slurm_status(options, reporter)
                                                         : show_status(options, reporter);
            case Mode::version:
                return show_version();
            case Mode::holder:
                return run_holder();
        }
        return static_cast<int>(ExitCode::tool_failed);
    } catch (const Error& e) {
        reporter.error(e.what(), e.hint());
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        reporter.error(e.what());
        return static_cast<int>(ExitCode::tool_failed);
    }
}

}  // namespace gw
