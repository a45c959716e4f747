// The detached job itself: its standard output and error are the log, which starts with what
// runs and ends with how and when it ended, so that a log read days later says everything.
#include <ctime>
#include <exception>

#include <fmt/format.h>

#include "app/commands.hpp"
#include "app/status_report.hpp"
#include "common/error.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

std::string command_text(const std::vector<std::string>& argv) {
    std::string out;
    for (const std::string& a : argv) out += (out.empty() ? "" : " ") + a;
    return out;
}

}  // namespace

int run_in_background(const Options& o, Reporter& reporter) {
    long long started = static_cast<long long>(std::time(nullptr));
    std::string job = fmt::format("job {}{}", current_pid(), o.name ? " (" + *o.name + ")" : "");
    reporter.info(fmt::format("{} of {} started {}: {}", job, current_user(), iso8601(started),
                              command_text(o.command)));
    int status = static_cast<int>(ExitCode::tool_failed);
    try {
        status = run_command(o, reporter);
    } catch (const Error& e) {
        reporter.error(e.what(), e.hint());
        status = static_cast<int>(e.code());
    } catch (const std::exception& e) {
        reporter.error(e.what());
    }
    long long ended = static_cast<long long>(std::time(nullptr));
    // Written at every verbosity: it is what the log is read for.
    reporter.error_free_line(fmt::format("{} ended {} (started {}, {} in all): exit status {}", job,
                                         iso8601(ended), iso8601(started),
                                         format_duration(std::chrono::seconds(ended - started)),
                                         status));
    return status;
}

}  // namespace gw
