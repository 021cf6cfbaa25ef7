// The operator-level cost model (issue 12; docs/analysis.md, "The
// operator-level model"): a model's time per sample is the sum, over the
// operators its forward pass runs (OpRecord, traced at batch 1), of a
// calibrated time per call at the batch size, divided by the batch; training
// adds each operator's backward (the calibration times forward + backward in
// train mode) and the optimizer step.
//
// The time of one call comes from `wattlab calibrate`'s points of the same
// kind and shape class (below), as a function of x, the work of the call
// (batch x MACs for conv, linear, matmul; batch x bytes moved for the rest):
//   * between measured x: log-log interpolation between the neighbours;
//   * above the largest: linear in x (the largest's throughput);
//   * below the smallest: overhead + x / throughput, the overhead being the
//     kind's fastest measured call (or the calibration's fastest, if lower)
//     and the throughput the smallest measured point's.
// Shape classes: dense conv splits into 1x1 and kxk kernels, and kxk into a
// reduction (in x kh x kw) below 64 (first layers) or not; pooling into
// windowed and global. "unknown" operators are costed as "other" (bytes).
//
// Fitted on a study's runs (and refitted without the held-out model in each
// leave-one-model-out fold), per phase: time per sample = correction x
// calibrated time + per_batch_s / batch (least squares on relative errors:
// a scale for what the micro-benchmarks miss, and a cost per batch they do
// not see: the loop, data, the loss; fitted only when some model was
// measured at two batch sizes or more, and a negative per-batch term falls
// back to the correction alone, the geometric mean of measured / calibrated), and
// the machine's power for that phase's load (geometric mean of energy / time
// per sample), so energy per sample = corrected time x power. Where the estimate is the only energy source,
// energy is a model of CPU time and energy errors track time errors.
//
// Pure code; thread-safe; namespace wattlab (new code, docs/architecture.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "wattlab/record.h"
#include "wattlab/status.h"
#include "wattlab/workload.h"

namespace wattlab {

namespace analysis {
struct ConfigPoint;
}

// What a calibration was measured on; it is used only where all of it matches.
struct CalibrationContext {
  std::string host, cpu, libtorch, blas, wait_policy, precision;
  int64_t threads = 0;
  bool operator==(const CalibrationContext&) const = default;
};

// "" when `have` serves `want`; else each differing field as
// "threads: calibrated 2, wanted 4", joined by "; ". An empty field of `want`
// matches anything (not known there).
std::string CalibrationContextDifference(const CalibrationContext& have, const CalibrationContext& want);

struct StoredCalibration {
  int64_t id = 0;
  double created_unix_s = 0;
  CalibrationContext context;
  std::string shapes;  // "default", "quick", "tiny"
  double duration_s = 0;
  std::vector<CalibrationPoint> points;
};

// The newest calibration whose context serves `want`; NotFound naming, for
// the newest calibration of the same host, what differs (or that there is
// none), and the command to run.
Result<StoredCalibration> ChooseCalibration(const std::vector<StoredCalibration>& stored,
                                            const CalibrationContext& want);

// Per-kind time of one prediction.
struct OpTime {
  double time_per_sample_s = 0;
  std::map<std::string, double> by_kind_s;  // per sample; "optimizer" in training
  double unknown_share = 0;                 // share of the time from "unknown" operators
  int64_t calls = 0;  // operator calls per batch (forward; + 1 optimizer step in training)
};

class OpCostModel {
 public:
  // FailedPrecondition when a kind the model needs has no point (the
  // calibration was cut short or is from an older shape set).
  static Result<OpCostModel> Build(const std::vector<CalibrationPoint>& points);
  // Seconds per call of `op` at `batch`, inference (train = false) or
  // training (forward + backward; as the model's first layer, without the
  // input's gradient, where the calibration timed that). packed: inference
  // runs convolutions with packed weights (OpProfile::convs_packed).
  double CallSeconds(const OpRecord& op, int64_t batch, bool train, bool first_layer = false,
                     bool packed = true) const;
  // One SGD step over `params` parameters in `tensors` tensors.
  double OptimizerSeconds(int64_t params, int64_t tensors) const;
  // Uncorrected time per sample of a model at `batch`, phase "infer" or "train".
  OpTime TimePerSample(const OpProfile& profile, int64_t batch, const std::string& phase) const;

 private:
  struct Curve {
    // sorted by x; t_infer_plain: inference with libtorch's per-call
    // convolutions (the plain time where a point has one, else t_infer)
    std::vector<double> x, t_infer, t_train, t_infer_plain;
  };
  // A class's points at one calibrated batch size, over the work per sample.
  struct Level {
    double batch = 1;
    Curve curve;
  };
  struct Surface {
    std::vector<Level> levels;  // sorted by batch
  };
  const Surface* Find(const std::string& key) const;
  // The surface of points sorted by batch, then work; train_s picks each point's training time.
  static Surface MakeSurface(const std::vector<const CalibrationPoint*>& sorted,
                             const std::function<double(const CalibrationPoint&)>& train_s);
  static double Interpolate(const Curve& c, const std::vector<double>& t, double x, double overhead);
  std::map<std::string, Surface> surfaces_;                        // key: kind/class
  std::map<std::string, Surface> first_surfaces_;                  // training as the first layer
  std::map<std::string, double> overhead_infer_, overhead_train_;  // per kind
  Curve optimizer_;
  double per_tensor_s_ = 0;
};

// Dense convolutions with at most this many output channels are "conv/narrow".
inline constexpr int64_t kNarrowConvChannels = 16;
// The class key ("conv/kxk", "conv/kxk-small", "conv/narrow", "pool/global",
// "pool/overlap", "linear", ...)
// and the x of a call, exposed for tests.
std::string OpClassKey(const OpRecord& op);
double OpCallWork(const OpRecord& op, int64_t batch);

// ---- judged against a study --------------------------------------------------

// What Analyze needs to judge the model: each model's operator profile (at
// the input its runs used) and the calibrations that serve the runs, keyed by
// "threads/precision" (the study's host, CPU, libtorch, BLAS and wait policy
// having been checked by the caller). `notes` say why anything is missing.
struct OpModelInput {
  std::map<std::string, OpProfile> profiles;
  std::map<std::string, std::vector<CalibrationPoint>> calibrations;  // "2/fp32"
  std::vector<std::string> notes;
};
std::string CalibrationKey(int64_t threads, const std::string& precision);

// What is fitted on a study's runs, per phase (and refitted without the
// held-out model in each leave-one-model-out fold): a correction per group
// of operator kinds (OpCorrectionGroup), shrunk toward the common scale by a
// ridge whose weight is chosen by leave-one-model-out among the fitted models,
// a cost per batch, and the machine's power for the phase's load.
struct OpModelFit {
  std::map<std::string, double> correction;  // group -> factor on its calibrated time
  double scale = 1;                          // geometric mean of measured / calibrated (groups not fitted)
  double per_batch_s = 0;
  double power_w = 0;
  double lambda = 0;  // the ridge weight used
};
// "conv", "conv_depthwise", "conv_grouped", "linear" (with matmul),
// "pointwise" (norm, act, elementwise: memory-bound, and a norm is followed by
// an activation so often that apart their corrections trade off against each
// other), "pool", "other" (with unknown), "optimizer".
std::string OpCorrectionGroup(const std::string& kind);
// Corrected time per sample from the calibrated time per kind.
double CorrectedTime(const OpModelFit& f, const std::map<std::string, double>& raw_by_kind, int64_t batch);

struct OpModelPoint {
  std::string model, config_id;
  int64_t batch_size = 0;
  double measured_time_s = 0, predicted_time_s = 0, raw_time_s = 0;  // per sample; raw = uncorrected
  double measured_energy_j = 0, predicted_energy_j = 0;              // per sample
  double time_ape_pct = 0, energy_ape_pct = 0;
  std::optional<double> time_cv_pct, energy_cv_pct;  // repetitions' coefficient of variation
  int64_t repetitions = 0;
  double unknown_share = 0;
  int64_t calls = 0;                            // operator calls per batch (OpTime::calls)
  std::map<std::string, double> raw_by_kind_s;  // uncorrected, per sample
};

struct OpModelModelError {
  std::string model;
  int64_t configs = 0;
  double time_ape_pct = 0, energy_ape_pct = 0;  // mean over the model's configurations
  std::optional<double> time_cv_pct, energy_cv_pct;
};

struct OpModelPhase {
  std::string phase;
  bool estimated = false;
  int64_t n_points = 0, n_models = 0;
  // Leave-one-model-out (correction and power refitted without the model).
  // Nothing is selected among alternatives, so the nested error is this one.
  std::optional<double> time_mape_pct, time_median_ape_pct, energy_mape_pct, energy_median_ape_pct;
  std::optional<double> median_time_cv_pct, median_energy_cv_pct;  // of the measurements judged
  double correction = 1, per_batch_s = 0, power_w = 0;  // fitted on every model (what predict uses)
  std::map<std::string, double> corrections;            // per group (OpModelFit), fitted on every model
  double ridge_lambda = 0;
  double residual_sd_log = 0;  // of the held-out log(measured / predicted) time
  std::vector<OpModelPoint> points;
  std::vector<OpModelModelError> models;
  std::string note;
};

struct OpModelResult {
  std::vector<OpModelPhase> phases;
  std::vector<std::string> notes;  // what could not be judged, and why
};

// The rows give the repetitions' spread; configs the measurements judged
// (AggregateConfigs). Configurations whose model has no profile or whose
// threads/precision have no calibration are left out, with a note.
OpModelResult EvaluateOpModel(const std::vector<RunRow>& rows,
                              const std::vector<analysis::ConfigPoint>& configs, const OpModelInput& input,
                              const std::string& phase_filter);

nlohmann::json ToJson(const OpModelResult& r);

// ---- predicting an unseen model -----------------------------------------------

struct OpPrediction {
  std::string phase;
  int64_t batch_size = 0;
  double raw_time_per_sample_s = 0;
  double time_per_sample_s = 0, time_low_s = 0, time_high_s = 0;        // 95% interval
  double energy_per_sample_j = 0, energy_low_j = 0, energy_high_j = 0;  // 95% interval
  std::optional<double> samples, duration_s, energy_j, energy_low_j_total, energy_high_j_total;
  double correction = 1, per_batch_s = 0, power_w = 0;
  std::map<std::string, double> corrections;  // per group (OpModelFit)
  double unknown_share = 0;
  std::vector<std::string> unknown_ops;
  std::map<std::string, double> by_kind_s;
  // This machine's held-out error for the phase (EvaluateOpModel).
  std::optional<double> lomo_time_mape_pct, lomo_energy_mape_pct;
  int64_t n_models = 0;
  bool estimated = false;
  std::string note;
};

// Corrected with the phase's fit over every model of `judged` (correction and
// per-batch cost); the 95%
// interval is exp(+-t(0.975, n-1) x residual_sd_log x sqrt(1 + 1/n)) around
// the prediction, widened by a factor (1 + 3 x unknown_share) each way.
// FailedPrecondition when the phase has fewer than 3 models judged.
Result<OpPrediction> PredictWithOpModel(const OpCostModel& cost, const OpProfile& profile, int64_t batch,
                                        const std::string& phase, const OpModelPhase& judged,
                                        std::optional<double> samples);

nlohmann::json ToJson(const OpPrediction& p);

}  // namespace wattlab
