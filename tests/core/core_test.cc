#include <gtest/gtest.h>

#include "core/strings.h"
#include "wattlab/status.h"
#include "wattlab/workload.h"

namespace wattlab {
namespace {

TEST(Status, CarriesKindAndContext) {
  Status s = Status::PermissionDenied("energy_uj is root-only").WithContext("rapl-powercap");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), Status::Kind::kPermissionDenied);
  EXPECT_EQ(s.ToString(), "PermissionDenied: rapl-powercap: energy_uj is root-only");
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}
Result<int> Quarter(int x) {
  WATTLAB_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
}

TEST(Strings, SplitJoinTrim) {
  EXPECT_EQ(Split("a,b,,c", ',').size(), 4u);
  EXPECT_EQ(Join({"a", "b"}, "+"), "a+b");
  EXPECT_EQ(TrimCopy("  x \n"), "x");
}

TEST(Strings, Numbers) {
  EXPECT_EQ(ParseInt("42"), 42);
  EXPECT_FALSE(ParseInt("42x"));
  EXPECT_FALSE(ParseNumber(""));
  EXPECT_DOUBLE_EQ(*ParseNumber("1e-3"), 1e-3);
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(11173962), "11173962");
}

TEST(Strings, Durations) {
  std::string err;
  EXPECT_EQ(ParseDurationNs("100ms", &err), 100000000);
  EXPECT_EQ(ParseDurationNs("1ms", &err), 1000000);
  EXPECT_EQ(ParseDurationNs("2", &err), 2000000000);
  EXPECT_FALSE(ParseDurationNs("fast", &err));
  EXPECT_NE(err.find("ms"), std::string::npos);
}

TEST(Csv, RoundTripsQuotedFields) {
  std::string line = CsvEscape("a,b") + "," + CsvEscape("say \"hi\"") + ",plain\n1,,3\n";
  std::string err;
  auto rows = ParseCsv(line, &err);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0][0], "a,b");
  EXPECT_EQ((*rows)[0][1], "say \"hi\"");
  EXPECT_EQ((*rows)[1][1], "");
  EXPECT_FALSE(ParseCsv("\"open", &err));
}

// Found by tests/fuzz/flags_fuzz (corpus/flags/crash-duration-overflow): a
// duration past int64 nanoseconds came back as INT64_MIN, i.e. negative.
TEST(Duration, BeyondInt64NanosecondsIsRefused) {
  std::string err;
  EXPECT_FALSE(ParseDurationNs("222222222222222222", &err));
  EXPECT_NE(err.find("292 years"), std::string::npos) << err;
  EXPECT_FALSE(ParseDurationNs("9300000000000000000ns", &err));
  EXPECT_FALSE(ParseDurationNs("200000000000min", &err));
  EXPECT_EQ(ParseDurationNs("9000000000s", &err), int64_t{9000000000} * 1000000000);
}

// Found by tests/fuzz/csv_fuzz (corpus/csv/crash-quoted-empty-last-line): a
// last line `""` without its newline became a row of one empty field, while
// the same line with a newline is blank; re-serialising changed the rows.
TEST(Csv, QuotedEmptyLastLineIsBlankLikeAnyOther) {
  std::string err;
  auto with_newline = ParseCsv("a,b\n\"\"\n", &err);
  auto without = ParseCsv("a,b\n\"\"", &err);
  ASSERT_TRUE(with_newline && without);
  EXPECT_EQ(with_newline->size(), 1u);
  EXPECT_EQ(*without, *with_newline);
  auto both = ParseCsv(std::string(") .\0\0\n\"\"", 8), &err);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->size(), 1u);
}

TEST(Shape, Parses) {
  auto s = ParseShape("3x32x32");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ToString(), "3x32x32");
  EXPECT_FALSE(ParseShape("3x32").ok());
  EXPECT_FALSE(ParseShape("0x32x32").ok());
}

}  // namespace
}  // namespace wattlab
