// Internal to the zoo: the base classes zoo models are written with, and the
// per-file factories zoo.cc dispatches to.
//
// A model is a ZooNet: it writes its wiring once as a template
// `Features(V x)` (and optionally `Head(V x)`), instantiated for at::Tensor
// (the forward pass) and Sym (the analytic counter). Finish() sizes the head
// from the symbolic features for the requested input. Sub-blocks derive from
// Block and are written the same way.
#pragma once

#include <memory>
#include <string>

#include "workload/zoo/ops.h"
#include "workload/zoo/zoo.h"

namespace wattlab::zoo {

// Records a top-level block's input and output as split points when the
// symbolic pass asks for them (Tally::cuts); a block inside a block is not a
// split point (it may sit inside a skip connection).
class BlockScope {
 public:
  explicit BlockScope(const Sym& x) : t_(x.tally) {
    if (t_ == nullptr) return;
    if (t_->cuts != nullptr && t_->depth == 0) Record("before block", x);
    ++t_->depth;
  }
  Sym Done(Sym y) {
    if (t_ == nullptr) return y;
    --t_->depth;
    if (t_->cuts != nullptr && t_->depth == 0) {
      Record("after block", y);
      ++t_->blocks;
    }
    return y;
  }

 private:
  void Record(const char* what, const Sym& x) {
    const int64_t batch = x.dims.empty() || x.dims[0] < 1 ? 1 : x.dims[0];
    t_->cuts->push_back({what + std::to_string(t_->blocks), x.Numel() / batch, t_->Macs()});
  }
  Tally* t_;
};

// Defines both Run overloads of a Block from its template Fwd.
#define WATTLAB_ZOO_BLOCK                                          \
  at::Tensor Run(const at::Tensor& x) override { return Fwd(x); }  \
  ::wattlab::zoo::Sym Run(const ::wattlab::zoo::Sym& x) override { \
    ::wattlab::zoo::BlockScope scope(x);                           \
    return scope.Done(Fwd(x));                                     \
  }

// Defines both feature overloads of a ZooNet from its template Features.
#define WATTLAB_ZOO_FEATURES                                                 \
  at::Tensor FeaturesT(const at::Tensor& x) override { return Features(x); } \
  ::wattlab::zoo::Sym FeaturesS(const ::wattlab::zoo::Sym& x) override { return Features(x); }

// Defines both head overloads of a ZooNet from its template Head.
#define WATTLAB_ZOO_HEAD                                             \
  at::Tensor HeadT(const at::Tensor& x) override { return Head(x); } \
  ::wattlab::zoo::Sym HeadS(const ::wattlab::zoo::Sym& x) override { return Head(x); }

class Block : public torch::nn::Module {
 public:
  virtual at::Tensor Run(const at::Tensor& x) = 0;
  virtual Sym Run(const Sym& x) = 0;
};

// Runs a list of blocks in order.
template <class V>
V RunAll(std::vector<std::shared_ptr<Block>>& blocks, V x) {
  for (auto& b : blocks) x = b->Run(x);
  return x;
}

class ZooNet : public Net {
 public:
  torch::Tensor forward(torch::Tensor x) override { return HeadT(FeaturesT(x)); }
  Sym Describe(const Sym& x) { return HeadS(FeaturesS(x)); }

  // Sizes and registers the head for `input`. Throws ShapeError when the
  // input is too small for the features.
  void Finish(const Shape& input, int64_t classes) {
    Tally t;
    Sym s = FeaturesS(Sym{{1, input.c, input.h, input.w}, &t});
    MakeHead(s.Numel(), classes);
  }
  // True when `input` survives the features (used to find the minimum size).
  bool Fits(const Shape& input) {
    Tally t;
    try {
      FeaturesS(Sym{{1, input.c, input.h, input.w}, &t});
      return true;
    } catch (const ShapeError&) {
      return false;
    }
  }

 protected:
  virtual at::Tensor FeaturesT(const at::Tensor& x) = 0;
  virtual Sym FeaturesS(const Sym& x) = 0;
  // Default head: flatten + one linear classifier.
  virtual void MakeHead(int64_t flat, int64_t classes) {
    linear_ = register_module("linear", MakeLinear(flat, classes));
  }
  virtual at::Tensor HeadT(const at::Tensor& x) { return Lin(linear_, Flatten(x)); }
  virtual Sym HeadS(const Sym& x) { return Lin(linear_, Flatten(x)); }

  torch::nn::Linear linear_{nullptr};
};

// Per-file factories: nullptr when the name is not theirs. `c` is the input
// channel count (the reference forms take 3).
std::shared_ptr<ZooNet> MakeCifarA(const std::string& name, int64_t c);    // models_a.cc
std::shared_ptr<ZooNet> MakeCifarB(const std::string& name, int64_t c);    // models_b.cc
std::shared_ptr<ZooNet> MakeCifarC(const std::string& name, int64_t c);    // models_c.cc
std::shared_ptr<ZooNet> MakeImagenet(const std::string& name, int64_t c);  // models_imagenet.cc

// Families (families.cc); parameters already validated by zoo.cc.
std::shared_ptr<ZooNet> MakeMlp(int64_t c, int64_t depth, int64_t width);
std::shared_ptr<ZooNet> MakeCifarResnet(int64_t c, int64_t depth, int64_t width);
std::shared_ptr<ZooNet> MakeTransformer(const Shape& input, int64_t layers, int64_t d_model, int64_t heads,
                                        int64_t seq);

// Build, keeping the zoo type (zoo.cc). Build() is this, upcast.
Result<std::shared_ptr<ZooNet>> BuildZooNet(const std::string& name, const Shape& input, int64_t classes);
// The analytic counter over an already built model (zoo.cc).
Result<ModelFacts> CountAnalyticOf(ZooNet& net, const std::string& name, const Shape& input, int64_t classes);
// Split points of an already built model (zoo.cc).
Result<std::vector<SplitPoint>> SplitPointsOf(ZooNet& net, const std::string& name, const Shape& input);

// Shared by both counters (zoo.cc): keeps "conv" and "linear" always, drops
// other kinds that are zero; and the MAC total (conv + linear + matmul).
std::map<std::string, int64_t> FinalizeKinds(std::map<std::string, int64_t> by_kind);
int64_t MacsOf(const std::map<std::string, int64_t>& by_kind);

}  // namespace wattlab::zoo
