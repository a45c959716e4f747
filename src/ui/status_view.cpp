#include "ui/status_view.hpp"

#include <fmt/format.h>

#include "common/units.hpp"
#include "ui/table.hpp"

namespace gw {
namespace {

std::string text_or(const nlohmann::json& v, const std::string& fallback = "?") {
    if (v.is_null()) return fallback;
    return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string age_of(const nlohmann::json& seconds) {
    return seconds.is_null() ? "?" : short_age(seconds.get<long long>());
}

/// The command line as a shell would show it: words joined, quoted where they hold spaces.
std::string joined(const nlohmann::json& argv, const nlohmann::json& fallback) {
    if (!argv.is_array() || argv.empty()) return text_or(fallback);
    if (argv.size() >= 2 && argv[1] == "--internal-holder") return "gpu-waiter's hold";
    std::string out;
    for (const auto& a : argv) {
        std::string word = a.get<std::string>();
        if (word.empty() || word.find_first_of(" \t'\"") != std::string::npos) {
            word = "'" + word + "'";
        }
        out += (out.empty() ? "" : " ") + word;
    }
    return out;
}

std::string memory_of(const nlohmann::json& g) {
    if (g["memory_used"].is_null()) return "?";
    return fmt::format("{} / {}", format_bytes(g["memory_used"].get<std::uint64_t>()),
                       format_bytes(g["memory_total"].get<std::uint64_t>()));
}

/// "2", or "2:1" for MIG device 1 of GPU 2 (nvidia-smi -L's numbering).
std::string unit_of(const nlohmann::json& g) {
    if (!g.contains("mig")) return text_or(g["index"]);
    return fmt::format("{}:{}", text_or(g["index"]), text_or(g["mig"]["device"]));
}

std::string gpu_table(const nlohmann::json& doc, std::size_t width) {
    Table t({{"GPU", Align::right}, {"NAME", Align::left, Flex::shrinks},
             {"MEMORY", Align::right}, {"UTIL", Align::right},
             {"STATE", Align::left, Flex::shrinks}});
    for (const auto& g : doc["gpus"]) {
        std::string state = text_or(g["verdict"]["text"]);
        if (!g["lock"].is_null()) state += fmt::format(", {}", age_of(g["lock"]["age_seconds"]));
        std::string util = g["utilization"].is_null() ? "?" : text_or(g["utilization"]) + "%";
        t.add_row({unit_of(g), text_or(g["name"]), memory_of(g), util, state});
    }
    return t.render(width);
}

std::string process_table(const nlohmann::json& doc, std::size_t width) {
    Table t({{"GPU", Align::right}, {"PID", Align::right}, {"USER"}, {"AGE", Align::right},
             {"MEMORY", Align::right}, {"COMMAND", Align::left, Flex::shrinks}});
    for (const auto& g : doc["gpus"]) {
        for (const auto& p : g["processes"]) {
            std::string used = p["used_memory"].is_null()
                                   ? "?"
                                   : format_bytes(p["used_memory"].get<std::uint64_t>());
            t.add_row({unit_of(g), text_or(p["pid"]), text_or(p["user"]),
                       age_of(p["age_seconds"]), used, joined(p["argv"], p["command"])});
        }
    }
    return t.empty() ? "" : "\n" + t.render(width);
}

std::string wants(const nlohmann::json& q) {
    unsigned count = q["count"].get<unsigned>();
    std::string text = count == 1 ? "1 GPU" : fmt::format("{} GPUs", count);
    if (q["all_gpus"].get<bool>()) return text;
    std::string list;
    for (const auto& i : q["candidates"]) list += (list.empty() ? "" : ",") + i.dump();
    return text + " of " + list;
}

std::string queue_table(const nlohmann::json& doc, std::size_t width) {
    if (doc["queue"].empty()) {
        return doc["user"].is_null() ? "\nNo job is waiting.\n"
                                     : fmt::format("\nNo job of {} is waiting.\n",
                                                   text_or(doc["user"]));
    }
    Table t({{"#", Align::right}, {"JOB"}, {"USER"}, {"WANTS"}, {"WAITED", Align::right},
             {"WHY IT WAITS", Align::left, Flex::shrinks}});
    for (const auto& q : doc["queue"]) {
        std::string job = q["name"].is_null() ? fmt::format("job {}", text_or(q["id"]))
                                              : fmt::format("{} ({})", text_or(q["name"]),
                                                            text_or(q["id"]));
        t.add_row({text_or(q["position"]), job, text_or(q["user"]), wants(q),
                   age_of(q["waited_seconds"]), text_or(q["reason"])});
    }
    return "\n" + t.render(width);
}

}  // namespace

std::string short_age(long long s) {
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m", s / 60);
    if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
    return fmt::format("{}d{:02}h", s / 86400, s / 3600 % 24);
}

std::string render_status(const nlohmann::json& doc, std::size_t width) {
    std::string out;
    for (const auto& skipped : doc["skipped"]) out += "skipped: " + text_or(skipped) + "\n";
    if (doc["gpus"].empty()) {
        out += "No GPU found: the driver lists none.\n";
    } else {
        out += gpu_table(doc, width) + process_table(doc, width);
    }
    if (!doc["lock_dir_exists"].get<bool>()) {
        return out + fmt::format("\nNo job is waiting (no gpu-waiter has used {} yet).\n",
                                 text_or(doc["lock_dir"]));
    }
    out += queue_table(doc, width);
    if (doc.contains("foreign") && !doc["foreign"].empty()) {
        out += "\nForeign entries in the lock directory, skipped by every waiter:\n";
        for (const auto& f : doc["foreign"]) {
            out += fmt::format("  {} ({})\n", text_or(f["name"]), text_or(f["why"]));
        }
    }
    return out;
}

}  // namespace gw
