// Internal to the zoo: the layer vocabulary every zoo model is written in, in
// two forms that share one spelling.
//
// Each operation has a torch::Tensor overload (the real computation) and a
// Sym overload (shape propagation plus work counting, no arithmetic). A model
// writes its wiring once as `template <class V> V Features(V x)` and gets both
// the real forward pass and the analytic counter from it. The Sym overloads
// read only the layers' own descriptions (module options), so the analytic
// count is independent of what libtorch executes; the traced counter
// (traced.cc) checks it from the other side.
//
// Work per kind follows docs/mac-convention.md:
//   conv:   Cout·(Cin/groups)·kh·kw·Hout·Wout   linear: in·out per row
//   matmul: n·k·m per batch entry                norm, act, elementwise: 1 per output element
//   pool:   output elements · kernel window (fixed kernels); input elements (adaptive/global)
//   bias adds, views, concatenation, slicing, dropout: not counted.
//
// Shape errors in Sym propagation throw ShapeError (caught at the zoo's API
// edge and turned into InvalidArgument). Thread-safety: a Sym's Tally is not
// shared between threads.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cstdint>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "workload/zoo/packing.h"

namespace wattlab::zoo {

// A shape that became impossible (a map smaller than a kernel, ...).
class ShapeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A boundary between two top-level blocks seen during a symbolic pass: the
// one tensor crossing it and the MACs (conv + linear + matmul) done before it.
struct Cut {
  std::string layer;  // "before block3", "after block3"
  int64_t elements_per_sample = 0;
  int64_t macs_before = 0;
};

// Work accumulated per kind ("conv", "linear", "matmul", "norm", "act",
// "pool", "elementwise"). When `cuts` is set, blocks called at the top level
// of a model's Features record their input and output there (BlockScope in
// net.h); nested blocks do not.
struct Tally {
  std::map<std::string, int64_t> by_kind;
  std::vector<Cut>* cuts = nullptr;
  int depth = 0;       // blocks open
  int64_t blocks = 0;  // top-level blocks finished
  void Add(const std::string& kind, int64_t n) { by_kind[kind] += n; }
  int64_t Macs() const {
    int64_t m = 0;
    for (const char* k : {"conv", "linear", "matmul"}) {
      auto it = by_kind.find(k);
      if (it != by_kind.end()) m += it->second;
    }
    return m;
  }
};

// A symbolic activation: its dims (batch first) and where its work goes.
struct Sym {
  std::vector<int64_t> dims;
  Tally* tally = nullptr;
  int64_t Numel() const {
    return std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<int64_t>());
  }
  int64_t size(int64_t i) const { return dims.at(i < 0 ? dims.size() + i : i); }
  int64_t dim() const { return static_cast<int64_t>(dims.size()); }
  Sym With(std::vector<int64_t> d) const { return Sym{std::move(d), tally}; }
};

// ---- constructors with the reference defaults (bias off unless asked) ----
inline torch::nn::Conv2d MakeConv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t pad = 0,
                                  int64_t groups = 1, bool bias = false) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).groups(groups).bias(bias));
}
inline torch::nn::BatchNorm2d MakeBn(int64_t c) { return torch::nn::BatchNorm2d(c); }
inline torch::nn::Linear MakeLinear(int64_t in, int64_t out, bool bias = true) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

namespace detail {
inline int64_t OutSize(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, const char* what) {
  int64_t span = d * (k - 1) + 1;
  if (in + 2 * p < span) {
    throw ShapeError(std::string(what) + ": input " + std::to_string(in) + " (+2x" + std::to_string(p) +
                     " padding) is smaller than the window " + std::to_string(span));
  }
  return (in + 2 * p - span) / s + 1;
}
}  // namespace detail

// ---- convolution / linear / matmul ----
// Inside a ConvPacking scope (packing.h, inference) a packed layer runs on
// its packed weight; the scope's first pass records each layer's input.
inline at::Tensor Conv(torch::nn::Conv2d& m, const at::Tensor& x) {
  if (detail::t_conv_packing != nullptr) {
    if (const at::Tensor* packed = ConvPacking::Find(m.get())) {
      const auto& o = m->options;
      const auto& pad = *c10::get_if<torch::ExpandingArray<2>>(&o.padding());
      return PackedConv(x, *packed, m->bias.defined() ? c10::optional<at::Tensor>(m->bias) : c10::nullopt,
                        *pad, *o.stride(), *o.dilation(), o.groups());
    }
    ConvPacking::Record(m.get(), x);
  }
  return m->forward(x);
}
inline Sym Conv(torch::nn::Conv2d& m, const Sym& x) {
  const auto& o = m->options;
  const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (pad == nullptr) throw ShapeError("conv: only explicit padding is described");
  if (x.dim() != 4 || x.size(1) != o.in_channels()) {
    throw ShapeError("conv: expected " + std::to_string(o.in_channels()) + " input channels");
  }
  int64_t ho = detail::OutSize(x.size(2), (*o.kernel_size())[0], (*o.stride())[0], (**pad)[0],
                               (*o.dilation())[0], "conv");
  int64_t wo = detail::OutSize(x.size(3), (*o.kernel_size())[1], (*o.stride())[1], (**pad)[1],
                               (*o.dilation())[1], "conv");
  int64_t per_out = (o.in_channels() / o.groups()) * (*o.kernel_size())[0] * (*o.kernel_size())[1];
  Sym y = x.With({x.size(0), o.out_channels(), ho, wo});
  x.tally->Add("conv", y.Numel() * per_out);
  return y;
}

// Calls aten::linear directly: the C++ frontend's Linear::forward splits a
// 3-D input into matmul + bias add, which would hide from the traced counter
// that this is a linear layer.
inline at::Tensor Lin(torch::nn::Linear& m, const at::Tensor& x) { return at::linear(x, m->weight, m->bias); }
inline Sym Lin(torch::nn::Linear& m, const Sym& x) {
  const auto& o = m->options;
  if (x.size(-1) != o.in_features()) {
    throw ShapeError("linear: expected " + std::to_string(o.in_features()) + " features, got " +
                     std::to_string(x.size(-1)));
  }
  std::vector<int64_t> d = x.dims;
  d.back() = o.out_features();
  Sym y = x.With(d);
  x.tally->Add("linear", y.Numel() * o.in_features());
  return y;
}

// [.., n, k] x [.., k, m] -> [.., n, m] (same leading dims).
inline at::Tensor Matmul(const at::Tensor& a, const at::Tensor& b) { return at::matmul(a, b); }
inline Sym Matmul(const Sym& a, const Sym& b) {
  std::vector<int64_t> d = a.dims;
  d.back() = b.size(-1);
  Sym y = a.With(d);
  a.tally->Add("matmul", y.Numel() * a.size(-1));
  return y;
}

// ---- normalisation ----
inline at::Tensor Bn(torch::nn::BatchNorm2d& m, const at::Tensor& x) { return m->forward(x); }
inline Sym Bn(torch::nn::BatchNorm2d& m, const Sym& x) {
  if (x.size(1) != m->options.num_features()) throw ShapeError("batch_norm: channel mismatch");
  x.tally->Add("norm", x.Numel());
  return x;
}
inline at::Tensor Ln(torch::nn::LayerNorm& m, const at::Tensor& x) { return m->forward(x); }
inline Sym Ln(torch::nn::LayerNorm&, const Sym& x) {
  x.tally->Add("norm", x.Numel());
  return x;
}

// ---- activations ----
inline at::Tensor Relu(const at::Tensor& x) { return at::relu(x); }
inline Sym Relu(const Sym& x) {
  x.tally->Add("act", x.Numel());
  return x;
}
inline at::Tensor Sigmoid(const at::Tensor& x) { return at::sigmoid(x); }
inline Sym Sigmoid(const Sym& x) {
  x.tally->Add("act", x.Numel());
  return x;
}
inline at::Tensor Gelu(const at::Tensor& x) { return at::gelu(x); }
inline Sym Gelu(const Sym& x) {
  x.tally->Add("act", x.Numel());
  return x;
}
inline at::Tensor Softmax(const at::Tensor& x, int64_t dim) { return at::softmax(x, dim); }
inline Sym Softmax(const Sym& x, int64_t) {
  x.tally->Add("act", x.Numel());
  return x;
}
// kuangliu's swish (x * sigmoid(x)): an activation and an elementwise multiply.
inline at::Tensor Swish(const at::Tensor& x) { return x * at::sigmoid(x); }
inline Sym Swish(const Sym& x) {
  x.tally->Add("act", x.Numel());
  x.tally->Add("elementwise", x.Numel());
  return x;
}

// ---- elementwise (broadcasting) ----
namespace detail {
inline std::vector<int64_t> Broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> r(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < r.size(); ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) throw ShapeError("elementwise: shapes do not broadcast");
    r[r.size() - 1 - i] = std::max(da, db);
  }
  return r;
}
}  // namespace detail
inline at::Tensor Add(const at::Tensor& a, const at::Tensor& b) { return a + b; }
inline Sym Add(const Sym& a, const Sym& b) {
  Sym y = a.With(detail::Broadcast(a.dims, b.dims));
  a.tally->Add("elementwise", y.Numel());
  return y;
}
inline at::Tensor Mul(const at::Tensor& a, const at::Tensor& b) { return a * b; }
inline Sym Mul(const Sym& a, const Sym& b) { return Add(a, b); }

// ---- pooling ----
inline at::Tensor MaxPool(const at::Tensor& x, int64_t k, int64_t s, int64_t p = 0) {
  return at::max_pool2d(x, {k, k}, {s, s}, {p, p});
}
inline Sym MaxPool(const Sym& x, int64_t k, int64_t s, int64_t p = 0) {
  Sym y = x.With({x.size(0), x.size(1), detail::OutSize(x.size(2), k, s, p, 1, "max_pool2d"),
                  detail::OutSize(x.size(3), k, s, p, 1, "max_pool2d")});
  x.tally->Add("pool", y.Numel() * k * k);
  return y;
}
// Fixed-kernel average pool (kernel kh x kw, stride = kernel unless given).
inline at::Tensor AvgPool(const at::Tensor& x, int64_t kh, int64_t kw, int64_t s = 0) {
  if (s == 0) return at::avg_pool2d(x, {kh, kw});
  return at::avg_pool2d(x, {kh, kw}, {s, s});
}
inline Sym AvgPool(const Sym& x, int64_t kh, int64_t kw, int64_t s = 0) {
  int64_t sh = s == 0 ? kh : s, sw = s == 0 ? kw : s;
  Sym y = x.With({x.size(0), x.size(1), detail::OutSize(x.size(2), kh, sh, 0, 1, "avg_pool2d"),
                  detail::OutSize(x.size(3), kw, sw, 0, 1, "avg_pool2d")});
  x.tally->Add("pool", y.Numel() * kh * kw);
  return y;
}
inline at::Tensor GlobalAvgPool(const at::Tensor& x) { return at::adaptive_avg_pool2d(x, {1, 1}); }
inline Sym GlobalAvgPool(const Sym& x) {
  x.tally->Add("pool", x.Numel());
  return x.With({x.size(0), x.size(1), 1, 1});
}
inline at::Tensor AdaptiveAvgPool(const at::Tensor& x, int64_t h, int64_t w) {
  return at::adaptive_avg_pool2d(x, {h, w});
}
inline Sym AdaptiveAvgPool(const Sym& x, int64_t h, int64_t w) {
  x.tally->Add("pool", x.Numel());
  return x.With({x.size(0), x.size(1), h, w});
}
// Mean over one dim (token pooling).
inline at::Tensor Mean(const at::Tensor& x, int64_t dim) { return x.mean(dim); }
inline Sym Mean(const Sym& x, int64_t dim) {
  x.tally->Add("pool", x.Numel());
  std::vector<int64_t> d = x.dims;
  d.erase(d.begin() + (dim < 0 ? d.size() + dim : dim));
  return x.With(d);
}

// ---- dropout: identity in eval; never counted ----
inline at::Tensor Dropout(const at::Tensor& x, double p, bool training) {
  return at::dropout(x, p, training);
}
inline Sym Dropout(const Sym& x, double, bool) { return x; }

// ---- free reshaping (not counted) ----
inline at::Tensor Flatten(const at::Tensor& x) { return x.reshape({x.size(0), -1}); }
inline Sym Flatten(const Sym& x) { return x.With({x.size(0), x.Numel() / x.size(0)}); }
inline at::Tensor Cat(const std::vector<at::Tensor>& xs) { return at::cat(xs, 1); }
inline Sym Cat(const std::vector<Sym>& xs) {
  Sym y = xs.at(0);
  for (size_t i = 1; i < xs.size(); ++i) {
    if (xs[i].size(2) != y.dims[2] || xs[i].size(3) != y.dims[3]) throw ShapeError("cat: spatial mismatch");
    y.dims[1] += xs[i].size(1);
  }
  return y;
}
// Channels [from, to).
inline at::Tensor Channels(const at::Tensor& x, int64_t from, int64_t to) { return x.slice(1, from, to); }
inline Sym Channels(const Sym& x, int64_t from, int64_t to) {
  return x.With({x.size(0), to - from, x.size(2), x.size(3)});
}
inline at::Tensor ShuffleChannels(const at::Tensor& x, int64_t g) {
  auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.view({n, g, c / g, h, w}).permute({0, 2, 1, 3, 4}).reshape({n, c, h, w});
}
inline Sym ShuffleChannels(const Sym& x, int64_t) { return x; }
inline int64_t SizeOf(const at::Tensor& x, int64_t i) { return x.size(i); }
inline int64_t SizeOf(const Sym& x, int64_t i) { return x.size(i); }

// Base of every zoo model: the model writes `Features` once (as a template,
// see WATTLAB_ZOO_FEATURES) and a head; Finish() sizes the head from the
// symbolic output of Features for the requested input, so any input shape
// gets a classifier of the right width.
class ZooNet;

}  // namespace wattlab::zoo
