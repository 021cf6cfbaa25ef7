#include <gtest/gtest.h>

#include "core/energy_basis.h"

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
