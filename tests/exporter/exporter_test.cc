#include "exporter/exporter.h"

#include <gtest/gtest.h>

namespace wattlab {
namespace {

TEST(ExporterListen, ParsesIpv4AndIpv6) {
  auto a = ParseListenAddress("127.0.0.1:9464");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9464);
  EXPECT_TRUE(a->loopback);
  EXPECT_EQ(a->ToString(), "127.0.0.1:9464");

  auto any = ParseListenAddress("0.0.0.0:0");
  ASSERT_TRUE(any.ok());
  EXPECT_FALSE(any->loopback);
  EXPECT_EQ(any->port, 0);

  auto v6 = ParseListenAddress("[::1]:9100");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_TRUE(v6->loopback);
  auto v6any = ParseListenAddress("[::]:9100");
  ASSERT_TRUE(v6any.ok());
  EXPECT_FALSE(v6any->loopback);
  EXPECT_TRUE(ParseListenAddress("127.1.2.3:1").value().loopback);
}

TEST(ExporterListen, RefusesWhatIsNotAnAddress) {
  for (const char* bad : {"", "9464", ":9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:94x4", "localhost:9464", "1.2.3:9464", "256.0.0.1:9464", "::1:9464",
                          "[::1]", "[zz::1]:9464", "1.2.3.4.5:80"}) {
    auto a = ParseListenAddress(bad);
    EXPECT_FALSE(a.ok()) << bad;
    if (!a.ok()) {
      EXPECT_EQ(a.status().kind(), Status::Kind::kInvalidArgument) << bad;
      EXPECT_NE(a.status().message().find("--listen"), std::string::npos) << a.status().message();
    }
  }
}

}  // namespace
}  // namespace wattlab
