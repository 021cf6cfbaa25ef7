// Fuzzes the study spec loader (study/spec.h, ParseStudySpec: TOML text ->
// validated StudySpec). Invariants: every accepted spec meets what
// docs/study.md promises (at least one sweep, each with models, batch sizes
// >= 1, thread counts >= 0, precision fp32|bf16, phases train|infer,
// profile_steps >= 3, positive finite lr, ...); refusals are InvalidArgument
// naming the file.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "study/spec.h"

using namespace wattlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = ParseStudySpec(text, "fuzz.toml");
  if (!spec.ok()) {
    FUZZ_CHECK(spec.status().kind() == Status::Kind::kInvalidArgument, "refusal of another kind: %s",
               spec.status().message().c_str());
    FUZZ_CHECK(spec.status().message().rfind("fuzz.toml", 0) == 0, "message does not name the file: %s",
               spec.status().message().c_str());
    return 0;
  }
  const StudySpec& s = *spec;
  FUZZ_CHECK(s.toml == text, "the stored text differs from the input");
  FUZZ_CHECK(!s.sweeps.empty(), "no sweep");
  FUZZ_CHECK(s.repetitions >= 1, "repetitions %lld", static_cast<long long>(s.repetitions));
  FUZZ_CHECK(s.warmup_steps >= 1, "warmup_steps %lld", static_cast<long long>(s.warmup_steps));
  FUZZ_CHECK(std::isfinite(s.cooldown_s) && s.cooldown_s >= 0, "cooldown_s %g", s.cooldown_s);
  FUZZ_CHECK(std::isfinite(s.idle_s) && s.idle_s >= 0, "idle_s %g", s.idle_s);
  FUZZ_CHECK(std::isfinite(s.idle_every_s) && s.idle_every_s >= 0, "idle_every_s %g", s.idle_every_s);
  FUZZ_CHECK(!s.dataset.empty(), "empty dataset");
  for (const SweepSpec& w : s.sweeps) {
    FUZZ_CHECK(!w.models.empty() && !w.batch_sizes.empty() && !w.threads.empty() && !w.precision.empty() &&
                   !w.phases.empty(),
               "an empty list in sweep at line %d", w.line);
    for (const auto& m : w.models) FUZZ_CHECK(!m.empty(), "empty model name");
    for (int64_t b : w.batch_sizes) FUZZ_CHECK(b >= 1, "batch size %lld", static_cast<long long>(b));
    for (int64_t t : w.threads) FUZZ_CHECK(t >= 0, "threads %lld", static_cast<long long>(t));
    for (const auto& p : w.precision) FUZZ_CHECK(p == "fp32" || p == "bf16", "precision '%s'", p.c_str());
    for (const auto& p : w.phases) FUZZ_CHECK(p == "train" || p == "infer", "phase '%s'", p.c_str());
    FUZZ_CHECK(w.profile_steps >= 3, "profile_steps %lld", static_cast<long long>(w.profile_steps));
    FUZZ_CHECK(w.max_profile_steps >= w.profile_steps, "max_profile_steps %lld < profile_steps",
               static_cast<long long>(w.max_profile_steps));
    FUZZ_CHECK(w.epochs >= 1, "epochs %lld", static_cast<long long>(w.epochs));
    FUZZ_CHECK(w.steps_per_epoch >= 0 && w.train_samples >= 0 && w.eval_samples >= 0, "a negative count");
    FUZZ_CHECK(w.infer_samples >= 1, "infer_samples %lld", static_cast<long long>(w.infer_samples));
    FUZZ_CHECK(std::isfinite(w.lr) && w.lr > 0, "lr %g", w.lr);
    FUZZ_CHECK(w.optimizer == "sgd" || w.optimizer == "adam", "optimizer '%s'", w.optimizer.c_str());
  }
  return 0;
}
