#include "core/energy_basis.h"

#include <gtest/gtest.h>

namespace wattlab {
namespace {

TEST(EnergyBasis, OneWindowUsesAboveIdleWhenItHasIt) {
  EXPECT_EQ(WindowEnergyBasis(4.0), EnergyBasis::kAboveIdle);
  EXPECT_EQ(WindowEnergyBasis(-1.0), EnergyBasis::kAboveIdle);  // present, even when negative
  EXPECT_EQ(WindowEnergyBasis(std::nullopt), EnergyBasis::kTotal);
  EXPECT_STREQ(EnergyBasisField(EnergyBasis::kAboveIdle), "energy_above_idle_j");
  EXPECT_STREQ(EnergyBasisField(EnergyBasis::kTotal), "energy_j");
  EXPECT_STREQ(EnergyBasisName(EnergyBasis::kAboveIdle), "above-idle");
  EXPECT_STREQ(EnergyBasisName(EnergyBasis::kTotal), "total");
}

TEST(EnergyBasis, PerSampleDividesTheBasisFigure) {
  EXPECT_DOUBLE_EQ(*EnergyPerSample(10.0, 4.0, 8, EnergyBasis::kAboveIdle), 0.5);
  EXPECT_DOUBLE_EQ(*EnergyPerSample(10.0, 4.0, 8, EnergyBasis::kTotal), 1.25);
  EXPECT_FALSE(EnergyPerSample(10.0, std::nullopt, 8, EnergyBasis::kAboveIdle));
  EXPECT_FALSE(EnergyPerSample(10.0, 4.0, 0, EnergyBasis::kTotal));
  EXPECT_FALSE(EnergyPerSample(10.0, 4.0, -3, EnergyBasis::kAboveIdle));
}

}  // namespace
}  // namespace wattlab

namespace wattlab {
namespace {

RunRow Row(std::optional<double> above, std::optional<bool> busy) {
  RunRow r;
  r.energy_j = 10;
  r.energy_above_idle_j = above;
  r.idle_busy = busy;
  return r;
}

TEST(EnergyBasisChoice, AutoIsAboveIdleOnQuietBaselines) {
  auto c = ChooseEnergyBasis(EnergyBasisRequest::kAuto, {Row(4, false), Row(3, std::nullopt)});
  EXPECT_EQ(c.basis, EnergyBasis::kAboveIdle);
  EXPECT_TRUE(c.automatic);
  EXPECT_NE(c.reason.find("auto"), std::string::npos);
}

TEST(EnergyBasisChoice, AutoIsTotalForTheWholeInputWhenAnyBaselineWasBusy) {
  auto c = ChooseEnergyBasis(EnergyBasisRequest::kAuto, {Row(4, false), Row(0.01, true), Row(5, false)});
  EXPECT_EQ(c.basis, EnergyBasis::kTotal);
  EXPECT_NE(c.reason.find("1 of 3 window(s) rest on an idle baseline measured while the machine was busy"),
            std::string::npos)
      << c.reason;
}

TEST(EnergyBasisChoice, AutoIsTotalWhenAWindowHasNoBaseline) {
  auto c = ChooseEnergyBasis(EnergyBasisRequest::kAuto, {Row(4, false), Row(std::nullopt, std::nullopt)});
  EXPECT_EQ(c.basis, EnergyBasis::kTotal);
  EXPECT_NE(c.reason.find("no idle baseline"), std::string::npos);
}

TEST(EnergyBasisChoice, ExplicitRequestsAreTakenAsGiven) {
  auto a = ChooseEnergyBasis(EnergyBasisRequest::kAboveIdle, {Row(4, true)});
  EXPECT_EQ(a.basis, EnergyBasis::kAboveIdle);
  EXPECT_FALSE(a.automatic);
  EXPECT_EQ(a.reason, "--energy above-idle");
  EXPECT_EQ(ChooseEnergyBasis(EnergyBasisRequest::kTotal, {Row(4, false)}).basis, EnergyBasis::kTotal);
}

TEST(EnergyBasisChoice, FlagSpellings) {
  EXPECT_EQ(ParseEnergyBasisRequest("auto"), EnergyBasisRequest::kAuto);
  EXPECT_EQ(ParseEnergyBasisRequest("above-idle"), EnergyBasisRequest::kAboveIdle);
  EXPECT_EQ(ParseEnergyBasisRequest("total"), EnergyBasisRequest::kTotal);
  EXPECT_FALSE(ParseEnergyBasisRequest("above_idle"));
  EXPECT_EQ(EnergyBasisChoices(), (std::vector<std::string>{"auto", "above-idle", "total"}));
}

TEST(ShowAboveIdle, RoundOffIsZeroAndNegativeIsZeroWithTheReason) {
  EXPECT_EQ(ShowAboveIdle(12.5, 3.9968e-15).value_j, 0.0);
  EXPECT_EQ(ShowAboveIdle(12.5, -3.47e-18).value_j, 0.0);
  EXPECT_EQ(ShowAboveIdle(12.5, -3.47e-18).note, "");  // round-off needs no reason
  EXPECT_DOUBLE_EQ(ShowAboveIdle(12.5, 2.5).value_j, 2.5);
  auto neg = ShowAboveIdle(98.0, -0.046);  // measure --subtract-idle on a busy machine
  EXPECT_EQ(neg.value_j, 0.0);
  EXPECT_DOUBLE_EQ(neg.below_idle_j, 0.046);
  EXPECT_NE(neg.note.find("0.046 J less than the idle baseline"), std::string::npos) << neg.note;
  EXPECT_EQ(ZeroRoundOff(12.5, 1e-12), 0.0);
  EXPECT_EQ(ZeroRoundOff(12.5, -0.1), -0.1);
  EXPECT_EQ(ZeroRoundOff(12.5, 1.3e-8), 1.3e-8);  // 1e-9 x 12.5 = 1.25e-8
}

TEST(EnergyBasis, OneWindowAsCommandsPrintIt) {
  EXPECT_EQ(WindowEnergyBasis(10, 4.0, false), EnergyBasis::kAboveIdle);
  EXPECT_EQ(WindowEnergyBasis(10, 4.0, true), EnergyBasis::kTotal);    // busy baseline
  EXPECT_EQ(WindowEnergyBasis(10, -0.1, false), EnergyBasis::kTotal);  // nothing above idle
  EXPECT_EQ(WindowEnergyBasis(10, 1e-15, false), EnergyBasis::kTotal);
  EXPECT_EQ(WindowEnergyBasis(10, std::nullopt, false), EnergyBasis::kTotal);
}

}  // namespace
}  // namespace wattlab
