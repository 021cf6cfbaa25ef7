// The window protocol's line parser (core/control_protocol.h): every verb,
// what is tolerated (spaces, CR, comments) and what is refused.
#include "core/control_protocol.h"

#include <gtest/gtest.h>

namespace wattlab {
namespace {

using Kind = ControlCommand::Kind;

TEST(ControlProtocol, ParsesEveryVerb) {
  auto b = ParseControlLine("begin epoch 1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->kind, Kind::kBegin);
  EXPECT_EQ(b->name, "epoch 1");
  auto e = ParseControlLine("end  epoch 1\r");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->kind, Kind::kEnd);
  EXPECT_EQ(e->name, "epoch 1");
  auto s = ParseControlLine("samples 128");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, Kind::kSamples);
  EXPECT_EQ(s->samples, 128);
  auto m = ParseControlLine("meta lr 0.001 then 0.0001");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind, Kind::kMeta);
  EXPECT_EQ(m->name, "lr");
  EXPECT_EQ(m->value, "0.001 then 0.0001");
  auto m2 = ParseControlLine("meta empty");
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->value, "");
}

TEST(ControlProtocol, BlankAndCommentLinesAreNothing) {
  for (const char* l : {"", "   ", "\r", "# a comment", "  # indented"}) {
    auto r = ParseControlLine(l);
    ASSERT_TRUE(r.ok()) << l;
    EXPECT_EQ(r->kind, Kind::kNone) << l;
  }
}

TEST(ControlProtocol, RefusesMalformedLinesWithAReason) {
  struct Case {
    const char* line;
    const char* why;
  } cases[] = {
      {"begin", "begin needs a window name"},
      {"end   ", "end needs a window name"},
      {"samples", "samples needs a whole number >= 0"},
      {"samples -3", "samples needs a whole number >= 0"},
      {"samples 1.5", "samples needs a whole number >= 0"},
      {"samples 12 apples", "samples needs a whole number >= 0"},
      {"meta", "meta needs a key"},
      {"start train", "unknown command 'start' (expected begin, end, samples or meta)"},
      {"BEGIN x", "unknown command 'BEGIN' (expected begin, end, samples or meta)"},
  };
  for (const auto& c : cases) {
    auto r = ParseControlLine(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.why) << c.line;
  }
  std::string nul = std::string("begin a") + '\0' + "b";
  EXPECT_FALSE(ParseControlLine(nul).ok());
  EXPECT_FALSE(ParseControlLine("begin " + std::string(kMaxControlLineBytes, 'x')).ok());
  EXPECT_TRUE(ParseControlLine("begin " + std::string(kMaxControlLineBytes - 6, 'x')).ok());
}

// Found by tests/fuzz/protocol_fuzz (corpus/protocol/crash-cr-before-name):
// a '\r' after the verb was part of the window name ("\r\r\t\r1"), while the
// same '\r' at the end of the line is dropped. '\r' is a blank everywhere.
TEST(ControlProtocol, CarriageReturnIsBlankBeforeTheNameToo) {
  auto c = ParseControlLine(std::string("begin   \t\t\t\r\r\r\t\r1\r"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, ControlCommand::Kind::kBegin);
  EXPECT_EQ(c->name, "1");
  auto m = ParseControlLine("meta\rkey\rvalue");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "key");
  EXPECT_EQ(m->value, "value");
}

}  // namespace
}  // namespace wattlab
