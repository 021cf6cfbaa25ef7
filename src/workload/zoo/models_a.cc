// CIFAR-10 forms (kuangliu/pytorch-cifar): lenet, vgg16, resnet18,
// preact_resnet18, senet18, resnext29_2x64d. Layer sizes, biases and wiring
// follow the reference definitions so parameter counts match exactly.
#include "workload/zoo/net.h"

namespace wattlab::zoo {
namespace {

// ---------------- LeNet (3-channel) ----------------
class LeNet : public ZooNet {
 public:
  explicit LeNet(int64_t c) {
    conv1_ = register_module("conv1", MakeConv(c, 6, 5, 1, 0, 1, true));
    conv2_ = register_module("conv2", MakeConv(6, 16, 5, 1, 0, 1, true));
  }
  template <class V>
  V Features(V x) {
    x = MaxPool(Relu(Conv(conv1_, x)), 2, 2);
    return MaxPool(Relu(Conv(conv2_, x)), 2, 2);
  }
  template <class V>
  V Head(V x) {
    x = Relu(Lin(fc1_, Flatten(x)));
    x = Relu(Lin(fc2_, x));
    return Lin(fc3_, x);
  }
  WATTLAB_ZOO_FEATURES
  WATTLAB_ZOO_HEAD

 protected:
  void MakeHead(int64_t flat, int64_t classes) override {
    fc1_ = register_module("fc1", MakeLinear(flat, 120));
    fc2_ = register_module("fc2", MakeLinear(120, 84));
    fc3_ = register_module("fc3", MakeLinear(84, classes));
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr}, fc3_{nullptr};
};

// ---------------- VGG16 (BN, conv bias on) ----------------
class Vgg : public ZooNet {
 public:
  Vgg(int64_t c, const std::vector<int64_t>& cfg) : cfg_(cfg) {
    int64_t in = c;
    for (int64_t v : cfg) {
      if (v == 0) continue;  // 0 = max pool
      convs_.push_back(
          register_module("conv" + std::to_string(convs_.size()), MakeConv(in, v, 3, 1, 1, 1, true)));
      bns_.push_back(register_module("bn" + std::to_string(bns_.size()), MakeBn(v)));
      in = v;
    }
  }
  template <class V>
  V Features(V x) {
    size_t i = 0;
    for (int64_t v : cfg_) {
      if (v == 0) {
        x = MaxPool(x, 2, 2);
      } else {
        x = Relu(Bn(bns_[i], Conv(convs_[i], x)));
        ++i;
      }
    }
    return AvgPool(x, 1, 1, 1);  // the reference's AvgPool2d(kernel_size=1, stride=1)
  }
  WATTLAB_ZOO_FEATURES

 private:
  std::vector<int64_t> cfg_;
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::BatchNorm2d> bns_;
};

// ---------------- ResNet BasicBlock ----------------
class BasicBlock : public Block {
 public:
  BasicBlock(int64_t in, int64_t planes, int64_t stride) {
    conv1_ = register_module("conv1", MakeConv(in, planes, 3, stride, 1));
    bn1_ = register_module("bn1", MakeBn(planes));
    conv2_ = register_module("conv2", MakeConv(planes, planes, 3, 1, 1));
    bn2_ = register_module("bn2", MakeBn(planes));
    if (stride != 1 || in != planes) {
      sc_conv_ = register_module("sc_conv", MakeConv(in, planes, 1, stride));
      sc_bn_ = register_module("sc_bn", MakeBn(planes));
    }
  }
  template <class V>
  V Fwd(const V& x) {
    V out = Relu(Bn(bn1_, Conv(conv1_, x)));
    out = Bn(bn2_, Conv(conv2_, out));
    V sc = sc_conv_ ? Bn(sc_bn_, Conv(sc_conv_, x)) : x;
    return Relu(Add(out, sc));
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, sc_conv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, sc_bn_{nullptr};
};

// ---------------- PreAct block, optionally with squeeze-excitation ----------------
class PreActBlock : public Block {
 public:
  PreActBlock(int64_t in, int64_t planes, int64_t stride, bool se) {
    bn1_ = register_module("bn1", MakeBn(in));
    conv1_ = register_module("conv1", MakeConv(in, planes, 3, stride, 1));
    bn2_ = register_module("bn2", MakeBn(planes));
    conv2_ = register_module("conv2", MakeConv(planes, planes, 3, 1, 1));
    if (stride != 1 || in != planes) sc_conv_ = register_module("sc_conv", MakeConv(in, planes, 1, stride));
    if (se) {
      fc1_ = register_module("fc1", MakeConv(planes, planes / 16, 1, 1, 0, 1, true));
      fc2_ = register_module("fc2", MakeConv(planes / 16, planes, 1, 1, 0, 1, true));
    }
  }
  template <class V>
  V Fwd(const V& x) {
    V out = Relu(Bn(bn1_, x));
    V sc = sc_conv_ ? Conv(sc_conv_, out) : x;
    out = Conv(conv1_, out);
    out = Conv(conv2_, Relu(Bn(bn2_, out)));
    if (fc1_) {
      V w = AvgPool(out, SizeOf(out, 2), SizeOf(out, 3));
      w = Relu(Conv(fc1_, w));
      w = Sigmoid(Conv(fc2_, w));
      out = Mul(out, w);
    }
    return Add(out, sc);
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, sc_conv_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
};

// ResNet18 / PreActResNet18 / SENet18: stem, 4 stages of 2 blocks, avg_pool(4).
class ResNet4 : public ZooNet {
 public:
  enum class Kind { kBasic, kPreAct, kSe };
  ResNet4(int64_t c, Kind kind) : kind_(kind) {
    conv1_ = register_module("conv1", MakeConv(c, 64, 3, 1, 1));
    if (kind != Kind::kPreAct) bn1_ = register_module("bn1", MakeBn(64));
    int64_t in = 64;
    const int64_t planes[4] = {64, 128, 256, 512};
    for (int s = 0; s < 4; ++s) {
      for (int b = 0; b < 2; ++b) {
        int64_t stride = (b == 0 && s > 0) ? 2 : 1;
        std::shared_ptr<Block> blk;
        if (kind == Kind::kBasic) {
          blk = std::make_shared<BasicBlock>(in, planes[s], stride);
        } else {
          blk = std::make_shared<PreActBlock>(in, planes[s], stride, kind == Kind::kSe);
        }
        blocks_.push_back(register_module("layer" + std::to_string(s + 1) + "_" + std::to_string(b), blk));
        in = planes[s];
      }
    }
  }
  template <class V>
  V Features(V x) {
    x = Conv(conv1_, x);
    if (bn1_) x = Relu(Bn(bn1_, x));
    x = RunAll(blocks_, x);
    return AvgPool(x, 4, 4);
  }
  WATTLAB_ZOO_FEATURES

 private:
  Kind kind_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

// ---------------- ResNeXt29 (2x64d) ----------------
class ResNeXtBlock : public Block {
 public:
  ResNeXtBlock(int64_t in, int64_t cardinality, int64_t bottleneck_width, int64_t stride) {
    int64_t gw = cardinality * bottleneck_width;
    conv1_ = register_module("conv1", MakeConv(in, gw, 1));
    bn1_ = register_module("bn1", MakeBn(gw));
    conv2_ = register_module("conv2", MakeConv(gw, gw, 3, stride, 1, cardinality));
    bn2_ = register_module("bn2", MakeBn(gw));
    conv3_ = register_module("conv3", MakeConv(gw, 2 * gw, 1));
    bn3_ = register_module("bn3", MakeBn(2 * gw));
    if (stride != 1 || in != 2 * gw) {
      sc_conv_ = register_module("sc_conv", MakeConv(in, 2 * gw, 1, stride));
      sc_bn_ = register_module("sc_bn", MakeBn(2 * gw));
    }
  }
  template <class V>
  V Fwd(const V& x) {
    V out = Relu(Bn(bn1_, Conv(conv1_, x)));
    out = Relu(Bn(bn2_, Conv(conv2_, out)));
    out = Bn(bn3_, Conv(conv3_, out));
    V sc = sc_conv_ ? Bn(sc_bn_, Conv(sc_conv_, x)) : x;
    return Relu(Add(out, sc));
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, sc_conv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, sc_bn_{nullptr};
};

class ResNeXt29 : public ZooNet {
 public:
  ResNeXt29(int64_t c, int64_t cardinality, int64_t bottleneck_width) {
    conv1_ = register_module("conv1", MakeConv(c, 64, 1));
    bn1_ = register_module("bn1", MakeBn(64));
    int64_t in = 64, bw = bottleneck_width;
    for (int s = 0; s < 3; ++s) {
      for (int b = 0; b < 3; ++b) {
        int64_t stride = (b == 0 && s > 0) ? 2 : 1;
        blocks_.push_back(register_module("layer" + std::to_string(s + 1) + "_" + std::to_string(b),
                                          std::make_shared<ResNeXtBlock>(in, cardinality, bw, stride)));
        in = 2 * cardinality * bw;
      }
      bw *= 2;  // the reference doubles the bottleneck width after each stage
    }
  }
  template <class V>
  V Features(V x) {
    x = Relu(Bn(bn1_, Conv(conv1_, x)));
    x = RunAll(blocks_, x);
    return AvgPool(x, 8, 8);
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

// ---------------- SimpleDLA ----------------
class DlaTree : public Block {
 public:
  DlaTree(int64_t in, int64_t out, int level, int64_t stride) {
    root_conv_ = register_module("root_conv", MakeConv(2 * out, out, 1));
    root_bn_ = register_module("root_bn", MakeBn(out));
    if (level == 1) {
      left_ = register_module("left", std::make_shared<BasicBlock>(in, out, stride));
      right_ = register_module("right", std::make_shared<BasicBlock>(out, out, 1));
    } else {
      left_ = register_module("left", std::make_shared<DlaTree>(in, out, level - 1, stride));
      right_ = register_module("right", std::make_shared<DlaTree>(out, out, level - 1, 1));
    }
  }
  template <class V>
  V Fwd(const V& x) {
    V out1 = left_->Run(x);
    V out2 = right_->Run(out1);
    return Relu(Bn(root_bn_, Conv(root_conv_, Cat({out1, out2}))));
  }
  WATTLAB_ZOO_BLOCK

 private:
  std::shared_ptr<Block> left_, right_;
  torch::nn::Conv2d root_conv_{nullptr};
  torch::nn::BatchNorm2d root_bn_{nullptr};
};

class SimpleDla : public ZooNet {
 public:
  explicit SimpleDla(int64_t c) {
    const int64_t chans[3][2] = {{c, 16}, {16, 16}, {16, 32}};
    for (int i = 0; i < 3; ++i) {
      convs_.push_back(
          register_module("conv" + std::to_string(i), MakeConv(chans[i][0], chans[i][1], 3, 1, 1)));
      bns_.push_back(register_module("bn" + std::to_string(i), MakeBn(chans[i][1])));
    }
    trees_.push_back(register_module("layer3", std::make_shared<DlaTree>(32, 64, 1, 1)));
    trees_.push_back(register_module("layer4", std::make_shared<DlaTree>(64, 128, 2, 2)));
    trees_.push_back(register_module("layer5", std::make_shared<DlaTree>(128, 256, 2, 2)));
    trees_.push_back(register_module("layer6", std::make_shared<DlaTree>(256, 512, 1, 2)));
  }
  template <class V>
  V Features(V x) {
    for (size_t i = 0; i < convs_.size(); ++i) x = Relu(Bn(bns_[i], Conv(convs_[i], x)));
    return AvgPool(RunAll(trees_, x), 4, 4);
  }
  WATTLAB_ZOO_FEATURES

 private:
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::BatchNorm2d> bns_;
  std::vector<std::shared_ptr<Block>> trees_;
};

// ---------------- CIFAR ResNet family (He et al. 2016, depth 6n+2) ----------------
// conv3x3 -> 3 stages of n basic blocks at widths W, 2W, 4W -> global average
// pool -> linear. Shortcuts that change shape are 1x1 conv + BN projections
// (the paper's option B), as in the reference BasicBlock above.
class CifarResNet : public ZooNet {
 public:
  CifarResNet(int64_t c, int64_t depth, int64_t width) {
    int64_t n = (depth - 2) / 6;
    conv1_ = register_module("conv1", MakeConv(c, width, 3, 1, 1));
    bn1_ = register_module("bn1", MakeBn(width));
    int64_t in = width;
    for (int s = 0; s < 3; ++s) {
      int64_t planes = width << s;
      for (int64_t i = 0; i < n; ++i) {
        int64_t stride = (i == 0 && s > 0) ? 2 : 1;
        blocks_.push_back(register_module("layer" + std::to_string(s + 1) + "_" + std::to_string(i),
                                          std::make_shared<BasicBlock>(in, planes, stride)));
        in = planes;
      }
    }
  }
  template <class V>
  V Features(V x) {
    x = Relu(Bn(bn1_, Conv(conv1_, x)));
    return GlobalAvgPool(RunAll(blocks_, x));
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

}  // namespace

std::shared_ptr<ZooNet> MakeCifarResnet(int64_t c, int64_t depth, int64_t width) {
  return std::make_shared<CifarResNet>(c, depth, width);
}

std::shared_ptr<ZooNet> MakeCifarA(const std::string& name, int64_t c) {
  if (name == "lenet") return std::make_shared<LeNet>(c);
  if (name == "vgg16") {
    return std::make_shared<Vgg>(c, std::vector<int64_t>{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512,
                                                         512, 0, 512, 512, 512, 0});
  }
  if (name == "resnet18") return std::make_shared<ResNet4>(c, ResNet4::Kind::kBasic);
  if (name == "preact_resnet18") return std::make_shared<ResNet4>(c, ResNet4::Kind::kPreAct);
  if (name == "senet18") return std::make_shared<ResNet4>(c, ResNet4::Kind::kSe);
  if (name == "simple_dla") return std::make_shared<SimpleDla>(c);
  if (name == "resnext29_2x64d") return std::make_shared<ResNeXt29>(c, 2, 64);
  return nullptr;
}

}  // namespace wattlab::zoo
