// Analysis: from run records to decisions. Pure functions over
// std::vector<RunRow> (include/wattlab/record.h); no OS calls, no clock, no
// globals beyond constant tables. `wattlab analyze`, `wattlab predict` and the
// report module (plots and tables) all read the structs below.
//
// Conventions (docs/conventions.md):
//  - Energy per sample = energy_above_idle_j / samples (EnergyBasis::kTotal
//    uses energy_j). Repetitions of one configuration (same phase and
//    config_id; model+batch+threads+precision when config_id is empty) are
//    averaged, with their spread, before any statistic or fit.
//  - A statistic that cannot be computed is std::nullopt with a reason in the
//    matching `note`; no NaN or infinity ever leaves this module, and ToJson
//    writes null for an absent value.
//  - Accuracy is a fraction 0..1 everywhere (rows, configurations, JSON); a
//    row whose accuracy lies outside 0..1 has its accuracy ignored, with a
//    note, rather than being guessed to be a percent.
//  - Every section carries `estimated`: true when any energy figure behind it
//    came (even partly) from the estimate source, in which case its note says
//    that energy is a model of CPU time, not a measurement.
//
// Ownership: results are plain values that own all their data.
// Thread-safety: every function is pure and reentrant.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/opmodel.h"
#include "analysis/power_caps.h"
#include "analysis/stats.h"
#include "core/energy_basis.h"
#include "wattlab/record.h"
#include "wattlab/status.h"
#include "wattlab/workload.h"

namespace wattlab::analysis {

using EnergyBasis = ::wattlab::EnergyBasis;  // core/energy_basis.h: --energy above-idle | total

struct AnalysisOptions {
  std::string phase;  // "" = every phase present; else "train" or "infer"
  // The basis of every per-sample figure, chosen once for the whole input by
  // ChooseEnergyBasis (core/energy_basis.h), and why; printed with the result.
  EnergyBasis energy = EnergyBasis::kAboveIdle;
  std::string energy_reason;
  // Recommendations. max_energy_j bounds the energy per sample (J) of the
  // phase being compared.
  std::optional<double> min_accuracy;  // 0..1
  std::optional<double> max_energy_j;
  // Lifecycle: either inferences, or requests_per_day x days.
  std::optional<double> inferences;
  std::optional<double> requests_per_day;
  std::optional<double> days;
  // Carbon: intensity wins over region; neither = the world default.
  std::optional<double> intensity_g_per_kwh;
  std::string region;  // code from CarbonRegions(), e.g. "DE", "FR", "US"
  double pue = 1.0;
  // Power caps: the slowdown (time / time at the highest cap) the
  // within-slowdown cap may cost (analysis/power_caps.h). >= 1.
  double max_slowdown = kDefaultMaxSlowdown;
  // The operator-level model's inputs (profiles and calibrations), when the
  // caller has them (analysis/opmodel.h); absent: the section says why.
  std::optional<OpModelInput> op_model;
  std::string op_model_note;  // why op_model is absent
};

inline constexpr double kDefaultIntensityGPerKwh = 475.0;  // world average, docs/conventions.md
inline constexpr const char* kEstimatedNote =
    "energy is estimated (a model of CPU time, not a measurement): findings describe CPU time";

// One configuration of one phase, repetitions averaged.
struct ConfigPoint {
  std::string phase, config_id, model, precision;
  std::string window;  // "full" (or ""), or "profile" when the config has only profile windows
  int64_t batch_size = 0, threads = 0;
  int64_t params = 0, macs = 0;
  double macs_per_param = 0;
  double samples = 0;                 // mean over repetitions
  double duration_s = 0;              // mean
  double energy_per_sample_j = 0;     // mean over repetitions
  double energy_per_sample_sd_j = 0;  // sample standard deviation (0 with one repetition)
  double time_per_sample_s = 0;       // mean duration_s / samples
  std::optional<double> cpu_util;     // mean of those present
  std::optional<double> accuracy;     // mean of those present
  int64_t repetitions = 0;
  bool estimated = false;
  std::string source;
  std::vector<int64_t> run_ids;
  // Profile-only training configs: the full length the profile stands for
  // (samples x extrapolated_energy_j / energy_j), mean over repetitions.
  std::optional<double> full_length_samples;
};

// energy_above_idle_j at or below this fraction of energy_j counts as zero.
inline constexpr double kAboveIdleZeroFraction = 1e-6;
// Below this median share of energy_j, Analyze warns that the idle baseline
// was nearly as busy as the runs.
inline constexpr double kAboveIdleLowShare = 0.01;

// Groups usable rows (samples > 0, finite energy) into configurations. A
// configuration's window=full (or empty) rows are used; when it has none, its
// window=profile rows stand in (a short profile is still a measurement of
// energy per sample). Rows with zero/negative energy are dropped and counted in
// *dropped_reasons (one line per kind of problem) when given.
std::vector<ConfigPoint> AggregateConfigs(const std::vector<RunRow>& rows, EnergyBasis basis,
                                          std::vector<std::string>* dropped_reasons = nullptr);

// ---- correlations ---------------------------------------------------------

struct CorrelationPoint {
  std::string model, config_id;
  double x = 0;
  double energy_per_sample_j = 0;
};

struct Correlation {
  std::string phase;
  std::string x;  // export column: params, macs, macs_per_param, batch_size, threads, duration_s, cpu_util
  int64_t n = 0;
  std::optional<double> pearson, pearson_p, pearson_ci_low, pearson_ci_high;  // CI: Fisher z, 95%
  std::optional<double> spearman, spearman_p;
  // energy per sample = 10^b x^exponent, least squares on logs (points with
  // x > 0); absent with fewer than 2 such points or a constant x.
  std::optional<PowerLaw> power_law;
  bool estimated = false;
  std::string note;  // why a value is absent; the estimate caveat
  std::vector<CorrelationPoint> points;
};

std::vector<Correlation> Correlations(const std::vector<ConfigPoint>& configs,
                                      const std::string& phase_filter);

// ---- training vs inference -----------------------------------------------

struct TrainInferModel {
  std::string model;
  double train_energy_per_sample_j = 0, infer_energy_per_sample_j = 0;
  double train_time_per_sample_s = 0, infer_time_per_sample_s = 0;
  std::optional<double> energy_ratio, time_ratio;  // train / infer
};

struct TrainVsInfer {
  int64_t n_models = 0;
  std::optional<double> energy_pearson, energy_spearman, energy_spearman_p;
  std::optional<double> time_pearson;
  std::optional<double> median_energy_ratio, median_time_ratio, mean_energy_ratio, mean_time_ratio;
  bool estimated = false;
  std::string note;
  std::vector<TrainInferModel> models;
};

TrainVsInfer CompareTrainInfer(const std::vector<ConfigPoint>& configs);

// ---- energy predictor ------------------------------------------------------

// Model features a predictor may use; the names are export columns.
struct FeatureSet {
  std::string name;                   // "params", "macs", "macs_per_param", "macs+macs_per_param",
                                      // "macs+macs_per_param+batch_size+threads"
  std::vector<std::string> features;  // columns, each entered as log(x)
};
const std::vector<FeatureSet>& StandardFeatureSets();

// A fitted log-log model: log(e) = b0 + sum b_i log(x_i).
struct FittedModel {
  FeatureSet set;
  std::vector<double> coefficients;              // intercept first
  std::vector<std::vector<double>> xtx_inverse;  // for prediction intervals
  double residual_sd_log = 0;                    // sqrt(SSE / (n - p)); 0 when n == p
  int64_t n = 0, dof = 0;
  std::vector<double> feature_min, feature_max;  // raw (not log) ranges seen in fitting
};

struct LomoPoint {
  std::string model, config_id;
  double measured_j = 0, predicted_j = 0;  // energy per sample
  double ape_pct = 0;                      // |pred - meas| / meas x 100
  std::string chosen_set;                  // nested CV only: the set the fold picked
};

struct FeatureSetScore {
  FeatureSet set;
  int64_t n_points = 0, n_models = 0;
  std::optional<double> mape_pct, median_ape_pct;  // leave-one-model-out
  std::optional<double> r2;                        // in-sample, log space
  std::optional<double> f_p;                       // in-sample F test of the fit (every slope zero)
  std::vector<double> coefficients;                // full-data fit, intercept first
  std::string note;
  std::vector<LomoPoint> points;
};

struct PhasePredictor {
  std::string phase;
  bool estimated = false;
  std::vector<FeatureSetScore> sets;
  std::string selected;  // the set predict uses: lowest LOMO MAPE on all data
  // Nested CV: in each outer fold (one model left out) the set is chosen by an
  // inner LOMO on the remaining models, so this error is honest for `selected`.
  std::optional<double> nested_mape_pct, nested_median_ape_pct;
  std::vector<LomoPoint> nested_points;
  std::string note;
};

// Fits by ordinary least squares on logs. InvalidArgument when a feature is
// non-positive, FailedPrecondition when too few points or a singular design.
Result<FittedModel> FitLogLog(const std::vector<ConfigPoint>& points, const FeatureSet& set);
// Predicts energy per sample (J); 95% prediction interval in *low/*high.
Result<double> PredictLogLog(const FittedModel& model, const std::vector<double>& raw_features, double* low,
                             double* high);
std::vector<PhasePredictor> ComparePredictors(const std::vector<ConfigPoint>& configs,
                                              const std::string& phase_filter);

// ---- extrapolation ----------------------------------------------------------

struct ExtrapolationPoint {
  std::string config_id, model, phase;
  int64_t repetition = 0;
  double predicted_j = 0, measured_j = 0;  // whole-run energy
  double error_pct = 0;                    // (pred - meas) / meas x 100
};

struct Extrapolation {
  int64_t n = 0;
  std::optional<double> mean_abs_error_pct, median_abs_error_pct, max_abs_error_pct, mean_error_pct;
  bool estimated = false;
  std::string note;
  std::vector<ExtrapolationPoint> points;
};

// Pairs window=profile rows (extrapolated_energy_j) with the window=full row
// of the same config_id, phase and repetition. Uses energy_j vs energy_j
// (extrapolation predicts the whole window's energy).
Extrapolation CheckExtrapolation(const std::vector<RunRow>& rows);

// ---- trade-offs -----------------------------------------------------------

struct ParetoPoint {
  std::string model, config_id, phase, precision;
  int64_t batch_size = 0, threads = 0;
  double accuracy = 0, energy_per_sample_j = 0;
  bool on_front = false;
};

struct BatchPoint {
  int64_t batch_size = 0;
  double energy_per_sample_j = 0, energy_per_sample_sd_j = 0, time_per_sample_s = 0;
  int64_t repetitions = 0;
};

struct OptimalBatch {
  std::string model, phase;
  int64_t best_batch_size = 0;
  double best_energy_per_sample_j = 0;
  std::vector<BatchPoint> series;  // sorted by batch size (best threads/precision per batch)
};

struct Pareto {
  bool estimated = false;
  std::string note;
  std::vector<ParetoPoint> points;  // every config with an accuracy, per phase
  std::vector<OptimalBatch> optimal_batch;
};

// Accuracy of a config: its own, else the mean over its model's rows.
Pareto ParetoAndBatches(const std::vector<ConfigPoint>& configs, const std::string& phase_filter);

struct Recommendation {
  std::string phase;
  std::string model, config_id, precision;
  int64_t batch_size = 0, threads = 0;
  double accuracy = 0, energy_per_sample_j = 0;
  // The most accurate configuration of the phase (ties: the cheaper one).
  std::string baseline_model, baseline_config_id;
  double baseline_accuracy = 0, baseline_energy_per_sample_j = 0;
  double energy_saved_j = 0, energy_saved_pct = 0;  // per sample, vs baseline
  double accuracy_lost = 0;                         // baseline - chosen (0..1 scale)
  std::string text;                                 // one readable sentence
};

struct Recommendations {
  bool estimated = false;
  std::string note;                   // e.g. no config meets the constraints
  std::vector<Recommendation> items;  // one per phase
};

// Chooses, per phase, the lowest-energy configuration meeting the constraints.
Recommendations Recommend(const Pareto& pareto, std::optional<double> min_accuracy,
                          std::optional<double> max_energy_j);

// ---- lifecycle --------------------------------------------------------------

struct LifecyclePoint {
  double inferences = 0, training_j = 0, inference_j = 0, total_j = 0;
};

struct LifecycleModel {
  std::string model;
  double training_energy_j = 0;  // the longest training run, or a profile's extrapolated full length
  double inference_energy_per_sample_j = 0;  // cheapest infer config of the model
  std::optional<double> inferences;          // N, when given
  std::optional<double> total_j, training_share, inference_share;
  std::optional<double> break_even_n;  // N where N x inference = training
  std::vector<LifecyclePoint> series;  // N from 0 to max(2 x break-even, N), for plots
};

struct Lifecycle {
  std::optional<double> inferences;  // resolved N
  bool estimated = false;
  std::string note;
  std::vector<LifecycleModel> models;
};

// Pure arithmetic, exposed for tests: break-even N = training / per_inference.
std::optional<double> BreakEvenInferences(double training_j, double inference_per_sample_j);
Lifecycle ComputeLifecycle(const std::vector<RunRow>& rows, const std::vector<ConfigPoint>& configs,
                           std::optional<double> inferences, EnergyBasis basis);

// ---- carbon -----------------------------------------------------------------

struct CarbonRegion {
  const char* code;
  const char* name;
  double intensity_g_per_kwh;
  int year;
  const char* source;
};
const std::vector<CarbonRegion>& CarbonRegions();  // src/analysis/data/carbon_intensity.cc

struct Carbon {
  double energy_j = 0, energy_kwh = 0;
  double intensity_g_per_kwh = kDefaultIntensityGPerKwh;
  double pue = 1.0;
  double gco2e = 0;
  std::string region;            // "" when not chosen by region
  std::string intensity_source;  // "default: world average 475 g/kWh", "--intensity", or the table's source
  std::string basis;             // what energy was converted
  bool estimated = false;
  std::string note;
  // With --inferences: each model's lifecycle total converted the same way.
  struct Item {
    std::string model;
    double energy_kwh = 0, gco2e = 0;
  };
  std::vector<Item> lifecycle;
};

// gCO2e = kWh x intensity x PUE. InvalidArgument on an unknown region (lists
// the known codes), a negative intensity or a PUE below 1.
Result<Carbon> ComputeCarbon(double energy_j, const AnalysisOptions& opts, std::string basis);

// ---- everything -------------------------------------------------------------

// ---- headline findings ------------------------------------------------------

// One headline finding: a sentence a reader can act on, with what it rests on.
struct Finding {
  // predictor, correlation, optimal_batch, power_cap, accuracy_for_energy,
  // train_vs_infer, extrapolation, break_even, recommendation, carbon, or
  // none (no comparison was possible; the text says why).
  std::string kind;
  std::string phase;       // "train" / "infer" when the finding is about one phase, else ""
  std::string text;        // one sentence, ending with a full stop
  bool estimated = false;  // rests on estimated energy
};

struct AnalysisResult;
// The headline findings of an analysis, most decision-relevant first; never
// empty. Uses opts.requests_per_day (when given) to turn the break-even point
// into days. Analyze stores them in AnalysisResult::findings.
std::vector<Finding> HeadlineFindings(const AnalysisResult& result, const AnalysisOptions& opts);

struct AnalysisResult {
  EnergyBasis energy_basis = EnergyBasis::kAboveIdle;  // AnalysisOptions::energy
  std::string energy_basis_reason;                     // AnalysisOptions::energy_reason
  int64_t rows_read = 0, configs_used = 0;
  int64_t runs_read = 0;  // distinct run_id among the rows
  bool estimated = false;
  std::vector<std::string> notes;  // dropped rows, disabled sections
  std::vector<ConfigPoint> configs;
  std::vector<Correlation> correlations;
  TrainVsInfer train_vs_infer;
  std::vector<PhasePredictor> predictor;
  Extrapolation extrapolation;
  Pareto pareto;
  Recommendations recommendations;
  Lifecycle lifecycle;
  Carbon carbon;
  PowerCaps power_caps;           // AnalyzePowerCaps over the rows of the phase(s)
  std::vector<Finding> findings;  // HeadlineFindings(*this, opts)
  // The machines the runs were measured on (RunRow::host), each with its
  // number of runs, by name; empty when no row names one (a CSV file). A
  // study merged from shards may hold several (issue 16): energy is per
  // machine, so a note names every configuration whose repetitions come
  // from more than one host.
  std::vector<std::pair<std::string, int64_t>> hosts;
  // The operator-level model beside the regressions (issue 12): its
  // leave-one-model-out errors of time and energy per sample, and the same
  // regressions fitted on time per sample (time_predictor) to compare with.
  OpModelResult op_model;
  std::vector<PhasePredictor> time_predictor;
};

// InvalidArgument for bad options (phase, negative N, PUE < 1, unknown region);
// FailedPrecondition when no row is usable (says why).
Result<AnalysisResult> Analyze(const std::vector<RunRow>& rows, const AnalysisOptions& opts);

// Top-level keys exactly: energy_basis ("above-idle" | "total"),
// energy_basis_reason, correlations, train_vs_infer, predictor,
// extrapolation, pareto, recommendations, lifecycle, carbon, power_caps,
// findings, hosts ([{"host", "runs"}]), op_model, time_predictor.
nlohmann::json ToJson(const AnalysisResult& result);

// ---- prediction for an unseen model ------------------------------------------

struct PredictRequest {
  ModelFacts facts;  // from WorkloadEngine::Describe
  std::string phase = "infer";
  int64_t batch_size = 0;  // 0 = the most common batch size of the phase in the data
  int64_t threads = 0;     // 0 = the most common thread count
  int64_t samples = 0;     // 0 = per-sample figures only
};

struct Prediction {
  std::string model, phase, feature_set;
  int64_t batch_size = 0, threads = 0, samples = 0;
  double energy_per_sample_j = 0, energy_per_sample_low_j = 0, energy_per_sample_high_j = 0;  // 95% PI
  std::optional<double> energy_j, energy_low_j, energy_high_j;                                // x samples
  std::optional<double> time_per_sample_s, duration_s;   // time predictor (same set)
  std::optional<double> cv_mape_pct, cv_median_ape_pct;  // nested LOMO error of the selection
  int64_t n_configs = 0, n_models = 0;
  bool estimated = false;
  std::string note;
  EnergyBasis energy_basis = EnergyBasis::kAboveIdle;  // the basis PredictEnergy was given
};

inline constexpr int kMinModelsForPredict = 4;          // LOMO with a fit needs >= 3 training models
inline constexpr double kMaxExtrapolationFactor = 2.0;  // features beyond [min/2, max*2] refused

// FailedPrecondition when too few models/configs (says how many are needed)
// or when a feature lies far outside the measured range (names it and the range).
Result<Prediction> PredictEnergy(const std::vector<RunRow>& rows, const PredictRequest& request,
                                 EnergyBasis basis = EnergyBasis::kAboveIdle);
nlohmann::json ToJson(const Prediction& prediction);

// Training samples of a known dataset, from the catalog ("fashion-mnist"
// 60000, "cifar10" 50000, or any dataset spec); NotFound otherwise.
Result<int64_t> DatasetTrainSamples(const std::string& name);

// ---- input --------------------------------------------------------------------

// Parses `wattlab runs --csv` text. Required columns: run_id, model, phase,
// batch_size, threads, precision, params, macs, macs_per_param, samples,
// duration_s, energy_j, energy_above_idle_j, source, estimated, accuracy. The
// others are optional. Empty cells of optional values are absent. Errors name
// the line (1-based, header = line 1) and column.
Result<std::vector<RunRow>> ReadRunsCsv(const std::string& text);

}  // namespace wattlab::analysis
