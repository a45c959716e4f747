#include "process/process_table_posix.hpp"

#include <pwd.h>
#include <unistd.h>

#include "process/process_table.hpp"

namespace gw {

std::string user_name(uid_t uid) {
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

bool is_superuser() {
    return ::geteuid() == 0;
}

}  // namespace gw
