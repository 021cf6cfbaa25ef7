// Placement: edge or cloud, communication against computation, per request
// (one inference of one sample), in joules. `wattlab place` prints what these
// functions return; docs/placement.md gives the model, every coefficient with
// its source, and a worked example.
//
//   edge_j  = device compute energy per sample
//   cloud_j = up_bits x radio_up_j_per_bit + down_bits x radio_down_j_per_bit
//           + tail_j / max(1, requests_per_s x tail_s)
//           + (up_bytes + down_bytes) x network_kwh_per_gb x 3.6e6 / 1e9
//           + pue x server_energy_j
//   split k = share_k x edge_j + the cloud formula with the activation at the
//             cut as up_bytes and (1 - share_k) x server_energy_j
// The marginal view replaces the network term by
// (up_bits + down_bits) x network_marginal_j_per_bit.
//
// Coefficients are data (PlacementProfile): built-in links ethernet, wifi,
// lte, 5g with low/central/high values and their sources, overridable by a
// TOML profile (ParsePlacementProfile takes the text; the caller reads the
// file, so this module stays OS-free and the parser can be fuzzed).
//
// Pure functions, no OS calls; every function is reentrant. No NaN or
// infinity leaves this module: an absent figure is std::nullopt.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analysis.h"
#include "wattlab/record.h"
#include "wattlab/status.h"
#include "wattlab/workload.h"

namespace wattlab::analysis {

// ---- coefficients -------------------------------------------------------------

// A coefficient's range: low <= central <= high, all finite and >= 0.
struct Triple {
  double low = 0, central = 0, high = 0;
  static Triple Of(double v) { return {v, v, v}; }
};

struct Coefficient {
  Triple value;
  std::string source;  // "Carbon Trust 2021 (European 2020 values)", "profile links.toml", ...
};

// The keys of a [link.NAME] table, in this order everywhere (JSON, tables).
inline constexpr const char* kLinkKeys[] = {
    "radio_up_j_per_bit", "radio_down_j_per_bit",      "tail_j", "tail_s",
    "network_kwh_per_gb", "network_marginal_j_per_bit"};
inline constexpr int kLinkKeyCount = 6;

struct LinkProfile {
  std::string name;                 // "ethernet", "wifi", "lte", "5g", or a profile's own
  Coefficient coef[kLinkKeyCount];  // indexed as kLinkKeys
  const Coefficient& Get(std::string_view key) const;
};

struct PlacementProfile {
  std::vector<LinkProfile> links;
  Coefficient pue;  // [cloud] pue
};

// ethernet, wifi, lte, 5g and the data-centre PUE, each value with its source.
const PlacementProfile& BuiltinPlacementProfile();

// Applies a TOML profile to `base`: [link.NAME] tables with exactly the keys
// of kLinkKeys (each a number or [low, central, high]); a NAME already in base
// may give only some keys (the rest keep base's), a new NAME must give all of
// them; [cloud] with `pue` (>= 1). InvalidArgument naming `file` (and the line
// and key where known): not TOML, an unknown table or key, a value that is not
// a number, a negative or non-finite value, a triple out of order or not of
// three numbers, a new link missing keys.
Result<PlacementProfile> ParsePlacementProfile(std::string_view toml_text, const std::string& file,
                                               PlacementProfile base);

// InvalidArgument "unknown link 'x'; known: ..." when absent.
Result<LinkProfile> FindLink(const PlacementProfile& profile, const std::string& name);

// ---- inputs ------------------------------------------------------------------------

// A compute energy per request with where it came from.
struct RequestEnergy {
  double energy_j = 0;     // per sample
  std::string basis;       // "above idle" | "total" | "given"
  std::string source;      // "--edge-energy-j", "edge.db: infer, batch 1, 2 threads, fp32 (3 repetitions)"
  int64_t batch_size = 0;  // 0 when given
  bool estimated = false;
  std::vector<std::string> notes;
};

// Energy per sample of `model`'s infer phase from study rows: batch 1, else
// the smallest batch measured (with a note); among configurations at that
// batch (threads, precision), the cheapest (noted when there are several).
// basis: given -> that basis; absent -> above idle when every row of the model
// at that batch has energy_above_idle_j and some is above idle noise, else
// total (with a note). `what` is
// how the rows are named in messages ("--edge-db edge.db"). InvalidArgument
// when the rows have no infer row of the model (lists the models there) or
// none usable on that basis.
Result<RequestEnergy> EnergyPerRequestFromRows(const std::vector<RunRow>& rows, const std::string& model,
                                               std::optional<EnergyBasis> basis, const std::string& what);

// Where a model can be cut (WorkloadEngine::SplitPoints, or a test's own).
using SplitPoints = std::vector<SplitPoint>;

struct PlacementInput {
  std::string model;
  LinkProfile link;
  Coefficient pue;
  RequestEnergy edge, server;  // compute energy per sample at each end
  double up_bytes = 0, down_bytes = 0;
  std::string up_bytes_source, down_bytes_source;  // how they were found
  double requests_per_day = 10000;
  double activation_bytes_per_element = 4;
  SplitPoints splits;       // empty: no split options
  std::string splits_note;  // why there are none, when there are none
  // Carbon at each end, gCO2e/kWh; the device side (compute, radio, tail) at
  // the edge intensity, the network and data centre at the cloud intensity.
  double edge_intensity_g_per_kwh = kDefaultIntensityGPerKwh;
  double cloud_intensity_g_per_kwh = kDefaultIntensityGPerKwh;
  std::string edge_intensity_source = "default: world average 475 g/kWh";
  std::string cloud_intensity_source = "default: world average 475 g/kWh";
};

// InvalidArgument for a negative or non-finite size, energy, rate or
// intensity, an activation size of zero, a split share outside 0..1 or a
// split with negative elements.
Status CheckPlacementInput(const PlacementInput& in);

// ---- the model --------------------------------------------------------------------

enum class NetworkView { kAllocational, kMarginal };

// Which value of each coefficient to use: every one central, except possibly
// one (index into kLinkKeys, or kPueIndex) set to `value`.
struct CoefficientChoice {
  int index = -1;  // -1: all central
  double value = 0;
};
inline constexpr int kPueIndex = kLinkKeyCount;

// One option's energy per request, and how it splits between the device and
// the rest (network + data centre).
struct OptionEnergy {
  double energy_j = 0;
  double device_j = 0;   // compute on the device + radio + tail
  double network_j = 0;  // allocational or marginal network term
  double server_j = 0;   // pue x server compute
};

// The terms, exposed for tests. requests_per_s = requests_per_day / 86400.
double RadioJ(double up_bytes, double down_bytes, double up_j_per_bit, double down_j_per_bit);
double TailJ(double tail_j, double tail_s, double requests_per_s);
double NetworkAllocationalJ(double bytes, double kwh_per_gb);
double NetworkMarginalJ(double bytes, double j_per_bit);

// Sending `up_bytes` (of which the device computed `device_share` of the
// model first) and receiving down_bytes; share 0 = cloud.
OptionEnergy RemoteEnergy(const PlacementInput& in, double up_bytes, double device_share, NetworkView view,
                          CoefficientChoice choice = {});

struct SplitOption {
  int64_t index = 0;
  std::string layer;
  double activation_bytes = 0;
  double device_share = 0;
  OptionEnergy energy;
};

struct PlacementView {
  OptionEnergy edge, cloud;
  std::vector<SplitOption> split;
  std::string best;  // "edge", "cloud" or "split:INDEX" (lowest energy; ties: edge, then cloud, then the
                     // lowest index)
};

PlacementView EvaluatePlacement(const PlacementInput& in, NetworkView view, CoefficientChoice choice = {});

// One row of the tornado table: one coefficient at its low and high value,
// the others central (allocational view; the marginal coefficient in the
// marginal view).
struct SensitivityRow {
  std::string coefficient, unit, view;
  Triple value;
  std::string best_at_low, best_at_central, best_at_high;
  bool flips = false;  // the decision differs somewhere in [low, high]
  // Where the decision changes nearest below/above the central value
  // (anywhere >= 0, also outside [low, high]); absent when it never does.
  std::optional<double> flip_below, flip_above;
  double best_energy_low_j = 0, best_energy_high_j = 0;  // the central decision's energy at low / high
};

struct Sensitivity {
  std::vector<SensitivityRow> rows;
  bool holds = true;  // no coefficient flips the decision within its range
  // Up payload (bytes) at which cloud costs what edge costs; below it the
  // cloud is cheaper. Absent when no payload makes them equal (says why).
  std::optional<double> break_even_up_bytes, break_even_up_bytes_marginal;
  // Device compute energy per sample below which edge beats every remote
  // option (cloud and every split), allocational view.
  double break_even_edge_j = 0;
  std::string note;
};

Sensitivity AnalyseSensitivity(const PlacementInput& in);

struct CarbonOption {
  std::string option;  // "edge", "cloud", "split:INDEX"
  double gco2e_per_request = 0, gco2e_per_year = 0;
};

struct PlacementCarbon {
  double requests_per_year = 0;
  std::vector<CarbonOption> options;  // edge, cloud, each split (allocational view)
};

PlacementCarbon PlacementCarbonOf(const PlacementInput& in, const PlacementView& view);

struct PlacementResult {
  PlacementInput input;
  PlacementView allocational, marginal;
  bool views_differ = false;
  Sensitivity sensitivity;
  PlacementCarbon carbon;
  std::vector<std::string> notes;
};

// Checks the input, then evaluates both views, sensitivity and carbon.
Result<PlacementResult> Place(const PlacementInput& in);

// Top-level keys exactly: edge_j, cloud_j, split, best, marginal,
// sensitivity, carbon, assumptions.
nlohmann::json ToJson(const PlacementResult& result);

}  // namespace wattlab::analysis
