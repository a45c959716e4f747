#include "common/win32.hpp"

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw::win32 {
namespace {

int checked_size(std::size_t size) {
    if (size > 0x7fffffff) throw Error("text too long for a Windows call");
    return static_cast<int>(size);
}

}  // namespace

std::wstring widen(std::string_view utf8) {
    if (utf8.empty()) return {};
    int length = checked_size(utf8.size());
    int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), length, nullptr, 0);
    std::wstring out(static_cast<std::size_t>(n), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, utf8.data(), length, out.data(), n);
    return out;
}

std::string narrow(std::wstring_view utf16) {
    if (utf16.empty()) return {};
    int length = checked_size(utf16.size());
    int n = WideCharToMultiByte(CP_UTF8, 0, utf16.data(), length, nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(n), '\0');
    WideCharToMultiByte(CP_UTF8, 0, utf16.data(), length, out.data(), n, nullptr, nullptr);
    return out;
}

std::string error_text(const std::string& call, DWORD code) {
    wchar_t buf[512];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                             code, 0, buf, static_cast<DWORD>(std::size(buf)), nullptr);
    // The system's sentences end in ".\r\n"; a message line carries more after them.
    while (n > 0 && (buf[n - 1] == L'\r' || buf[n - 1] == L'\n' || buf[n - 1] == L'.' ||
                     buf[n - 1] == L' ')) {
        --n;
    }
    std::string reason = n > 0 ? narrow(std::wstring_view(buf, n)) : "unknown error";
    return fmt::format("{}: {} (error {})", call, reason, code);
}

void throw_error(const std::string& call, DWORD code, std::string hint) {
    throw Error(error_text(call, code), std::move(hint));
}

void throw_last_error(const std::string& call, std::string hint) {
    throw_error(call, GetLastError(), std::move(hint));
}

HANDLE handle(NativeHandle native) {
    return LongToHandle(native);
}

NativeHandle native(HANDLE h) {
    if (h == nullptr || h == INVALID_HANDLE_VALUE) return kNoHandle;
    return static_cast<NativeHandle>(HandleToLong(h));
}

UniqueHandle adopt(HANDLE h) {
    return UniqueHandle(native(h));
}

std::wstring environment(const wchar_t* name) {
    DWORD size = GetEnvironmentVariableW(name, nullptr, 0);
    if (size == 0) return {};
    std::wstring value(size, L'\0');
    DWORD n = GetEnvironmentVariableW(name, value.data(), size);
    value.resize(n < size ? n : 0);
    return value;
}

}  // namespace gw::win32
