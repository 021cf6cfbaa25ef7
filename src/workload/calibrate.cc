// `wattlab calibrate`'s micro-benchmarks (issue 12; docs/analysis.md, "The
// operator-level model"): each operator kind a model's forward pass is made
// of, over a spread of shapes and batch sizes, timed as inference (eval mode,
// no autograd) and as training (train mode, autograd, forward + backward).
//
// Each shape's OpRecord is taken by tracing the benchmark itself at batch 1
// with zoo::TraceOps, so a calibration point describes its operator exactly as
// a model's trace would. Times are the median per call over repeated calls
// after one warm-up call, repeated until a time target per shape is reached.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "workload/engine.h"
#include "workload/torch_util.h"
#include "workload/zoo/packing.h"
#include "workload/zoo/zoo.h"

namespace wattlab::workload {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A benchmark: an input shape (per sample) and the operator applied to it.
// `train` says whether the op runs in training mode (batch norm).
struct Bench {
  Shape input;
  std::vector<int64_t> batches;
  std::function<at::Tensor(const at::Tensor&, bool train)> op;
  std::vector<at::Tensor> weights;  // made to require grad for the training time
  bool first_layer_too = false;     // also time training without the input's gradient
  // Convolutions: the inference form of the op for input x as the engine
  // runs it by default (weights packed once, packing.h), or empty where the
  // engine would not pack it (then `op` is timed).
  std::function<std::function<at::Tensor(const at::Tensor&)>(const at::Tensor& x)> packed_form;
};

double MedianTime(const std::function<void()>& call, double target_s) {
  call();  // warm-up
  std::vector<double> t;
  const auto start = Clock::now();
  // At least 5 calls (3 for calls over 50 ms), so the median is not one
  // slow call's: with 2, one slow call set a point 4x too slow.
  auto least = [&] { return !t.empty() && t.front() > 0.05 ? size_t{3} : size_t{5}; };
  while (t.size() < least() || (Seconds(start, Clock::now()) < target_s && t.size() < 200)) {
    const auto a = Clock::now();
    call();
    t.push_back(Seconds(a, Clock::now()));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Lists {
  // conv: in, out, hw, k, stride, groups
  std::vector<std::array<int64_t, 6>> conv;
  std::vector<std::array<int64_t, 2>> linear;     // in, out
  std::vector<std::array<int64_t, 3>> matmul;     // rows (seq), inner, cols
  std::vector<std::array<int64_t, 4>> pool;       // c, hw, k (0 = global), stride
  std::vector<std::array<int64_t, 2>> pointwise;  // c, hw (norm, act, elementwise, other)
  std::vector<std::array<int64_t, 2>> optimizer;  // elements per tensor, tensors
  std::vector<int64_t> batches;
  double target_s = 0.1;
};

Lists ShapesFor(const std::string& which) {
  Lists l;
  if (which == "tiny") {
    l.conv = {{8, 8, 8, 3, 1, 1}, {8, 8, 8, 3, 1, 8}, {8, 8, 8, 3, 1, 2}, {8, 16, 8, 1, 1, 1}};
    l.linear = {{64, 32}};
    l.matmul = {{8, 8, 8}};
    l.pool = {{8, 8, 2, 2}, {8, 8, 0, 1}};
    l.pointwise = {{8, 8}};
    l.optimizer = {{1000, 1}, {100, 8}};
    l.batches = {4};
    l.target_s = 0.002;
    return l;
  }
  const bool quick = which == "quick";
  l.conv = {
      // dense 3x3 (first layers, ResNet and VGG stages), stride 1 and 2
      {1, 32, 28, 3, 1, 1},
      {3, 64, 32, 3, 1, 1},
      {64, 64, 32, 3, 1, 1},
      {64, 128, 16, 3, 1, 1},
      {128, 128, 16, 3, 1, 1},
      {256, 256, 8, 3, 1, 1},
      {512, 512, 4, 3, 1, 1},
      {64, 64, 32, 3, 2, 1},
      // narrow (<= 16 output channels: LeNet, thin ResNets)
      {3, 6, 32, 5, 1, 1},
      {6, 16, 14, 5, 1, 1},
      {3, 16, 32, 3, 1, 1},
      {16, 16, 32, 3, 1, 1},
      {16, 16, 8, 3, 1, 1},
      // dense 1x1 (bottlenecks, pointwise halves of separable convs)
      {32, 64, 32, 1, 1, 1},
      {64, 256, 16, 1, 1, 1},
      {160, 320, 8, 1, 1, 1},
      {512, 1024, 4, 1, 1, 1},
      {16, 96, 32, 1, 1, 1},
      // depthwise 3x3 and 5x5
      {32, 32, 32, 3, 1, 32},
      {96, 96, 16, 3, 1, 96},
      {192, 192, 8, 3, 1, 192},
      {576, 576, 4, 3, 1, 576},
      {144, 144, 16, 5, 1, 144},
      {64, 64, 32, 3, 2, 64},
      // grouped (ResNeXt: 2 groups; RegNetX: 8 channels a group)
      {128, 128, 32, 3, 1, 2},
      {256, 256, 16, 3, 1, 2},
      {512, 512, 8, 3, 1, 2},
      {24, 24, 32, 3, 1, 3},
      {56, 56, 16, 3, 1, 7},
      {152, 152, 8, 3, 1, 19},
      {368, 368, 4, 3, 1, 46},
  };
  l.linear = {{784, 256}, {256, 256}, {1024, 1024}, {512, 10}, {128, 512}, {4096, 1024}};
  l.matmul = {{64, 32, 64}, {64, 64, 32}, {16, 64, 16}};
  // windowed (2x2 stride 2, 4x4 average), overlapping (3x3 stride 1), global
  l.pool = {{64, 32, 2, 2}, {256, 8, 2, 2},  {192, 32, 3, 1}, {512, 4, 4, 4},
            {512, 4, 0, 1}, {1024, 8, 0, 1}, {32, 16, 3, 1},  {6, 28, 2, 2}};
  l.pointwise = {{16, 32}, {64, 32}, {256, 8}, {512, 4}, {1024, 2}, {128, 16}};
  l.optimizer = {{10000, 1}, {300000, 1}, {3000000, 1}, {20000000, 1}, {100, 64}};
  l.batches = quick ? std::vector<int64_t>{4, 16, 64} : std::vector<int64_t>{1, 4, 16, 64, 128};
  l.target_s = quick ? 0.01 : 0.1;
  if (quick) {
    // Fewer shapes: every kind and class keeps at least two.
    auto keep = [](auto& v, std::vector<size_t> idx) {
      std::remove_reference_t<decltype(v)> out;
      for (size_t i : idx) out.push_back(v[i]);
      v = out;
    };
    keep(l.conv, {1, 2, 4, 5, 8, 9, 11, 13, 14, 16, 18, 20, 21, 22, 24, 25, 26, 28, 29});
    keep(l.linear, {0, 2, 3});
    keep(l.pool, {0, 2, 3, 4, 6, 7});
    keep(l.pointwise, {1, 2, 5});
    keep(l.optimizer, {0, 2, 4});
  }
  return l;
}

// Times one benchmark at each batch size and appends the points.
Status RunBench(const Bench& b, torch::Dtype dtype, double target_s, std::vector<CalibrationPoint>* out) {
  // The operator record from a batch-1 trace of the benchmark itself.
  std::vector<std::string> unknown;
  auto fwd1 = [&](const torch::Tensor& x) { return b.op(x.to(dtype), false); };
  WATTLAB_ASSIGN_OR_RETURN(auto ops, zoo::TraceOps(fwd1, b.input, &unknown));
  // The benchmark's own operator is the last one (a dtype conversion may come first).
  if (ops.empty()) return Status::Internal("a calibration benchmark traced to no operator");
  for (int64_t batch : b.batches) {
    CalibrationPoint p;
    p.op = ops.back();
    p.batch = batch;
    at::Tensor x = at::randn({batch, b.input.c, b.input.h, b.input.w}).to(dtype);
    {
      c10::InferenceMode guard;
      std::function<at::Tensor(const at::Tensor&)> packed;
      if (b.packed_form) packed = b.packed_form(x);
      p.forward_packed = static_cast<bool>(packed);
      p.forward_s = packed ? MedianTime([&] { (void)packed(x); }, target_s)
                           : MedianTime([&] { (void)b.op(x, false); }, target_s);
      // Packed: also as libtorch runs it per call, for TorchScript files.
      if (packed) p.forward_plain_s = MedianTime([&] { (void)b.op(x, false); }, target_s);
    }
    at::Tensor xg = x.detach().clone().requires_grad_(true);
    for (const auto& w : b.weights) w.requires_grad_(true);
    at::Tensor probe = b.op(xg, true);
    at::Tensor grad = at::ones_like(probe);
    p.train_s = MedianTime(
        [&] {
          at::Tensor y = b.op(xg, true);
          y.backward(grad);
        },
        target_s);
    xg.mutable_grad() = at::Tensor();
    if (b.first_layer_too) {
      // As a model's first layer: the data input needs no gradient.
      at::Tensor xd = x.detach();
      p.train_first_s = MedianTime(
          [&] {
            at::Tensor y = b.op(xd, true);
            y.backward(grad);
          },
          target_s);
    }
    for (const auto& w : b.weights) {
      w.mutable_grad() = at::Tensor();
      w.requires_grad_(false);
    }
    out->push_back(std::move(p));
  }
  return Status::Ok();
}

Result<CalibrationResult> CalibrateImpl(const CalibrationConfig& cfg) {
  WATTLAB_RETURN_IF_ERROR(CheckPrecision(cfg.precision));
  if (cfg.shapes != "default" && cfg.shapes != "quick" && cfg.shapes != "tiny")
    return Status::InvalidArgument("unknown calibration shape set '" + cfg.shapes +
                                   "': use default, quick or tiny");
  const auto t0 = Clock::now();
  CalibrationResult r;
  r.threads = ConfigureThreads(cfg.threads);
  r.precision = cfg.precision;
  r.shapes = cfg.shapes;
  const torch::Dtype dtype = cfg.precision == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  torch::manual_seed(1);
  const Lists l = ShapesFor(cfg.shapes);
  auto make = [&](std::vector<int64_t> dims) { return (at::randn(dims) * 0.1).to(dtype); };

  for (const auto& c : l.conv) {
    const int64_t in = c[0], out = c[1], hw = c[2], k = c[3], stride = c[4], groups = c[5];
    at::Tensor w = make({out, in / groups, k, k});
    Bench b{Shape{in, hw, hw},
            l.batches,
            [w, stride, k, groups](const at::Tensor& x, bool) {
              return at::conv2d(x, w, {}, {stride, stride}, {k / 2, k / 2}, {1, 1}, groups);
            },
            {w},
            /*first_layer_too=*/groups == 1 && in <= 3};
    b.packed_form = [w, stride, k, groups](const at::Tensor& x) {
      std::function<at::Tensor(const at::Tensor&)> f;
      const std::vector<int64_t> st{stride, stride}, pad{k / 2, k / 2}, dil{1, 1};
      if (auto packed = zoo::PackForInput(w, x.sizes(), x.scalar_type(), pad, st, dil, groups))
        f = [p = *packed, st, pad, dil, groups](const at::Tensor& in) {
          return zoo::PackedConv(in, p, c10::nullopt, pad, st, dil, groups);
        };
      return f;
    };
    WATTLAB_RETURN_IF_ERROR(RunBench(b, dtype, l.target_s, &r.points));
  }
  for (const auto& c : l.linear) {
    at::Tensor w = make({c[1], c[0]});
    at::Tensor bias = make({c[1]});
    Bench b{Shape{1, 1, c[0]},
            l.batches,
            [w, bias](const at::Tensor& x, bool) { return at::linear(x.flatten(1), w, bias); },
            {w, bias},
            /*first_layer_too=*/true};
    WATTLAB_RETURN_IF_ERROR(RunBench(b, dtype, l.target_s, &r.points));
  }
  for (const auto& c : l.matmul) {
    // [n, 4 heads, rows, inner] x [inner, cols] per head, as attention does.
    at::Tensor m = make({4, c[1], c[2]});
    Bench b{
        Shape{4, c[0], c[1]}, l.batches, [m](const at::Tensor& x, bool) { return at::matmul(x, m); }, {m}};
    WATTLAB_RETURN_IF_ERROR(RunBench(b, dtype, l.target_s, &r.points));
  }
  for (const auto& c : l.pool) {
    const int64_t k = c[2], s = c[3];
    Bench b{Shape{c[0], c[1], c[1]},
            l.batches,
            [k, s](const at::Tensor& x, bool) {
              if (k == 0) return at::adaptive_avg_pool2d(x, {1, 1});
              if (s == 1) return at::max_pool2d(x, {k, k}, {s, s}, {k / 2, k / 2});
              if (k == 4) return at::avg_pool2d(x, {k, k});
              return at::max_pool2d(x, {k, k}, {s, s});
            },
            {}};
    WATTLAB_RETURN_IF_ERROR(RunBench(b, dtype, l.target_s, &r.points));
  }
  for (const auto& c : l.pointwise) {
    const int64_t ch = c[0], hw = c[1];
    at::Tensor gamma = at::ones({ch}).to(dtype), beta = at::zeros({ch}).to(dtype);
    at::Tensor mean = at::zeros({ch}), var = at::ones({ch});
    Bench norm{Shape{ch, hw, hw},
               l.batches,
               [gamma, beta, mean, var](const at::Tensor& x, bool train) {
                 return at::batch_norm(x, gamma, beta, mean, var, train, 0.1, 1e-5, false);
               },
               {gamma, beta}};
    Bench act{Shape{ch, hw, hw}, l.batches, [](const at::Tensor& x, bool) { return at::relu(x); }, {}};
    Bench add{Shape{ch, hw, hw}, l.batches, [](const at::Tensor& x, bool) { return x + x; }, {}};
    Bench cat{Shape{ch, hw, hw}, l.batches, [](const at::Tensor& x, bool) { return at::cat({x, x}, 1); }, {}};
    for (const Bench* b : {&norm, &act, &add, &cat})
      WATTLAB_RETURN_IF_ERROR(RunBench(*b, dtype, l.target_s, &r.points));
  }
  // The optimizer step (SGD with momentum and weight decay, the study's
  // default) over `tensors` parameter tensors of `elements` each.
  for (const auto& c : l.optimizer) {
    std::vector<at::Tensor> params;
    for (int64_t i = 0; i < c[1]; ++i) {
      at::Tensor p = make({c[0]}).requires_grad_(true);
      p.mutable_grad() = at::ones_like(p);
      params.push_back(p);
    }
    torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.001).momentum(0.9).weight_decay(5e-4));
    CalibrationPoint p;
    p.op.kind = "optimizer";
    p.op.op = "sgd";
    p.op.work = c[0] * c[1];
    p.op.bytes = 4 * c[0] * c[1];
    p.op.reduce = c[1];  // tensors
    p.batch = 1;
    p.train_s = MedianTime([&] { sgd.step(); }, l.target_s);
    r.points.push_back(std::move(p));
  }
  r.duration_s = Seconds(t0, Clock::now());
  return r;
}

}  // namespace

Result<CalibrationResult> RunCalibration(const CalibrationConfig& config) {
  return CatchTorch("calibrating", [&]() { return CalibrateImpl(config); });
}

}  // namespace wattlab::workload
