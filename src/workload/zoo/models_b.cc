// CIFAR-10 forms (kuangliu/pytorch-cifar): googlenet, densenet121, dpn26,
// mobilenet, mobilenetv2, shufflenetv2 (net_size 1).
#include "workload/zoo/net.h"

namespace wattlab::zoo {
namespace {

// conv (+bias as the reference has it) -> BN -> ReLU.
class ConvBnRelu : public Block {
 public:
  ConvBnRelu(int64_t in, int64_t out, int64_t k, int64_t pad, bool bias) {
    conv_ = register_module("conv", MakeConv(in, out, k, 1, pad, 1, bias));
    bn_ = register_module("bn", MakeBn(out));
  }
  template <class V>
  V Fwd(const V& x) {
    return Relu(Bn(bn_, Conv(conv_, x)));
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};

// ---------------- GoogLeNet ----------------
class Inception : public Block {
 public:
  Inception(int64_t in, int64_t n1, int64_t n3r, int64_t n3, int64_t n5r, int64_t n5, int64_t pool) {
    auto add = [&](std::vector<std::shared_ptr<Block>>& v, const std::string& name,
                   std::shared_ptr<Block> b) {
      v.push_back(register_module(name + "_" + std::to_string(v.size()), std::move(b)));
    };
    add(b1_, "b1", std::make_shared<ConvBnRelu>(in, n1, 1, 0, true));
    add(b2_, "b2", std::make_shared<ConvBnRelu>(in, n3r, 1, 0, true));
    add(b2_, "b2", std::make_shared<ConvBnRelu>(n3r, n3, 3, 1, true));
    add(b3_, "b3", std::make_shared<ConvBnRelu>(in, n5r, 1, 0, true));
    add(b3_, "b3", std::make_shared<ConvBnRelu>(n5r, n5, 3, 1, true));
    add(b3_, "b3", std::make_shared<ConvBnRelu>(n5, n5, 3, 1, true));
    add(b4_, "b4", std::make_shared<ConvBnRelu>(in, pool, 1, 0, true));
  }
  template <class V>
  V Fwd(const V& x) {
    V y1 = RunAll(b1_, x);
    V y2 = RunAll(b2_, x);
    V y3 = RunAll(b3_, x);
    V y4 = RunAll(b4_, MaxPool(x, 3, 1, 1));
    return Cat({y1, y2, y3, y4});
  }
  WATTLAB_ZOO_BLOCK

 private:
  std::vector<std::shared_ptr<Block>> b1_, b2_, b3_, b4_;
};

class GoogLeNet : public ZooNet {
 public:
  explicit GoogLeNet(int64_t c) {
    pre_ = register_module("pre", std::make_shared<ConvBnRelu>(c, 192, 3, 1, true));
    const int64_t cfg[9][7] = {{192, 64, 96, 128, 16, 32, 32},     {256, 128, 128, 192, 32, 96, 64},
                               {480, 192, 96, 208, 16, 48, 64},    {512, 160, 112, 224, 24, 64, 64},
                               {512, 128, 128, 256, 24, 64, 64},   {512, 112, 144, 288, 32, 64, 64},
                               {528, 256, 160, 320, 32, 128, 128}, {832, 256, 160, 320, 32, 128, 128},
                               {832, 384, 192, 384, 48, 128, 128}};
    for (int i = 0; i < 9; ++i) {
      const auto* r = cfg[i];
      inc_.push_back(register_module("inception" + std::to_string(i),
                                     std::make_shared<Inception>(r[0], r[1], r[2], r[3], r[4], r[5], r[6])));
    }
  }
  template <class V>
  V Features(V x) {
    x = pre_->Run(x);
    for (int i = 0; i < 9; ++i) {
      if (i == 2 || i == 7) x = MaxPool(x, 3, 2, 1);
      x = inc_[i]->Run(x);
    }
    return AvgPool(x, 8, 8, 1);
  }
  WATTLAB_ZOO_FEATURES

 private:
  std::shared_ptr<Block> pre_;
  std::vector<std::shared_ptr<Block>> inc_;
};

// ---------------- DenseNet121 (growth 32, reduction 0.5) ----------------
class DenseBottleneck : public Block {
 public:
  DenseBottleneck(int64_t in, int64_t growth) {
    bn1_ = register_module("bn1", MakeBn(in));
    conv1_ = register_module("conv1", MakeConv(in, 4 * growth, 1));
    bn2_ = register_module("bn2", MakeBn(4 * growth));
    conv2_ = register_module("conv2", MakeConv(4 * growth, growth, 3, 1, 1));
  }
  template <class V>
  V Fwd(const V& x) {
    V out = Conv(conv1_, Relu(Bn(bn1_, x)));
    out = Conv(conv2_, Relu(Bn(bn2_, out)));
    return Cat({out, x});
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};

class Transition : public Block {
 public:
  Transition(int64_t in, int64_t out) {
    bn_ = register_module("bn", MakeBn(in));
    conv_ = register_module("conv", MakeConv(in, out, 1));
  }
  template <class V>
  V Fwd(const V& x) {
    return AvgPool(Conv(conv_, Relu(Bn(bn_, x))), 2, 2);
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::Conv2d conv_{nullptr};
};

class DenseNet : public ZooNet {
 public:
  DenseNet(int64_t c, std::vector<int64_t> nblocks, int64_t growth) {
    int64_t planes = 2 * growth;
    conv1_ = register_module("conv1", MakeConv(c, planes, 3, 1, 1));
    for (size_t s = 0; s < nblocks.size(); ++s) {
      for (int64_t i = 0; i < nblocks[s]; ++i) {
        blocks_.push_back(register_module("dense" + std::to_string(s + 1) + "_" + std::to_string(i),
                                          std::make_shared<DenseBottleneck>(planes, growth)));
        planes += growth;
      }
      if (s + 1 < nblocks.size()) {
        int64_t out = planes / 2;  // floor(planes * 0.5)
        blocks_.push_back(
            register_module("trans" + std::to_string(s + 1), std::make_shared<Transition>(planes, out)));
        planes = out;
      }
    }
    bn_ = register_module("bn", MakeBn(planes));
  }
  template <class V>
  V Features(V x) {
    x = RunAll(blocks_, Conv(conv1_, x));
    return AvgPool(Relu(Bn(bn_, x)), 4, 4);
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

// ---------------- DPN26 ----------------
class DpnBottleneck : public Block {
 public:
  DpnBottleneck(int64_t last, int64_t in, int64_t out, int64_t dense, int64_t stride, bool first)
      : out_(out) {
    conv1_ = register_module("conv1", MakeConv(last, in, 1));
    bn1_ = register_module("bn1", MakeBn(in));
    conv2_ = register_module("conv2", MakeConv(in, in, 3, stride, 1, 32));
    bn2_ = register_module("bn2", MakeBn(in));
    conv3_ = register_module("conv3", MakeConv(in, out + dense, 1));
    bn3_ = register_module("bn3", MakeBn(out + dense));
    if (first) {
      sc_conv_ = register_module("sc_conv", MakeConv(last, out + dense, 1, stride));
      sc_bn_ = register_module("sc_bn", MakeBn(out + dense));
    }
  }
  template <class V>
  V Fwd(const V& x_in) {
    V out = Relu(Bn(bn1_, Conv(conv1_, x_in)));
    out = Relu(Bn(bn2_, Conv(conv2_, out)));
    out = Bn(bn3_, Conv(conv3_, out));
    V x = sc_conv_ ? Bn(sc_bn_, Conv(sc_conv_, x_in)) : x_in;
    int64_t d = out_;
    V sum = Add(Channels(x, 0, d), Channels(out, 0, d));
    return Relu(Cat({sum, Channels(x, d, SizeOf(x, 1)), Channels(out, d, SizeOf(out, 1))}));
  }
  WATTLAB_ZOO_BLOCK

 private:
  int64_t out_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, sc_conv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, sc_bn_{nullptr};
};

class Dpn : public ZooNet {
 public:
  explicit Dpn(int64_t c) {
    const int64_t in_planes[4] = {96, 192, 384, 768}, out_planes[4] = {256, 512, 1024, 2048};
    const int64_t num_blocks[4] = {2, 2, 2, 2}, dense[4] = {16, 32, 24, 128};
    conv1_ = register_module("conv1", MakeConv(c, 64, 3, 1, 1));
    bn1_ = register_module("bn1", MakeBn(64));
    int64_t last = 64;
    for (int s = 0; s < 4; ++s) {
      for (int64_t i = 0; i < num_blocks[s]; ++i) {
        int64_t stride = (i == 0 && s > 0) ? 2 : 1;
        blocks_.push_back(register_module(
            "layer" + std::to_string(s + 1) + "_" + std::to_string(i),
            std::make_shared<DpnBottleneck>(last, in_planes[s], out_planes[s], dense[s], stride, i == 0)));
        last = out_planes[s] + (i + 2) * dense[s];
      }
    }
  }
  template <class V>
  V Features(V x) {
    x = Relu(Bn(bn1_, Conv(conv1_, x)));
    return AvgPool(RunAll(blocks_, x), 4, 4);
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

// ---------------- MobileNet (v1) ----------------
class DwBlock : public Block {
 public:
  DwBlock(int64_t in, int64_t out, int64_t stride) {
    conv1_ = register_module("conv1", MakeConv(in, in, 3, stride, 1, in));
    bn1_ = register_module("bn1", MakeBn(in));
    conv2_ = register_module("conv2", MakeConv(in, out, 1));
    bn2_ = register_module("bn2", MakeBn(out));
  }
  template <class V>
  V Fwd(const V& x) {
    return Relu(Bn(bn2_, Conv(conv2_, Relu(Bn(bn1_, Conv(conv1_, x))))));
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
};

class MobileNet : public ZooNet {
 public:
  explicit MobileNet(int64_t c) {
    conv1_ = register_module("conv1", MakeConv(c, 32, 3, 1, 1));
    bn1_ = register_module("bn1", MakeBn(32));
    // (planes, stride)
    const int64_t cfg[13][2] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},  {512, 2}, {512, 1},
                                {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
    int64_t in = 32;
    for (int i = 0; i < 13; ++i) {
      blocks_.push_back(
          register_module("block" + std::to_string(i), std::make_shared<DwBlock>(in, cfg[i][0], cfg[i][1])));
      in = cfg[i][0];
    }
  }
  template <class V>
  V Features(V x) {
    x = Relu(Bn(bn1_, Conv(conv1_, x)));
    return AvgPool(RunAll(blocks_, x), 2, 2);
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

// ---------------- MobileNetV2 (CIFAR strides) ----------------
class InvertedBlock : public Block {
 public:
  InvertedBlock(int64_t in, int64_t out, int64_t expansion, int64_t stride) : stride_(stride) {
    int64_t planes = expansion * in;
    conv1_ = register_module("conv1", MakeConv(in, planes, 1));
    bn1_ = register_module("bn1", MakeBn(planes));
    conv2_ = register_module("conv2", MakeConv(planes, planes, 3, stride, 1, planes));
    bn2_ = register_module("bn2", MakeBn(planes));
    conv3_ = register_module("conv3", MakeConv(planes, out, 1));
    bn3_ = register_module("bn3", MakeBn(out));
    if (stride == 1 && in != out) {
      sc_conv_ = register_module("sc_conv", MakeConv(in, out, 1));
      sc_bn_ = register_module("sc_bn", MakeBn(out));
    }
  }
  template <class V>
  V Fwd(const V& x) {
    V out = Relu(Bn(bn1_, Conv(conv1_, x)));
    out = Relu(Bn(bn2_, Conv(conv2_, out)));
    out = Bn(bn3_, Conv(conv3_, out));
    if (stride_ != 1) return out;
    return Add(out, sc_conv_ ? Bn(sc_bn_, Conv(sc_conv_, x)) : x);
  }
  WATTLAB_ZOO_BLOCK

 private:
  int64_t stride_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, sc_conv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, sc_bn_{nullptr};
};

class MobileNetV2 : public ZooNet {
 public:
  explicit MobileNetV2(int64_t c) {
    conv1_ = register_module("conv1", MakeConv(c, 32, 3, 1, 1));
    bn1_ = register_module("bn1", MakeBn(32));
    // (expansion, out, blocks, stride); stride 1 in the second row for CIFAR
    const int64_t cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 1},  {6, 32, 3, 2}, {6, 64, 4, 2},
                               {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    int64_t in = 32;
    for (const auto& r : cfg) {
      for (int64_t i = 0; i < r[2]; ++i) {
        blocks_.push_back(
            register_module("block" + std::to_string(blocks_.size()),
                            std::make_shared<InvertedBlock>(in, r[1], r[0], i == 0 ? r[3] : 1)));
        in = r[1];
      }
    }
    conv2_ = register_module("conv2", MakeConv(320, 1280, 1));
    bn2_ = register_module("bn2", MakeBn(1280));
  }
  template <class V>
  V Features(V x) {
    x = Relu(Bn(bn1_, Conv(conv1_, x)));
    x = RunAll(blocks_, x);
    x = Relu(Bn(bn2_, Conv(conv2_, x)));
    return AvgPool(x, 4, 4);
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

// ---------------- ShuffleNetV2 (net_size 1) ----------------
class ShuffleBasic : public Block {
 public:
  explicit ShuffleBasic(int64_t in) {
    int64_t c = in / 2;
    conv1_ = register_module("conv1", MakeConv(c, c, 1));
    bn1_ = register_module("bn1", MakeBn(c));
    conv2_ = register_module("conv2", MakeConv(c, c, 3, 1, 1, c));
    bn2_ = register_module("bn2", MakeBn(c));
    conv3_ = register_module("conv3", MakeConv(c, c, 1));
    bn3_ = register_module("bn3", MakeBn(c));
  }
  template <class V>
  V Fwd(const V& x) {
    int64_t c = SizeOf(x, 1) / 2;
    V x1 = Channels(x, 0, c), x2 = Channels(x, c, SizeOf(x, 1));
    V out = Relu(Bn(bn1_, Conv(conv1_, x2)));
    out = Bn(bn2_, Conv(conv2_, out));
    out = Relu(Bn(bn3_, Conv(conv3_, out)));
    return ShuffleChannels(Cat({x1, out}), 2);
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
};

class ShuffleDown : public Block {
 public:
  ShuffleDown(int64_t in, int64_t out) {
    int64_t mid = out / 2;
    conv1_ = register_module("conv1", MakeConv(in, in, 3, 2, 1, in));
    bn1_ = register_module("bn1", MakeBn(in));
    conv2_ = register_module("conv2", MakeConv(in, mid, 1));
    bn2_ = register_module("bn2", MakeBn(mid));
    conv3_ = register_module("conv3", MakeConv(in, mid, 1));
    bn3_ = register_module("bn3", MakeBn(mid));
    conv4_ = register_module("conv4", MakeConv(mid, mid, 3, 2, 1, mid));
    bn4_ = register_module("bn4", MakeBn(mid));
    conv5_ = register_module("conv5", MakeConv(mid, mid, 1));
    bn5_ = register_module("bn5", MakeBn(mid));
  }
  template <class V>
  V Fwd(const V& x) {
    V out1 = Bn(bn1_, Conv(conv1_, x));
    out1 = Relu(Bn(bn2_, Conv(conv2_, out1)));
    V out2 = Relu(Bn(bn3_, Conv(conv3_, x)));
    out2 = Bn(bn4_, Conv(conv4_, out2));
    out2 = Relu(Bn(bn5_, Conv(conv5_, out2)));
    return ShuffleChannels(Cat({out1, out2}), 2);
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, conv4_{nullptr}, conv5_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, bn4_{nullptr}, bn5_{nullptr};
};

class ShuffleNetV2 : public ZooNet {
 public:
  explicit ShuffleNetV2(int64_t c) {
    const int64_t out_channels[4] = {116, 232, 464, 1024}, num_blocks[3] = {3, 7, 3};
    conv1_ = register_module("conv1", MakeConv(c, 24, 3, 1, 1));
    bn1_ = register_module("bn1", MakeBn(24));
    int64_t in = 24;
    for (int s = 0; s < 3; ++s) {
      blocks_.push_back(register_module("down" + std::to_string(s + 1),
                                        std::make_shared<ShuffleDown>(in, out_channels[s])));
      for (int64_t i = 0; i < num_blocks[s]; ++i) {
        blocks_.push_back(register_module("layer" + std::to_string(s + 1) + "_" + std::to_string(i),
                                          std::make_shared<ShuffleBasic>(out_channels[s])));
      }
      in = out_channels[s];
    }
    conv2_ = register_module("conv2", MakeConv(out_channels[2], out_channels[3], 1));
    bn2_ = register_module("bn2", MakeBn(out_channels[3]));
  }
  template <class V>
  V Features(V x) {
    x = Relu(Bn(bn1_, Conv(conv1_, x)));
    x = RunAll(blocks_, x);
    x = Relu(Bn(bn2_, Conv(conv2_, x)));
    return AvgPool(x, 4, 4);
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

}  // namespace

std::shared_ptr<ZooNet> MakeCifarB(const std::string& name, int64_t c) {
  if (name == "googlenet") return std::make_shared<GoogLeNet>(c);
  if (name == "densenet121") return std::make_shared<DenseNet>(c, std::vector<int64_t>{6, 12, 24, 16}, 32);
  if (name == "dpn26") return std::make_shared<Dpn>(c);
  if (name == "mobilenet") return std::make_shared<MobileNet>(c);
  if (name == "mobilenetv2") return std::make_shared<MobileNetV2>(c);
  if (name == "shufflenetv2") return std::make_shared<ShuffleNetV2>(c);
  return nullptr;
}

}  // namespace wattlab::zoo
