#include "store/export.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/energy_basis.h"
#include "core/strings.h"

namespace wattlab {
namespace {

std::string Num(double v) { return std::isfinite(v) ? FormatDouble(v) : ""; }
template <typename T>
std::string Opt(const std::optional<T>& v) {
  if (!v) return "";
  if constexpr (std::is_floating_point_v<T>)
    return Num(*v);
  else
    return std::to_string(*v);
}

nlohmann::json JNum(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
template <typename T>
nlohmann::json JOpt(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_floating_point_v<T>)
    return JNum(*v);
  else
    return *v;
}

// Round-off shown as data is noise: within 1e-9 x energy_j of zero is 0
// (core/energy_basis.h). The sign is kept otherwise: an export is the data.
std::optional<double> AboveIdleForExport(const RunRow& r) {
  if (!r.energy_above_idle_j) return std::nullopt;
  return ZeroRoundOff(r.energy_j, *r.energy_above_idle_j);
}

}  // namespace

std::vector<std::string> RunRowFields(const RunRow& r) {
  return {r.study,
          std::to_string(r.run_id),
          r.config_id,
          std::to_string(r.repetition),
          r.model,
          r.phase,
          r.window,
          std::to_string(r.batch_size),
          std::to_string(r.threads),
          r.precision,
          std::to_string(r.params),
          std::to_string(r.macs),
          Num(r.macs_per_param),
          Opt(r.steps),
          std::to_string(r.samples),
          Num(r.duration_s),
          Num(r.energy_j),
          Opt(AboveIdleForExport(r)),
          Opt(r.extrapolated_energy_j),
          Opt(r.cpu_util),
          r.source,
          r.estimated ? "true" : "false",
          Opt(r.accuracy),
          r.idle_busy ? (*r.idle_busy ? "true" : "false") : "",
          Opt(r.gpu_power_limit_w),
          Opt(r.cpu_power_limit_w),
          Opt(r.cpu_max_freq_mhz),
          r.omp_wait_policy};
}

std::string RunRowsToCsv(const std::vector<RunRow>& rows) {
  std::string out;
  const auto& cols = RunRowColumns();
  for (size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + CsvEscape(cols[i]);
  out += "\n";
  for (const auto& r : rows) {
    auto f = RunRowFields(r);
    for (size_t i = 0; i < f.size(); ++i) out += (i ? "," : "") + CsvEscape(f[i]);
    out += "\n";
  }
  return out;
}

std::string RunRowsToJson(const std::vector<RunRow>& rows) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    nlohmann::ordered_json o;
    o["study"] = r.study;
    o["run_id"] = r.run_id;
    o["config_id"] = r.config_id;
    o["repetition"] = r.repetition;
    o["model"] = r.model;
    o["phase"] = r.phase;
    o["window"] = r.window;
    o["batch_size"] = r.batch_size;
    o["threads"] = r.threads;
    o["precision"] = r.precision;
    o["params"] = r.params;
    o["macs"] = r.macs;
    o["macs_per_param"] = JNum(r.macs_per_param);
    o["steps"] = JOpt(r.steps);
    o["samples"] = r.samples;
    o["duration_s"] = JNum(r.duration_s);
    o["energy_j"] = JNum(r.energy_j);
    o["energy_above_idle_j"] = JOpt(AboveIdleForExport(r));
    o["extrapolated_energy_j"] = JOpt(r.extrapolated_energy_j);
    o["cpu_util"] = JOpt(r.cpu_util);
    o["source"] = r.source;
    o["estimated"] = r.estimated;
    o["accuracy"] = JOpt(r.accuracy);
    o["idle_busy"] = r.idle_busy ? nlohmann::ordered_json(*r.idle_busy) : nlohmann::ordered_json(nullptr);
    o["gpu_power_limit_w"] = JOpt(r.gpu_power_limit_w);
    o["cpu_power_limit_w"] = JOpt(r.cpu_power_limit_w);
    o["cpu_max_freq_mhz"] = JOpt(r.cpu_max_freq_mhz);
    o["omp_wait_policy"] = r.omp_wait_policy.empty() ? nlohmann::ordered_json(nullptr)
                                                     : nlohmann::ordered_json(r.omp_wait_policy);
    arr.push_back(std::move(o));
  }
  return arr.dump(2) + "\n";
}

}  // namespace wattlab
