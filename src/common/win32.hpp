// What every *_win32.cpp file needs: UTF-8 <-> UTF-16 (the W calls take UTF-16, the rest of
// gpu-waiter speaks UTF-8), failed calls named with the system's own text, and the conversion
// between HANDLE and the NativeHandle that shared headers carry. Windows only.
#pragma once

#include <windows.h>

#include <string>
#include <string_view>

#include "common/unique_handle.hpp"

namespace gw::win32 {

/// UTF-8 to UTF-16 and back. Invalid sequences become U+FFFD rather than failing.
[[nodiscard]] std::wstring widen(std::string_view utf8);
[[nodiscard]] std::string narrow(std::wstring_view utf16);

/// "CALL: The system cannot find the file specified (error 2)", the Windows shape of
/// system_error_text.
[[nodiscard]] std::string error_text(const std::string& call, DWORD code);

/// Throws Error(error_text(call, code)).
[[noreturn]] void throw_error(const std::string& call, DWORD code, std::string hint = {});

/// throw_error with GetLastError(), for the call that just failed.
[[noreturn]] void throw_last_error(const std::string& call, std::string hint = {});

/// The HANDLE a NativeHandle names (INVALID_HANDLE_VALUE for kNoHandle).
[[nodiscard]] HANDLE handle(NativeHandle native);

/// The NativeHandle of `h`; kNoHandle for both of Windows' "no handle" values, NULL and
/// INVALID_HANDLE_VALUE, so that callers test one thing.
[[nodiscard]] NativeHandle native(HANDLE h);

/// Takes ownership of `h` (invalid when `h` is NULL or INVALID_HANDLE_VALUE).
[[nodiscard]] UniqueHandle adopt(HANDLE h);

/// An environment variable, read as UTF-16 (getenv's bytes are in the ANSI code page).
[[nodiscard]] std::wstring environment(const wchar_t* name);

}  // namespace gw::win32
