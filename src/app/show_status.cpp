#include <iostream>

#include <fmt/format.h>

#include "app/commands.hpp"
#include "app/status_report.hpp"
#include "driver/nvml.hpp"
#include "process/process_table.hpp"
#include "process/signals.hpp"
#include "ui/status_view.hpp"
#include "ui/terminal.hpp"

namespace gw {
namespace {

/// The width to fit: the terminal's; else $COLUMNS; else none, so that a pipe gets it all.
std::size_t output_width() {
    if (auto columns = terminal_columns(Stream::out)) return *columns;
    if (const char* env = std::getenv("COLUMNS")) {
        char* end = nullptr;
        unsigned long n = std::strtoul(env, &end, 10);
        if (end != env && *end == '\0') return n;
    }
    return 0;
}

std::optional<std::string> user_filter(const Options& o) {
    if (o.mine) return current_user();
    return o.only_user;
}

/// The document, reading the lock directory only if it exists: --status creates nothing.
nlohmann::json look(Nvml& nvml, const GpuInventory& inventory, const Options& o,
                    Reporter& reporter) {
    StatusScope scope{o.lock_dir, nullptr, user_filter(o)};
    std::optional<LockDirectory> dir;
    if (LockDirectory::exists(o.lock_dir)) {
        try {
            dir.emplace(o.lock_dir);
            scope.locks = &*dir;
        } catch (const std::exception& e) {
            reporter.warning(std::string("lock holders and queue unknown: ") + e.what());
        }
    }
    return collect_status(nvml, inventory, scope);
}

/// --watch: redraw in place, like watch(1), until a signal ends it.
int watch(Nvml& nvml, const GpuInventory& inventory, const Options& o, Reporter& reporter) {
    SignalCatcher signals;
    for (;;) {
        nlohmann::json doc = look(nvml, inventory, o, reporter);
        std::size_t width = output_width();
        std::string title = fmt::format("Every {}: gpu-waiter --status", format_duration(*o.watch));
        std::string stamp = doc["generated_at"].get<std::string>();
        std::size_t gap = width > title.size() + stamp.size() ? width - title.size() - stamp.size()
                                                              : 2;
        bool tty = is_terminal(Stream::out);
        std::cout << (tty ? "\033[H\033[2J" : "") << title << std::string(gap, ' ') << stamp
                  << "\n\n"
                  << render_status(doc, width) << std::flush;
        (void)signals.sleep(*o.watch, {});
        if (!signals.take().empty()) return 0;
    }
}

}  // namespace

int show_status(const Options& o, Reporter& reporter) {
    Nvml nvml;
    GpuInventory inventory = nvml.inventory();
    if (o.watch) return watch(nvml, inventory, o, reporter);
    nlohmann::json doc = look(nvml, inventory, o, reporter);
    if (o.json) {
        // Commands are bytes: what is not UTF-8 is shown as U+FFFD rather than refused.
        std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        std::cout << render_status(doc, output_width());
    }
    return 0;
}

}  // namespace gw
