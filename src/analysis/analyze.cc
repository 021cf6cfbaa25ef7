// Analyze (everything at once), the JSON form, and the CSV reader.
#include <cmath>
#include <map>
#include <set>

#include "analysis/analysis.h"
#include "analysis/internal.h"
#include "core/strings.h"

namespace wattlab::analysis {

namespace {

constexpr size_t kMixedListed = 5;

// Names every host and warns where one configuration's repetitions come from
// more than one (energy is per machine; issue 16).
void DescribeHosts(const std::vector<RunRow>& rows, AnalysisResult* res) {
  std::map<std::string, std::set<std::pair<std::string, int64_t>>> runs_by_host;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> hosts_by_config;
  std::map<std::pair<std::string, std::string>, std::string> label;
  for (const auto& r : rows) {
    if (r.host.empty()) continue;
    runs_by_host[r.host].insert({r.study, r.run_id});
    const auto key = std::make_pair(r.study, r.config_id);
    hosts_by_config[key].insert(r.host);
    label[key] = r.model + " batch " + std::to_string(r.batch_size) + " (" + r.config_id + ")";
  }
  std::vector<std::string> listed;
  for (const auto& [host, runs] : runs_by_host) {
    res->hosts.emplace_back(host, static_cast<int64_t>(runs.size()));
    listed.push_back(host + " (" + std::to_string(runs.size()) + " runs)");
  }
  if (runs_by_host.size() < 2) return;
  res->notes.push_back("runs from " + std::to_string(runs_by_host.size()) + " hosts: " + Join(listed, ", ") +
                       "; energy is per machine");
  std::vector<std::string> mixed;
  size_t n_mixed = 0;
  for (const auto& [key, hosts] : hosts_by_config) {
    if (hosts.size() < 2) continue;
    ++n_mixed;
    if (mixed.size() < kMixedListed)
      mixed.push_back(label[key] + " from " +
                      Join(std::vector<std::string>(hosts.begin(), hosts.end()), ", "));
  }
  if (n_mixed > 0)
    res->notes.push_back(
        "WARNING: " + std::to_string(n_mixed) +
        " configuration(s) pool repetitions measured on more than one host, averaged as one: " +
        Join(mixed, "; ") +
        (n_mixed > mixed.size() ? "; and " + std::to_string(n_mixed - mixed.size()) + " more" : "") +
        ". Energy is per machine: their means mix machines; compare configurations within one host");
}

}  // namespace

Result<AnalysisResult> Analyze(const std::vector<RunRow>& rows, const AnalysisOptions& opts) {
  if (!opts.phase.empty() && opts.phase != "train" && opts.phase != "infer")
    return Status::InvalidArgument("--phase must be train or infer (got '" + opts.phase + "')");
  if (opts.min_accuracy && !(*opts.min_accuracy >= 0 && *opts.min_accuracy <= 1))
    return Status::InvalidArgument("--min-accuracy is a fraction between 0 and 1 (got " +
                                   FormatDouble(*opts.min_accuracy) + ")");
  if (opts.max_energy_j && !(*opts.max_energy_j > 0 && std::isfinite(*opts.max_energy_j)))
    return Status::InvalidArgument("--max-energy-j must be a positive number of joules per sample");
  std::optional<double> inferences = opts.inferences;
  if (opts.inferences && (opts.requests_per_day || opts.days))
    return Status::InvalidArgument("give either --inferences N or --requests-per-day R --days D, not both");
  if (opts.requests_per_day.has_value() != opts.days.has_value())
    return Status::InvalidArgument("--requests-per-day and --days go together (N = R x D)");
  if (opts.requests_per_day) {
    if (!(*opts.requests_per_day >= 0) || !(*opts.days >= 0) || !std::isfinite(*opts.requests_per_day) ||
        !std::isfinite(*opts.days))
      return Status::InvalidArgument("--requests-per-day and --days must be non-negative numbers");
    inferences = *opts.requests_per_day * *opts.days;
  }
  if (inferences && !(*inferences >= 0 && std::isfinite(*inferences)))
    return Status::InvalidArgument("--inferences must be a non-negative number");
  if (!(opts.max_slowdown >= 1 && std::isfinite(opts.max_slowdown)))
    return Status::InvalidArgument(
        "--max-slowdown is a factor of at least 1 (1.1: up to 10% more time; got " +
        FormatDouble(opts.max_slowdown) + ")");

  AnalysisResult res;
  res.energy_basis = opts.energy;
  res.energy_basis_reason = opts.energy_reason;
  res.rows_read = static_cast<int64_t>(rows.size());
  {
    std::set<int64_t> runs;
    for (const auto& r : rows) runs.insert(r.run_id);
    res.runs_read = static_cast<int64_t>(runs.size());
  }
  if (rows.empty()) return Status::FailedPrecondition("no runs to analyse: the input has no rows");
  // Validate the pieces that do not depend on the rows first, so a bad option
  // fails before any work.
  WATTLAB_ASSIGN_OR_RETURN(Carbon carbon_probe, ComputeCarbon(0, opts, ""));
  (void)carbon_probe;

  res.configs = AggregateConfigs(rows, opts.energy, &res.notes);
  DescribeHosts(rows, &res);
  // Lifecycle always weighs training against inference, whatever --phase shows.
  const std::vector<ConfigPoint> all_configs = res.configs;
  if (!opts.phase.empty()) {
    std::vector<ConfigPoint> keep;
    for (auto& c : res.configs)
      if (c.phase == opts.phase) keep.push_back(std::move(c));
    res.configs = std::move(keep);
  }
  res.configs_used = static_cast<int64_t>(res.configs.size());
  if (res.configs.empty()) {
    std::string why = "no usable runs" + (opts.phase.empty() ? std::string() : " of phase " + opts.phase);
    if (!res.notes.empty()) why += ": " + Join(res.notes, "; ");
    return Status::FailedPrecondition(why);
  }
  if (opts.energy == EnergyBasis::kAboveIdle) {
    std::vector<double> share;
    for (const auto& r : rows)
      if (r.energy_above_idle_j && r.energy_j > 0 && r.window != "profile")
        share.push_back(*r.energy_above_idle_j / r.energy_j);
    if (!share.empty() && Median(share) < kAboveIdleLowShare)
      res.notes.push_back(
          "energy above idle is a median " + FormatFixed(Median(share) * 100, 3) +
          "% of the total: the idle baseline was about as busy as the runs (a shared or saturated "
          "machine?); findings above idle are mostly noise; compare with --energy total");
  }
  for (const auto& c : res.configs) res.estimated = res.estimated || c.estimated;
  if (res.estimated) res.notes.push_back(kEstimatedNote);

  res.correlations = Correlations(res.configs, opts.phase);
  res.train_vs_infer = CompareTrainInfer(res.configs);
  res.predictor = ComparePredictors(res.configs, opts.phase);
  {
    // The same regressions on time per sample, to set beside the operator-level model.
    std::vector<ConfigPoint> timed = res.configs;
    for (auto& c : timed) c.energy_per_sample_j = c.time_per_sample_s;
    res.time_predictor = ComparePredictors(timed, opts.phase);
  }
  if (opts.op_model) {
    res.op_model = EvaluateOpModel(rows, res.configs, *opts.op_model, opts.phase);
  } else {
    res.op_model.notes.push_back(opts.op_model_note.empty() ? "no operator calibration given"
                                                            : opts.op_model_note);
  }
  std::vector<RunRow> ex_rows;
  for (const auto& r : rows)
    if (opts.phase.empty() || r.phase == opts.phase) ex_rows.push_back(r);
  res.extrapolation = CheckExtrapolation(ex_rows);
  res.pareto = ParetoAndBatches(res.configs, opts.phase);
  res.recommendations = Recommend(res.pareto, opts.min_accuracy, opts.max_energy_j);
  res.lifecycle = ComputeLifecycle(rows, all_configs, inferences, opts.energy);
  res.power_caps = AnalyzePowerCaps(ex_rows, opts.energy, opts.max_slowdown);

  // The study's own footprint: every measured window's whole energy. A train
  // profile is its own short training, run before (not inside) the
  // full-length one, so both are electricity the study used.
  double study_j = 0;
  bool study_est = false;
  for (const auto& r : ex_rows) {
    if (!std::isfinite(r.energy_j) || r.energy_j <= 0) continue;
    study_j += r.energy_j;
    study_est = study_est || r.estimated;
  }
  WATTLAB_ASSIGN_OR_RETURN(
      res.carbon,
      ComputeCarbon(study_j, opts,
                    "energy_j of every measured window in the input (the study's own electricity)"));
  res.carbon.estimated = study_est || res.lifecycle.estimated;
  const double factor = res.carbon.intensity_g_per_kwh * res.carbon.pue;
  for (const auto& m : res.lifecycle.models)
    if (m.total_j) res.carbon.lifecycle.push_back({m.model, *m.total_j / 3.6e6, *m.total_j / 3.6e6 * factor});
  if (res.carbon.estimated) res.carbon.note = kEstimatedNote;
  res.findings = HeadlineFindings(res, opts);
  return res;
}

namespace {

using nlohmann::json;

json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json Opt(const std::optional<double>& v) { return v ? Num(*v) : json(nullptr); }
json NoteOrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json LomoJson(const std::vector<LomoPoint>& pts) {
  json a = json::array();
  for (const auto& p : pts) {
    json o = {{"model", p.model},
              {"config_id", p.config_id},
              {"measured_j", Num(p.measured_j)},
              {"predicted_j", Num(p.predicted_j)},
              {"ape_pct", Num(p.ape_pct)}};
    if (!p.chosen_set.empty()) o["chosen_set"] = p.chosen_set;
    a.push_back(o);
  }
  return a;
}

}  // namespace

nlohmann::json ToJson(const AnalysisResult& r) {
  json j = json::object();
  j["energy_basis"] = EnergyBasisName(r.energy_basis);
  j["energy_basis_reason"] = NoteOrNull(r.energy_basis_reason);
  {
    json hosts = json::array();
    for (const auto& [host, runs] : r.hosts) hosts.push_back({{"host", host}, {"runs", runs}});
    j["hosts"] = hosts;
  }
  json corr = json::array();
  for (const auto& c : r.correlations) {
    json pts = json::array();
    for (const auto& p : c.points)
      pts.push_back({{"model", p.model},
                     {"config_id", p.config_id},
                     {"x", Num(p.x)},
                     {"energy_per_sample_j", Num(p.energy_per_sample_j)}});
    corr.push_back(
        {{"phase", c.phase},
         {"x", c.x},
         {"n", c.n},
         {"pearson", Opt(c.pearson)},
         {"pearson_p", Opt(c.pearson_p)},
         {"pearson_ci95",
          c.pearson_ci_low ? json::array({Num(*c.pearson_ci_low), Num(*c.pearson_ci_high)}) : json(nullptr)},
         {"spearman", Opt(c.spearman)},
         {"spearman_p", Opt(c.spearman_p)},
         {"power_law", c.power_law ? json{{"exponent", Num(c.power_law->exponent)},
                                          {"log10_coefficient", Num(c.power_law->log10_coefficient)},
                                          {"r2_log", Num(c.power_law->r2)},
                                          {"n", c.power_law->n}}
                                   : json(nullptr)},
         {"estimated", c.estimated},
         {"note", NoteOrNull(c.note)},
         {"points", pts}});
  }
  j["correlations"] = corr;

  const auto& t = r.train_vs_infer;
  json tm = json::array();
  for (const auto& m : t.models)
    tm.push_back({{"model", m.model},
                  {"train_energy_per_sample_j", Num(m.train_energy_per_sample_j)},
                  {"infer_energy_per_sample_j", Num(m.infer_energy_per_sample_j)},
                  {"train_time_per_sample_s", Num(m.train_time_per_sample_s)},
                  {"infer_time_per_sample_s", Num(m.infer_time_per_sample_s)},
                  {"energy_ratio", Opt(m.energy_ratio)},
                  {"time_ratio", Opt(m.time_ratio)}});
  j["train_vs_infer"] = {{"n_models", t.n_models},
                         {"energy_pearson", Opt(t.energy_pearson)},
                         {"energy_spearman", Opt(t.energy_spearman)},
                         {"energy_spearman_p", Opt(t.energy_spearman_p)},
                         {"time_pearson", Opt(t.time_pearson)},
                         {"median_energy_ratio", Opt(t.median_energy_ratio)},
                         {"median_time_ratio", Opt(t.median_time_ratio)},
                         {"mean_energy_ratio", Opt(t.mean_energy_ratio)},
                         {"mean_time_ratio", Opt(t.mean_time_ratio)},
                         {"estimated", t.estimated},
                         {"note", NoteOrNull(t.note)},
                         {"models", tm}};

  json pred = json::array();
  for (const auto& p : r.predictor) {
    json sets = json::array();
    for (const auto& s : p.sets) {
      json coef = json::array();
      for (double b : s.coefficients) coef.push_back(Num(b));
      sets.push_back({{"name", s.set.name},
                      {"features", s.set.features},
                      {"n_points", s.n_points},
                      {"n_models", s.n_models},
                      {"mape_pct", Opt(s.mape_pct)},
                      {"median_ape_pct", Opt(s.median_ape_pct)},
                      {"r2", Opt(s.r2)},
                      {"f_p", Opt(s.f_p)},
                      {"coefficients", coef},
                      {"note", NoteOrNull(s.note)},
                      {"points", LomoJson(s.points)}});
    }
    pred.push_back({{"phase", p.phase},
                    {"selected", p.selected.empty() ? json(nullptr) : json(p.selected)},
                    {"nested_mape_pct", Opt(p.nested_mape_pct)},
                    {"nested_median_ape_pct", Opt(p.nested_median_ape_pct)},
                    {"nested_points", LomoJson(p.nested_points)},
                    {"estimated", p.estimated},
                    {"note", NoteOrNull(p.note)},
                    {"sets", sets}});
  }
  j["predictor"] = pred;
  j["op_model"] = ::wattlab::ToJson(r.op_model);
  json tpred = json::array();
  for (const auto& p : r.time_predictor) {
    json sets = json::array();
    for (const auto& s : p.sets)
      sets.push_back(
          {{"name", s.set.name}, {"mape_pct", Opt(s.mape_pct)}, {"median_ape_pct", Opt(s.median_ape_pct)}});
    tpred.push_back({{"phase", p.phase},
                     {"selected", p.selected.empty() ? json(nullptr) : json(p.selected)},
                     {"nested_mape_pct", Opt(p.nested_mape_pct)},
                     {"sets", sets}});
  }
  j["time_predictor"] = tpred;

  const auto& e = r.extrapolation;
  json ep = json::array();
  for (const auto& p : e.points)
    ep.push_back({{"config_id", p.config_id},
                  {"model", p.model},
                  {"phase", p.phase},
                  {"repetition", p.repetition},
                  {"predicted_j", Num(p.predicted_j)},
                  {"measured_j", Num(p.measured_j)},
                  {"error_pct", Num(p.error_pct)}});
  j["extrapolation"] = {{"n", e.n},
                        {"mean_abs_error_pct", Opt(e.mean_abs_error_pct)},
                        {"median_abs_error_pct", Opt(e.median_abs_error_pct)},
                        {"max_abs_error_pct", Opt(e.max_abs_error_pct)},
                        {"mean_error_pct", Opt(e.mean_error_pct)},
                        {"estimated", e.estimated},
                        {"note", NoteOrNull(e.note)},
                        {"points", ep}};

  json pp = json::array();
  for (const auto& p : r.pareto.points)
    pp.push_back({{"model", p.model},
                  {"config_id", p.config_id},
                  {"phase", p.phase},
                  {"precision", p.precision},
                  {"batch_size", p.batch_size},
                  {"threads", p.threads},
                  {"accuracy", Num(p.accuracy)},
                  {"energy_per_sample_j", Num(p.energy_per_sample_j)},
                  {"on_front", p.on_front}});
  json ob = json::array();
  for (const auto& o : r.pareto.optimal_batch) {
    json series = json::array();
    for (const auto& b : o.series)
      series.push_back({{"batch_size", b.batch_size},
                        {"energy_per_sample_j", Num(b.energy_per_sample_j)},
                        {"energy_per_sample_sd_j", Num(b.energy_per_sample_sd_j)},
                        {"time_per_sample_s", Num(b.time_per_sample_s)},
                        {"repetitions", b.repetitions}});
    ob.push_back({{"model", o.model},
                  {"phase", o.phase},
                  {"best_batch_size", o.best_batch_size},
                  {"best_energy_per_sample_j", Num(o.best_energy_per_sample_j)},
                  {"series", series}});
  }
  j["pareto"] = {{"estimated", r.pareto.estimated},
                 {"note", NoteOrNull(r.pareto.note)},
                 {"points", pp},
                 {"optimal_batch", ob}};

  json rec = json::array();
  for (const auto& x : r.recommendations.items)
    rec.push_back({{"phase", x.phase},
                   {"model", x.model},
                   {"config_id", x.config_id},
                   {"precision", x.precision},
                   {"batch_size", x.batch_size},
                   {"threads", x.threads},
                   {"accuracy", Num(x.accuracy)},
                   {"energy_per_sample_j", Num(x.energy_per_sample_j)},
                   {"baseline_model", x.baseline_model},
                   {"baseline_config_id", x.baseline_config_id},
                   {"baseline_accuracy", Num(x.baseline_accuracy)},
                   {"baseline_energy_per_sample_j", Num(x.baseline_energy_per_sample_j)},
                   {"energy_saved_j", Num(x.energy_saved_j)},
                   {"energy_saved_pct", Num(x.energy_saved_pct)},
                   {"accuracy_lost", Num(x.accuracy_lost)},
                   {"text", x.text}});
  j["recommendations"] = {{"estimated", r.recommendations.estimated},
                          {"note", NoteOrNull(r.recommendations.note)},
                          {"items", rec}};

  json lm = json::array();
  for (const auto& m : r.lifecycle.models) {
    json series = json::array();
    for (const auto& s : m.series)
      series.push_back({{"inferences", Num(s.inferences)},
                        {"training_j", Num(s.training_j)},
                        {"inference_j", Num(s.inference_j)},
                        {"total_j", Num(s.total_j)}});
    lm.push_back({{"model", m.model},
                  {"training_energy_j", Num(m.training_energy_j)},
                  {"inference_energy_per_sample_j", Num(m.inference_energy_per_sample_j)},
                  {"inferences", Opt(m.inferences)},
                  {"total_j", Opt(m.total_j)},
                  {"training_share", Opt(m.training_share)},
                  {"inference_share", Opt(m.inference_share)},
                  {"break_even_n", Opt(m.break_even_n)},
                  {"series", series}});
  }
  j["lifecycle"] = {{"inferences", Opt(r.lifecycle.inferences)},
                    {"estimated", r.lifecycle.estimated},
                    {"note", NoteOrNull(r.lifecycle.note)},
                    {"models", lm}};

  const auto& c = r.carbon;
  json cl = json::array();
  for (const auto& i : c.lifecycle)
    cl.push_back({{"model", i.model}, {"energy_kwh", Num(i.energy_kwh)}, {"gco2e", Num(i.gco2e)}});
  j["carbon"] = {{"energy_j", Num(c.energy_j)},
                 {"energy_kwh", Num(c.energy_kwh)},
                 {"intensity_g_per_kwh", Num(c.intensity_g_per_kwh)},
                 {"pue", Num(c.pue)},
                 {"gco2e", Num(c.gco2e)},
                 {"region", c.region.empty() ? json(nullptr) : json(c.region)},
                 {"intensity_source", c.intensity_source},
                 {"basis", c.basis},
                 {"estimated", c.estimated},
                 {"note", NoteOrNull(c.note)},
                 {"lifecycle", cl}};

  json curves = json::array();
  for (const auto& c : r.power_caps.curves) {
    json pts = json::array();
    for (const auto& p : c.points)
      pts.push_back({{"cap", Num(p.cap)},
                     {"repetitions", p.repetitions},
                     {"energy_per_sample_j", Num(p.energy_per_sample_j)},
                     {"energy_per_sample_sd_j", Num(p.energy_per_sample_sd_j)},
                     {"time_per_sample_s", Num(p.time_per_sample_s)},
                     {"edp", Num(p.edp)},
                     {"ed2p", Num(p.ed2p)},
                     {"slowdown", Num(p.slowdown)},
                     {"energy_ratio", Num(p.energy_ratio)},
                     {"fitted_energy_per_sample_j", Opt(p.fitted_energy_per_sample_j)},
                     {"fitted_time_per_sample_s", Opt(p.fitted_time_per_sample_s)}});
    auto fit = [](const std::optional<std::array<double, 3>>& f) {
      return f ? json::array({Num((*f)[0]), Num((*f)[1]), Num((*f)[2])}) : json(nullptr);
    };
    curves.push_back({{"knob", c.knob},
                      {"unit", c.unit},
                      {"model", c.model},
                      {"phase", c.phase},
                      {"window", c.window},
                      {"batch_size", c.batch_size},
                      {"threads", c.threads},
                      {"precision", c.precision},
                      {"held", NoteOrNull(c.held)},
                      {"reference_cap", Num(c.reference_cap)},
                      {"energy_optimal_cap", Num(c.energy_optimal_cap)},
                      {"edp_optimal_cap", Num(c.edp_optimal_cap)},
                      {"ed2p_optimal_cap", Num(c.ed2p_optimal_cap)},
                      {"within_slowdown_cap", Num(c.within_slowdown_cap)},
                      {"energy_saved_pct", Num(c.energy_saved_pct)},
                      {"time_added_pct", Num(c.time_added_pct)},
                      {"within_energy_saved_pct", Num(c.within_energy_saved_pct)},
                      {"within_time_added_pct", Num(c.within_time_added_pct)},
                      {"fit_energy_optimal_cap", Opt(c.fit_energy_optimal_cap)},
                      {"energy_fit", fit(c.energy_fit)},
                      {"time_fit", fit(c.time_fit)},
                      {"points", pts},
                      {"text", c.text}});
  }
  j["power_caps"] = {{"max_slowdown", Num(r.power_caps.max_slowdown)},
                     {"estimated", r.power_caps.estimated},
                     {"note", NoteOrNull(r.power_caps.note)},
                     {"curves", curves}};

  json fs = json::array();
  for (const auto& f : r.findings)
    fs.push_back({{"kind", f.kind},
                  {"phase", f.phase.empty() ? json(nullptr) : json(f.phase)},
                  {"text", f.text},
                  {"estimated", f.estimated}});
  j["findings"] = fs;
  return j;
}

nlohmann::json ToJson(const Prediction& p) {
  return {{"model", p.model},
          {"phase", p.phase},
          {"feature_set", p.feature_set},
          {"batch_size", p.batch_size},
          {"threads", p.threads},
          {"samples", p.samples > 0 ? json(p.samples) : json(nullptr)},
          {"energy_per_sample_j", Num(p.energy_per_sample_j)},
          {"energy_per_sample_pi95_j",
           json::array({Num(p.energy_per_sample_low_j), Num(p.energy_per_sample_high_j)})},
          {"energy_j", Opt(p.energy_j)},
          {"energy_pi95_j",
           p.energy_j ? json::array({Opt(p.energy_low_j), Opt(p.energy_high_j)}) : json(nullptr)},
          {"time_per_sample_s", Opt(p.time_per_sample_s)},
          {"duration_s", Opt(p.duration_s)},
          {"cv_mape_pct", Opt(p.cv_mape_pct)},
          {"cv_median_ape_pct", Opt(p.cv_median_ape_pct)},
          {"n_configs", p.n_configs},
          {"n_models", p.n_models},
          {"estimated", p.estimated},
          {"note", NoteOrNull(p.note)},
          {"energy_basis", EnergyBasisName(p.energy_basis)}};
}

// ---- CSV --------------------------------------------------------------------

Result<std::vector<RunRow>> ReadRunsCsv(const std::string& text) {
  std::string err;
  auto parsed = ParseCsv(text, &err);
  if (!parsed) return Status::InvalidArgument("CSV: " + err);
  const auto& table = *parsed;
  if (table.empty() || (table.size() == 1 && table[0].size() == 1 && TrimCopy(table[0][0]).empty()))
    return Status::InvalidArgument("CSV is empty: expected the header line of `wattlab runs --csv`");
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < table[0].size(); ++i) {
    const std::string name = TrimCopy(table[0][i]);
    if (col.count(name)) return Status::InvalidArgument("CSV line 1: column '" + name + "' appears twice");
    col[name] = i;
  }
  static const std::vector<std::string> kRequired = {
      "run_id",    "model",          "phase",   "batch_size", "threads",  "precision",           "params",
      "macs",      "macs_per_param", "samples", "duration_s", "energy_j", "energy_above_idle_j", "source",
      "estimated", "accuracy"};
  std::vector<std::string> missing;
  for (const auto& r : kRequired)
    if (!col.count(r)) missing.push_back(r);
  if (!missing.empty())
    return Status::InvalidArgument("CSV line 1: missing column(s) " + Join(missing, ", ") +
                                   "; the input must have the columns of `wattlab runs --csv`");
  std::vector<RunRow> rows;
  for (size_t li = 1; li < table.size(); ++li) {
    const auto& f = table[li];
    if (f.size() == 1 && TrimCopy(f[0]).empty()) continue;  // blank line
    const std::string where = "CSV line " + std::to_string(li + 1);
    if (f.size() != table[0].size())
      return Status::InvalidArgument(where + ": " + std::to_string(f.size()) + " fields, the header has " +
                                     std::to_string(table[0].size()));
    auto cell = [&](const std::string& name) -> std::optional<std::string> {
      auto it = col.find(name);
      if (it == col.end()) return std::nullopt;
      return TrimCopy(f[it->second]);
    };
    Status st;
    auto get_int = [&](const std::string& name, bool required) -> std::optional<int64_t> {
      auto c = cell(name);
      if (!c || c->empty()) {
        if (required && st.ok())
          st = Status::InvalidArgument(where + ", column " + name + ": empty; an integer is required");
        return std::nullopt;
      }
      auto v = ParseInt(*c);
      if (!v && st.ok())
        st = Status::InvalidArgument(where + ", column " + name + ": '" + *c + "' is not an integer");
      return v;
    };
    auto get_num = [&](const std::string& name, bool required) -> std::optional<double> {
      auto c = cell(name);
      if (!c || c->empty()) {
        if (required && st.ok())
          st = Status::InvalidArgument(where + ", column " + name + ": empty; a number is required");
        return std::nullopt;
      }
      auto v = ParseNumber(*c);
      if ((!v || !std::isfinite(*v)) && st.ok()) {
        st = Status::InvalidArgument(where + ", column " + name + ": '" + *c + "' is not a finite number");
        return std::nullopt;
      }
      return v;
    };
    RunRow r;
    r.study = cell("study").value_or("");
    r.run_id = get_int("run_id", true).value_or(0);
    r.config_id = cell("config_id").value_or("");
    r.repetition = get_int("repetition", false).value_or(0);
    r.model = cell("model").value_or("");
    r.phase = cell("phase").value_or("");
    r.window = cell("window").value_or("");
    r.batch_size = get_int("batch_size", true).value_or(0);
    r.threads = get_int("threads", true).value_or(0);
    r.precision = cell("precision").value_or("");
    r.params = get_int("params", true).value_or(0);
    r.macs = get_int("macs", true).value_or(0);
    r.macs_per_param = get_num("macs_per_param", true).value_or(0);
    r.steps = get_int("steps", false);
    r.samples = get_int("samples", true).value_or(0);
    r.duration_s = get_num("duration_s", true).value_or(0);
    r.energy_j = get_num("energy_j", true).value_or(0);
    r.energy_above_idle_j = get_num("energy_above_idle_j", false);
    r.extrapolated_energy_j = get_num("extrapolated_energy_j", false);
    r.cpu_util = get_num("cpu_util", false);
    r.source = cell("source").value_or("");
    r.accuracy = get_num("accuracy", false);
    const std::string est = ToLower(cell("estimated").value_or(""));
    if (est == "true" || est == "1" || est == "yes")
      r.estimated = true;
    else if (est == "false" || est == "0" || est == "no")
      r.estimated = false;
    else if (st.ok())
      st = Status::InvalidArgument(where + ", column estimated: '" + est + "' is not true/false");
    if (auto busy = cell("idle_busy"); busy && !busy->empty()) {
      const std::string b = ToLower(*busy);
      if (b == "true" || b == "1" || b == "yes")
        r.idle_busy = true;
      else if (b == "false" || b == "0" || b == "no")
        r.idle_busy = false;
      else if (st.ok())
        st = Status::InvalidArgument(where + ", column idle_busy: '" + b + "' is not true/false");
    }
    r.gpu_power_limit_w = get_num("gpu_power_limit_w", false);
    r.cpu_power_limit_w = get_num("cpu_power_limit_w", false);
    r.cpu_max_freq_mhz = get_num("cpu_max_freq_mhz", false);
    r.omp_wait_policy = ToLower(cell("omp_wait_policy").value_or(""));
    if (st.ok() && r.model.empty()) st = Status::InvalidArgument(where + ", column model: empty");
    if (st.ok() && r.phase.empty()) st = Status::InvalidArgument(where + ", column phase: empty");
    if (st.ok() && r.samples < 0) st = Status::InvalidArgument(where + ", column samples: negative");
    if (st.ok() && r.accuracy && (*r.accuracy < 0 || *r.accuracy > 1))
      st = Status::InvalidArgument(where + ", column accuracy: " + FormatDouble(*r.accuracy) +
                                   " is not a fraction between 0 and 1");
    if (!st.ok()) return st;
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace wattlab::analysis
