// process/windows_command_line: the string Windows programs split back into argv. Pure code,
// checked everywhere; on Windows also against the system's own splitter.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "process/windows_command_line.hpp"

#ifdef _WIN32
#include <windows.h>
#include <shellapi.h>

#include "common/win32.hpp"
#endif

namespace {

using Strings = std::vector<std::string>;

TEST(WindowsCommandLine, PlainArgumentsAsTheyAre) {
    EXPECT_EQ(gw::windows_command_line({"python", "train.py", "--epochs=3"}),
              "python train.py --epochs=3");
}

TEST(WindowsCommandLine, SpacesAndEmptyArgumentsQuoted) {
    EXPECT_EQ(gw::windows_command_line({"a", "two words", ""}), "a \"two words\" \"\"");
    EXPECT_EQ(gw::windows_command_line({"a", "tab\there"}), "a \"tab\there\"");
}

TEST(WindowsCommandLine, QuotesEscaped) {
    EXPECT_EQ(gw::windows_command_line({"a", "say \"hi\""}), "a \"say \\\"hi\\\"\"");
}

TEST(WindowsCommandLine, BackslashesLiteralUnlessBeforeAQuote) {
    EXPECT_EQ(gw::windows_command_line({"a", "C:\\dir\\file"}), "a C:\\dir\\file");
    EXPECT_EQ(gw::windows_command_line({"a", "C:\\my dir\\"}), "a \"C:\\my dir\\\\\"");
    EXPECT_EQ(gw::windows_command_line({"a", "x\\\"y"}), "a \"x\\\\\\\"y\"");
}

TEST(WindowsCommandLine, ProgramQuotedOnlyForSpaces) {
    EXPECT_EQ(gw::windows_command_line({"C:\\Program Files\\x.exe", "y"}),
              "\"C:\\Program Files\\x.exe\" y");
    EXPECT_EQ(gw::windows_command_line({"C:\\tools\\x.exe"}), "C:\\tools\\x.exe");
}

#ifdef _WIN32
Strings split_by_windows(const std::string& command_line) {
    int argc = 0;
    wchar_t** argv = CommandLineToArgvW(gw::win32::widen(command_line).c_str(), &argc);
    Strings out;
    for (int i = 0; i < argc; ++i) out.push_back(gw::win32::narrow(argv[i]));
    LocalFree(argv);
    return out;
}

TEST(WindowsCommandLine, WindowsSplitsItBackIntoTheSameArguments) {
    const Strings argv{"C:\\Program Files\\tool.exe",
                       "plain",
                       "",
                       "two words",
                       "\"quoted\"",
                       "trailing\\",
                       "trailing space\\",
                       "a\\\\\"b",
                       "\\\\server\\share",
                       "tab\tand\nnewline",
                       "é ü 中"};
    EXPECT_EQ(split_by_windows(gw::windows_command_line(argv)), argv);
}
#endif

}  // namespace
