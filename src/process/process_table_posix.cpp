#include "process/process_table_posix.hpp"

#include <pwd.h>
#include <unistd.h>

#include <map>

#include "process/process_table.hpp"

namespace gw {

std::string lookup_user_name(uid_t uid);

std::string user_name(uid_t uid) {
    // Asked for every ticket and process a waiter reads; the user database does not change
    // under a waiter often enough to read it each time.
    static std::map<uid_t, std::string> known;
    if (auto it = known.find(uid); it != known.end()) return it->second;
    if (known.size() > 1024) known.clear();
    return known[uid] = lookup_user_name(uid);
}

std::string lookup_user_name(uid_t uid) {
    struct passwd pw {};
    struct passwd* result = nullptr;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &result) == 0 && result != nullptr) return pw.pw_name;
    return std::to_string(uid);
}

std::string current_user() {
    return user_name(::geteuid());
}

long current_pid() {
    return static_cast<long>(::getpid());
}

bool is_gpu_waiter_command(const std::string& comm) {
    // The kernel keeps 15 characters of a name.
    static const std::string self = [] {
        std::string path = self_executable();
        return path.substr(path.rfind('/') + 1).substr(0, 15);
    }();
    return comm == self || comm == "gpu-waiter";
}

bool is_superuser() {
    return ::geteuid() == 0;
}

}  // namespace gw
