// CodeCarbon-compatible output: rows of CodeCarbon 3.3.0's emissions.csv, so
// dashboards and scripts built for CodeCarbon read wattlab's measurements.
// Exactly CodeCarbon's 38 columns in its order (the header is kept as
// tests/fixtures/codecarbon/emissions_header.csv). Units as CodeCarbon's:
// duration in s, energies in kWh, emissions in kg CO2e, emissions_rate in
// kg/s, powers in W; fields wattlab does not know are empty.
// energy_consumed is the measured energy (whole machine, every chosen
// domain); emissions = energy_consumed x intensity x PUE
// (docs/conventions.md). `measure --codecarbon-csv` writes one row per
// command, `runs --codecarbon` one row per measured window.
//
// Thread-safety: pure functions, except AppendCodeCarbonCsv (through Env).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "wattlab/status.h"

namespace wattlab {

const std::vector<std::string>& CodeCarbonColumns();  // the 38 names, in order

struct CodeCarbonRow {
  double timestamp_unix_s = 0;  // written as UTC "YYYY-MM-DDTHH:MM:SS"
  std::string project_name, run_id, experiment_id;
  double duration_s = 0;
  double energy_j = 0;  // energy_consumed
  std::optional<double> cpu_energy_j, gpu_energy_j,
      ram_energy_j;  // per component; powers = energy / duration
  double intensity_g_per_kwh = 475.0;
  double pue = 1.0;
  std::string os, cpu_model, gpu_model;
  std::optional<int64_t> cpu_count, gpu_count;
  std::optional<double> ram_total_gb;
  std::optional<double> cpu_utilization_percent;
  std::string tracking_mode = "machine";
};

std::string FormatUtcTimestamp(double unix_s);            // "2024-06-20T12:34:56"
std::string CodeCarbonHeaderLine();                       // with '\n'
std::string CodeCarbonRowLine(const CodeCarbonRow& row);  // with '\n'

// Appends rows to path, writing the header first when the file is missing or
// empty. A file whose first line is another header is refused
// (FailedPrecondition naming the file), never mixed.
Status AppendCodeCarbonCsv(Env* env, const std::string& path, const std::vector<CodeCarbonRow>& rows);
// The same check alone (OK for a missing or empty file, or CodeCarbon's
// header), so a command can refuse before it measures anything.
Status CheckCodeCarbonCsv(Env* env, const std::string& path);

}  // namespace wattlab
