// The CLI's one parser per kind of value (src/cli/args.h): whole numbers in
// exponent form, the range message form, and the CLI11 binding that turns
// a parser's error into exactly that message.
#include "cli/args.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>

namespace wattlab::cli {
namespace {

TEST(ParseWholeNumber, AcceptsExactIntegersInAnyDecimalForm) {
  EXPECT_EQ(ParseWholeNumber("1000000"), 1000000);
  EXPECT_EQ(ParseWholeNumber("1e6"), 1000000);
  EXPECT_EQ(ParseWholeNumber("1E+06"), 1000000);
  EXPECT_EQ(ParseWholeNumber("2.5e3"), 2500);
  EXPECT_EQ(ParseWholeNumber("6.16625e6"), 6166250);
  EXPECT_EQ(ParseWholeNumber("10e-1"), 1);
  EXPECT_EQ(ParseWholeNumber("1.0"), 1);
  EXPECT_EQ(ParseWholeNumber("1."), 1);
  EXPECT_EQ(ParseWholeNumber(".5e1"), 5);
  EXPECT_EQ(ParseWholeNumber("+7"), 7);
  EXPECT_EQ(ParseWholeNumber("-3"), -3);
  EXPECT_EQ(ParseWholeNumber("-1e3"), -1000);
  EXPECT_EQ(ParseWholeNumber("0"), 0);
  EXPECT_EQ(ParseWholeNumber("0.000e999999999"), 0);
  EXPECT_EQ(ParseWholeNumber("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseWholeNumber("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(ParseWholeNumber("9.223372036854775807e18"), INT64_MAX);  // exact, no rounding through double
  EXPECT_EQ(ParseWholeNumber("1234567890123456789"), 1234567890123456789);
}

TEST(ParseWholeNumber, RefusesFractionsGarbageAndOverflow) {
  for (const char* bad : {"1.5",
                          "2.55e1",
                          "1e-3",
                          "0.1",
                          "",
                          "-",
                          "e6",
                          "1e",
                          "1e+",
                          "0x10",
                          "1,000",
                          " 5",
                          "5 ",
                          "1e6x",
                          "inf",
                          "nan",
                          "9223372036854775808",
                          "-9223372036854775809",
                          "1e19",
                          "1e999999999"})
    EXPECT_EQ(ParseWholeNumber(bad), std::nullopt) << bad;
}

TEST(ParseCountValue, OneMessageForm) {
  EXPECT_EQ(*ParseCountValue("--params", "1e6", 1), 1000000);
  EXPECT_EQ(*ParseCountValue("--seed", "0", 0), 0);
  EXPECT_EQ(ParseCountValue("--params", "1.5", 1).status().message(),
            "--params must be a whole number, got 1.5");
  EXPECT_EQ(ParseCountValue("--params", "many", 1).status().message(),
            "--params must be a whole number, got 'many'");
  EXPECT_EQ(ParseCountValue("--batch-size", "0", 1).status().message(), "--batch-size must be ≥ 1, got 0");
  EXPECT_EQ(ParseCountValue("--batch-size", "-1e3", 1).status().message(),
            "--batch-size must be ≥ 1, got -1e3");
  EXPECT_EQ(ParseCountValue("--batch-size", "-1e30", 1).status().message(),
            "--batch-size must be ≥ 1, got -1e30");
  EXPECT_EQ(ParseCountValue("--epochs", "1e30", 1).status().message(),
            "--epochs must be a whole number below 2^63, got 1e30");
  EXPECT_EQ(ParseCountValue("--epochs", "1.5", 1).status().kind(), Status::Kind::kInvalidArgument);
}

TEST(ParseNumberValue, OneMessageFormThatStatesTheRule) {
  EXPECT_EQ(*ParseNumberValue("--pue", "1.58", Range::AtLeast(1)), 1.58);
  EXPECT_EQ(*ParseNumberValue("--pue", "1", Range::AtLeast(1)), 1.0);
  EXPECT_EQ(ParseNumberValue("--pue", "0.5", Range::AtLeast(1)).status().message(),
            "--pue must be ≥ 1.0, got 0.5");
  EXPECT_EQ(ParseNumberValue("--pue", "-1", Range::AtLeast(1)).status().message(),
            "--pue must be ≥ 1.0, got -1");
  const Range seconds = Range::AboveUpTo(0, 3600);
  EXPECT_EQ(*ParseNumberValue("--seconds", "3600", seconds), 3600.0);
  EXPECT_EQ(ParseNumberValue("--seconds", "0", seconds).status().message(),
            "--seconds must be > 0.0 and ≤ 3600.0, got 0");
  EXPECT_EQ(ParseNumberValue("--seconds", "3600.5", seconds).status().message(),
            "--seconds must be > 0.0 and ≤ 3600.0, got 3600.5");
  EXPECT_EQ(*ParseNumberValue("--min-accuracy", "0", Range::Between(0, 1)), 0.0);
  EXPECT_EQ(ParseNumberValue("--min-accuracy", "90", Range::Between(0, 1)).status().message(),
            "--min-accuracy must be ≥ 0.0 and ≤ 1.0, got 90");
  EXPECT_EQ(ParseNumberValue("--lr", "0", Range::Above(0)).status().message(), "--lr must be > 0.0, got 0");
  for (const char* bad : {"abc", "", "nan", "inf", "-inf", "1e999", "1.5x"})
    EXPECT_EQ(ParseNumberValue("--days", bad, Range::AtLeast(0)).status().message(),
              std::string("--days must be a number, got '") + bad + "'")
        << bad;
}

TEST(ParseDurationValue, CoreDurationsWithTheSameForm) {
  using std::chrono::microseconds, std::chrono::seconds, std::chrono::milliseconds;
  EXPECT_EQ(*ParseDurationValue("--interval", "1ms", microseconds(100), seconds(60)), milliseconds(1));
  EXPECT_EQ(*ParseDurationValue("--interval", "0.5", microseconds(100), seconds(60)), milliseconds(500));
  EXPECT_EQ(ParseDurationValue("--interval", "10us", microseconds(100), seconds(60)).status().message(),
            "--interval must be ≥ 100us and ≤ 60s, got 10us");
  EXPECT_EQ(ParseDurationValue("--interval", "fast", microseconds(100), seconds(60)).status().message(),
            "--interval must be a duration such as 100ms (units ns, us, ms, s, min), got 'fast'");
}

TEST(CheckChoice, NamesTheChoices) {
  EXPECT_TRUE(CheckChoice("--optimizer", "adam", {"sgd", "adam"}).ok());
  EXPECT_EQ(CheckChoice("--optimizer", "rmsprop", {"sgd", "adam"}).message(),
            "--optimizer must be one of sgd, adam, got 'rmsprop'");
}

// Parses `args` (without program and subcommand names) for subcommand "cmd".
void Parse(CLI::App& app, std::vector<std::string> args) {
  args.insert(args.begin(), "cmd");
  std::reverse(args.begin(), args.end());
  app.parse(args);
}

TEST(Options, BoundToCli11WithTheParsersMessages) {
  CLI::App app("test", "wattlab");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  CLI::App* cmd = AddCommand(&app, "cmd", "a command");
  int64_t batch = 128;
  std::optional<int64_t> params;
  double pue = 1.0;
  std::optional<double> days;
  std::string phase = "infer", out;
  std::vector<std::string> models;
  bool json = false;
  std::optional<std::chrono::nanoseconds> interval;
  AddCount(cmd, "--batch-size", &batch, 1, "B", "");
  CLI::Option* params_opt = AddCount(cmd, "--params", &params, 1, "N", "");
  AddNumber(cmd, "--pue", &pue, Range::AtLeast(1), "X", "");
  AddNumber(cmd, "--days", &days, Range::AtLeast(0), "D", "");
  AddChoice(cmd, "--phase", &phase, {"train", "infer"}, "");
  AddString(cmd, "-o,--output", &out, "FILE", "");
  AddStrings(cmd, "--model", &models, "NAME", "");
  AddFlag(cmd, "--json", &json, "");
  AddDuration(cmd, "--interval", &interval, std::chrono::microseconds(100), std::chrono::seconds(60), "DUR",
              "");

  Parse(app, {"--params", "1e6", "--pue=1.58", "--phase", "train", "-oX.json", "--model", "a", "--model", "b",
              "--json", "--interval", "1ms", "--batch-size", "8", "--batch-size", "2.5e1"});
  EXPECT_EQ(params, 1000000);
  EXPECT_TRUE(Given(params_opt));
  EXPECT_EQ(pue, 1.58);
  EXPECT_EQ(days, std::nullopt);  // not given: untouched
  EXPECT_EQ(phase, "train");
  EXPECT_EQ(out, "X.json");
  EXPECT_EQ(models, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(json);
  EXPECT_EQ(interval, std::chrono::milliseconds(1));
  EXPECT_EQ(batch, 25);  // the last value wins

  auto message = [&](std::vector<std::string> args) -> std::string {
    try {
      app.clear();
      Parse(app, std::move(args));
    } catch (const CLI::ValidationError& e) {
      return e.what();
    }
    return "(parsed)";
  };
  EXPECT_EQ(message({"--pue", "0.5"}), "--pue must be ≥ 1.0, got 0.5");
  EXPECT_EQ(message({"--params", "1.5"}), "--params must be a whole number, got 1.5");
  EXPECT_EQ(message({"--phase", "eval"}), "--phase must be one of train, infer, got 'eval'");
  EXPECT_EQ(message({"--days", "-1"}), "--days must be ≥ 0.0, got -1");
}

}  // namespace
}  // namespace wattlab::cli
