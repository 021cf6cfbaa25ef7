// A rough memory bound for a training configuration (catalog.h says what it
// holds; docs/mac-convention.md says why).
#include <cstdio>
#include <limits>

#include "catalog/catalog.h"

namespace wattlab::catalog {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

int64_t SatMul(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? kMax : r;
}
int64_t SatAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? kMax : r;
}
int64_t Kind(const ModelFacts& f, const char* k) {
  auto it = f.macs_by_kind.find(k);
  return it == f.macs_by_kind.end() ? 0 : it->second;
}

}  // namespace

Result<TrainingMemory> EstimateTrainingMemory(const ModelFacts& model, const TrainingSetup& setup) {
  if (setup.batch_size < 1)
    return Status::InvalidArgument("batch size must be >= 1, got " + std::to_string(setup.batch_size));
  int64_t bytes_per = 0;
  if (setup.precision == "fp32")
    bytes_per = 4;
  else if (setup.precision == "bf16")
    bytes_per = 2;
  else
    return Status::InvalidArgument("unknown precision '" + setup.precision + "': use fp32 or bf16");
  int64_t state_copies = 0;
  if (setup.optimizer == "adam")
    state_copies = 2;  // exp_avg, exp_avg_sq
  else if (setup.optimizer == "sgd")
    state_copies = setup.momentum != 0 ? 1 : 0;  // momentum buffer
  else
    return Status::InvalidArgument("unknown optimizer '" + setup.optimizer + "': use sgd or adam");

  TrainingMemory m;
  m.params_bytes = SatMul(model.params, bytes_per);
  m.grads_bytes = m.params_bytes;
  m.optimizer_bytes = SatMul(m.params_bytes, state_copies);
  int64_t per_elem_ops = 0;
  for (const char* k : {"norm", "act", "elementwise", "pool"})
    per_elem_ops = SatAdd(per_elem_ops, Kind(model, k));
  const int64_t per_sample =
      SatAdd(SatMul(model.input.c, SatMul(model.input.h, model.input.w)), SatMul(2, per_elem_ops));
  m.activations_bytes = SatMul(SatMul(per_sample, setup.batch_size), bytes_per);
  if (setup.dataset) m.data_bytes = setup.dataset->bytes();
  for (int64_t part : {m.params_bytes, m.grads_bytes, m.optimizer_bytes, m.activations_bytes, m.data_bytes})
    m.total_bytes = SatAdd(m.total_bytes, part);
  return m;
}

std::string FormatBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace wattlab::catalog
