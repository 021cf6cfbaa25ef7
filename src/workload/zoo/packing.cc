// Convolution weights packed once for inference: see packing.h.
#include "workload/zoo/packing.h"

#include <ATen/autocast_mode.h>

#include "workload/zoo/zoo.h"

namespace wattlab::zoo {

namespace detail {
thread_local ConvPacking* t_conv_packing = nullptr;
}  // namespace detail

bool ConvPackingAvailable() {
  return at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() && !at::autocast::is_cpu_enabled();
}

bool PackableConv(const at::Tensor& weight, at::IntArrayRef input_sizes, at::IntArrayRef stride,
                  at::IntArrayRef dilation, int threads) {
  if (weight.dim() != 4 || input_sizes.size() != 4 || weight.scalar_type() != at::kFloat) return false;
  if (weight.is_mkldnn() || !weight.device().is_cpu()) return false;
  bool strided = false, dilated = false;
  for (int64_t s : stride) strided = strided || s != 1;
  for (int64_t d : dilation) dilated = dilated || d != 1;
  const bool one_by_one = weight.size(2) == 1 && weight.size(3) == 1;
  // libtorch's own first clause (Convolution.cpp, use_mkldnn): a 1x1 kernel
  // on a small batch at one thread stays on its own path. Its second clause
  // (small batch-1 inputs stay off oneDNN) is the one we drop.
  return strided || dilated || input_sizes[0] >= 16 || !one_by_one || threads > 1;
}

at::Tensor PackConvWeight(const at::Tensor& weight, at::IntArrayRef padding, at::IntArrayRef stride,
                          at::IntArrayRef dilation, int64_t groups) {
  return at::mkldnn_reorder_conv2d_weight(weight.contiguous().to_mkldnn(), padding, stride, dilation, groups);
}

c10::optional<at::Tensor> PackForInput(const at::Tensor& weight, at::IntArrayRef input_sizes,
                                       at::ScalarType input_type, at::IntArrayRef padding,
                                       at::IntArrayRef stride, at::IntArrayRef dilation, int64_t groups) {
  if (!ConvPackingAvailable() || input_type != at::kFloat ||
      !PackableConv(weight, input_sizes, stride, dilation, at::get_num_threads()))
    return c10::nullopt;
  return PackConvWeight(weight, padding, stride, dilation, groups);
}

at::Tensor PackedConv(const at::Tensor& x, const at::Tensor& packed, const c10::optional<at::Tensor>& bias,
                      at::IntArrayRef padding, at::IntArrayRef stride, at::IntArrayRef dilation,
                      int64_t groups) {
  return at::mkldnn_convolution(x.contiguous(), packed, bias, padding, stride, dilation, groups);
}

namespace {
// A conv module's explicit padding, or nullopt ("same"/"valid" strings, or a
// padding mode other than zeros: those stay on libtorch's path).
c10::optional<std::vector<int64_t>> ZeroPadding(const torch::nn::Conv2dImpl& c) {
  if (!c10::get_if<torch::enumtype::kZeros>(&c.options.padding_mode())) return c10::nullopt;
  const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&c.options.padding());
  if (pad == nullptr) return c10::nullopt;
  return std::vector<int64_t>((*pad)->begin(), (*pad)->end());
}
}  // namespace

ConvPacking::ConvPacking(Net& net, const at::Tensor& x) {
  outer_ = detail::t_conv_packing;
  for (const auto& m : net.modules(/*include_self=*/false))
    if (dynamic_cast<const torch::nn::Conv2dImpl*>(m.get()) != nullptr) ++convs_;
  detail::t_conv_packing = this;
  why_plain_ = convs_ == 0                        ? "no convolution"
               : x.scalar_type() == at::kBFloat16 ? "bf16"
               : x.scalar_type() != at::kFloat    ? "not fp32"
               : !ConvPackingAvailable()          ? "oneDNN unavailable"
                                                  : "";
  if (!why_plain_.empty()) {
    looking_ = false;  // nothing to pack: in force, finding nothing
    return;
  }
  // In force from here: a throw (the pass, a reorder, memory) must hand the
  // thread back to the outer scope, as the destructor would.
  try {
    Pack(net, x);
  } catch (...) {
    detail::t_conv_packing = outer_;
    throw;
  }
}

void ConvPacking::Pack(Net& net, const at::Tensor& x) {
  (void)net.forward(x);
  looking_ = false;
  for (const auto& [conv, sizes] : seen_) {
    const auto pad = ZeroPadding(*conv);
    if (!pad) continue;
    const auto& o = conv->options;
    if (auto w =
            PackForInput(conv->weight, sizes, x.scalar_type(), *pad, *o.stride(), *o.dilation(), o.groups()))
      table_.emplace(conv, std::move(*w));
  }
  packed_ = static_cast<int64_t>(table_.size());
  if (packed_ == 0) why_plain_ = "none qualifies";
  seen_.clear();
}

ConvPacking::~ConvPacking() { detail::t_conv_packing = outer_; }

const at::Tensor* ConvPacking::Find(const torch::nn::Conv2dImpl* conv) {
  const ConvPacking* p = detail::t_conv_packing;
  if (p == nullptr || p->looking_) return nullptr;
  auto it = p->table_.find(conv);
  return it == p->table_.end() ? nullptr : &it->second;
}

void ConvPacking::Record(const torch::nn::Conv2dImpl* conv, const at::Tensor& x) {
  ConvPacking* p = detail::t_conv_packing;
  if (p == nullptr || !p->looking_) return;
  p->seen_.emplace(conv, x.sizes().vec());
}

}  // namespace wattlab::zoo
