// zoo_test: parameter counts against reference figures, the analytic counter
// against the traced counter on every zoo model and several family specs,
// the torch-free catalog (src/catalog) against both on every model and a
// spread of family specs, hand-computed MACs for single layers, known MAC
// figures, and bad input.
// Each model is built once (the parameterised test does all checks on it).
#include "workload/zoo/zoo.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "workload/zoo/net.h"

namespace wattlab::zoo {
namespace {

const nlohmann::json& Reference() {
  static const nlohmann::json kRef = [] {
    std::ifstream in(std::string(WATTLAB_FIXTURES) + "/zoo/reference_counts.json");
    EXPECT_TRUE(in.good()) << "missing tests/fixtures/zoo/reference_counts.json";
    nlohmann::json j;
    in >> j;
    return j;
  }();
  return kRef;
}

OpCounts Traced(Net& net, const Shape& input) {
  net.eval();
  auto r = CountTraced([&](const torch::Tensor& x) { return net.forward(x); }, input);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r.value() : OpCounts{};
}

int64_t Kind(const std::map<std::string, int64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

struct Case {
  std::string name;
  Shape input;
  int64_t classes;
};

// Builds once; checks params against the reference (when it has the model),
// analytic == traced for every kind, and the head's output shape. Models are
// grouped into a few tests (not one test each) because every test process
// pays ~1 s of libtorch start-up under ctest.
void CheckModel(const Case& c) {
  SCOPED_TRACE(c.name + " " + c.input.ToString() + " classes=" + std::to_string(c.classes));
  auto net = BuildZooNet(c.name, c.input, c.classes);
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  auto analytic = CountAnalyticOf(**net, c.name, c.input, c.classes);
  ASSERT_TRUE(analytic.ok()) << analytic.status().ToString();
  const auto& models = Reference().at("models");
  if (models.contains(c.name) && c.input == NativeInput(c.name).value() &&
      c.classes == NativeClasses(c.name)) {
    const auto& ref = models.at(c.name);
    EXPECT_EQ(analytic->params, ref.at("params").get<int64_t>()) << ref.value("source", "");
    if (ref.contains("conv_macs")) {
      EXPECT_EQ(Kind(analytic->macs_by_kind, "conv"), ref.at("conv_macs").get<int64_t>());
      EXPECT_EQ(Kind(analytic->macs_by_kind, "linear"), ref.at("linear_macs").get<int64_t>());
    }
  }
  EXPECT_EQ(analytic->counter, "analytic");
  EXPECT_GT(analytic->macs, 0);
  EXPECT_NEAR(analytic->macs_per_param, double(analytic->macs) / double(analytic->params), 1e-9);

  OpCounts traced = Traced(**net, c.input);
  EXPECT_EQ(analytic->macs, traced.macs);
  for (const char* k : {"conv", "linear", "matmul"}) {
    EXPECT_EQ(Kind(analytic->macs_by_kind, k), Kind(traced.macs_by_kind, k)) << k;
  }
  // The non-MAC kinds follow the same convention on both sides too.
  EXPECT_EQ(analytic->macs_by_kind, traced.macs_by_kind);
  EXPECT_TRUE(traced.macs_by_kind.count("conv") && traced.macs_by_kind.count("linear"));

  // The catalog counts without libtorch: it must give the torch counters'
  // figures exactly, or (fixed models away from their native input and
  // classes) say that it does not know them.
  auto cat = catalog::CountModel(c.name, c.input, c.classes);
  const bool native = c.input == NativeInput(c.name).value() && c.classes == NativeClasses(c.name);
  if (catalog::CountedByFormula(c.name) || native) {
    EXPECT_TRUE(cat.ok()) << cat.status().ToString();
    if (cat.ok()) {
      EXPECT_EQ(cat->params, analytic->params);
      EXPECT_EQ(cat->macs, analytic->macs);
      EXPECT_EQ(cat->macs, traced.macs);
      EXPECT_EQ(cat->macs_by_kind, analytic->macs_by_kind);
      EXPECT_EQ(cat->macs_by_kind, traced.macs_by_kind);
      EXPECT_EQ(cat->input, c.input);
      EXPECT_EQ(cat->classes, c.classes);
    }
  } else {
    EXPECT_EQ(cat.status().kind(), Status::Kind::kNotSupported) << cat.status().ToString();
  }

  torch::NoGradGuard no_grad;
  auto y = (*net)->forward(torch::zeros({2, c.input.c, c.input.h, c.input.w}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, c.classes}));
}

std::vector<Case> Native(size_t from, size_t to) {
  std::vector<Case> cases;
  auto names = Names();
  for (size_t i = from; i < to && i < names.size(); ++i) {
    cases.push_back({names[i], NativeInput(names[i]).value(), NativeClasses(names[i])});
  }
  return cases;
}

TEST(EveryModel, CifarStudyModels) {
  for (const auto& c : Native(0, 16)) CheckModel(c);
}

TEST(EveryModel, ImagenetModels) {
  for (const auto& c : Native(16, 21)) CheckModel(c);
}

TEST(EveryModel, FamilyExamplesAndSpecs) {
  for (const auto& c : Native(21, 24)) CheckModel(c);
  CheckModel({"mlp:depth=1,width=32", {1, 28, 28}, 10});
  CheckModel({"resnet:depth=8,width=8", {3, 32, 32}, 10});
  CheckModel({"resnet:depth=32,width=4", {1, 28, 28}, 10});
  CheckModel({"transformer:layers=2,d_model=32,heads=4,seq=16", {1, 28, 28}, 10});
  CheckModel({"transformer:layers=1,d_model=8,heads=2,seq=4", {3, 4, 4}, 10});
}

// The catalog's family formulas against both torch counters, away from the
// examples: odd and non-square inputs, one channel, other class counts.
TEST(EveryModel, CatalogFamilySpread) {
  CheckModel({"mlp:depth=1,width=1", {3, 32, 32}, 10});
  CheckModel({"mlp:depth=2,width=128", {1, 28, 28}, 3});
  CheckModel({"mlp:depth=5,width=64", {3, 17, 9}, 10});
  CheckModel({"resnet:depth=14,width=4", {1, 28, 28}, 10});
  CheckModel({"resnet:depth=8,width=3", {3, 7, 5}, 2});
  CheckModel({"resnet:depth=20,width=16", {3, 64, 48}, 100});
  CheckModel({"transformer:layers=3,d_model=24,heads=3,seq=9", {3, 27, 27}, 10});
  CheckModel({"transformer:layers=1,d_model=16,heads=16,seq=4", {2, 6, 10}, 5});
  CheckModel({"transformer:layers=2,d_model=64,heads=1,seq=64", {3, 32, 32}, 10});
}

// Other shapes and class counts: the classifier adapts; both counters agree.
TEST(EveryModel, NonNativeShapesAndClasses) {
  CheckModel({"resnet18", {1, 28, 28}, 10});
  CheckModel({"lenet", {3, 64, 48}, 7});
  CheckModel({"mobilenetv2", {3, 64, 64}, 100});
  CheckModel({"imagenet/resnet18", {3, 32, 32}, 10});
}

TEST(Zoo, NamesCoverTheStudyAndImagenetAndFamilies) {
  auto names = Names();
  EXPECT_EQ(names.size(), 16u + 5u + 3u);
  EXPECT_EQ(names[0], "lenet");
  EXPECT_NE(std::find(names.begin(), names.end(), "imagenet/resnet50"), names.end());
  EXPECT_EQ(NativeInput("imagenet/vgg16").value(), (Shape{3, 224, 224}));
  EXPECT_EQ(NativeInput("pnasnet").value(), (Shape{3, 32, 32}));
  EXPECT_EQ(NativeClasses("imagenet/vgg16"), 1000);
  EXPECT_EQ(NativeClasses("resnet:depth=20,width=16"), 10);
}

// ---- single layers, hand-computed ----

// Runs one module through both counters on `input`.
template <class M>
std::pair<OpCounts, Tally> BothCounts(M& layer, const Shape& input) {
  constexpr bool kLinear = std::is_same_v<M, torch::nn::Linear>;
  auto traced = CountTraced(
      [&](const torch::Tensor& x) {
        if constexpr (kLinear) {
          return Lin(layer, Flatten(x));
        } else {
          return Conv(layer, x);
        }
      },
      input);
  EXPECT_TRUE(traced.ok()) << traced.status().ToString();
  Tally t;
  Sym s{{1, input.c, input.h, input.w}, &t};
  if constexpr (kLinear) {
    Lin(layer, Flatten(s));
  } else {
    Conv(layer, s);
  }
  return {traced.ok() ? traced.value() : OpCounts{}, t};
}

TEST(Counting, PlainConv) {
  auto conv = MakeConv(16, 32, 3, 1, 1);  // 16->32, 3x3, pad 1 on 8x8: out 32x8x8
  auto [traced, tally] = BothCounts(conv, {16, 8, 8});
  const int64_t expected = 32 * 16 * 3 * 3 * 8 * 8;  // 294,912
  EXPECT_EQ(traced.macs, expected);
  EXPECT_EQ(tally.by_kind["conv"], expected);
}

TEST(Counting, StridedConvWithBiasCountsNoBias) {
  auto conv = MakeConv(3, 8, 5, 2, 0, 1, /*bias=*/true);  // 3x11x11 -> 8x4x4
  auto [traced, tally] = BothCounts(conv, {3, 11, 11});
  const int64_t expected = 8 * 3 * 5 * 5 * 4 * 4;  // 9,600
  EXPECT_EQ(traced.macs, expected);
  EXPECT_EQ(tally.by_kind["conv"], expected);
}

TEST(Counting, GroupedConv) {
  auto conv = MakeConv(16, 32, 3, 1, 1, /*groups=*/4);
  auto [traced, tally] = BothCounts(conv, {16, 8, 8});
  const int64_t expected = 32 * (16 / 4) * 3 * 3 * 8 * 8;  // 73,728
  EXPECT_EQ(traced.macs, expected);
  EXPECT_EQ(tally.by_kind["conv"], expected);
}

TEST(Counting, DepthwiseConv) {
  auto conv = MakeConv(16, 16, 3, 2, 1, /*groups=*/16);  // 8x8 -> 4x4
  auto [traced, tally] = BothCounts(conv, {16, 8, 8});
  const int64_t expected = 16 * 1 * 3 * 3 * 4 * 4;  // 2,304
  EXPECT_EQ(traced.macs, expected);
  EXPECT_EQ(tally.by_kind["conv"], expected);
}

TEST(Counting, Linear) {
  auto fc = MakeLinear(48, 10);
  auto [traced, tally] = BothCounts(fc, {3, 4, 4});
  EXPECT_EQ(traced.macs, 480);
  EXPECT_EQ(traced.macs_by_kind.at("linear"), 480);
  EXPECT_EQ(traced.macs_by_kind.at("conv"), 0);
  EXPECT_EQ(tally.by_kind["linear"], 480);
}

// One pre-norm encoder layer, d_model 8, 2 heads, 4 tokens of 2x2x3 patches.
TEST(Counting, AttentionBlockByHand) {
  const std::string name = "transformer:layers=1,d_model=8,heads=2,seq=4";
  auto f = CountAnalytic(name, {3, 4, 4}, 10);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const int64_t S = 4, D = 8, H = 2, dh = 4, P = 12;
  const int64_t linear = S * P * D                  // patch embedding
                         + S * D * 3 * D            // qkv
                         + S * D * D                // output projection
                         + S * D * 4 * D * 2        // MLP
                         + D * 10;                  // head
  const int64_t matmul = H * S * S * dh * 2;        // QK^T and AV
  EXPECT_EQ(f->macs_by_kind.at("linear"), linear);  // 3,536
  EXPECT_EQ(f->macs_by_kind.at("matmul"), matmul);  // 256
  EXPECT_EQ(f->macs, linear + matmul);
  EXPECT_EQ(f->macs_by_kind.at("norm"), 3 * S * D);                             // two pre-norms + final
  EXPECT_EQ(f->macs_by_kind.at("act"), H * S * S + S * 4 * D);                  // softmax + GELU
  EXPECT_EQ(f->macs_by_kind.at("elementwise"), S * D + H * S * S + 2 * S * D);  // pos, scale, residuals
  EXPECT_EQ(f->macs_by_kind.at("pool"), S * D);                                 // mean over tokens
}

// ---- known figures ----

TEST(Counting, KnownMacFigures) {
  // torchvision resnet18 ~1.814 GMAC, resnet50 ~4.09 GMAC at 224x224 (published, e.g. ptflops/fvcore).
  auto r18 = CountAnalytic("imagenet/resnet18", {3, 224, 224}, 1000);
  ASSERT_TRUE(r18.ok());
  EXPECT_NEAR(r18->macs / 1e9, 1.814, 0.002);
  auto r50 = CountAnalytic("imagenet/resnet50", {3, 224, 224}, 1000);
  ASSERT_TRUE(r50.ok());
  EXPECT_NEAR(r50->macs / 1e9, 4.09, 0.005);
  // kuangliu ResNet18 at 32x32: ~0.556 GMAC.
  auto c18 = CountAnalytic("resnet18", {3, 32, 32}, 10);
  ASSERT_TRUE(c18.ok());
  EXPECT_NEAR(c18->macs / 1e9, 0.556, 0.001);
  EXPECT_EQ(c18->params, 11173962);
}

TEST(Counting, FrozenParametersAreNotTrainable) {
  auto net = Build("lenet", {3, 32, 32}, 10);
  ASSERT_TRUE(net.ok());
  EXPECT_EQ(CountTrainableParams(**net), 62006);
  for (auto& p : (*net)->named_parameters()) {
    if (p.key().find("conv1") == 0) p.value().set_requires_grad(false);
  }
  EXPECT_EQ(CountTrainableParams(**net), 62006 - (3 * 6 * 25 + 6));
}

// ---- bad input ----

TEST(BadInput, UnknownNameListsValidNamesAndForms) {
  auto r = Build("resnet19", {3, 32, 32}, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(r.status().message().find("resnet18"), std::string::npos);
  EXPECT_NE(r.status().message().find("imagenet/resnet50"), std::string::npos);
  EXPECT_NE(r.status().message().find("mlp:depth=D,width=W"), std::string::npos);
  EXPECT_FALSE(NativeInput("resnet19").ok());
  EXPECT_FALSE(CountAnalytic("vgg", {3, 32, 32}, 10).ok());
}

TEST(BadInput, TooSmallInputSaysTheMinimum) {
  auto r = Build("resnet18", {3, 8, 8}, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument);
  // Three stride-2 stages then avg_pool(4): 25x25 is the smallest that leaves a 4x4 map.
  EXPECT_NE(r.status().message().find("smallest square input it takes is 3x25x25"), std::string::npos)
      << r.status().message();
  auto g = Build("googlenet", {3, 16, 16}, 10);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("smallest square input"), std::string::npos);
  auto t = Build("transformer:layers=1,d_model=8,heads=2,seq=16", {1, 30, 30}, 10);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("multiples of 4"), std::string::npos) << t.status().message();
  EXPECT_FALSE(Build("lenet", {3, 0, 32}, 10).ok());
  EXPECT_FALSE(Build("lenet", {3, 32, 32}, 0).ok());
  // The traced counter reports a forward pass that fails instead of throwing.
  auto net = Build("lenet", {3, 32, 32}, 10);
  ASSERT_TRUE(net.ok());
  auto traced = CountTraced([&](const torch::Tensor& x) { return (*net)->forward(x); }, {1, 32, 32});
  ASSERT_FALSE(traced.ok());
  EXPECT_EQ(traced.status().kind(), Status::Kind::kInvalidArgument);
}

TEST(BadInput, FamilySpecErrors) {
  auto msg = [](const std::string& spec) {
    auto r = Build(spec, {3, 32, 32}, 10);
    EXPECT_FALSE(r.ok()) << spec;
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument) << spec;
    return r.status().message();
  };
  EXPECT_NE(msg("mlp:depth=3").find("missing width"), std::string::npos);
  EXPECT_NE(msg("mlp:depth=three,width=8").find("must be an integer"), std::string::npos);
  EXPECT_NE(msg("mlp:depth=2,width=8,height=3").find("unknown key 'height'"), std::string::npos);
  EXPECT_NE(msg("mlp:depth=0,width=8").find("between 1 and"), std::string::npos);
  EXPECT_NE(msg("resnet:depth=21,width=16").find("6n+2"), std::string::npos);
  EXPECT_NE(msg("transformer:layers=2,d_model=30,heads=4,seq=16").find("divisible by heads"),
            std::string::npos);
  EXPECT_NE(msg("transformer:layers=2,d_model=32,heads=4,seq=15").find("square number"), std::string::npos);
  EXPECT_NE(msg("transformer:layers=2,d_model=32,heads=4").find("missing seq"), std::string::npos);
  EXPECT_NE(msg("cnn:depth=3").find("unknown model"), std::string::npos);
}

}  // namespace
}  // namespace wattlab::zoo

namespace wattlab::zoo {
namespace {

// ---- split points (wattlab place) ----------------------------------------------

TEST(SplitPoints, MobileNetV2BlockBoundaries) {
  auto sp = SplitPoints("mobilenetv2", Shape{3, 32, 32}, 10);
  ASSERT_TRUE(sp.ok()) << sp.status().message();
  // The stem's output, then the output of each of the 17 inverted blocks
  // (CIFAR strides: 32x32 until the third stage).
  const std::vector<int64_t> want = {32 * 32 * 32,                                          // before block0
                                     16 * 32 * 32,                                          // block0
                                     24 * 32 * 32, 24 * 32 * 32,                            // blocks 1-2
                                     32 * 16 * 16, 32 * 16 * 16, 32 * 16 * 16,              // 3-5
                                     64 * 8 * 8,   64 * 8 * 8,   64 * 8 * 8,   64 * 8 * 8,  // 6-9
                                     96 * 8 * 8,   96 * 8 * 8,   96 * 8 * 8,                // 10-12
                                     160 * 4 * 4,  160 * 4 * 4,  160 * 4 * 4,               // 13-15
                                     320 * 4 * 4};                                          // 16
  ASSERT_EQ(sp->size(), want.size());
  EXPECT_EQ((*sp)[0].layer, "before block0");
  EXPECT_EQ((*sp)[1].layer, "after block0");
  EXPECT_EQ(sp->back().layer, "after block16");
  double prev = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*sp)[i].activation_elements, want[i]) << (*sp)[i].layer;
    EXPECT_GT((*sp)[i].mac_share, prev) << (*sp)[i].layer;
    EXPECT_LT((*sp)[i].mac_share, 1.0);
    prev = (*sp)[i].mac_share;
  }
  // The stem: a 3x3 conv 3 -> 32 at 32x32 over the model's MACs.
  auto facts = CountAnalytic("mobilenetv2", Shape{3, 32, 32}, 10);
  ASSERT_TRUE(facts.ok());
  EXPECT_DOUBLE_EQ((*sp)[0].mac_share,
                   static_cast<double>(32 * 32 * 32 * 27) / static_cast<double>(facts->macs));
}

TEST(SplitPoints, ModelsWithoutBlocksHaveNone) {
  auto lenet = SplitPoints("lenet", Shape{3, 32, 32}, 10);
  ASSERT_TRUE(lenet.ok());
  EXPECT_TRUE(lenet->empty());
  auto resnet = SplitPoints("resnet:depth=8,width=8", Shape{3, 32, 32}, 10);
  ASSERT_TRUE(resnet.ok());
  ASSERT_EQ(resnet->size(), 4u);  // the stem's output and after each of the 3 basic blocks
  EXPECT_EQ((*resnet)[3].activation_elements, 32 * 8 * 8);
}

}  // namespace
}  // namespace wattlab::zoo
