// Placement model: the energy of computing a request on the device, in the
// data centre, or split between them. See placement.h and docs/placement.md.
#include "analysis/placement.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/strings.h"

namespace wattlab::analysis {

namespace {

constexpr double kJPerKwh = 3.6e6;
constexpr double kBytesPerGb = 1e9;
constexpr double kSecondsPerDay = 86400;
constexpr double kDaysPerYear = 365;

const char* kUnits[] = {"J/bit", "J/bit", "J", "s", "kWh/GB", "J/bit"};

bool Finite(double v) { return std::isfinite(v); }

double Clean(double v) { return Finite(v) ? v : 0; }

nlohmann::json Opt(const std::optional<double>& v) {
  if (!v || !Finite(*v)) return nullptr;
  return *v;
}

}  // namespace

const Coefficient& LinkProfile::Get(std::string_view key) const {
  for (int i = 0; i < kLinkKeyCount; ++i)
    if (key == kLinkKeys[i]) return coef[i];
  return coef[0];  // unreachable for the fixed keys
}

// ---- built-in coefficients ---------------------------------------------------------
//
// Every figure and its source is listed in docs/placement.md; keep both in step.
const PlacementProfile& BuiltinPlacementProfile() {
  static const PlacementProfile kProfile = [] {
    // Network, allocational (kWh/GB).
    const char* kFixedNet =
        "low: Carbon Trust 2021 (European 2020 fixed network 0.0065); central: EU ICT impact study 2020 "
        "(fixed 0.03); high: Aslan et al., J. Ind. Ecol. 2018 (2015 value 0.06)";
    const char* kWifiNet =
        "fixed network figures (low/central/high as ethernet) plus a home router 0.025 kWh/GB "
        "(Carbon Trust 2021, European 2020 values)";
    const char* kLteNet =
        "low: Carbon Trust 2021 (European 2020 mobile 0.1); central: EU ICT impact study 2020 (mobile 0.14); "
        "high: bottom-up 4G radio access network, 10 kbit/J (0.23)";
    const char* k5gNet =
        "low: 5G base stations, dense urban/suburban (0.0104); central: bottom-up 5G RAN, 3-4x better than "
        "4G (0.06); high: EU ICT impact study 2020 (mobile 0.14)";
    // Network, marginal (J/bit).
    const char* kFixedMarginal =
        "central: fixed-line power model, about 0.03 W per Mbps (Malmodin 2020, as discussed by Mytton, "
        "Lunden, Malmodin, J. Ind. Ecol. 2024); low/high: wattlab's range, /3 and x3";
    const char* kMobileMarginal =
        "wattlab assumption: no published marginal figure for mobile access was adopted; low: the fixed-line "
        "0.03 W/Mbps; central: 10x that; high: the whole 2020 mobile average (0.1 kWh/GB = 4.5e-5 J/bit), "
        "i.e. every joule proportional to bytes";
    // Device radio (J/bit).
    const char* kEthRadio =
        "wattlab assumption: a wired NIC's energy per bit is small (low 0, central 1 nJ/bit, high 5 nJ/bit); "
        "no tail";
    const char* kWifiRadio =
        "phone Wi-Fi 5-20 nJ/bit on modern hardware (wattlab MISSION.md figures; 0.65 uJ/bit on 2010 "
        "handsets), central 10 nJ/bit";
    const char* kWifiTail =
        "wattlab assumption: Wi-Fi power-save timeout of a few hundred ms (order of magnitude only)";
    const char* kLteRadio =
        "LTE 20-250 nJ/bit on modern phones (wattlab MISSION.md figures), central 100 nJ/bit; Huang et al., "
        "MobiSys 2012: LTE up to 23x less efficient than Wi-Fi, uplink costlier than downlink";
    const char* kLteTail =
        "Huang et al., MobiSys 2012: a tail of about 5-15 J after each burst, the radio high-power for about "
        "10 s (inactivity timer); TOP (Qian et al. 2010): tail times up to 15 s";
    const char* k5gRadio =
        "Narayanan et al., SIGCOMM 2021: 5G NR beats LTE per bit at high rates and is worse at the low rates "
        "of small requests; wattlab's range 10-500 nJ/bit, central 150 nJ/bit (assumption)";
    const char* k5gTail =
        "wattlab assumption anchored to LTE (Huang et al. 2012) and Narayanan et al. 2021 (NSA 5G keeps both "
        "radios in their tails): 5-25 J over 5-20 s, central 12 J over 10 s";
    const char* kPue =
        "low: Google fleet 2023 (about 1.10); central: Uptime Institute average 2024 (1.55); high: Uptime "
        "Institute average 2021 (1.58)";

    auto link = [](std::string name, Coefficient up, Coefficient down, Coefficient tj, Coefficient ts,
                   Coefficient net, Coefficient marg) {
      LinkProfile l;
      l.name = std::move(name);
      l.coef[0] = std::move(up);
      l.coef[1] = std::move(down);
      l.coef[2] = std::move(tj);
      l.coef[3] = std::move(ts);
      l.coef[4] = std::move(net);
      l.coef[5] = std::move(marg);
      return l;
    };
    PlacementProfile p;
    p.links.push_back(link("ethernet", {{0, 1e-9, 5e-9}, kEthRadio}, {{0, 1e-9, 5e-9}, kEthRadio},
                           {{0, 0, 0}, kEthRadio}, {{0, 0, 0}, kEthRadio}, {{0.0065, 0.03, 0.06}, kFixedNet},
                           {{1e-8, 3e-8, 9e-8}, kFixedMarginal}));
    p.links.push_back(link("wifi", {{5e-9, 10e-9, 20e-9}, kWifiRadio}, {{5e-9, 10e-9, 20e-9}, kWifiRadio},
                           {{0, 0.05, 0.2}, kWifiTail}, {{0, 0.2, 0.5}, kWifiTail},
                           {{0.0315, 0.055, 0.085}, kWifiNet}, {{1e-8, 3e-8, 9e-8}, kFixedMarginal}));
    p.links.push_back(link("lte", {{20e-9, 100e-9, 250e-9}, kLteRadio}, {{20e-9, 100e-9, 250e-9}, kLteRadio},
                           {{5, 10, 15}, kLteTail}, {{5, 10, 15}, kLteTail}, {{0.1, 0.14, 0.23}, kLteNet},
                           {{3e-8, 3e-7, 4.5e-5}, kMobileMarginal}));
    p.links.push_back(link("5g", {{10e-9, 150e-9, 500e-9}, k5gRadio}, {{10e-9, 150e-9, 500e-9}, k5gRadio},
                           {{5, 12, 25}, k5gTail}, {{5, 10, 20}, k5gTail}, {{0.0104, 0.06, 0.14}, k5gNet},
                           {{3e-8, 3e-7, 4.5e-5}, kMobileMarginal}));
    p.pue = {{1.10, 1.55, 1.58}, kPue};
    return p;
  }();
  return kProfile;
}

Result<LinkProfile> FindLink(const PlacementProfile& profile, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& l : profile.links) {
    if (l.name == name) return l;
    names.push_back(l.name);
  }
  return Status::InvalidArgument("unknown link '" + name + "'; known: " + Join(names, ", ") +
                                 " (a --profile FILE may add [link.NAME] tables)");
}

// ---- inputs ---------------------------------------------------------------------

Result<RequestEnergy> EnergyPerRequestFromRows(const std::vector<RunRow>& rows, const std::string& model,
                                               std::optional<EnergyBasis> basis, const std::string& what) {
  std::set<std::string> models;
  std::vector<RunRow> mine;
  for (const auto& r : rows) {
    if (r.phase != "infer") continue;
    models.insert(r.model);
    if (r.model == model && r.samples > 0) mine.push_back(r);
  }
  if (mine.empty()) {
    std::vector<std::string> list(models.begin(), models.end());
    return Status::InvalidArgument(what + " has no measured infer run of model '" + model +
                                   "' (infer runs there: " + (list.empty() ? "none" : Join(list, ", ")) +
                                   ")");
  }
  int64_t batch = mine.front().batch_size;
  for (const auto& r : mine) batch = std::min(batch, r.batch_size);
  std::vector<RunRow> at;
  for (auto& r : mine)
    if (r.batch_size == batch) at.push_back(std::move(r));

  RequestEnergy e;
  e.batch_size = batch;
  EnergyBasis b;
  if (basis) {
    b = *basis;
  } else {
    const bool all =
        std::all_of(at.begin(), at.end(), [](const RunRow& r) { return r.energy_above_idle_j.has_value(); });
    b = all ? EnergyBasis::kAboveIdle : EnergyBasis::kTotal;
    if (!all)
      e.notes.push_back(what +
                        ": some runs have no idle baseline (energy_above_idle_j empty), so the whole "
                        "window's energy (energy_j) is used");
  }
  e.basis = b == EnergyBasis::kAboveIdle ? "above idle" : "total";
  std::vector<std::string> dropped;
  auto configs = AggregateConfigs(at, b, &dropped);
  if (configs.empty() && !basis && b == EnergyBasis::kAboveIdle) {
    // Every window was within idle noise (a busy machine while idle was
    // measured): the whole window's energy is the figure left, as the study's
    // own summary does.
    e.notes.push_back(what + ": nothing above the idle baseline in any run (" + Join(dropped, "; ") +
                      "), so the whole window's energy (energy_j) is used");
    dropped.clear();
    b = EnergyBasis::kTotal;
    e.basis = "total";
    configs = AggregateConfigs(at, b, &dropped);
  }
  if (configs.empty()) {
    return Status::InvalidArgument(what + ": no usable infer run of '" + model + "' at batch " +
                                   std::to_string(batch) + " on the " + e.basis + " basis (" +
                                   (dropped.empty() ? "no rows" : Join(dropped, "; ")) + ")");
  }
  const ConfigPoint* best = &configs.front();
  for (const auto& c : configs)
    if (c.energy_per_sample_j < best->energy_per_sample_j) best = &c;
  e.energy_j = best->energy_per_sample_j;
  e.estimated = best->estimated;
  e.source = what + ": infer, batch " + std::to_string(batch) + ", " + std::to_string(best->threads) +
             " threads, " + best->precision + " (" + std::to_string(best->repetitions) + " repetition" +
             (best->repetitions == 1 ? "" : "s") + ", energy per sample " + e.basis + ")";
  if (batch != 1)
    e.notes.push_back(what + ": no batch-1 run of " + model + "; the smallest batch measured (" +
                      std::to_string(batch) +
                      ") stands for one request, which understates a lone request's cost");
  if (configs.size() > 1)
    e.notes.push_back(what + ": " + std::to_string(configs.size()) + " configurations at batch " +
                      std::to_string(batch) + "; the cheapest (" + std::to_string(best->threads) +
                      " threads, " + best->precision + ") is used");
  for (const auto& d : dropped) e.notes.push_back(what + ": " + d);
  if (e.estimated) e.notes.push_back(what + ": " + kEstimatedNote);
  return e;
}

Status CheckPlacementInput(const PlacementInput& in) {
  auto nonneg = [](double v, const std::string& name) -> Status {
    if (!Finite(v) || v < 0)
      return Status::InvalidArgument(name + " must be a finite number >= 0 (got " + FormatDouble(v) + ")");
    return Status::Ok();
  };
  WATTLAB_RETURN_IF_ERROR(nonneg(in.edge.energy_j, "the edge energy per request"));
  WATTLAB_RETURN_IF_ERROR(nonneg(in.server.energy_j, "the cloud (server) energy per request"));
  WATTLAB_RETURN_IF_ERROR(nonneg(in.up_bytes, "the up payload (bytes)"));
  WATTLAB_RETURN_IF_ERROR(nonneg(in.down_bytes, "the down payload (bytes)"));
  WATTLAB_RETURN_IF_ERROR(nonneg(in.requests_per_day, "requests per day"));
  WATTLAB_RETURN_IF_ERROR(nonneg(in.edge_intensity_g_per_kwh, "the edge carbon intensity"));
  WATTLAB_RETURN_IF_ERROR(nonneg(in.cloud_intensity_g_per_kwh, "the cloud carbon intensity"));
  if (!Finite(in.activation_bytes_per_element) || in.activation_bytes_per_element <= 0)
    return Status::InvalidArgument("bytes per activation element must be > 0 (got " +
                                   FormatDouble(in.activation_bytes_per_element) + ")");
  for (int i = 0; i < kLinkKeyCount; ++i) {
    const Triple& t = in.link.coef[i].value;
    const std::string name = "link " + in.link.name + " " + kLinkKeys[i];
    WATTLAB_RETURN_IF_ERROR(nonneg(t.low, name));
    WATTLAB_RETURN_IF_ERROR(nonneg(t.central, name));
    WATTLAB_RETURN_IF_ERROR(nonneg(t.high, name));
    if (!(t.low <= t.central && t.central <= t.high))
      return Status::InvalidArgument(name + ": [low, central, high] must be in order");
  }
  const Triple& p = in.pue.value;
  if (!(p.low >= 1 && p.low <= p.central && p.central <= p.high && Finite(p.high)))
    return Status::InvalidArgument("pue: [low, central, high] must be in order and each >= 1");
  for (const auto& s : in.splits) {
    if (s.activation_elements < 0)
      return Status::InvalidArgument("split point " + s.layer + ": negative activation size");
    if (!(s.mac_share >= 0 && s.mac_share <= 1))
      return Status::InvalidArgument("split point " + s.layer + ": MAC share must lie in 0..1");
  }
  return Status::Ok();
}

// ---- the model --------------------------------------------------------------------

double RadioJ(double up_bytes, double down_bytes, double up_j_per_bit, double down_j_per_bit) {
  return up_bytes * 8 * up_j_per_bit + down_bytes * 8 * down_j_per_bit;
}

double TailJ(double tail_j, double tail_s, double requests_per_s) {
  return tail_j / std::max(1.0, requests_per_s * tail_s);
}

double NetworkAllocationalJ(double bytes, double kwh_per_gb) {
  return bytes * kwh_per_gb * kJPerKwh / kBytesPerGb;
}

double NetworkMarginalJ(double bytes, double j_per_bit) { return bytes * 8 * j_per_bit; }

namespace {

double Pick(const Triple& t, int index, const CoefficientChoice& choice) {
  return choice.index == index ? choice.value : t.central;
}

}  // namespace

OptionEnergy RemoteEnergy(const PlacementInput& in, double up_bytes, double device_share, NetworkView view,
                          CoefficientChoice choice) {
  double c[kLinkKeyCount];
  for (int i = 0; i < kLinkKeyCount; ++i) c[i] = Pick(in.link.coef[i].value, i, choice);
  const double pue = Pick(in.pue.value, kPueIndex, choice);
  const double rps = in.requests_per_day / kSecondsPerDay;
  OptionEnergy e;
  e.device_j =
      device_share * in.edge.energy_j + RadioJ(up_bytes, in.down_bytes, c[0], c[1]) + TailJ(c[2], c[3], rps);
  const double bytes = up_bytes + in.down_bytes;
  e.network_j =
      view == NetworkView::kAllocational ? NetworkAllocationalJ(bytes, c[4]) : NetworkMarginalJ(bytes, c[5]);
  e.server_j = pue * (1 - device_share) * in.server.energy_j;
  e.energy_j = e.device_j + e.network_j + e.server_j;
  return e;
}

PlacementView EvaluatePlacement(const PlacementInput& in, NetworkView view, CoefficientChoice choice) {
  PlacementView v;
  v.edge.energy_j = v.edge.device_j = in.edge.energy_j;
  v.cloud = RemoteEnergy(in, in.up_bytes, 0, view, choice);
  v.best = "edge";
  double best = v.edge.energy_j;
  if (v.cloud.energy_j < best) {
    best = v.cloud.energy_j;
    v.best = "cloud";
  }
  for (size_t i = 0; i < in.splits.size(); ++i) {
    const auto& s = in.splits[i];
    SplitOption o;
    o.index = static_cast<int64_t>(i);
    o.layer = s.layer;
    o.activation_bytes = static_cast<double>(s.activation_elements) * in.activation_bytes_per_element;
    o.device_share = s.mac_share;
    o.energy = RemoteEnergy(in, o.activation_bytes, s.mac_share, view, choice);
    if (o.energy.energy_j < best) {
      best = o.energy.energy_j;
      v.best = "split:" + std::to_string(i);
    }
    v.split.push_back(std::move(o));
  }
  return v;
}

namespace {

// The energy of option `name` ("edge", "cloud", "split:I") in a view.
double EnergyOf(const PlacementView& v, const std::string& name) {
  if (name == "edge") return v.edge.energy_j;
  if (name == "cloud") return v.cloud.energy_j;
  size_t i = std::stoul(name.substr(6));
  return v.split.at(i).energy.energy_j;
}

std::vector<std::string> OptionNames(const PlacementInput& in) {
  std::vector<std::string> n = {"edge", "cloud"};
  for (size_t i = 0; i < in.splits.size(); ++i) n.push_back("split:" + std::to_string(i));
  return n;
}

// g(c) = E_other(c) - E_best(c) for coefficient `index`.
double Gap(const PlacementInput& in, NetworkView view, int index, double c, const std::string& best,
           const std::string& other) {
  PlacementView v = EvaluatePlacement(in, view, {index, c});
  return EnergyOf(v, other) - EnergyOf(v, best);
}

// Root of the (monotone) gap in [a, b] when the sign changes there: the value
// where `other` starts to beat `best`. Bisection: every gap here is linear in
// its coefficient, except through tail_s, where it is still monotone.
std::optional<double> Crossing(const PlacementInput& in, NetworkView view, int index, double a, double b,
                               const std::string& best, const std::string& other, bool root_near_b) {
  double ga = Gap(in, view, index, a, best, other), gb = Gap(in, view, index, b, best, other);
  // The side away from central must be strictly negative (other cheaper).
  if (root_near_b ? !(gb < 0) : !(ga < 0)) return std::nullopt;
  if ((ga < 0) == (gb < 0)) return std::nullopt;
  for (int it = 0; it < 200 && b - a > 1e-12 * std::max(std::fabs(a), std::fabs(b)); ++it) {
    double m = 0.5 * (a + b);
    double gm = Gap(in, view, index, m, best, other);
    if ((gm < 0) == (ga < 0)) {
      a = m;
      ga = gm;
    } else {
      b = m;
    }
  }
  return 0.5 * (a + b);
}

}  // namespace

Sensitivity AnalyseSensitivity(const PlacementInput& in) {
  Sensitivity s;
  const PlacementView alloc = EvaluatePlacement(in, NetworkView::kAllocational);
  const PlacementView marg = EvaluatePlacement(in, NetworkView::kMarginal);
  const auto names = OptionNames(in);
  for (int i = 0; i <= kLinkKeyCount; ++i) {
    // network_kwh_per_gb matters only to the allocational view, the marginal
    // coefficient only to the marginal one: each is varied in its own view.
    const NetworkView view = i == 5 ? NetworkView::kMarginal : NetworkView::kAllocational;
    const PlacementView& central = i == 5 ? marg : alloc;
    SensitivityRow r;
    r.coefficient = i == kPueIndex ? "pue" : kLinkKeys[i];
    r.unit = i == kPueIndex ? "" : kUnits[i];
    r.view = view == NetworkView::kMarginal ? "marginal" : "allocational";
    r.value = i == kPueIndex ? in.pue.value : in.link.coef[i].value;
    r.best_at_central = central.best;
    const PlacementView lo = EvaluatePlacement(in, view, {i, r.value.low});
    const PlacementView hi = EvaluatePlacement(in, view, {i, r.value.high});
    r.best_at_low = lo.best;
    r.best_at_high = hi.best;
    r.best_energy_low_j = EnergyOf(lo, central.best);
    r.best_energy_high_j = EnergyOf(hi, central.best);
    const double c = r.value.central;
    const double floor = i == kPueIndex ? 1.0 : 0.0;
    const double ceiling = std::max({r.value.high, c, 1e-30}) * 1e6;
    for (const auto& other : names) {
      if (other == central.best) continue;
      if (c > floor) {
        auto x = Crossing(in, view, i, floor, c, central.best, other, /*root_near_b=*/false);
        if (x && (!r.flip_below || *x > *r.flip_below)) r.flip_below = x;
      }
      auto y = Crossing(in, view, i, c, ceiling, central.best, other, /*root_near_b=*/true);
      if (y && (!r.flip_above || *y < *r.flip_above)) r.flip_above = y;
    }
    r.flips = lo.best != central.best || hi.best != central.best;
    if (r.flips) s.holds = false;
    s.rows.push_back(std::move(r));
  }

  // Break-even payload: cloud(u) = cloud(0) + slope x u.
  auto break_even = [&](NetworkView view) -> std::optional<double> {
    const double at0 = RemoteEnergy(in, 0, 0, view).energy_j;
    const double at1 = RemoteEnergy(in, 1e6, 0, view).energy_j;
    const double slope = (at1 - at0) / 1e6;
    if (!(slope > 0)) return std::nullopt;
    const double u = (in.edge.energy_j - at0) / slope;
    if (!(u >= 0) || !Finite(u)) return std::nullopt;
    return u;
  };
  s.break_even_up_bytes = break_even(NetworkView::kAllocational);
  s.break_even_up_bytes_marginal = break_even(NetworkView::kMarginal);
  if (!s.break_even_up_bytes)
    s.note = "the cloud costs more than the edge even with an empty up payload (allocational view)";

  // Edge beats remote option k while E < R_k / (1 - share_k).
  double be = alloc.cloud.energy_j;
  for (const auto& o : alloc.split) {
    if (o.device_share >= 1) continue;
    const double rest = o.energy.energy_j - o.device_share * in.edge.energy_j;
    be = std::min(be, rest / (1 - o.device_share));
  }
  s.break_even_edge_j = Clean(be);
  return s;
}

PlacementCarbon PlacementCarbonOf(const PlacementInput& in, const PlacementView& view) {
  PlacementCarbon c;
  c.requests_per_year = in.requests_per_day * kDaysPerYear;
  auto add = [&](const std::string& name, const OptionEnergy& e) {
    CarbonOption o;
    o.option = name;
    o.gco2e_per_request = (e.device_j * in.edge_intensity_g_per_kwh +
                           (e.network_j + e.server_j) * in.cloud_intensity_g_per_kwh) /
                          kJPerKwh;
    o.gco2e_per_year = o.gco2e_per_request * c.requests_per_year;
    c.options.push_back(o);
  };
  add("edge", view.edge);
  add("cloud", view.cloud);
  for (const auto& s : view.split) add("split:" + std::to_string(s.index), s.energy);
  return c;
}

Result<PlacementResult> Place(const PlacementInput& in) {
  WATTLAB_RETURN_IF_ERROR(CheckPlacementInput(in));
  PlacementResult r;
  r.input = in;
  r.allocational = EvaluatePlacement(in, NetworkView::kAllocational);
  r.marginal = EvaluatePlacement(in, NetworkView::kMarginal);
  r.views_differ = r.allocational.best != r.marginal.best;
  r.sensitivity = AnalyseSensitivity(in);
  r.carbon = PlacementCarbonOf(in, r.allocational);
  for (const auto& n : in.edge.notes) r.notes.push_back(n);
  for (const auto& n : in.server.notes) r.notes.push_back(n);
  if (in.splits.empty() && !in.splits_note.empty()) r.notes.push_back(in.splits_note);
  if (r.views_differ)
    r.notes.push_back("the decision differs between the views: " + r.allocational.best +
                      " when network energy is "
                      "shared out per byte (allocational), " +
                      r.marginal.best + " when only the energy that grows with bytes counts (marginal)");
  // (An estimated energy from a database already carries the estimate's note.)
  return r;
}

// ---- JSON -------------------------------------------------------------------------

namespace {

nlohmann::json SplitJson(const PlacementView& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : v.split)
    a.push_back({{"index", s.index},
                 {"layer", s.layer},
                 {"activation_bytes", Clean(s.activation_bytes)},
                 {"energy_j", Clean(s.energy.energy_j)}});
  return a;
}

nlohmann::json TripleJson(const Triple& t) {
  return {{"low", t.low}, {"central", t.central}, {"high", t.high}};
}

}  // namespace

nlohmann::json ToJson(const PlacementResult& r) {
  const PlacementInput& in = r.input;
  nlohmann::json j;
  j["edge_j"] = Clean(r.allocational.edge.energy_j);
  j["cloud_j"] = Clean(r.allocational.cloud.energy_j);
  j["split"] = SplitJson(r.allocational);
  j["best"] = r.allocational.best;
  j["marginal"] = {{"edge_j", Clean(r.marginal.edge.energy_j)},
                   {"cloud_j", Clean(r.marginal.cloud.energy_j)},
                   {"split", SplitJson(r.marginal)},
                   {"best", r.marginal.best},
                   {"differs", r.views_differ}};
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& s : r.sensitivity.rows) {
    nlohmann::json x = TripleJson(s.value);
    x["coefficient"] = s.coefficient;
    x["unit"] = s.unit;
    x["view"] = s.view;
    x["best_at_low"] = s.best_at_low;
    x["best_at_central"] = s.best_at_central;
    x["best_at_high"] = s.best_at_high;
    x["flips"] = s.flips;
    x["flip_below"] = Opt(s.flip_below);
    x["flip_above"] = Opt(s.flip_above);
    x["best_energy_low_j"] = Clean(s.best_energy_low_j);
    x["best_energy_high_j"] = Clean(s.best_energy_high_j);
    rows.push_back(std::move(x));
  }
  j["sensitivity"] = {{"holds", r.sensitivity.holds},
                      {"tornado", rows},
                      {"break_even_up_bytes", Opt(r.sensitivity.break_even_up_bytes)},
                      {"break_even_up_bytes_marginal", Opt(r.sensitivity.break_even_up_bytes_marginal)},
                      {"break_even_edge_j", Clean(r.sensitivity.break_even_edge_j)},
                      {"note", r.sensitivity.note}};
  nlohmann::json opts = nlohmann::json::array();
  for (const auto& o : r.carbon.options)
    opts.push_back({{"option", o.option},
                    {"gco2e_per_request", Clean(o.gco2e_per_request)},
                    {"gco2e_per_year", Clean(o.gco2e_per_year)}});
  j["carbon"] = {{"edge_intensity_g_per_kwh", in.edge_intensity_g_per_kwh},
                 {"edge_intensity_source", in.edge_intensity_source},
                 {"cloud_intensity_g_per_kwh", in.cloud_intensity_g_per_kwh},
                 {"cloud_intensity_source", in.cloud_intensity_source},
                 {"requests_per_day", in.requests_per_day},
                 {"requests_per_year", r.carbon.requests_per_year},
                 {"options", opts}};
  nlohmann::json coefs = nlohmann::json::array();
  for (int i = 0; i < kLinkKeyCount; ++i) {
    nlohmann::json x = TripleJson(in.link.coef[i].value);
    x["name"] = kLinkKeys[i];
    x["unit"] = kUnits[i];
    x["source"] = in.link.coef[i].source;
    coefs.push_back(std::move(x));
  }
  {
    nlohmann::json x = TripleJson(in.pue.value);
    x["name"] = "pue";
    x["unit"] = "";
    x["source"] = in.pue.source;
    coefs.push_back(std::move(x));
  }
  auto input = [](const std::string& name, nlohmann::json value, const std::string& unit,
                  const std::string& source) {
    return nlohmann::json{{"name", name}, {"value", std::move(value)}, {"unit", unit}, {"source", source}};
  };
  nlohmann::json inputs = nlohmann::json::array();
  inputs.push_back(input("edge_energy_j", in.edge.energy_j, "J/request", in.edge.source));
  inputs.push_back(input("server_energy_j", in.server.energy_j, "J/request", in.server.source));
  inputs.push_back(input("up_bytes", in.up_bytes, "B", in.up_bytes_source));
  inputs.push_back(input("down_bytes", in.down_bytes, "B", in.down_bytes_source));
  inputs.push_back(
      input("requests_per_day", in.requests_per_day, "1/day", "--requests-per-day (default 10000)"));
  inputs.push_back(input("activation_bytes_per_element", in.activation_bytes_per_element, "B",
                         "--activation-bytes-per-element (default 4: fp32; 1 for int8)"));
  inputs.push_back(
      input("edge_intensity_g_per_kwh", in.edge_intensity_g_per_kwh, "gCO2e/kWh", in.edge_intensity_source));
  inputs.push_back(input("cloud_intensity_g_per_kwh", in.cloud_intensity_g_per_kwh, "gCO2e/kWh",
                         in.cloud_intensity_source));
  j["assumptions"] = {
      {"model", in.model},
      {"link", in.link.name},
      {"energy_basis", {{"edge", in.edge.basis}, {"cloud", in.server.basis}}},
      {"coefficients", coefs},
      {"inputs", inputs},
      {"carbon_rule",
       "device side (compute, radio, tail) at the edge intensity; network and data centre at the "
       "cloud intensity"},
      {"notes", r.notes}};
  return j;
}

}  // namespace wattlab::analysis
