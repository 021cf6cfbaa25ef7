#include "report/codecarbon.h"

#include <cmath>
#include <cstdio>

#include "core/strings.h"

namespace wattlab {

const std::vector<std::string>& CodeCarbonColumns() {
  static const std::vector<std::string> kCols = {"timestamp",
                                                 "project_name",
                                                 "run_id",
                                                 "experiment_id",
                                                 "duration",
                                                 "emissions",
                                                 "emissions_rate",
                                                 "cpu_power",
                                                 "gpu_power",
                                                 "ram_power",
                                                 "cpu_energy",
                                                 "gpu_energy",
                                                 "ram_energy",
                                                 "energy_consumed",
                                                 "water_consumed",
                                                 "country_name",
                                                 "country_iso_code",
                                                 "region",
                                                 "cloud_provider",
                                                 "cloud_region",
                                                 "os",
                                                 "python_version",
                                                 "codecarbon_version",
                                                 "cpu_count",
                                                 "cpu_model",
                                                 "gpu_count",
                                                 "gpu_model",
                                                 "longitude",
                                                 "latitude",
                                                 "ram_total_size",
                                                 "tracking_mode",
                                                 "cpu_utilization_percent",
                                                 "gpu_utilization_percent",
                                                 "ram_utilization_percent",
                                                 "ram_used_gb",
                                                 "on_cloud",
                                                 "pue",
                                                 "wue"};
  return kCols;
}

std::string FormatUtcTimestamp(double unix_s) {
  // Days to civil date (Howard Hinnant's algorithm): pure, no time zone.
  int64_t t = static_cast<int64_t>(std::floor(unix_s));
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t secs = t - days * 86400;
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[128];  // room for any int64 year, so no truncation warning
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

std::string CodeCarbonHeaderLine() { return Join(CodeCarbonColumns(), ",") + "\n"; }

std::string CodeCarbonRowLine(const CodeCarbonRow& r) {
  constexpr double kJPerKwh = 3.6e6;
  auto num = [](std::optional<double> v) { return v ? FormatDouble(*v) : std::string(); };
  auto kwh = [&](std::optional<double> j) { return j ? FormatDouble(*j / kJPerKwh) : std::string(); };
  auto watts = [&](std::optional<double> j) {
    return j && r.duration_s > 0 ? FormatDouble(*j / r.duration_s) : std::string();
  };
  auto count = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : std::string(); };
  const double emissions_kg = r.energy_j / kJPerKwh * r.intensity_g_per_kwh * r.pue / 1000.0;
  std::vector<std::string> f = {
      FormatUtcTimestamp(r.timestamp_unix_s),
      r.project_name,
      r.run_id,
      r.experiment_id,
      FormatDouble(r.duration_s),
      FormatDouble(emissions_kg),
      r.duration_s > 0 ? FormatDouble(emissions_kg / r.duration_s) : std::string(),
      watts(r.cpu_energy_j),
      watts(r.gpu_energy_j),
      watts(r.ram_energy_j),
      kwh(r.cpu_energy_j),
      kwh(r.gpu_energy_j),
      kwh(r.ram_energy_j),
      FormatDouble(r.energy_j / kJPerKwh),
      "",  // water_consumed
      "",  // country_name
      "",  // country_iso_code
      "",  // region
      "",  // cloud_provider
      "",  // cloud_region
      r.os,
      "",  // python_version
      "",  // codecarbon_version
      count(r.cpu_count),
      r.cpu_model,
      count(r.gpu_count),
      r.gpu_model,
      "",  // longitude
      "",  // latitude
      num(r.ram_total_gb),
      r.tracking_mode,
      num(r.cpu_utilization_percent),
      "",  // gpu_utilization_percent
      "",  // ram_utilization_percent
      "",  // ram_used_gb
      "",  // on_cloud
      FormatDouble(r.pue),
      "",  // wue
  };
  std::string line;
  for (size_t i = 0; i < f.size(); ++i) line += (i ? "," : "") + CsvEscape(f[i]);
  return line + "\n";
}

Status CheckCodeCarbonCsv(Env* env, const std::string& path) {
  auto info = env->Stat(path);
  if (!info.ok()) return info.status();
  if (info->kind == FileKind::kMissing || info->size_bytes == 0) return env->CheckWritable(path);
  return AppendCodeCarbonCsv(env, path, {});
}

Status AppendCodeCarbonCsv(Env* env, const std::string& path, const std::vector<CodeCarbonRow>& rows) {
  const std::string header = CodeCarbonHeaderLine();
  auto info = env->Stat(path);
  if (!info.ok()) return info.status();
  std::string data;
  if (info->kind == FileKind::kMissing || info->size_bytes == 0) {
    data = header;
  } else {
    auto text = env->ReadFile(path);
    if (!text.ok()) return text.status();
    std::string first = text->substr(0, text->find('\n'));
    if (!first.empty() && first.back() == '\r') first.pop_back();
    if (first + "\n" != header)
      return Status::FailedPrecondition(path + " has another header than CodeCarbon 3.3.0's emissions.csv (" +
                                        std::to_string(Split(first, ',').size()) +
                                        " columns); not appending: choose a new file");
    if (text->back() != '\n') data = "\n";  // a last line without its newline gets one
  }
  for (const auto& r : rows) data += CodeCarbonRowLine(r);
  if (rows.empty()) return Status::Ok();  // a check only: nothing to add
  return env->AppendToFile(path, data);
}

}  // namespace wattlab
