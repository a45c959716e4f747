// cli/options: the command line of shared/design/cli.md, with a fake environment.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/options.hpp"
#include "common/error.hpp"

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using Strings = std::vector<std::string>;

// The lock directory when nothing names one, with an environment that has no ProgramData or TEMP.
#ifdef _WIN32
constexpr const char* kDefaultLockDir = "C:\\ProgramData\\gpu-waiter";
#else
constexpr const char* kDefaultLockDir = "/tmp/gpu-waiter";
#endif

/// The environment parse_options sees (EnvLookup is a plain function pointer).
std::map<std::string, std::string>& fake_env() {
    static std::map<std::string, std::string> env;
    return env;
}

std::optional<std::string> lookup(const char* name) {
    auto it = fake_env().find(name);
    if (it == fake_env().end()) return std::nullopt;
    return it->second;
}

std::variant<gw::Options, int> parse_raw(const Strings& args) {
    std::vector<const char*> argv{"gpu-waiter"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    return gw::parse_options(static_cast<int>(argv.size()), argv.data(), lookup);
}

class OptionsTest : public ::testing::Test {
protected:
    void SetUp() override { fake_env().clear(); }
    void TearDown() override { fake_env().clear(); }

    /// Parses a command line that must give Options.
    static gw::Options parse(const Strings& args) {
        auto result = parse_raw(args);
        if (!std::holds_alternative<gw::Options>(result)) {
            ADD_FAILURE() << "parse_options returned exit status " << std::get<int>(result);
            return {};
        }
        return std::get<gw::Options>(std::move(result));
    }

    /// Success when parsing gives Options in `mode`, without an error.
    static ::testing::AssertionResult parses_to_mode(const Strings& args, gw::Mode mode) {
        try {
            auto result = parse_raw(args);
            const auto* o = std::get_if<gw::Options>(&result);
            if (o == nullptr) return ::testing::AssertionFailure() << "returned an exit status";
            if (o->mode != mode) {
                return ::testing::AssertionFailure() << "mode " << static_cast<int>(o->mode);
            }
            return ::testing::AssertionSuccess();
        } catch (const std::exception& e) {
            return ::testing::AssertionFailure() << "threw: " << e.what();
        }
    }

    /// Success when parsing throws gw::Error with exit status 125.
    static ::testing::AssertionResult usage_error(const Strings& args) {
        std::variant<gw::Options, int> result;
        try {
            result = parse_raw(args);
        } catch (const gw::Error& e) {
            if (e.code() != gw::ExitCode::tool_failed) {
                return ::testing::AssertionFailure()
                       << "gw::Error with exit code " << static_cast<int>(e.code()) << ": "
                       << e.what();
            }
            if (std::string(e.what()).empty()) {
                return ::testing::AssertionFailure() << "gw::Error with an empty message";
            }
            return ::testing::AssertionSuccess();
        } catch (const std::exception& e) {
            return ::testing::AssertionFailure() << "other exception: " << e.what();
        }
        ::testing::AssertionResult failure = ::testing::AssertionFailure();
        failure << "no error";
        if (const auto* o = std::get_if<gw::Options>(&result)) {
            failure << "; command:";
            for (const std::string& word : o->command) failure << " [" << word << "]";
        }
        return failure;
    }
};

TEST_F(OptionsTest, Defaults) {
    gw::Options o = parse({"python", "train.py"});
    EXPECT_EQ(o.mode, gw::Mode::run);
    EXPECT_EQ(o.count, 1u);
    EXPECT_TRUE(o.gpus.empty());
    EXPECT_FALSE(o.gpus_from_environment);
    EXPECT_FALSE(o.rule.sharing());
    EXPECT_FALSE(o.rule.max_utilization.has_value());
    EXPECT_EQ(o.idle_for.count(), 0);
    EXPECT_EQ(o.poll, milliseconds(500));
    EXPECT_FALSE(o.timeout.has_value());
    EXPECT_DOUBLE_EQ(o.hold_fraction, 0.25);
    EXPECT_FALSE(o.hold_max.has_value());
    EXPECT_TRUE(o.hold);
    EXPECT_EQ(o.visible_devices, gw::VisibleDevices::index);
    EXPECT_FALSE(o.replace.has_value());
    EXPECT_EQ(o.lock_dir, kDefaultLockDir);
    EXPECT_FALSE(o.json);
    EXPECT_EQ(o.verbosity, gw::Verbosity::normal);
    EXPECT_EQ(o.command, (Strings{"python", "train.py"}));
}

TEST_F(OptionsTest, Count) {
    EXPECT_EQ(parse({"-n", "2", "cmd"}).count, 2u);
    EXPECT_EQ(parse({"--count", "4", "cmd"}).count, 4u);
    EXPECT_EQ(parse({"--count=3", "cmd"}).count, 3u);
    EXPECT_EQ(parse({"-n3", "cmd"}).count, 3u);
}

TEST_F(OptionsTest, CountMustBeAPositiveNumber) {
    EXPECT_TRUE(usage_error({"-n", "0", "cmd"}));
    EXPECT_TRUE(usage_error({"-n", "-1", "cmd"}));
    EXPECT_TRUE(usage_error({"-n", "two", "cmd"}));
}

TEST_F(OptionsTest, GpuList) {
    gw::Options o = parse({"-g", "0, 2,GPU-abc", "cmd"});
    EXPECT_EQ(o.gpus, (Strings{"0", "2", "GPU-abc"}));
    EXPECT_FALSE(o.gpus_from_environment);
    EXPECT_EQ(parse({"--gpus", "3", "cmd"}).gpus, (Strings{"3"}));
}

TEST_F(OptionsTest, EverythingFromCommandOnBelongsToTheCommand) {
    gw::Options o = parse({"python", "-m", "foo", "-n", "3"});
    EXPECT_EQ(o.command, (Strings{"python", "-m", "foo", "-n", "3"}));
    EXPECT_EQ(o.count, 1u);
}

TEST_F(OptionsTest, OptionsBeforeCommandStillApply) {
    gw::Options o = parse({"-n", "2", "-g", "1,0", "python", "-g", "5", "--timeout", "x"});
    EXPECT_EQ(o.count, 2u);
    EXPECT_EQ(o.gpus, (Strings{"1", "0"}));
    EXPECT_FALSE(o.timeout.has_value());
    EXPECT_EQ(o.command, (Strings{"python", "-g", "5", "--timeout", "x"}));
}

TEST_F(OptionsTest, GpuWaiterFlagsAfterCommandAreTheCommands) {
    gw::Options help = parse({"tool", "--help"});
    EXPECT_EQ(help.mode, gw::Mode::run);
    EXPECT_EQ(help.command, (Strings{"tool", "--help"}));

    gw::Options status = parse({"tool", "--status", "--version"});
    EXPECT_EQ(status.mode, gw::Mode::run);
    EXPECT_EQ(status.command, (Strings{"tool", "--status", "--version"}));
}

TEST_F(OptionsTest, DoubleDashEndsOptions) {
    gw::Options o = parse({"-n", "2", "--", "python", "-n", "3"});
    EXPECT_EQ(o.count, 2u);
    EXPECT_EQ(o.command, (Strings{"python", "-n", "3"}));
}

TEST_F(OptionsTest, DoubleDashLetsTheCommandLookLikeAnOption) {
    gw::Options o = parse({"--", "-weird-name", "x"});
    EXPECT_EQ(o.command, (Strings{"-weird-name", "x"}));
}

TEST_F(OptionsTest, DoubleDashInsideTheCommandIsKept) {
    gw::Options o = parse({"python", "--", "x"});
    EXPECT_EQ(o.command, (Strings{"python", "--", "x"}));
    gw::Options after = parse({"--", "python", "--", "x"});
    EXPECT_EQ(after.command, (Strings{"python", "--", "x"}));
}

TEST_F(OptionsTest, UnknownOptionBeforeCommandIsAUsageError) {
    // Like env(1) and timeout(1): an unknown option is bad usage (125), not the COMMAND.
    EXPECT_TRUE(usage_error({"--bogus", "python"}));
    EXPECT_TRUE(usage_error({"-x", "python"}));
}

TEST_F(OptionsTest, MissingCommandIsAnError) {
    EXPECT_TRUE(usage_error({}));
    EXPECT_TRUE(usage_error({"-n", "2"}));
    EXPECT_TRUE(usage_error({"--"}));
}

TEST_F(OptionsTest, InheritedCudaVisibleDevicesBecomesTheCandidates) {
    fake_env()["CUDA_VISIBLE_DEVICES"] = "1,3";
    gw::Options o = parse({"cmd"});
    EXPECT_EQ(o.gpus, (Strings{"1", "3"}));
    EXPECT_TRUE(o.gpus_from_environment);
}

TEST_F(OptionsTest, InheritedCudaVisibleDevicesWithUuids) {
    fake_env()["CUDA_VISIBLE_DEVICES"] = "GPU-aaa, GPU-bbb";
    gw::Options o = parse({"cmd"});
    EXPECT_EQ(o.gpus, (Strings{"GPU-aaa", "GPU-bbb"}));
    EXPECT_TRUE(o.gpus_from_environment);
}

TEST_F(OptionsTest, GpuOptionWinsOverCudaVisibleDevices) {
    fake_env()["CUDA_VISIBLE_DEVICES"] = "1,3";
    gw::Options o = parse({"-g", "0", "cmd"});
    EXPECT_EQ(o.gpus, (Strings{"0"}));
    EXPECT_FALSE(o.gpus_from_environment);
}

TEST_F(OptionsTest, EmptyCudaVisibleDevicesIsAnError) {
    fake_env()["CUDA_VISIBLE_DEVICES"] = "";
    EXPECT_TRUE(usage_error({"cmd"}));
    fake_env()["CUDA_VISIBLE_DEVICES"] = " , ";
    EXPECT_TRUE(usage_error({"cmd"}));
}

TEST_F(OptionsTest, EmptyCudaVisibleDevicesDoesNotMatterWithGpuOption) {
    fake_env()["CUDA_VISIBLE_DEVICES"] = "";
    gw::Options o = parse({"-g", "1", "cmd"});
    EXPECT_EQ(o.gpus, (Strings{"1"}));
    EXPECT_FALSE(o.gpus_from_environment);
}

TEST_F(OptionsTest, EmptyGpuListIsAnError) {
    // A list naming no GPU can never be met; it must not silently mean "all GPUs".
    EXPECT_TRUE(usage_error({"-g", ",", "cmd"}));
    EXPECT_TRUE(usage_error({"-g", " ", "cmd"}));
    EXPECT_TRUE(usage_error({"-g", "", "cmd"}));
}

TEST_F(OptionsTest, EmptyCudaVisibleDevicesDoesNotStopVersionOrStatus) {
    // Only choosing GPUs reads CUDA_VISIBLE_DEVICES; --version and --status choose none.
    fake_env()["CUDA_VISIBLE_DEVICES"] = "";
    EXPECT_TRUE(parses_to_mode({"--version"}, gw::Mode::version));
    EXPECT_TRUE(parses_to_mode({"--status"}, gw::Mode::status));
}

TEST_F(OptionsTest, Durations) {
    gw::Options o =
        parse({"--idle-for", "1.5m", "--poll", "2s", "--timeout", "3h", "--hold-max", "10", "cmd"});
    EXPECT_EQ(o.idle_for, seconds(90));
    EXPECT_EQ(o.poll, seconds(2));
    ASSERT_TRUE(o.timeout.has_value());
    EXPECT_EQ(*o.timeout, hours(3));
    ASSERT_TRUE(o.hold_max.has_value());
    EXPECT_EQ(*o.hold_max, seconds(10));
}

TEST_F(OptionsTest, BadDurationsAreUsageErrors) {
    EXPECT_TRUE(usage_error({"--timeout", "soon", "cmd"}));
    EXPECT_TRUE(usage_error({"--timeout", "-5s", "cmd"}));
    EXPECT_TRUE(usage_error({"--idle-for", "1x", "cmd"}));
    EXPECT_TRUE(usage_error({"--poll", "fast", "cmd"}));
    EXPECT_TRUE(usage_error({"--hold-max", "1 h", "cmd"}));
}

TEST_F(OptionsTest, PollHasAFloor) {
    EXPECT_TRUE(usage_error({"--poll", "5ms", "cmd"}));
    EXPECT_TRUE(usage_error({"--poll", "0", "cmd"}));
    EXPECT_EQ(parse({"--poll", "10ms", "cmd"}).poll, milliseconds(10));
}

TEST_F(OptionsTest, MinFreeMemoryInBytesTurnsOnSharing) {
    gw::Options o = parse({"--min-free-memory", "20GiB", "cmd"});
    ASSERT_TRUE(o.rule.sharing());
    EXPECT_EQ(o.rule.min_free_memory->kind, gw::SizeSpec::Kind::bytes);
    EXPECT_DOUBLE_EQ(o.rule.min_free_memory->value, 20.0 * 1024 * 1024 * 1024);
}

TEST_F(OptionsTest, MinFreeMemoryInPercent) {
    gw::Options o = parse({"--min-free-memory", "40%", "cmd"});
    ASSERT_TRUE(o.rule.sharing());
    EXPECT_EQ(o.rule.min_free_memory->kind, gw::SizeSpec::Kind::percent);
    EXPECT_DOUBLE_EQ(o.rule.min_free_memory->value, 40.0);
}

TEST_F(OptionsTest, BadSizesAreUsageErrors) {
    EXPECT_TRUE(usage_error({"--min-free-memory", "20GB", "cmd"}));
    EXPECT_TRUE(usage_error({"--min-free-memory", "lots", "cmd"}));
    EXPECT_TRUE(usage_error({"--min-free-memory", "150%", "cmd"}));
}

TEST_F(OptionsTest, MaxUtil) {
    gw::Options o = parse({"--max-util", "30", "cmd"});
    ASSERT_TRUE(o.rule.max_utilization.has_value());
    EXPECT_EQ(*o.rule.max_utilization, 30u);
    EXPECT_FALSE(o.rule.sharing());
    EXPECT_EQ(parse({"--max-util", "0", "cmd"}).rule.max_utilization, 0u);
    EXPECT_TRUE(usage_error({"--max-util", "101", "cmd"}));
    EXPECT_TRUE(usage_error({"--max-util", "-1", "cmd"}));
    EXPECT_TRUE(usage_error({"--max-util", "half", "cmd"}));
}

TEST_F(OptionsTest, HoldFraction) {
    EXPECT_DOUBLE_EQ(parse({"--hold-fraction", "0.5", "cmd"}).hold_fraction, 0.5);
    EXPECT_TRUE(usage_error({"--hold-fraction", "1", "cmd"}));
    EXPECT_TRUE(usage_error({"--hold-fraction", "-0.1", "cmd"}));
    EXPECT_TRUE(usage_error({"--hold-fraction", "nan", "cmd"}));
    EXPECT_TRUE(usage_error({"--hold-fraction", "NaN", "cmd"}));
}

TEST_F(OptionsTest, NoHold) {
    EXPECT_FALSE(parse({"--no-hold", "cmd"}).hold);
    EXPECT_TRUE(parse({"cmd"}).hold);
}

TEST_F(OptionsTest, VisibleDevices) {
    EXPECT_EQ(parse({"--visible-devices", "uuid", "cmd"}).visible_devices,
              gw::VisibleDevices::uuid);
    EXPECT_EQ(parse({"--visible-devices", "index", "cmd"}).visible_devices,
              gw::VisibleDevices::index);
    EXPECT_TRUE(usage_error({"--visible-devices", "name", "cmd"}));
}

TEST_F(OptionsTest, ReplaceString) {
    gw::Options o = parse({"-n", "2", "-I", "{}", "deepspeed", "--include", "localhost:{}"});
    ASSERT_TRUE(o.replace.has_value());
    EXPECT_EQ(*o.replace, "{}");
    EXPECT_EQ(o.command, (Strings{"deepspeed", "--include", "localhost:{}"}));
    EXPECT_TRUE(usage_error({"-I", "", "cmd"}));
}

TEST_F(OptionsTest, LockDirDefaultEnvironmentAndOption) {
    EXPECT_EQ(parse({"cmd"}).lock_dir, kDefaultLockDir);
    fake_env()["GPU_WAITER_LOCK_DIR"] = "/var/lock/gw";
    EXPECT_EQ(parse({"cmd"}).lock_dir, "/var/lock/gw");
    EXPECT_EQ(parse({"--lock-dir", "/srv/locks", "cmd"}).lock_dir, "/srv/locks");
}

#ifdef _WIN32
TEST_F(OptionsTest, LockDirDefaultOnWindowsIsMachineWide) {
    fake_env()["TEMP"] = "C:\\Users\\alice\\Temp";
    EXPECT_EQ(parse({"cmd"}).lock_dir, "C:\\Users\\alice\\Temp\\gpu-waiter");
    fake_env()["ProgramData"] = "D:\\Shared";
    EXPECT_EQ(parse({"cmd"}).lock_dir, "D:\\Shared\\gpu-waiter");
}
#endif

TEST_F(OptionsTest, Verbosity) {
    EXPECT_EQ(parse({"-q", "cmd"}).verbosity, gw::Verbosity::quiet);
    EXPECT_EQ(parse({"--quiet", "cmd"}).verbosity, gw::Verbosity::quiet);
    EXPECT_EQ(parse({"-v", "cmd"}).verbosity, gw::Verbosity::verbose);
    EXPECT_EQ(parse({"--verbose", "cmd"}).verbosity, gw::Verbosity::verbose);
}

TEST_F(OptionsTest, HelpReturnsZeroAndPrintsUsage) {
    ::testing::internal::CaptureStdout();
    auto result = parse_raw({"--help"});
    std::string printed = ::testing::internal::GetCapturedStdout();
    ASSERT_TRUE(std::holds_alternative<int>(result));
    EXPECT_EQ(std::get<int>(result), 0);
    EXPECT_NE(printed.find("--count"), std::string::npos) << printed;
    EXPECT_NE(printed.find("--min-free-memory"), std::string::npos);
}

TEST_F(OptionsTest, ShortHelp) {
    ::testing::internal::CaptureStdout();
    auto result = parse_raw({"-h"});
    (void)::testing::internal::GetCapturedStdout();
    ASSERT_TRUE(std::holds_alternative<int>(result));
    EXPECT_EQ(std::get<int>(result), 0);
}

TEST_F(OptionsTest, Status) {
    gw::Options o = parse({"--status"});
    EXPECT_EQ(o.mode, gw::Mode::status);
    EXPECT_FALSE(o.json);
    EXPECT_TRUE(o.command.empty());
    gw::Options j = parse({"--status", "--json"});
    EXPECT_EQ(j.mode, gw::Mode::status);
    EXPECT_TRUE(j.json);
}

TEST_F(OptionsTest, StatusWithACommandIsAnError) {
    EXPECT_TRUE(usage_error({"--status", "python"}));
    EXPECT_TRUE(usage_error({"--status", "--", "python"}));
}

TEST_F(OptionsTest, Version) {
    EXPECT_EQ(parse({"--version"}).mode, gw::Mode::version);
    EXPECT_EQ(parse({"-V"}).mode, gw::Mode::version);
}

// -- the Slurm backend -----------------------------------------------------------------------

TEST_F(OptionsTest, LocalIsTheDefaultBackend) {
    gw::Options o = parse({"python"});
    EXPECT_EQ(o.backend, gw::Backend::local);
    EXPECT_TRUE(o.slurm_args.empty());
    EXPECT_FALSE(o.slurm_allocation.has_value());
    EXPECT_FALSE(o.name.has_value());
}

TEST_F(OptionsTest, SlurmFromTheFlagOrTheEnvironment) {
    EXPECT_EQ(parse({"--slurm", "python"}).backend, gw::Backend::slurm);
    fake_env()["GPU_WAITER_BACKEND"] = "slurm";
    EXPECT_EQ(parse({"python"}).backend, gw::Backend::slurm);
    fake_env()["GPU_WAITER_BACKEND"] = "local";
    EXPECT_EQ(parse({"python"}).backend, gw::Backend::local);
    fake_env()["GPU_WAITER_BACKEND"] = "kubernetes";
    EXPECT_TRUE(usage_error({"python"}));
}

TEST_F(OptionsTest, TheHolderIgnoresTheBackend) {
    fake_env()["GPU_WAITER_BACKEND"] = "slurm";
    EXPECT_EQ(parse({"--internal-holder"}).backend, gw::Backend::local);
}

TEST_F(OptionsTest, NameAndSlurmArguments) {
    fake_env()["GPU_WAITER_SLURM_ARGS"] = " --partition=gpu   --time=1:00 ";
    gw::Options o = parse({"--slurm", "--name", "train", "--slurm-arg=--account=lab", "--slurm-arg",
                           "--qos=low", "-n", "2", "python", "--slurm-arg=x"});
    EXPECT_EQ(o.name, "train");
    EXPECT_EQ(o.slurm_args,
              (Strings{"--partition=gpu", "--time=1:00", "--account=lab", "--qos=low"}));
    EXPECT_EQ(o.count, 2u);
    EXPECT_EQ(o.command, (Strings{"python", "--slurm-arg=x"}));
}

TEST_F(OptionsTest, NamesAreWhatTheHelpSays) {
    EXPECT_EQ(parse({"--name", "train-1.b_2", "true"}).name, "train-1.b_2");
    for (const char* bad : {"two words", "a/b", "it's", "caf\xc3\xa9", "a@b", "a$b", "1234", ""}) {
        EXPECT_TRUE(usage_error({"--name", bad, "true"})) << bad;
    }
}

TEST_F(OptionsTest, SlurmArgumentsNeedSlurm) {
    EXPECT_TRUE(usage_error({"--slurm-arg=--partition=gpu", "python"}));
    // The environment's list is for whoever uses Slurm: a local run ignores it.
    fake_env()["GPU_WAITER_SLURM_ARGS"] = "--partition=gpu";
    EXPECT_TRUE(parse({"python"}).slurm_args.empty());
}

TEST_F(OptionsTest, OptionsWithoutMeaningUnderSlurmAreRefused) {
    for (const Strings& refused : std::vector<Strings>{{"-g", "0"},
                                                       {"--gpus", "0"},
                                                       {"--min-free-memory", "1GiB"},
                                                       {"--max-util", "5"},
                                                       {"--idle-for", "1s"},
                                                       {"--poll", "1s"},
                                                       {"--hold-fraction", "0.5"},
                                                       {"--hold-max", "1m"},
                                                       {"--no-hold"},
                                                       {"--visible-devices", "uuid"},
                                                       {"--lock-dir", "/tmp/x"}}) {
        Strings args{"--slurm"};
        args.insert(args.end(), refused.begin(), refused.end());
        args.push_back("python");
        EXPECT_TRUE(usage_error(args)) << refused.front();
    }
    EXPECT_TRUE(usage_error({"--slurm", "--status", "--json"}));
    EXPECT_TRUE(parses_to_mode({"--slurm", "--status"}, gw::Mode::status));
}

TEST_F(OptionsTest, UnderSlurmTheInheritedVisibleDevicesAreNotCandidates) {
    fake_env()["CUDA_VISIBLE_DEVICES"] = "1";
    fake_env()["SLURM_JOB_ID"] = "7";
    gw::Options o = parse({"--slurm", "python"});
    EXPECT_TRUE(o.gpus.empty());
    EXPECT_FALSE(o.slurm_allocation.has_value());
}

TEST_F(OptionsTest, InsideASlurmJobTheAllocationIsRead) {
    fake_env()["SLURM_JOB_ID"] = "42";
    fake_env()["SLURM_STEP_GPUS"] = "2,3";
    fake_env()["SLURM_JOB_GPUS"] = "0,1,2,3";
    gw::Options o = parse({"python"});
    ASSERT_TRUE(o.slurm_allocation.has_value());
    EXPECT_EQ(o.slurm_allocation->job_id, "42");
    EXPECT_EQ(o.slurm_allocation->gpus_variable, "SLURM_STEP_GPUS");
    EXPECT_EQ(o.slurm_allocation->gpus, (std::vector<unsigned>{2, 3}));
    fake_env()["SLURM_STEP_GPUS"] = "2,x";
    EXPECT_TRUE(usage_error({"python"}));
}

/// The message of the usage error `args` cause ("" when they parse).
std::string error_text(const Strings& args) {
    try {
        (void)parse_raw(args);
    } catch (const gw::Error& e) {
        return std::string(e.what()) + " | " + e.hint();
    }
    return "";
}

TEST_F(OptionsTest, ErrorsAreInOurWords) {
    EXPECT_EQ(error_text({"--count", "two", "cmd"}),
              "-n/--count: 'two' is not a number of GPUs | give a whole number from 1 to 1024");
    EXPECT_EQ(error_text({"--hold-fraction", "1", "cmd"}).find("not in range"), std::string::npos);
    EXPECT_EQ(error_text({"-n"}).rfind("--count needs a value", 0), 0u);
}

TEST_F(OptionsTest, RepeatedOptionLastWins) {
    EXPECT_EQ(parse({"-n", "1", "-n", "2", "cmd"}).count, 2u);
}

TEST_F(OptionsTest, MistypedOptionGetsASuggestion) {
    EXPECT_NE(error_text({"--cout", "2", "cmd"}).find("did you mean --count?"), std::string::npos);
    EXPECT_NE(error_text({"--stauts"}).find("did you mean --status?"), std::string::npos);
    EXPECT_EQ(error_text({"--zzzzzzzz", "cmd"}).find("did you mean"), std::string::npos);
}

TEST_F(OptionsTest, ContradictionsAreRefusedWithTheReason) {
    EXPECT_NE(error_text({"--json"}).find("--json goes with --status"), std::string::npos);
    EXPECT_NE(error_text({"-g", "0", "--json", "echo"}).find("--json goes with --status"),
              std::string::npos);
    EXPECT_TRUE(usage_error({"-q", "-v", "cmd"}));
    EXPECT_TRUE(usage_error({"--status", "--watch", "--json"}));
    EXPECT_TRUE(usage_error({"--status", "-n", "2"}));
    EXPECT_TRUE(usage_error({"--status", "--cancel", "3"}));
    EXPECT_TRUE(usage_error({"--log", "f", "cmd"}));
    EXPECT_TRUE(usage_error({"--mine", "--user", "bob", "--status"}));
    EXPECT_TRUE(usage_error({"--cancel", "3", "cmd"}));
}

TEST_F(OptionsTest, JobOptions) {
    gw::Options o = parse({"--name", "train-1", "--detach", "--log", "/tmp/x.log", "cmd"});
    EXPECT_EQ(o.name, "train-1");
    EXPECT_TRUE(o.detach);
    EXPECT_EQ(o.log_file, "/tmp/x.log");
    EXPECT_TRUE(usage_error({"--name", "42", "cmd"}));
    EXPECT_TRUE(usage_error({"--name", "a b", "cmd"}));
    gw::Options c = parse({"--cancel", "train-1"});
    EXPECT_EQ(c.mode, gw::Mode::cancel);
    EXPECT_EQ(c.cancel, "train-1");
}

TEST_F(OptionsTest, StatusViews) {
    gw::Options w = parse({"--status", "--watch"});
    EXPECT_EQ(w.watch, gw::kWatchDefault);
    EXPECT_EQ(parse({"--status", "--watch", "5s"}).watch, seconds(5));
    EXPECT_EQ(parse({"--watch"}).mode, gw::Mode::status);
    EXPECT_TRUE(parse({"--status", "--mine"}).mine);
    EXPECT_EQ(parse({"--status", "--user", "bob"}).only_user, "bob");
}

TEST_F(OptionsTest, HelpShowsPlaceholdersAndDefaults) {
    ::testing::internal::CaptureStdout();
    (void)parse_raw({"--help"});
    std::string printed = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(printed.find("-I STR"), std::string::npos) << printed;
    EXPECT_EQ(printed.find("TEXT"), std::string::npos) << printed;
    EXPECT_NE(printed.find("(default 1)"), std::string::npos) << printed;
}

}  // namespace
