// CIFAR-10 forms (kuangliu/pytorch-cifar): efficientnet_b0, regnetx_200mf,
// pnasnet (PNASNetB).
#include "workload/zoo/net.h"

namespace wattlab::zoo {
namespace {

// ---------------- EfficientNet-B0 (CIFAR form) ----------------
// As kuangliu's current models/efficientnet.py: the expansion conv exists in
// every block (so its parameters count) but is skipped when expand_ratio is
// 1; SE width from the block's input; identity skip only.
class MbBlock : public Block {
 public:
  MbBlock(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t expand, double drop_rate)
      : expand_(expand), skip_(stride == 1 && in == out), drop_rate_(drop_rate) {
    int64_t ch = expand * in;
    conv1_ = register_module("conv1", MakeConv(in, ch, 1));
    bn1_ = register_module("bn1", MakeBn(ch));
    conv2_ = register_module("conv2", MakeConv(ch, ch, k, stride, k == 3 ? 1 : 2, ch));
    bn2_ = register_module("bn2", MakeBn(ch));
    int64_t se = static_cast<int64_t>(in * 0.25);
    se1_ = register_module("se1", MakeConv(ch, se, 1, 1, 0, 1, true));
    se2_ = register_module("se2", MakeConv(se, ch, 1, 1, 0, 1, true));
    conv3_ = register_module("conv3", MakeConv(ch, out, 1));
    bn3_ = register_module("bn3", MakeBn(out));
  }
  template <class V>
  V Fwd(const V& x) {
    V out = expand_ == 1 ? x : Swish(Bn(bn1_, Conv(conv1_, x)));
    out = Swish(Bn(bn2_, Conv(conv2_, out)));
    V w = Swish(Conv(se1_, GlobalAvgPool(out)));
    out = Mul(out, Sigmoid(Conv(se2_, w)));
    out = Bn(bn3_, Conv(conv3_, out));
    if (!skip_) return out;
    return Add(DropConnect(out), x);
  }
  WATTLAB_ZOO_BLOCK

 private:
  // Drops whole samples in training (the reference's drop_connect); not
  // counted (training only; the counters run in evaluation mode).
  at::Tensor DropConnect(const at::Tensor& x) {
    if (!is_training() || drop_rate_ <= 0) return x;
    double keep = 1.0 - drop_rate_;
    at::Tensor mask = at::empty({x.size(0), 1, 1, 1}, x.options()).bernoulli_(keep);
    return x / keep * mask;
  }
  Sym DropConnect(const Sym& x) { return x; }

  int64_t expand_;
  bool skip_;
  double drop_rate_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, se1_{nullptr}, se2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
};

class EfficientNetB0 : public ZooNet {
 public:
  explicit EfficientNetB0(int64_t c) {
    conv1_ = register_module("conv1", MakeConv(c, 32, 3, 1, 1));
    bn1_ = register_module("bn1", MakeBn(32));
    // (expansion, out, blocks, kernel, stride)
    const int64_t cfg[7][5] = {{1, 16, 1, 3, 1},  {6, 24, 2, 3, 2},  {6, 40, 2, 5, 2}, {6, 80, 3, 3, 2},
                               {6, 112, 3, 5, 1}, {6, 192, 4, 5, 2}, {6, 320, 1, 3, 1}};
    const int64_t total = 16;
    int64_t in = 32;
    for (const auto& r : cfg) {
      for (int64_t i = 0; i < r[2]; ++i) {
        // The reference's drop-connect rate: 0.2 * b / blocks with b left at 0.
        blocks_.push_back(register_module(
            "block" + std::to_string(blocks_.size()),
            std::make_shared<MbBlock>(in, r[1], r[3], i == 0 ? r[4] : 1, r[0], 0.2 * 0 / total)));
        in = r[1];
      }
    }
  }
  template <class V>
  V Features(V x) {
    x = Swish(Bn(bn1_, Conv(conv1_, x)));
    return Dropout(GlobalAvgPool(RunAll(blocks_, x)), 0.2, is_training());
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
};

// ---------------- RegNetX-200MF ----------------
class RegBlock : public Block {
 public:
  RegBlock(int64_t w_in, int64_t w_out, int64_t stride, int64_t group_width) {
    int64_t w_b = w_out;  // bottleneck ratio 1, no SE for the X variant
    conv1_ = register_module("conv1", MakeConv(w_in, w_b, 1));
    bn1_ = register_module("bn1", MakeBn(w_b));
    conv2_ = register_module("conv2", MakeConv(w_b, w_b, 3, stride, 1, w_b / group_width));
    bn2_ = register_module("bn2", MakeBn(w_b));
    conv3_ = register_module("conv3", MakeConv(w_b, w_out, 1));
    bn3_ = register_module("bn3", MakeBn(w_out));
    if (stride != 1 || w_in != w_out) {
      sc_conv_ = register_module("sc_conv", MakeConv(w_in, w_out, 1, stride));
      sc_bn_ = register_module("sc_bn", MakeBn(w_out));
    }
  }
  template <class V>
  V Fwd(const V& x) {
    V out = Relu(Bn(bn1_, Conv(conv1_, x)));
    out = Relu(Bn(bn2_, Conv(conv2_, out)));
    out = Bn(bn3_, Conv(conv3_, out));
    return Relu(Add(out, sc_conv_ ? Bn(sc_bn_, Conv(sc_conv_, x)) : x));
  }
  WATTLAB_ZOO_BLOCK

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, sc_conv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr}, sc_bn_{nullptr};
};

class RegNetX200 : public ZooNet {
 public:
  explicit RegNetX200(int64_t c) {
    const int64_t depths[4] = {1, 1, 4, 7}, widths[4] = {24, 56, 152, 368}, strides[4] = {1, 1, 2, 2};
    conv1_ = register_module("conv1", MakeConv(c, 64, 3, 1, 1));
    bn1_ = register_module("bn1", MakeBn(64));
    int64_t in = 64;
    for (int s = 0; s < 4; ++s) {
      for (int64_t i = 0; i < depths[s]; ++i) {
        blocks_.push_back(
            register_module("layer" + std::to_string(s + 1) + "_" + std::to_string(i),
                            std::make_shared<RegBlock>(in, widths[s], i == 0 ? strides[s] : 1, 8)));
        in = widths[s];
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

// ---------------- PNASNet-B ----------------
class PnasCellB : public Block {
 public:
  PnasCellB(int64_t in, int64_t out, int64_t stride) : stride_(stride) {
    const int64_t ks[3] = {7, 3, 5};
    for (int i = 0; i < 3; ++i) {
      sep_.push_back(
          register_module("sep" + std::to_string(i), MakeConv(in, out, ks[i], stride, (ks[i] - 1) / 2, in)));
      sep_bn_.push_back(register_module("sep_bn" + std::to_string(i), MakeBn(out)));
    }
    if (stride == 2) {
      conv1_ = register_module("conv1", MakeConv(in, out, 1));
      bn1_ = register_module("bn1", MakeBn(out));
    }
    conv2_ = register_module("conv2", MakeConv(2 * out, out, 1));
    bn2_ = register_module("bn2", MakeBn(out));
  }
  template <class V>
  V Fwd(const V& x) {
    V y1 = Bn(sep_bn_[0], Conv(sep_[0], x));
    V y2 = Bn(sep_bn_[1], Conv(sep_[1], x));
    V y3 = MaxPool(x, 3, stride_, 1);
    if (stride_ == 2) y3 = Bn(bn1_, Conv(conv1_, y3));
    V y4 = Bn(sep_bn_[2], Conv(sep_[2], x));
    V b1 = Relu(Add(y1, y2));
    V b2 = Relu(Add(y3, y4));
    return Relu(Bn(bn2_, Conv(conv2_, Cat({b1, b2}))));
  }
  WATTLAB_ZOO_BLOCK

 private:
  int64_t stride_;
  std::vector<torch::nn::Conv2d> sep_;
  std::vector<torch::nn::BatchNorm2d> sep_bn_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
};

class PnasNetB : public ZooNet {
 public:
  explicit PnasNetB(int64_t c) {
    const int64_t planes = 32;
    conv1_ = register_module("conv1", MakeConv(c, planes, 3, 1, 1));
    bn1_ = register_module("bn1", MakeBn(planes));
    int64_t in = planes;
    auto add = [&](int64_t out, int64_t stride) {
      cells_.push_back(register_module("cell" + std::to_string(cells_.size()),
                                       std::make_shared<PnasCellB>(in, out, stride)));
      in = out;
    };
    for (int i = 0; i < 6; ++i) add(planes, 1);
    add(planes * 2, 2);
    for (int i = 0; i < 6; ++i) add(planes * 2, 1);
    add(planes * 4, 2);
    for (int i = 0; i < 6; ++i) add(planes * 4, 1);
  }
  template <class V>
  V Features(V x) {
    x = Relu(Bn(bn1_, Conv(conv1_, x)));
    return AvgPool(RunAll(cells_, x), 8, 8);
  }
  WATTLAB_ZOO_FEATURES

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<Block>> cells_;
};

}  // namespace

std::shared_ptr<ZooNet> MakeCifarC(const std::string& name, int64_t c) {
  if (name == "efficientnet_b0") return std::make_shared<EfficientNetB0>(c);
  if (name == "regnetx_200mf") return std::make_shared<RegNetX200>(c);
  if (name == "pnasnet") return std::make_shared<PnasNetB>(c);
  return nullptr;
}

}  // namespace wattlab::zoo
