// The datasets the workload reads, with their sizes and shapes. The readers
// themselves live in src/workload/data.cc; these are the facts about them.
#include <algorithm>

#include "catalog/catalog.h"
#include "core/strings.h"

namespace wattlab::catalog {
namespace {

// The published split sizes.
constexpr int64_t kFashionMnistTrain = 60000, kFashionMnistTest = 10000;
constexpr int64_t kCifar10Train = 50000, kCifar10Test = 10000;
constexpr int64_t kMaxSyntheticSamples = 10'000'000;
constexpr int64_t kMaxSyntheticBytes = int64_t{1} << 34;  // 16 GiB of pixels

Status Unknown(const std::string& spec) {
  return Status::InvalidArgument("unknown dataset '" + spec + "'; allowed: " + DatasetForms());
}

}  // namespace

const char* DatasetForms() { return "fashion-mnist, cifar10:DIR, synthetic:CxHxW:N"; }

Result<DatasetInfo> LookupDataset(const std::string& spec) {
  DatasetInfo d;
  d.spec = spec;
  d.classes = 10;
  if (spec == "fashion-mnist" || StartsWith(spec, "fashion-mnist:")) {
    d.kind = "fashion-mnist";
    if (spec != "fashion-mnist") {
      d.dir = spec.substr(std::string("fashion-mnist:").size());
      if (d.dir.empty())
        return Status::InvalidArgument("dataset 'fashion-mnist:' needs a folder: fashion-mnist:DIR");
    }
    d.shape = Shape{1, 28, 28};
    d.train_samples = kFashionMnistTrain;
    d.test_samples = kFashionMnistTest;
    return d;
  }
  if (StartsWith(spec, "cifar10:")) {
    d.kind = "cifar10";
    d.dir = spec.substr(std::string("cifar10:").size());
    if (d.dir.empty()) return Status::InvalidArgument("dataset 'cifar10:' needs a folder: cifar10:DIR");
    d.shape = Shape{3, 32, 32};
    d.train_samples = kCifar10Train;
    d.test_samples = kCifar10Test;
    return d;
  }
  if (StartsWith(spec, "synthetic:")) {
    const Status usage = Status::InvalidArgument("invalid dataset '" + spec +
                                                 "': use synthetic:CxHxW:N with N > 0 training samples (at "
                                                 "most 10,000,000), e.g. synthetic:3x32x32:1024");
    auto parts = Split(spec, ':');
    if (parts.size() != 3) return usage;
    auto shape = ParseShape(parts[1]);
    if (!shape.ok()) return shape.status().WithContext("dataset '" + spec + "'");
    auto n = ParseInt(parts[2]);
    if (!n || *n <= 0 || *n > kMaxSyntheticSamples) return usage;
    d.kind = "synthetic";
    d.shape = *shape;
    d.train_samples = *n;
    d.test_samples = std::max<int64_t>(1, *n / 5);
    d.accuracy_meaningful = false;
    int64_t per_sample = 0, bytes = 0;
    if (__builtin_mul_overflow(shape->c * shape->h, shape->w, &per_sample) ||
        __builtin_mul_overflow(per_sample, *n, &bytes) || bytes > kMaxSyntheticBytes)
      return Status::InvalidArgument("dataset '" + spec + "' would need more than 16 GiB; use fewer samples");
    return d;
  }
  return Unknown(spec);
}

Status CheckDataset(const std::string& spec) { return LookupDataset(spec).status(); }

Result<int64_t> TrainSamplesByName(const std::string& name) {
  const std::string n = ToLower(name);
  if (n == "fashion-mnist") return kFashionMnistTrain;
  if (n == "cifar10" || n == "cifar-10") return kCifar10Train;
  auto d = LookupDataset(name);
  if (d.ok()) return d->train_samples;
  return Status::NotFound("unknown dataset '" + name +
                          "': known are fashion-mnist, cifar10 (or a dataset spec: " + DatasetForms() + ")");
}

}  // namespace wattlab::catalog
