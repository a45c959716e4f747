// The PATH search of execvp, done ahead of the launch so that a typo costs no wait.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "common/error.hpp"
#include "process/child.hpp"

namespace gw {
namespace {

enum class Found { no, not_executable, yes };

Error not_executable(const std::string& name, const std::string& why) {
    return Error(fmt::format("cannot execute {}: {}", name, why),
                 "check that it is an executable file (chmod +x)", ExitCode::cannot_execute);
}

/// Whether `path` is a file we may execute; `why` says why not.
Found probe(const std::string& path, std::string& why) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return Found::no;
    if (S_ISDIR(st.st_mode)) {
        why = "it is a directory";
        return Found::not_executable;
    }
    if (::access(path.c_str(), X_OK) != 0) {
        why = fmt::format("{} is not executable: {}", path, std::strerror(errno));
        return Found::not_executable;
    }
    return Found::yes;
}

/// PATH as execvp reads it; an unset PATH means the system's default, an empty entry the
/// current directory.
std::string search_path() {
    if (const char* path = std::getenv("PATH")) return path;
    std::size_t n = ::confstr(_CS_PATH, nullptr, 0);
    std::string path(n, '\0');
    if (n > 0) ::confstr(_CS_PATH, path.data(), n);
    path.resize(n > 0 ? n - 1 : 0);
    return path;
}

}  // namespace

void check_command(const std::string& name) {
    std::string why;
    if (name.find('/') != std::string::npos) {
        Found found = probe(name, why);
        if (found == Found::no) {
            throw Error(fmt::format("{}: no such file", name), "check the path",
                        ExitCode::not_found);
        }
        if (found == Found::not_executable) throw not_executable(name, why);
        return;
    }
    std::string path = search_path();
    std::string first_refusal;
    for (std::size_t start = 0; !name.empty() && start <= path.size();) {
        std::size_t end = std::min(path.find(':', start), path.size());
        std::string dir = end == start ? "." : path.substr(start, end - start);
        Found found = probe(dir + "/" + name, why);
        if (found == Found::yes) return;
        // execvp goes on past a file it may not execute, and reports EACCES only at the end.
        if (found == Found::not_executable && first_refusal.empty()) first_refusal = why;
        start = end + 1;
    }
    if (!first_refusal.empty()) throw not_executable(name, first_refusal);
    throw Error(fmt::format("{}: command not found", name),
                "check the name and PATH", ExitCode::not_found);
}

}  // namespace gw
