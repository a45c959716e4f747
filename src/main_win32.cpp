// Windows passes main() its arguments in the ANSI code page, which cannot spell every file name
// or argument; wmain gets them as UTF-16, and gpu-waiter works in UTF-8 everywhere.
#include <string>
#include <vector>

#include "app/app.hpp"
#include "common/win32.hpp"

int wmain(int argc, wchar_t** argv) {
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) args.push_back(gw::win32::narrow(argv[i]));
    std::vector<const char*> pointers;
    for (const std::string& a : args) pointers.push_back(a.c_str());
    pointers.push_back(nullptr);
    return gw::run_app(argc, pointers.data());
}
