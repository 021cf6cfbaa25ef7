#include <gtest/gtest.h>
#include "workload/zoo/zoo.h"
TEST(Zoo, Placeholder) { EXPECT_TRUE(true); }
