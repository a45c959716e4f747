// The Toolhelp snapshot is Windows' process table: pid, parent and executable name of every
// process; owners come from each process's access token, where we may open it.
#include <windows.h>
// After windows.h, whose types it uses.
#include <tlhelp32.h>

#include "common/win32.hpp"
#include "process/process_table.hpp"

namespace gw {
namespace {

/// Calls `visit` for every process in a fresh snapshot until it returns false.
template <typename Visit>
void for_each_process(Visit visit) {
    UniqueHandle snapshot = win32::adopt(CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
    if (!snapshot.valid()) return;
    HANDLE h = win32::handle(snapshot.get());
    PROCESSENTRY32W entry{};
    entry.dwSize = sizeof entry;
    for (BOOL more = Process32FirstW(h, &entry); more; more = Process32NextW(h, &entry)) {
        ProcessInfo info{static_cast<long>(entry.th32ProcessID),
                         static_cast<long>(entry.th32ParentProcessID),
                         {},
                         win32::narrow(entry.szExeFile)};
        if (!visit(std::move(info))) return;
    }
}

std::string account_name(PSID sid) {
    wchar_t name[256];
    wchar_t domain[256];
    DWORD name_size = 256;
    DWORD domain_size = 256;
    SID_NAME_USE use{};
    if (!LookupAccountSidW(nullptr, sid, name, &name_size, domain, &domain_size, &use)) return "?";
    return win32::narrow(std::wstring_view(name, name_size));
}

/// The account a process runs as; "?" where its token is closed to us (another user's
/// process, without administrator rights).
std::string owner_of(long pid) {
    UniqueHandle process = win32::adopt(
        OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid)));
    HANDLE token = nullptr;
    if (!process.valid() || !OpenProcessToken(win32::handle(process.get()), TOKEN_QUERY, &token)) {
        return "?";
    }
    UniqueHandle owned_token = win32::adopt(token);
    alignas(TOKEN_USER) unsigned char buf[256];
    DWORD size = 0;
    if (!GetTokenInformation(token, TokenUser, buf, sizeof buf, &size)) return "?";
    return account_name(reinterpret_cast<TOKEN_USER*>(buf)->User.Sid);
}

}  // namespace

std::optional<ProcessInfo> describe_process(long pid) {
    std::optional<ProcessInfo> found;
    for_each_process([&](ProcessInfo info) {
        if (info.pid != pid) return true;
        found = std::move(info);
        return false;
    });
    if (found) found->user = owner_of(pid);
    return found;
}

std::vector<ProcessInfo> list_processes() {
    std::vector<ProcessInfo> out;
    for_each_process([&](ProcessInfo info) {
        out.push_back(std::move(info));
        return true;
    });
    return out;
}

std::string current_user() {
    wchar_t name[256];
    DWORD size = 256;
    if (!GetUserNameW(name, &size) || size == 0) return "?";
    return win32::narrow(std::wstring_view(name, size - 1));  // size counts the terminating 0
}

long current_pid() {
    return static_cast<long>(GetCurrentProcessId());
}

std::optional<ProcessState> process_state(long pid) {
    // Ticket checks by owner and state have no Windows counterpart yet: a living process is
    // taken as it says it is.
    if (!process_alive(pid)) return std::nullopt;
    return ProcessState{};
}

bool is_gpu_waiter_command(const std::string&) {
    return true;  // process_state names no command here: taken as it says it is, as above
}

bool flock_holders_listed() {
    return false;
}

std::optional<long> flock_holder(std::uint64_t, std::uint64_t) {
    return std::nullopt;
}

bool process_alive(long pid) {
    if (pid <= 0) return false;
    constexpr DWORD kAccess = SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION;
    UniqueHandle process = win32::adopt(OpenProcess(kAccess, FALSE, static_cast<DWORD>(pid)));
    // Another user's process may refuse to be opened: it exists all the same.
    if (!process.valid()) return GetLastError() == ERROR_ACCESS_DENIED;
    // A process that ended stays openable while anyone holds a handle to it.
    return WaitForSingleObject(win32::handle(process.get()), 0) == WAIT_TIMEOUT;
}

std::string self_executable() {
    std::wstring path(MAX_PATH, L'\0');
    for (;;) {
        DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
        if (n == 0) return "gpu-waiter.exe";
        if (n < path.size()) return win32::narrow(std::wstring_view(path.data(), n));
        path.resize(path.size() * 2);  // truncated: a long path
    }
}

ProcessDetails process_details(long) {
    return {};  // --status falls back to the process's name
}

bool is_superuser() {
    return false;
}

}  // namespace gw
