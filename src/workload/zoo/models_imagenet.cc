// ImageNet forms equal to torchvision's definitions: imagenet/resnet18,
// imagenet/resnet50, imagenet/mobilenet_v2, imagenet/vgg16,
// imagenet/efficientnet_b0 (parameter counts match torchvision exactly).
#include "workload/zoo/net.h"

namespace wattlab::zoo {
namespace {

inline at::Tensor Relu6(const at::Tensor& x) { return at::hardtanh(x, 0, 6); }
inline Sym Relu6(const Sym& x) { return Relu(x); }  // same cost: one act per element
inline at::Tensor Silu(const at::Tensor& x) { return at::silu(x); }
inline Sym Silu(const Sym& x) { return Relu(x); }

// ---------------- torchvision ResNet ----------------
class TvBasic : public Block {
 public:
  TvBasic(int64_t in, int64_t planes, int64_t stride) {
    conv1_ = register_module("conv1", MakeConv(in, planes, 3, stride, 1));
    bn1_ = register_module("bn1", MakeBn(planes));
    conv2_ = register_module("conv2", MakeConv(planes, planes, 3, 1, 1));
    bn2_ = register_module("bn2", MakeBn(planes));
    if (stride != 1 || in != planes) {
      ds_conv_ = register_module("ds_conv", MakeConv(in, planes, 1, stride));
      ds_bn_ = register_module("ds_bn", MakeBn(planes));
    }
  }
  template <class V>
  V Fwd(const V& x) {
    V out = Relu(Bn(bn1_, Conv(conv1_, x)));
    out = Bn(bn2_, Conv(conv2_, out));
    return Relu(Add(out, ds_conv_ ? Bn(ds_bn_, Conv(ds_conv_, x)) : x));
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, ds_conv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, ds_bn_{nullptr};
};

class TvBottleneck : public Block {
 public:
  TvBottleneck(int64_t in, int64_t planes, int64_t stride) {
    conv1_ = register_module("conv1", MakeConv(in, planes, 1));
    bn1_ = register_module("bn1", MakeBn(planes));
    conv2_ = register_module("conv2", MakeConv(planes, planes, 3, stride, 1));  // stride on the 3x3 (v1.5)
    bn2_ = register_module("bn2", MakeBn(planes));
    conv3_ = register_module("conv3", MakeConv(planes, planes * 4, 1));
    bn3_ = register_module("bn3", MakeBn(planes * 4));
    if (stride != 1 || in != planes * 4) {
      ds_conv_ = register_module("ds_conv", MakeConv(in, planes * 4, 1, stride));
      ds_bn_ = register_module("ds_bn", MakeBn(planes * 4));
    }
  }
  template <class V>
  V Fwd(const V& x) {
    V out = Relu(Bn(bn1_, Conv(conv1_, x)));
    out = Relu(Bn(bn2_, Conv(conv2_, out)));
    out = Bn(bn3_, Conv(conv3_, out));
    return Relu(Add(out, ds_conv_ ? Bn(ds_bn_, Conv(ds_conv_, x)) : x));
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, ds_conv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, ds_bn_{nullptr};
};

class TvResNet : public ZooNet {
 public:
  TvResNet(int64_t c, bool bottleneck, std::vector<int64_t> layers) {
    conv1_ = register_module("conv1", MakeConv(c, 64, 7, 2, 3));
    bn1_ = register_module("bn1", MakeBn(64));
    int64_t in = 64, expansion = bottleneck ? 4 : 1;
    for (int s = 0; s < 4; ++s) {
      int64_t planes = 64 << s;
      for (int64_t i = 0; i < layers[s]; ++i) {
        int64_t stride = (i == 0 && s > 0) ? 2 : 1;
        std::shared_ptr<Block> b;
        if (bottleneck) {
          b = std::make_shared<TvBottleneck>(in, planes, stride);
        } else {
          b = std::make_shared<TvBasic>(in, planes, stride);
        }
        blocks_.push_back(register_module("layer" + std::to_string(s + 1) + "_" + std::to_string(i), b));
        in = planes * expansion;
      }
    }
  }
  template <class V>
  V Features(V x) {
    x = MaxPool(Relu(Bn(bn1_, Conv(conv1_, x))), 3, 2, 1);
    return GlobalAvgPool(RunAll(blocks_, x));
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

// ---------------- torchvision MobileNetV2 ----------------
class TvInverted : public Block {
 public:
  TvInverted(int64_t in, int64_t out, int64_t stride, int64_t t) : res_(stride == 1 && in == out) {
    int64_t hidden = in * t;
    if (t != 1) {
      expand_ = register_module("expand", MakeConv(in, hidden, 1));
      expand_bn_ = register_module("expand_bn", MakeBn(hidden));
    }
    dw_ = register_module("dw", MakeConv(hidden, hidden, 3, stride, 1, hidden));
    dw_bn_ = register_module("dw_bn", MakeBn(hidden));
    project_ = register_module("project", MakeConv(hidden, out, 1));
    project_bn_ = register_module("project_bn", MakeBn(out));
  }
  template <class V>
  V Fwd(const V& x) {
    V out = expand_ ? Relu6(Bn(expand_bn_, Conv(expand_, x))) : x;
    out = Relu6(Bn(dw_bn_, Conv(dw_, out)));
    out = Bn(project_bn_, Conv(project_, out));
    return res_ ? Add(x, out) : out;
  }
  WATTLAB_ZOO_BLOCK

 private:
  bool res_;
  torch::nn::Conv2d expand_{nullptr}, dw_{nullptr}, project_{nullptr};
  torch::nn::BatchNorm2d expand_bn_{nullptr}, dw_bn_{nullptr}, project_bn_{nullptr};
};

class TvMobileNetV2 : public ZooNet {
 public:
  explicit TvMobileNetV2(int64_t c) {
    stem_ = register_module("stem", MakeConv(c, 32, 3, 2, 1));
    stem_bn_ = register_module("stem_bn", MakeBn(32));
    const int64_t cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                               {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};  // t, c, n, s
    int64_t in = 32;
    for (const auto& r : cfg) {
      for (int64_t i = 0; i < r[2]; ++i) {
        blocks_.push_back(register_module("block" + std::to_string(blocks_.size()),
                                          std::make_shared<TvInverted>(in, r[1], i == 0 ? r[3] : 1, r[0])));
        in = r[1];
      }
    }
    last_ = register_module("last", MakeConv(320, 1280, 1));
    last_bn_ = register_module("last_bn", MakeBn(1280));
  }
  template <class V>
  V Features(V x) {
    x = Relu6(Bn(stem_bn_, Conv(stem_, x)));
    x = RunAll(blocks_, x);
    x = Relu6(Bn(last_bn_, Conv(last_, x)));
    return Dropout(GlobalAvgPool(x), 0.2, is_training());
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d stem_{nullptr}, last_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr}, last_bn_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

// ---------------- torchvision VGG16 (no BN) ----------------
class TvVgg16 : public ZooNet {
 public:
  explicit TvVgg16(int64_t c) {
    int64_t in = c;
    for (int64_t v : kCfg) {
      if (v == 0) continue;
      convs_.push_back(
          register_module("conv" + std::to_string(convs_.size()), MakeConv(in, v, 3, 1, 1, 1, true)));
      in = v;
    }
  }
  template <class V>
  V Features(V x) {
    size_t i = 0;
    for (int64_t v : kCfg) {
      x = v == 0 ? MaxPool(x, 2, 2) : Relu(Conv(convs_[i++], x));
    }
    return AdaptiveAvgPool(x, 7, 7);
  }
  template <class V>
  V Head(V x) {
    x = Drop(Relu(Lin(fc1_, Flatten(x))));
    x = Drop(Relu(Lin(fc2_, x)));
    return Lin(fc3_, x);
  }
  WATTLAB_ZOO_FEATURES
  WATTLAB_ZOO_HEAD

 protected:
  void MakeHead(int64_t flat, int64_t classes) override {
    fc1_ = register_module("fc1", MakeLinear(flat, 4096));
    fc2_ = register_module("fc2", MakeLinear(4096, 4096));
    fc3_ = register_module("fc3", MakeLinear(4096, classes));
  }

 private:
  template <class V>
  V Drop(const V& x) {
    return Dropout(x, 0.5, is_training());
  }
  static constexpr int64_t kCfg[18] = {64, 64,  0,   128, 128, 0,   256, 256, 256,
                                       0,  512, 512, 512, 0,   512, 512, 512, 0};
  std::vector<torch::nn::Conv2d> convs_;
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr}, fc3_{nullptr};
};

// ---------------- torchvision EfficientNet-B0 ----------------
class TvMbConv : public Block {
 public:
  TvMbConv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t expand)
      : res_(stride == 1 && in == out) {
    int64_t hidden = in * expand;
    if (hidden != in) {
      expand_ = register_module("expand", MakeConv(in, hidden, 1));
      expand_bn_ = register_module("expand_bn", MakeBn(hidden));
    }
    dw_ = register_module("dw", MakeConv(hidden, hidden, k, stride, (k - 1) / 2, hidden));
    dw_bn_ = register_module("dw_bn", MakeBn(hidden));
    int64_t squeeze = std::max<int64_t>(1, in / 4);  // torchvision squeezes from the block's input width
    se1_ = register_module("se1", MakeConv(hidden, squeeze, 1, 1, 0, 1, true));
    se2_ = register_module("se2", MakeConv(squeeze, hidden, 1, 1, 0, 1, true));
    project_ = register_module("project", MakeConv(hidden, out, 1));
    project_bn_ = register_module("project_bn", MakeBn(out));
  }
  template <class V>
  V Fwd(const V& x) {
    V out = expand_ ? Silu(Bn(expand_bn_, Conv(expand_, x))) : x;
    out = Silu(Bn(dw_bn_, Conv(dw_, out)));
    V s = GlobalAvgPool(out);
    s = Sigmoid(Conv(se2_, Silu(Conv(se1_, s))));
    out = Mul(s, out);
    out = Bn(project_bn_, Conv(project_, out));
    return res_ ? Add(out, x) : out;  // stochastic depth: identity in eval, not counted
  }
  WATTLAB_ZOO_BLOCK

 private:
  bool res_;
  torch::nn::Conv2d expand_{nullptr}, dw_{nullptr}, se1_{nullptr}, se2_{nullptr}, project_{nullptr};
  torch::nn::BatchNorm2d expand_bn_{nullptr}, dw_bn_{nullptr}, project_bn_{nullptr};
};

class TvEfficientNetB0 : public ZooNet {
 public:
  explicit TvEfficientNetB0(int64_t c) {
    stem_ = register_module("stem", MakeConv(c, 32, 3, 2, 1));
    stem_bn_ = register_module("stem_bn", MakeBn(32));
    // expand, kernel, stride, out, layers
    const int64_t cfg[7][5] = {{1, 3, 1, 16, 1},  {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2}, {6, 3, 2, 80, 3},
                               {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1}};
    int64_t in = 32;
    for (const auto& r : cfg) {
      for (int64_t i = 0; i < r[4]; ++i) {
        blocks_.push_back(
            register_module("block" + std::to_string(blocks_.size()),
                            std::make_shared<TvMbConv>(in, r[3], r[1], i == 0 ? r[2] : 1, r[0])));
        in = r[3];
      }
    }
    last_ = register_module("last", MakeConv(320, 1280, 1));
    last_bn_ = register_module("last_bn", MakeBn(1280));
  }
  template <class V>
  V Features(V x) {
    x = Silu(Bn(stem_bn_, Conv(stem_, x)));
    x = RunAll(blocks_, x);
    return Dropout(GlobalAvgPool(Silu(Bn(last_bn_, Conv(last_, x)))), 0.2, is_training());
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d stem_{nullptr}, last_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr}, last_bn_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

}  // namespace

std::shared_ptr<ZooNet> MakeImagenet(const std::string& name, int64_t c) {
  if (name == "imagenet/resnet18")
    return std::make_shared<TvResNet>(c, false, std::vector<int64_t>{2, 2, 2, 2});
  if (name == "imagenet/resnet50")
    return std::make_shared<TvResNet>(c, true, std::vector<int64_t>{3, 4, 6, 3});
  if (name == "imagenet/mobilenet_v2") return std::make_shared<TvMobileNetV2>(c);
  if (name == "imagenet/vgg16") return std::make_shared<TvVgg16>(c);
  if (name == "imagenet/efficientnet_b0") return std::make_shared<TvEfficientNetB0>(c);
  return nullptr;
}

}  // namespace wattlab::zoo
