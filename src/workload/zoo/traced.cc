// The traced counter: counts the aten operators a forward pass runs, from the
// shapes at the dispatcher, knowing nothing of modules. Works the same for
// zoo models and TorchScript modules (both dispatch through aten).
//
// Composite operators call other operators (conv2d -> convolution ->
// _convolution -> mkldnn_convolution; linear -> addmm; adaptive_avg_pool2d ->
// mean). Only the outermost recognised operator is counted: once one is
// active on this thread, nested ones are ignored. Inputs are only valid in the
// start callback, so their shapes are copied there; outputs come to the end
// callback.
#include <ATen/record_function.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "workload/zoo/net.h"
#include "workload/zoo/zoo.h"

namespace wattlab::zoo {
namespace {

enum class Rule {
  kConv,         // out elements x weight elements per output channel
  kLinear,       // aten::linear: out elements x in_features
  kAddmm,        // addmm(bias, a, b): out elements x a.size(-1), as "linear"
  kMatmul,       // mm/bmm/matmul: out elements x a.size(-1)
  kNorm,         // out elements
  kAct,          // out elements
  kPoolWindow,   // out elements x kernel window
  kPoolInput,    // input elements (adaptive / global pooling, mean)
  kElementwise,  // out elements
  kSwallow,      // counted as nothing, but hides what it calls (dropout)
};

const std::unordered_map<std::string_view, Rule>& Rules() {
  static const std::unordered_map<std::string_view, Rule> kRules = {
      {"conv1d", Rule::kConv},
      {"conv2d", Rule::kConv},
      {"conv3d", Rule::kConv},
      {"convolution", Rule::kConv},
      {"_convolution", Rule::kConv},
      {"mkldnn_convolution", Rule::kConv},
      {"thnn_conv2d", Rule::kConv},
      {"_slow_conv2d_forward", Rule::kConv},
      {"linear", Rule::kLinear},
      {"addmm", Rule::kAddmm},
      {"matmul", Rule::kMatmul},
      {"mm", Rule::kMatmul},
      {"bmm", Rule::kMatmul},
      {"batch_norm", Rule::kNorm},
      {"_batch_norm_impl_index", Rule::kNorm},
      {"native_batch_norm", Rule::kNorm},
      {"layer_norm", Rule::kNorm},
      {"native_layer_norm", Rule::kNorm},
      {"group_norm", Rule::kNorm},
      {"instance_norm", Rule::kNorm},
      {"relu", Rule::kAct},
      {"relu_", Rule::kAct},
      {"relu6", Rule::kAct},
      {"sigmoid", Rule::kAct},
      {"sigmoid_", Rule::kAct},
      {"silu", Rule::kAct},
      {"silu_", Rule::kAct},
      {"gelu", Rule::kAct},
      {"tanh", Rule::kAct},
      {"tanh_", Rule::kAct},
      {"hardtanh", Rule::kAct},
      {"hardtanh_", Rule::kAct},
      {"hardswish", Rule::kAct},
      {"hardswish_", Rule::kAct},
      {"hardsigmoid", Rule::kAct},
      {"leaky_relu", Rule::kAct},
      {"leaky_relu_", Rule::kAct},
      {"elu", Rule::kAct},
      {"softmax", Rule::kAct},
      {"_softmax", Rule::kAct},
      {"log_softmax", Rule::kAct},
      {"max_pool2d", Rule::kPoolWindow},
      {"max_pool2d_with_indices", Rule::kPoolWindow},
      {"avg_pool2d", Rule::kPoolWindow},
      {"max_pool1d", Rule::kPoolWindow},
      {"avg_pool1d", Rule::kPoolWindow},
      {"adaptive_avg_pool2d", Rule::kPoolInput},
      {"_adaptive_avg_pool2d", Rule::kPoolInput},
      {"adaptive_max_pool2d", Rule::kPoolInput},
      {"mean", Rule::kPoolInput},
      {"add", Rule::kElementwise},
      {"add_", Rule::kElementwise},
      {"sub", Rule::kElementwise},
      {"sub_", Rule::kElementwise},
      {"rsub", Rule::kElementwise},
      {"mul", Rule::kElementwise},
      {"mul_", Rule::kElementwise},
      {"div", Rule::kElementwise},
      {"div_", Rule::kElementwise},
      {"dropout", Rule::kSwallow},
      {"dropout_", Rule::kSwallow},
      {"feature_dropout", Rule::kSwallow},
      {"feature_dropout_", Rule::kSwallow},
      {"native_dropout", Rule::kSwallow},
      {"alpha_dropout", Rule::kSwallow},
  };
  return kRules;
}

struct OpContext : public at::ObserverContext {
  Rule rule = Rule::kSwallow;
  std::vector<std::vector<int64_t>> shapes;  // per input; empty for non-tensors
  int64_t window = 1;                        // pooling kernel elements
};

// Per-thread state of the one CountTraced running on this thread.
thread_local Tally* t_tally = nullptr;
thread_local int t_active = 0;  // recognised operators open on this thread

int64_t Numel(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& fn) {
  if (t_tally == nullptr || t_active > 0) return nullptr;
  std::string_view name(fn.name());
  if (name.substr(0, 6) != "aten::") return nullptr;
  auto it = Rules().find(name.substr(6));
  if (it == Rules().end()) return nullptr;
  auto ctx = std::make_unique<OpContext>();
  ctx->rule = it->second;
  auto inputs = fn.inputs();
  for (const auto& v : inputs) {
    if (v.isTensor() && v.toTensor().defined()) {
      auto s = v.toTensor().sizes();
      ctx->shapes.emplace_back(s.begin(), s.end());
    } else {
      ctx->shapes.emplace_back();
    }
  }
  if (ctx->rule == Rule::kPoolWindow && inputs.size() > 1 && inputs[1].isIntList()) {
    auto k = inputs[1].toIntVector();
    int64_t spatial = (name.find("1d") != std::string_view::npos) ? 1 : 2;
    for (int64_t i = 0; i < spatial; ++i) ctx->window *= k.empty() ? 1 : k[std::min<size_t>(i, k.size() - 1)];
  }
  ++t_active;
  return ctx;
}

// The sizes of an operator's first defined tensor output (empty if none).
std::vector<int64_t> FirstOutputShape(const at::RecordFunction& fn) {
  for (const auto& v : fn.outputs())
    if (v.isTensor() && v.toTensor().defined()) {
      auto s = v.toTensor().sizes();
      return {s.begin(), s.end()};
    }
  return {};
}

void OnEnd(const at::RecordFunction& fn, at::ObserverContext* base) {
  if (base == nullptr) return;
  --t_active;
  if (t_tally == nullptr) return;
  auto* ctx = static_cast<OpContext*>(base);
  const std::vector<int64_t> out = FirstOutputShape(fn);
  auto shape = [&](size_t i) -> const std::vector<int64_t>& {
    static const std::vector<int64_t> kEmpty;
    return i < ctx->shapes.size() ? ctx->shapes[i] : kEmpty;
  };
  int64_t out_n = Numel(out);
  switch (ctx->rule) {
    case Rule::kConv: {
      const auto& w = shape(1);
      if (!w.empty() && w[0] > 0) t_tally->Add("conv", out_n * (Numel(w) / w[0]));
      break;
    }
    case Rule::kLinear: {
      const auto& w = shape(1);
      if (w.size() == 2) t_tally->Add("linear", out_n * w[1]);
      break;
    }
    case Rule::kAddmm: {
      const auto& a = shape(1);
      if (!a.empty()) t_tally->Add("linear", out_n * a.back());
      break;
    }
    case Rule::kMatmul: {
      const auto& a = shape(0);
      if (!a.empty()) t_tally->Add("matmul", out_n * a.back());
      break;
    }
    case Rule::kNorm:
      t_tally->Add("norm", out_n);
      break;
    case Rule::kAct:
      t_tally->Add("act", out_n);
      break;
    case Rule::kPoolWindow:
      t_tally->Add("pool", out_n * ctx->window);
      break;
    case Rule::kPoolInput:
      t_tally->Add("pool", Numel(shape(0)));
      break;
    case Rule::kElementwise:
      t_tally->Add("elementwise", out_n);
      break;
    case Rule::kSwallow:
      break;
  }
}

// Installs the callback for one CountTraced and always removes it.
class TraceScope {
 public:
  explicit TraceScope(Tally* tally) {
    t_tally = tally;
    t_active = 0;
    handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(&OnStart, &OnEnd)
                                             .needsInputs(true)
                                             .needsOutputs(true)
                                             .scopes({at::RecordScope::FUNCTION}));
  }
  ~TraceScope() {
    at::removeCallback(handle_);
    t_tally = nullptr;
    t_active = 0;
  }
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  at::CallbackHandle handle_;
};

}  // namespace

Result<OpCounts> CountTraced(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                             const Shape& input) {
  if (input.c < 1 || input.h < 1 || input.w < 1) {
    return Status::InvalidArgument("input shape " + input.ToString() + " must have every dimension >= 1");
  }
  Tally tally;
  try {
    torch::NoGradGuard no_grad;
    at::Tensor x = at::zeros({1, input.c, input.h, input.w});
    TraceScope scope(&tally);
    forward(x);
  } catch (const c10::Error& e) {
    return Status::InvalidArgument("the forward pass failed on input 1x" + input.ToString() + ": " +
                                   e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Status::InvalidArgument("the forward pass failed on input 1x" + input.ToString() + ": " +
                                   e.what());
  }
  OpCounts counts;
  counts.macs_by_kind = FinalizeKinds(tally.by_kind);
  counts.macs = MacsOf(counts.macs_by_kind);
  return counts;
}

// ---- TraceOps: operator records for the cost model -------------------------
namespace {

// Free: views and metadata. Copy-like: moved bytes, nothing else.
const std::unordered_map<std::string_view, int>& OtherOps() {
  // 0 = free (a view or metadata; "other" only when it copies inside), 1 = a copy
  static const std::unordered_map<std::string_view, int> kOps = {
      {"view", 0},
      {"reshape", 0},
      {"flatten", 0},
      {"size", 0},
      {"t", 0},
      {"transpose", 0},
      {"permute", 0},
      {"expand", 0},
      {"select", 0},
      {"slice", 0},
      {"squeeze", 0},
      {"unsqueeze", 0},
      {"narrow", 0},
      {"detach", 0},
      {"alias", 0},
      {"_unsafe_view", 0},
      {"as_strided", 0},
      {"view_as", 0},
      {"chunk", 0},
      {"split", 0},
      {"unbind", 0},
      {"contiguous", 0},
      {"expand_as", 0},
      {"numel", 0},
      {"dim", 0},
      {"empty", 0},
      {"empty_like", 0},
      {"resize_", 0},
      {"_reshape_alias", 0},
      {"unflatten", 0},
      {"cat", 1},
      {"clone", 1},
      {"copy_", 1},
      {"constant_pad_nd", 1},
      {"pad", 1},
      {"to", 1},
      {"_to_copy", 1},
      {"stack", 1},
      {"zeros_like", 1},
      {"ones_like", 1},
      {"fill_", 1},
      {"zero_", 1},
      {"zeros", 1},
      {"ones", 1},
      {"index_select", 1},
  };
  return kOps;
}

struct OpsFrame : public at::ObserverContext {
  int cls = 0;  // 0 recognised, 1 free, 2 copy, 3 unknown, 4 nested (ignored)
  Rule rule = Rule::kSwallow;
  std::string name;
  std::vector<std::vector<int64_t>> shapes;
  int64_t window = 1, kernel = 0;
  size_t ops_at_start = 0;
  bool copied_inside = false;
};

thread_local std::vector<OpRecord>* t_ops = nullptr;
thread_local std::vector<std::string>* t_unknown = nullptr;
thread_local int t_depth = 0;              // aten operators open
thread_local int t_recognised = 0;         // recognised operators open
thread_local OpsFrame* t_outer = nullptr;  // the outermost open operator, when not recognised

std::unique_ptr<at::ObserverContext> OnOpsStart(const at::RecordFunction& fn) {
  if (t_ops == nullptr) return nullptr;
  std::string_view name(fn.name());
  if (name.substr(0, 6) != "aten::") return nullptr;
  name = name.substr(6);
  auto ctx = std::make_unique<OpsFrame>();
  ctx->name = std::string(name);
  auto rule = Rules().find(name);
  const bool outer = t_depth == 0;
  ++t_depth;
  if (t_recognised > 0) {
    ctx->cls = 4;
    return ctx;
  }
  if (rule == Rules().end()) {
    if (!outer) {
      if (t_outer != nullptr && (name == "clone" || name == "copy_")) t_outer->copied_inside = true;
      ctx->cls = 4;
      return ctx;
    }
    auto other = OtherOps().find(name);
    ctx->cls = other == OtherOps().end() ? 3 : (other->second == 0 ? 1 : 2);
    ctx->ops_at_start = t_ops->size();
    t_outer = ctx.get();
  } else {
    ctx->cls = 0;
    ctx->rule = rule->second;
    ++t_recognised;
  }
  auto inputs = fn.inputs();
  for (const auto& v : inputs) {
    if (v.isTensor() && v.toTensor().defined()) {
      auto s = v.toTensor().sizes();
      ctx->shapes.emplace_back(s.begin(), s.end());
    } else {
      ctx->shapes.emplace_back();
    }
  }
  if (ctx->cls == 0 && ctx->rule == Rule::kPoolWindow && inputs.size() > 1 && inputs[1].isIntList()) {
    auto k = inputs[1].toIntVector();
    int64_t spatial = (name.find("1d") != std::string_view::npos) ? 1 : 2;
    for (int64_t i = 0; i < spatial; ++i) ctx->window *= k.empty() ? 1 : k[std::min<size_t>(i, k.size() - 1)];
    ctx->kernel = ctx->window;
  }
  return ctx;
}

void OnOpsEnd(const at::RecordFunction& fn, at::ObserverContext* base) {
  if (base == nullptr) return;
  --t_depth;
  auto* ctx = static_cast<OpsFrame*>(base);
  if (ctx->cls == 4 || t_ops == nullptr) return;
  if (ctx->cls == 0) --t_recognised;
  if (ctx->cls != 0 && t_outer == ctx) t_outer = nullptr;
  const std::vector<int64_t> out = FirstOutputShape(fn);
  auto shape = [&](size_t i) -> const std::vector<int64_t>& {
    static const std::vector<int64_t> kEmpty;
    return i < ctx->shapes.size() ? ctx->shapes[i] : kEmpty;
  };
  const int64_t out_n = Numel(out);
  OpRecord r;
  r.op = ctx->name;
  if (ctx->cls != 0) {
    if (t_ops->size() > ctx->ops_at_start) return;  // its work is in the recognised operators inside
    if (ctx->cls == 1 && !ctx->copied_inside) return;
    int64_t in_n = 0;
    for (const auto& sh : ctx->shapes)
      if (!sh.empty()) in_n += Numel(sh);
    r.kind = ctx->cls == 3 ? "unknown" : "other";
    r.work = out_n;
    r.bytes = 4 * (in_n + out_n);
    t_ops->push_back(std::move(r));
    if (ctx->cls == 3 && t_unknown != nullptr) t_unknown->push_back(ctx->name);
    return;
  }
  const int64_t in0 = Numel(shape(0));
  r.bytes = 4 * (in0 + out_n);
  switch (ctx->rule) {
    case Rule::kConv: {
      const auto& w = shape(1);
      const auto& x = shape(0);
      if (w.empty() || w[0] <= 0) return;
      r.work = out_n * (Numel(w) / w[0]);
      r.weight_elements = Numel(w);
      r.reduce = Numel(w) / w[0];
      r.kernel = w.size() >= 4 ? w[2] * w[3] : (w.size() == 3 ? w[2] : 1);
      const int64_t cin = x.size() >= 2 ? x[1] : 0;
      r.groups = (w.size() >= 2 && w[1] > 0 && cin > 0) ? std::max<int64_t>(1, cin / w[1]) : 1;
      r.kind = r.groups == 1 ? "conv" : (r.groups == cin ? "conv_depthwise" : "conv_grouped");
      break;
    }
    case Rule::kLinear: {
      const auto& w = shape(1);
      if (w.size() != 2) return;
      r.kind = "linear";
      r.work = out_n * w[1];
      r.reduce = w[1];
      r.weight_elements = Numel(w);
      break;
    }
    case Rule::kAddmm: {
      const auto& a = shape(1);
      if (a.empty()) return;
      r.kind = "linear";
      r.work = out_n * a.back();
      r.reduce = a.back();
      r.weight_elements = Numel(shape(2));
      r.bytes = 4 * (Numel(a) + out_n);
      break;
    }
    case Rule::kMatmul: {
      const auto& a = shape(0);
      if (a.empty()) return;
      r.kind = "matmul";
      r.work = out_n * a.back();
      r.reduce = a.back();
      r.bytes = 4 * (Numel(a) + Numel(shape(1)) + out_n);
      break;
    }
    case Rule::kNorm:
      r.kind = "norm";
      r.work = out_n;
      break;
    case Rule::kAct:
      r.kind = "act";
      r.work = out_n;
      break;
    case Rule::kPoolWindow:
      r.kind = "pool";
      r.work = out_n * ctx->window;
      r.kernel = ctx->kernel;
      break;
    case Rule::kPoolInput:
      r.kind = "pool";
      r.work = in0;
      r.kernel = 0;
      break;
    case Rule::kElementwise:
      r.kind = "elementwise";
      r.work = out_n;
      r.bytes = 4 * (in0 + Numel(shape(1)) + out_n);
      break;
    case Rule::kSwallow:
      return;
  }
  t_ops->push_back(std::move(r));
}

class OpsScope {
 public:
  OpsScope(std::vector<OpRecord>* ops, std::vector<std::string>* unknown) {
    t_ops = ops;
    t_unknown = unknown;
    t_depth = t_recognised = 0;
    t_outer = nullptr;
    handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(&OnOpsStart, &OnOpsEnd)
                                             .needsInputs(true)
                                             .needsOutputs(true)
                                             .scopes({at::RecordScope::FUNCTION}));
  }
  ~OpsScope() {
    at::removeCallback(handle_);
    t_ops = nullptr;
    t_unknown = nullptr;
    t_depth = t_recognised = 0;
    t_outer = nullptr;
  }
  OpsScope(const OpsScope&) = delete;
  OpsScope& operator=(const OpsScope&) = delete;

 private:
  at::CallbackHandle handle_;
};

}  // namespace

Result<std::vector<OpRecord>> TraceOps(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                       const Shape& input, std::vector<std::string>* unknown) {
  if (input.c < 1 || input.h < 1 || input.w < 1) {
    return Status::InvalidArgument("input shape " + input.ToString() + " must have every dimension >= 1");
  }
  std::vector<OpRecord> ops;
  std::vector<std::string> names;
  try {
    torch::NoGradGuard no_grad;
    at::Tensor x = at::zeros({1, input.c, input.h, input.w});
    OpsScope scope(&ops, &names);
    forward(x);
  } catch (const c10::Error& e) {
    return Status::InvalidArgument("the forward pass failed on input 1x" + input.ToString() + ": " +
                                   e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Status::InvalidArgument("the forward pass failed on input 1x" + input.ToString() + ": " +
                                   e.what());
  }
  if (unknown != nullptr) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    *unknown = std::move(names);
  }
  return ops;
}

}  // namespace wattlab::zoo
