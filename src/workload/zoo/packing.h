// Convolution weights packed once for inference (issue 11; docs/benchmarks.md,
// "ResNet18 at batch 1").
//
// libtorch 1.13 runs an fp32 convolution either through oneDNN, which
// reorders the weight tensor into its blocked layout on every call, or
// through its own im2col + BLAS path, which it picks for batch-1 inputs of at
// most 20,480 elements with kernels up to 3x3 ("for some case, native is
// faster"). On the machine we measured both cost: at batch 1 and 2 threads
// ResNet18 ran 1.57x faster in Python with the rule below (1.11x from the
// kernel choice alone, weights still reordered every call), VGG16 2.02x,
// MobileNetV2 1.13x; ResNet18 at batch 32 1.02x
// (bench/workload/probes/py_conv_paths.py; docs/benchmarks.md).
// The network is unchanged: the same layers and arithmetic, outputs within
// float rounding (3.7e-9 on ResNet18's logits); only the weights' storage and
// the kernel differ. It applies to inference only (the weights must not
// change), fp32, when libtorch has oneDNN enabled and autocast is off.
//
// A convolution is packed unless libtorch's own rule keeps it off oneDNN for
// a reason other than the small-input clause: a 1x1 kernel, stride 1, no
// dilation, batch under 16 and one thread (there libtorch's path measured
// faster: MobileNetV2 at batch 1 on one thread 0.92x of eager with every
// convolution packed, 0.995x with this rule).
//
// Thread-safety: a ConvPacking is in force on the thread that made it, from
// construction to destruction (the zoo's Conv() looks it up there); the
// intra-op threads inside a kernel need nothing. Scopes nest (the inner one
// wins). Not copyable.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/modules/conv.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace wattlab::zoo {

class Net;

// Whether a convolution with this weight (fp32 [out, in/groups, kh, kw]),
// stride and dilation, on an input of these sizes, runs on oneDNN with a
// packed weight at `threads` intra-op threads (the rule above). The caller
// checks the process-wide conditions (ConvPackingAvailable).
bool PackableConv(const at::Tensor& weight, at::IntArrayRef input_sizes, at::IntArrayRef stride,
                  at::IntArrayRef dilation, int threads);

// oneDNN compiled in and enabled, autocast off: packing can apply at all.
bool ConvPackingAvailable();

// The weight reordered once into oneDNN's layout for these parameters.
at::Tensor PackConvWeight(const at::Tensor& weight, at::IntArrayRef padding, at::IntArrayRef stride,
                          at::IntArrayRef dilation, int64_t groups);

// The whole decision for one convolution on an input of these sizes and
// type: its weight packed (PackConvWeight) when packing applies
// (ConvPackingAvailable, fp32 input, PackableConv at the current thread
// count), else nullopt. What ConvPacking does per layer and what the
// operator calibration times.
c10::optional<at::Tensor> PackForInput(const at::Tensor& weight, at::IntArrayRef input_sizes,
                                       at::ScalarType input_type, at::IntArrayRef padding,
                                       at::IntArrayRef stride, at::IntArrayRef dilation, int64_t groups);

// y = conv(x, packed weight): what the zoo's Conv() runs for a packed layer.
at::Tensor PackedConv(const at::Tensor& x, const at::Tensor& packed, const c10::optional<at::Tensor>& bias,
                      at::IntArrayRef padding, at::IntArrayRef stride, at::IntArrayRef dilation,
                      int64_t groups);

class ConvPacking {
 public:
  // Runs `net` once on `x` (the caller holds an InferenceMode guard and has
  // put the net in eval mode) to see each convolution's input, then packs
  // the eligible ones for batches shaped like x (a smaller last batch works
  // too). Where packing cannot apply at all (see ConvPackingAvailable, or x
  // is not fp32) nothing is packed and convolutions run as before. Throws
  // what libtorch throws.
  ConvPacking(Net& net, const at::Tensor& x);
  ~ConvPacking();
  ConvPacking(const ConvPacking&) = delete;
  ConvPacking& operator=(const ConvPacking&) = delete;

  int64_t convs() const { return convs_; }    // the net's convolution layers (modules)
  int64_t packed() const { return packed_; }  // of them, packed
  // Why none is packed: "no convolution", "bf16" (or "not fp32"), "oneDNN
  // unavailable" (not compiled in, disabled, or autocast on), "none
  // qualifies"; empty when some are.
  const std::string& why_plain() const { return why_plain_; }

  // The packed weight of `conv` when the scope in force on this thread
  // packed it, else nullptr. For the zoo's Conv().
  static const at::Tensor* Find(const torch::nn::Conv2dImpl* conv);
  // Records `conv`'s input sizes while a scope is looking (its first pass).
  static void Record(const torch::nn::Conv2dImpl* conv, const at::Tensor& x);

 private:
  void Pack(Net& net, const at::Tensor& x);  // the first pass, then the reorders
  std::unordered_map<const torch::nn::Conv2dImpl*, at::Tensor> table_;
  std::unordered_map<const torch::nn::Conv2dImpl*, std::vector<int64_t>> seen_;
  ConvPacking* outer_ = nullptr;
  bool looking_ = true;  // the first pass: record inputs, pack nothing
  int64_t convs_ = 0, packed_ = 0;
  std::string why_plain_;
};

namespace detail {
// The scope in force on this thread (nullptr: none); read by Conv() inline.
extern thread_local ConvPacking* t_conv_packing;
}  // namespace detail

}  // namespace wattlab::zoo
