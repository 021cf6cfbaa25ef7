// Parametric families for size sweeps: mlp:depth=D,width=W and
// transformer:layers=L,d_model=D,heads=H,seq=S (the CIFAR ResNet family lives
// in models_a.cc next to the basic block it shares).
#include <cmath>

#include "workload/zoo/net.h"

namespace wattlab::zoo {
namespace {

// ---------------- MLP ----------------
class Mlp : public ZooNet {
 public:
  Mlp(int64_t depth, int64_t width) : depth_(depth), width_(width) {}
  template <class V>
  V Features(V x) {
    return x;
  }
  template <class V>
  V Head(V x) {
    x = Flatten(x);
    for (auto& l : hidden_) x = Relu(Lin(l, x));
    return Lin(linear_, x);
  }
  WATTLAB_ZOO_FEATURES
  WATTLAB_ZOO_HEAD

 protected:
  void MakeHead(int64_t flat, int64_t classes) override {
    int64_t in = flat;
    for (int64_t i = 0; i < depth_; ++i) {
      hidden_.push_back(register_module("fc" + std::to_string(i), MakeLinear(in, width_)));
      in = width_;
    }
    linear_ = register_module("linear", MakeLinear(in, classes));
  }

 private:
  int64_t depth_, width_;
  std::vector<torch::nn::Linear> hidden_;
};

// ---------------- Transformer encoder classifier ----------------
// [N,S,3D] -> q, k, v each [N,H,S,D/H].
std::vector<at::Tensor> SplitQkv(const at::Tensor& qkv, int64_t heads) {
  auto n = qkv.size(0), s = qkv.size(1), d = qkv.size(2) / 3;
  return qkv.view({n, s, 3, heads, d / heads}).permute({2, 0, 3, 1, 4}).unbind(0);
}
std::vector<Sym> SplitQkv(const Sym& qkv, int64_t heads) {
  Sym one = qkv.With({qkv.size(0), heads, qkv.size(1), qkv.size(2) / 3 / heads});
  return {one, one, one};
}
at::Tensor TransposeLast(const at::Tensor& x) { return x.transpose(-2, -1); }
Sym TransposeLast(const Sym& x) {
  Sym y = x;
  std::swap(y.dims[y.dims.size() - 1], y.dims[y.dims.size() - 2]);
  return y;
}
at::Tensor Scale(const at::Tensor& x, double s) { return x * s; }
Sym Scale(const Sym& x, double) {
  x.tally->Add("elementwise", x.Numel());
  return x;
}
// [N,H,S,dh] -> [N,S,H*dh]
at::Tensor MergeHeads(const at::Tensor& x) {
  return x.transpose(1, 2).reshape({x.size(0), x.size(2), x.size(1) * x.size(3)});
}
Sym MergeHeads(const Sym& x) { return x.With({x.size(0), x.size(2), x.size(1) * x.size(3)}); }

class EncoderLayer : public Block {
 public:
  EncoderLayer(int64_t d, int64_t heads)
      : heads_(heads), scale_(1.0 / std::sqrt(static_cast<double>(d / heads))) {
    ln1_ = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    qkv_ = register_module("qkv", MakeLinear(d, 3 * d));
    proj_ = register_module("proj", MakeLinear(d, d));
    ln2_ = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    fc1_ = register_module("fc1", MakeLinear(d, 4 * d));
    fc2_ = register_module("fc2", MakeLinear(4 * d, d));
  }
  template <class V>
  V Fwd(const V& x) {
    auto qkv = SplitQkv(Lin(qkv_, Ln(ln1_, x)), heads_);
    V att = Softmax(Scale(Matmul(qkv[0], TransposeLast(qkv[1])), scale_), -1);
    V y = Add(x, Lin(proj_, MergeHeads(Matmul(att, qkv[2]))));
    return Add(y, Lin(fc2_, Gelu(Lin(fc1_, Ln(ln2_, y)))));
  }
  WATTLAB_ZOO_BLOCK

 private:
  int64_t heads_;
  double scale_;
  torch::nn::LayerNorm ln1_{nullptr}, ln2_{nullptr};
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
};

class Transformer : public ZooNet {
 public:
  Transformer(const Shape& input, int64_t layers, int64_t d, int64_t heads, int64_t seq)
      : grid_(static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(seq))))), seq_(seq) {
    // Patch size from the build shape; a different input shape at run time
    // is rejected by Patchify.
    ph_ = input.h / grid_;
    pw_ = input.w / grid_;
    embed_ = register_module("embed", MakeLinear(std::max<int64_t>(1, input.c * ph_ * pw_), d));
    pos_ = register_parameter("pos", at::randn({1, seq, d}) * 0.02);
    for (int64_t i = 0; i < layers; ++i) {
      layers_.push_back(
          register_module("layer" + std::to_string(i), std::make_shared<EncoderLayer>(d, heads)));
    }
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  }
  template <class V>
  V Features(V x) {
    x = AddPos(Lin(embed_, Patchify(x)));
    x = Ln(norm_, RunAll(layers_, x));
    return Mean(x, 1);
  }
  WATTLAB_ZOO_FEATURES

 private:
  void CheckPatch(int64_t h, int64_t w) const {
    if (ph_ < 1 || pw_ < 1 || h != grid_ * ph_ || w != grid_ * pw_) {
      throw ShapeError("transformer: seq=" + std::to_string(seq_) + " cuts the image into a " +
                       std::to_string(grid_) + "x" + std::to_string(grid_) +
                       " grid of patches, so H and W must be multiples of " + std::to_string(grid_));
    }
  }
  // [N,C,H,W] -> [N, g*g, C*ph*pw]
  at::Tensor Patchify(const at::Tensor& x) {
    CheckPatch(x.size(2), x.size(3));
    auto n = x.size(0), c = x.size(1);
    return x.view({n, c, grid_, ph_, grid_, pw_})
        .permute({0, 2, 4, 1, 3, 5})
        .reshape({n, grid_ * grid_, c * ph_ * pw_});
  }
  Sym Patchify(const Sym& x) {
    CheckPatch(x.size(2), x.size(3));
    return x.With({x.size(0), grid_ * grid_, x.size(1) * ph_ * pw_});
  }
  at::Tensor AddPos(const at::Tensor& x) { return x + pos_; }
  Sym AddPos(const Sym& x) { return Add(x, x); }

  int64_t grid_, seq_, ph_ = 0, pw_ = 0;
  torch::nn::Linear embed_{nullptr};
  at::Tensor pos_;
  std::vector<std::shared_ptr<Block>> layers_;
  torch::nn::LayerNorm norm_{nullptr};
};

}  // namespace

std::shared_ptr<ZooNet> MakeMlp(int64_t, int64_t depth, int64_t width) {
  return std::make_shared<Mlp>(depth, width);
}

std::shared_ptr<ZooNet> MakeTransformer(const Shape& input, int64_t layers, int64_t d_model, int64_t heads,
                                        int64_t seq) {
  return std::make_shared<Transformer>(input, layers, d_model, heads, seq);
}

}  // namespace wattlab::zoo
