#include <algorithm>
#include <array>
#include <cwchar>
#include <cwctype>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/win32.hpp"
#include "process/child.hpp"
#include "process/signals_win32.hpp"
#include "process/windows_command_line.hpp"

namespace gw {

struct Child::Native {
    UniqueHandle process;
    UniqueHandle job;  // the command and everything it starts; invalid where Windows refused one
};

namespace {

constexpr int kKilled = 128 + 9;  // what POSIX reports for SIGKILL, for the same ending here

Error not_found(const std::string& name) {
    return Error(fmt::format("{}: command not found", name), "check the name and PATH",
                 ExitCode::not_found);
}

bool is_file(const std::wstring& path) {
    DWORD attributes = GetFileAttributesW(path.c_str());
    return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) == 0;
}

/// `name` in `directory`, with ".exe" added when `name` has no extension of its own.
std::wstring search_in(const std::wstring& directory, const std::wstring& name) {
    std::wstring found(MAX_PATH, L'\0');
    for (;;) {
        DWORD n = SearchPathW(directory.c_str(), name.c_str(), L".exe",
                              static_cast<DWORD>(found.size()), found.data(), nullptr);
        if (n == 0) return {};
        if (n < found.size()) {
            found.resize(n);
            return is_file(found) ? found : std::wstring{};
        }
        found.resize(n);  // n is the size needed
    }
}

/// The program to start: a name with a directory part as it is (".exe" added when missing),
/// a bare name through PATH only. Unlike CreateProcess's own search, neither the current
/// directory nor gpu-waiter's is looked in, as on POSIX.
std::wstring find_program(const std::string& name) {
    std::wstring wide = win32::widen(name);
    if (wide.find_first_of(L"/\\:") != std::wstring::npos) {
        if (is_file(wide)) return wide;
        if (wide.find(L'.', wide.find_last_of(L"/\\:") + 1) == std::wstring::npos &&
            is_file(wide + L".exe")) {
            return wide + L".exe";
        }
        throw not_found(name);
    }
    std::wstring path = win32::environment(L"PATH");
    for (std::size_t start = 0; start <= path.size();) {
        std::size_t end = std::min(path.find(L';', start), path.size());
        std::wstring directory = path.substr(start, end - start);
        std::erase(directory, L'"');  // PATH entries may be quoted
        if (!directory.empty()) {
            if (std::wstring found = search_in(directory, wide); !found.empty()) return found;
        }
        start = end + 1;
    }
    throw not_found(name);
}

/// CreateProcess runs a .bat or .cmd file through cmd.exe, whose quoting rules are not the
/// ones windows_command_line follows: arguments could turn into commands. gpu-waiter runs
/// commands without a shell, so it refuses; the user can name cmd explicitly.
void refuse_batch_file(const std::wstring& program, const std::string& name) {
    std::wstring ext = program.substr(std::min(program.find_last_of(L'.'), program.size()));
    for (wchar_t& c : ext) c = static_cast<wchar_t>(std::towlower(c));
    if (ext == L".bat" || ext == L".cmd") {
        throw Error(fmt::format("cannot execute {}: a batch file needs cmd.exe, and gpu-waiter "
                                "runs commands without a shell",
                                name),
                    fmt::format("run it as: cmd /c {} (mind cmd's own quoting)", name),
                    ExitCode::cannot_execute);
    }
}

bool same_name(std::wstring_view a, std::wstring_view b) {
    // Windows' variable names ignore case: Path and PATH are one variable.
    return CompareStringOrdinal(a.data(), static_cast<int>(a.size()), b.data(),
                                static_cast<int>(b.size()), TRUE) == CSTR_EQUAL;
}

/// Our environment with the request's changes, as CreateProcessW's Unicode block.
std::wstring environment_block(const LaunchRequest& request) {
    std::vector<std::wstring> replaced;
    for (const std::string& name : request.unset_env) replaced.push_back(win32::widen(name));
    for (const auto& [name, value] : request.set_env) replaced.push_back(win32::widen(name));
    std::wstring block;
    wchar_t* ours = GetEnvironmentStringsW();
    for (const wchar_t* e = ours; e != nullptr && *e != L'\0'; e += std::wcslen(e) + 1) {
        std::wstring_view entry(e);
        // From 1: hidden entries such as "=C:=C:\work" start with '='.
        std::wstring_view name = entry.substr(0, entry.find(L'=', 1));
        bool keep = std::none_of(replaced.begin(), replaced.end(),
                                 [&](const std::wstring& r) { return same_name(name, r); });
        if (keep) block.append(entry).push_back(L'\0');
    }
    if (ours != nullptr) FreeEnvironmentStringsW(ours);
    for (const auto& [name, value] : request.set_env) {
        block.append(win32::widen(name + "=" + value)).push_back(L'\0');
    }
    block.push_back(L'\0');
    return block;
}

/// Inheritable copies of the child's standard handles (ours, or the request's). Only these
/// copies reach the child: gpu-waiter's own handles (locks, pipes) stay non-inheritable.
class StandardHandles {
public:
    explicit StandardHandles(const LaunchRequest& request) {
        const std::array<HANDLE, 3> sources{
            given_or(request.stdin_fd, STD_INPUT_HANDLE),
            given_or(request.stdout_fd, STD_OUTPUT_HANDLE),
            GetStdHandle(STD_ERROR_HANDLE),
        };
        HANDLE self = GetCurrentProcess();
        for (std::size_t i = 0; i < sources.size(); ++i) {
            HANDLE copy = nullptr;
            if (win32::native(sources[i]) != kNoHandle &&
                DuplicateHandle(self, sources[i], self, &copy, 0, TRUE, DUPLICATE_SAME_ACCESS)) {
                copies_[i] = win32::adopt(copy);
            }
        }
    }

    /// The copy for stdin (0), stdout (1) or stderr (2); nullptr when there is none.
    [[nodiscard]] HANDLE get(std::size_t i) const {
        return copies_[i].valid() ? win32::handle(copies_[i].get()) : nullptr;
    }
    [[nodiscard]] std::vector<HANDLE> all() const {
        std::vector<HANDLE> out;
        for (std::size_t i = 0; i < copies_.size(); ++i) {
            if (get(i) != nullptr) out.push_back(get(i));
        }
        return out;
    }

private:
    static HANDLE given_or(NativeHandle given, DWORD standard) {
        return given != kNoHandle ? win32::handle(given) : GetStdHandle(standard);
    }
    std::array<UniqueHandle, 3> copies_;
};

/// PROC_THREAD_ATTRIBUTE_HANDLE_LIST: the child inherits exactly these handles, even if another
/// inheritable handle exists in gpu-waiter at that moment.
class InheritOnly {
public:
    explicit InheritOnly(std::vector<HANDLE> handles) : handles_(std::move(handles)) {
        SIZE_T size = 0;
        InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
        buffer_.resize(size);
        auto* list = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(buffer_.data());
        if (!InitializeProcThreadAttributeList(list, 1, 0, &size)) {
            win32::throw_last_error("InitializeProcThreadAttributeList");
        }
        list_ = list;
        if (!handles_.empty() &&
            !UpdateProcThreadAttribute(list_, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles_.data(),
                                       handles_.size() * sizeof(HANDLE), nullptr, nullptr)) {
            win32::throw_last_error("UpdateProcThreadAttribute");
        }
    }
    ~InheritOnly() {
        if (list_ != nullptr) DeleteProcThreadAttributeList(list_);
    }
    InheritOnly(const InheritOnly&) = delete;
    InheritOnly& operator=(const InheritOnly&) = delete;

    [[nodiscard]] LPPROC_THREAD_ATTRIBUTE_LIST get() const { return list_; }
    [[nodiscard]] bool any() const { return !handles_.empty(); }

private:
    std::vector<HANDLE> handles_;  // must outlive the list, which points into it
    std::vector<unsigned char> buffer_;
    LPPROC_THREAD_ATTRIBUTE_LIST list_ = nullptr;
};

/// A job that ends everything in it when its last handle closes: when gpu-waiter ends, however
/// it ends, the command's whole process tree goes with its locks. A process may still leave the
/// job where it asks to (CREATE_BREAKAWAY_FROM_JOB), so that such launchers keep working.
UniqueHandle make_job() {
    UniqueHandle job = win32::adopt(CreateJobObjectW(nullptr, nullptr));
    if (!job.valid()) return job;
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_BREAKAWAY_OK;
    if (!SetInformationJobObject(win32::handle(job.get()), JobObjectExtendedLimitInformation,
                                 &limits, sizeof limits)) {
        job.reset();
    }
    return job;
}

Error launch_error(const std::string& name, DWORD code) {
    if (code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND) return not_found(name);
    return Error(win32::error_text("cannot execute " + name, code),
                 "check that it is an executable file", ExitCode::cannot_execute);
}

}  // namespace

void check_command(const std::string& name) {
    refuse_batch_file(find_program(name), name);
}

Child::Child(const LaunchRequest& request, const SignalCatcher&)
    : native_(std::make_unique<Native>()) {
    std::wstring program = find_program(request.argv.at(0));
    refuse_batch_file(program, request.argv[0]);
    std::wstring command_line = win32::widen(windows_command_line(request.argv));
    std::wstring environment = environment_block(request);
    StandardHandles standard(request);
    InheritOnly inherit(standard.all());
    STARTUPINFOEXW startup{};
    startup.StartupInfo.cb = sizeof startup;
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.StartupInfo.hStdInput = standard.get(0);
    startup.StartupInfo.hStdOutput = standard.get(1);
    startup.StartupInfo.hStdError = standard.get(2);
    startup.lpAttributeList = inherit.get();
    // Suspended until it is in the job, so that everything it starts is in the job too.
    DWORD flags = CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT | CREATE_SUSPENDED;
    PROCESS_INFORMATION info{};
    if (!CreateProcessW(program.c_str(), command_line.data(), nullptr, nullptr,
                        inherit.any() ? TRUE : FALSE, flags, environment.data(), nullptr,
                        &startup.StartupInfo, &info)) {
        throw launch_error(request.argv[0], GetLastError());
    }
    UniqueHandle thread = win32::adopt(info.hThread);
    native_->process = win32::adopt(info.hProcess);
    pid_ = static_cast<long>(info.dwProcessId);
    native_->job = make_job();
    // Where the job cannot take it (an outer job that forbids nesting), the command runs on its
    // own and is ended on its own.
    if (native_->job.valid() &&
        !AssignProcessToJobObject(win32::handle(native_->job.get()), info.hProcess)) {
        native_->job.reset();
    }
    ResumeThread(info.hThread);
    watch_child(info.hProcess);
}

Child::~Child() {
    kill_and_wait();
    if (native_->process.valid()) forget_child(win32::handle(native_->process.get()));
}

void Child::kill_and_wait() {
    if (pid_ > 0 && !status_) {
        signal(9);
        WaitForSingleObject(win32::handle(native_->process.get()), INFINITE);
        status_ = kKilled;
    }
}

std::optional<int> Child::poll() {
    if (status_) return status_;
    HANDLE process = win32::handle(native_->process.get());
    if (WaitForSingleObject(process, 0) != WAIT_OBJECT_0) return std::nullopt;
    DWORD code = 0;
    if (!GetExitCodeProcess(process, &code)) win32::throw_last_error("GetExitCodeProcess");
    status_ = static_cast<int>(code);  // NTSTATUS codes such as 0xC0000005 come out negative
    return status_;
}

void Child::signal(int signo) const {
    // Console events reach the command directly (it shares gpu-waiter's console), so this is
    // only asked for the others; Windows has no way to deliver those but to end the command
    // (its whole tree, where the job took it) with the status a POSIX death by signal gives.
    if (pid_ <= 0 || status_) return;
    auto code = static_cast<UINT>(128 + signo);
    if (native_->job.valid()) {
        TerminateJobObject(win32::handle(native_->job.get()), code);
    } else {
        TerminateProcess(win32::handle(native_->process.get()), code);
    }
}

}  // namespace gw
