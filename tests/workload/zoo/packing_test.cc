// packing_test: convolution weights packed once for inference
// (src/workload/zoo/packing.h). The packed forward computes what the plain
// one does (same layers, same arithmetic, float rounding apart) on models
// with dense, strided, depthwise, grouped, 5x5 and 1x1 convolutions; the
// rule leaves 1x1 stride-1 convolutions at batch < 16 on one thread to
// libtorch; nothing is packed where packing cannot apply (bf16, autocast,
// oneDNN disabled); scopes end and nest.
#include "workload/zoo/packing.h"

#include <ATen/autocast_mode.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <string>

#include "workload/zoo/net.h"
#include "workload/zoo/ops.h"
#include "workload/zoo/zoo.h"

namespace wattlab::zoo {
namespace {

std::shared_ptr<Net> Eval(const std::string& name, const Shape& in = {3, 32, 32}) {
  auto r = Build(name, in, 10);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  (*r)->eval();
  return *r;
}

class PackingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    threads_ = at::get_num_threads();
    at::set_num_threads(2);
  }
  void TearDown() override { at::set_num_threads(threads_); }
  int threads_ = 1;
};

// Same logits as the plain forward, for every batch shape the window runs
// (the planned batch and a smaller last one), and every convolution packed
// at two threads.
TEST_F(PackingTest, PackedForwardMatchesPlainOnEveryConvolutionKind) {
  ASSERT_TRUE(ConvPackingAvailable()) << "libtorch without oneDNN: packing cannot be tested here";
  struct Case {
    const char* model;
    int64_t convs;
  };
  // resnet18: 3x3 dense, strided, 1x1 shortcuts; mobilenetv2: depthwise and
  // 1x1; lenet: 5x5 narrow; resnext29_2x64d: grouped; regnetx_200mf: groups
  // of 8 channels.
  for (const Case& c : {Case{"resnet18", 20}, Case{"mobilenetv2", 57}, Case{"lenet", 2},
                        Case{"resnext29_2x64d", 0}, Case{"regnetx_200mf", 0}}) {
    SCOPED_TRACE(c.model);
    auto net = Eval(c.model);
    torch::manual_seed(3);
    at::Tensor x = at::randn({3, 3, 32, 32});
    c10::InferenceMode guard;
    const at::Tensor plain = net->forward(x);
    const at::Tensor plain_last = net->forward(x.narrow(0, 0, 1));
    ConvPacking packing(*net, x);
    EXPECT_GT(packing.convs(), 0);
    if (c.convs > 0) EXPECT_EQ(packing.convs(), c.convs);
    EXPECT_EQ(packing.packed(), packing.convs());  // two threads: every one
    const at::Tensor packed = net->forward(x);
    const at::Tensor packed_last = net->forward(x.narrow(0, 0, 1));
    EXPECT_FALSE(packed.is_mkldnn());
    EXPECT_EQ(packed.sizes(), plain.sizes());
    EXPECT_TRUE(at::allclose(packed, plain, 1e-4, 1e-5)) << (packed - plain).abs().max().item<float>();
    EXPECT_TRUE(at::allclose(packed_last, plain_last, 1e-4, 1e-5));
  }
}

// One thread, batch 1: libtorch's own rule keeps 1x1 stride-1 convolutions
// off oneDNN (measured faster there), so they stay plain.
TEST_F(PackingTest, OneByOneConvolutionsAtOneThreadStayPlain) {
  at::set_num_threads(1);
  auto net = Eval("mobilenetv2");
  at::Tensor x = at::randn({1, 3, 32, 32});
  c10::InferenceMode guard;
  ConvPacking packing(*net, x);
  EXPECT_GT(packing.packed(), 0);
  EXPECT_LT(packing.packed(), packing.convs());
  // Direct: the rule on single layers.
  const at::Tensor w1 = at::randn({16, 8, 1, 1}), w3 = at::randn({16, 8, 3, 3});
  EXPECT_FALSE(PackableConv(w1, {1, 8, 8, 8}, {1, 1}, {1, 1}, 1));
  EXPECT_TRUE(PackableConv(w1, {1, 8, 8, 8}, {2, 2}, {1, 1}, 1));   // strided
  EXPECT_TRUE(PackableConv(w1, {16, 8, 8, 8}, {1, 1}, {1, 1}, 1));  // batch >= 16
  EXPECT_TRUE(PackableConv(w1, {1, 8, 8, 8}, {1, 1}, {1, 1}, 2));   // two threads
  EXPECT_TRUE(PackableConv(w3, {1, 8, 4, 4}, {1, 1}, {1, 1}, 1));   // small batch-1 input: packed
  EXPECT_FALSE(PackableConv(w3.to(at::kBFloat16), {1, 8, 4, 4}, {1, 1}, {1, 1}, 2));
}

// Where packing cannot apply, nothing is packed and the forward is the plain one.
TEST_F(PackingTest, NothingPackedForBf16AutocastOrOneDnnOff) {
  auto net = Eval("lenet");
  at::Tensor x = at::randn({2, 3, 32, 32});
  c10::InferenceMode guard;
  {
    auto bf = Eval("lenet");
    bf->to(at::kBFloat16);
    ConvPacking p(*bf, x.to(at::kBFloat16));
    EXPECT_EQ(p.packed(), 0);
    EXPECT_EQ(p.convs(), 2);  // counted, not packed
  }
  {
    at::autocast::set_cpu_enabled(true);
    ConvPacking p(*net, x);
    at::autocast::set_cpu_enabled(false);
    EXPECT_EQ(p.packed(), 0);
  }
  {
    const at::Tensor before = net->forward(x);
    at::globalContext().setUserEnabledMkldnn(false);
    ConvPacking p(*net, x);
    EXPECT_EQ(p.packed(), 0);
    const at::Tensor inside = net->forward(x);  // libtorch's own path, oneDNN off
    at::globalContext().setUserEnabledMkldnn(true);
    EXPECT_TRUE(at::allclose(inside, before, 1e-4, 1e-5));
  }
}

// A net that throws in the middle of its forward pass (after a convolution).
struct ThrowingNet : Net {
  ThrowingNet() { conv = register_module("conv", MakeConv(3, 4, 3, 1, 1)); }
  torch::Tensor forward(torch::Tensor x) override {
    (void)Conv(conv, x);
    throw std::runtime_error("boom");
  }
  torch::nn::Conv2d conv{nullptr};
};

// A throw while packing (here the first pass) leaves no scope in force.
TEST_F(PackingTest, AThrowWhilePackingLeavesNoScopeBehind) {
  auto outer_net = Eval("lenet");
  ThrowingNet bad;
  bad.eval();
  at::Tensor x = at::randn({1, 3, 32, 32});
  c10::InferenceMode guard;
  ConvPacking outer(*outer_net, x);
  EXPECT_THROW(ConvPacking inner(bad, x), std::runtime_error);
  EXPECT_EQ(detail::t_conv_packing, &outer);
}

// A scope is in force until it ends; an inner scope wins and hands back to
// the outer one.
TEST_F(PackingTest, ScopesEndAndNest) {
  auto a = Eval("lenet");
  auto b = Eval("lenet");
  at::Tensor x = at::randn({2, 3, 32, 32});
  c10::InferenceMode guard;
  EXPECT_EQ(detail::t_conv_packing, nullptr);
  {
    ConvPacking outer(*a, x);
    EXPECT_EQ(detail::t_conv_packing, &outer);
    {
      ConvPacking inner(*b, x);
      EXPECT_EQ(detail::t_conv_packing, &inner);
      EXPECT_EQ(inner.packed(), 2);
    }
    EXPECT_EQ(detail::t_conv_packing, &outer);
  }
  EXPECT_EQ(detail::t_conv_packing, nullptr);
}

}  // namespace
}  // namespace wattlab::zoo
