#include "meter/json.h"

#include <cmath>

#include "core/energy_basis.h"
#include "meter/local_rank.h"

namespace wattlab {

namespace {
nlohmann::json NumberOrNull(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
nlohmann::json OptionalNumber(const std::optional<double>& v) {
  return v ? NumberOrNull(*v) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json DomainInfoToJson(const DomainInfo& d) {
  nlohmann::json j;
  j["name"] = d.name;
  j["component"] = ComponentName(d.component);
  j["source"] = d.source;
  j["in_total"] = d.in_total;
  j["estimated"] = d.estimated;
  j["kind"] = d.is_counter ? "counter" : "power";
  j["unit"] = d.is_counter ? "J" : "W";
  j["max_energy_range_j"] =
      d.max_energy_range_j > 0 ? NumberOrNull(d.max_energy_range_j) : nlohmann::json(nullptr);
  j["max_power_w"] = d.max_power_w > 0 ? NumberOrNull(d.max_power_w) : nlohmann::json(nullptr);
  j["note"] = d.note;
  return j;
}

nlohmann::json AttemptToJson(const SourceAttempt& a) {
  nlohmann::json j;
  j["source"] = a.source;
  j["available"] = a.available;
  j["chosen"] = a.chosen;
  j["reason"] = a.reason;
  j["hint"] = a.hint;
  j["domains"] = nlohmann::json::array();
  for (const auto& d : a.domains) j["domains"].push_back(DomainInfoToJson(d));
  j["facts"] = nlohmann::json::object();
  for (const auto& [k, v] : a.facts) j["facts"][k] = v;
  return j;
}

nlohmann::json MetersToJson(const std::vector<SourceAttempt>& attempts, std::chrono::nanoseconds interval) {
  nlohmann::json j;
  j["interval_s"] = std::chrono::duration<double>(interval).count();
  j["attempts"] = nlohmann::json::array();
  j["chosen"] = nlohmann::json::array();
  bool estimated = false;
  for (const auto& a : attempts) {
    j["attempts"].push_back(AttemptToJson(a));
    if (a.chosen) {
      j["chosen"].push_back(a.source);
      for (const auto& d : a.domains)
        if (d.estimated) estimated = true;
    }
  }
  j["estimated"] = estimated;
  return j;
}

nlohmann::json WindowToJson(const WindowResult& w, const std::optional<WindowWork>& work) {
  nlohmann::json j;
  j["name"] = w.name;
  j["start_s"] = NumberOrNull(w.start_s);
  j["duration_s"] = NumberOrNull(w.duration_s);
  j["energy_j"] = NumberOrNull(w.energy_j);
  j["mean_power_w"] = NumberOrNull(w.mean_power_w);
  j["idle_power_w"] = OptionalNumber(w.idle_power_w);
  // Never negative without a reason (core/energy_basis.h ShowAboveIdle).
  if (w.energy_above_idle_j) {
    const ShownAboveIdle shown = ShowAboveIdle(w.energy_j, *w.energy_above_idle_j);
    j["energy_above_idle_j"] = NumberOrNull(shown.value_j);
    if (shown.below_idle_j > 0) {
      j["below_idle_j"] = NumberOrNull(shown.below_idle_j);
      j["above_idle_note"] = shown.note;
    }
    j["idle_busy"] = w.idle_busy;
  } else {
    j["energy_above_idle_j"] = nullptr;
  }
  j["estimated"] = w.estimated;
  j["sources"] = w.sources;
  j["cpu_util"] = NumberOrNull(w.cpu_util);
  j["attributed_share"] = OptionalNumber(w.attributed_share);
  j["attributed_energy_j"] = OptionalNumber(w.attributed_energy_j);
  j["meter_samples"] = w.samples;
  auto bytes = [](const std::optional<int64_t>& v) -> nlohmann::json {
    if (!v) return nullptr;
    return *v;
  };
  j["net_rx_bytes"] = bytes(w.net_rx_bytes);
  j["net_tx_bytes"] = bytes(w.net_tx_bytes);
  j["lo_rx_bytes"] = bytes(w.lo_rx_bytes);
  j["lo_tx_bytes"] = bytes(w.lo_tx_bytes);
  j["io_read_bytes"] = bytes(w.io_read_bytes);
  j["io_write_bytes"] = bytes(w.io_write_bytes);
  j["domains"] = nlohmann::json::array();
  for (const auto& d : w.domains) {
    nlohmann::json dj;
    dj["name"] = d.name;
    dj["source"] = d.source;
    dj["component"] = ComponentName(d.component);
    dj["in_total"] = d.in_total;
    dj["estimated"] = d.estimated;
    dj["energy_j"] = NumberOrNull(d.energy_j);
    dj["mean_power_w"] = NumberOrNull(d.mean_power_w);
    j["domains"].push_back(std::move(dj));
  }
  // One meter per node (docs/scale.md): local rank 0 has the node's energy;
  // this process read none, so its energy fields are null, not 0.
  if (w.local_rank) j["local_rank"] = *w.local_rank;
  if (!w.node_metered) {
    j["node_metered_by"] = kNodeMeteredByRank0;
    for (const char* k : {"energy_j", "mean_power_w", "energy_above_idle_j", "attributed_energy_j"})
      j[k] = nullptr;
  }
  if (work) {
    const double n = static_cast<double>(work->samples);
    const EnergyBasis basis = WindowEnergyBasis(w.energy_j, w.energy_above_idle_j, w.idle_busy);
    j["samples"] = work->samples;
    j["samples_per_s"] = w.duration_s > 0 ? NumberOrNull(n / w.duration_s) : nlohmann::json(0.0);
    j["energy_per_sample_j"] =
        NumberOrNull(EnergyPerSample(w.energy_j, w.energy_above_idle_j, work->samples, basis).value_or(0.0));
    j["energy_per_sample_basis"] = EnergyBasisField(basis);
    if (work->mean_loss) j["mean_loss"] = NumberOrNull(*work->mean_loss);
    if (!w.node_metered) j["energy_per_sample_j"] = nullptr;
  }
  return j;
}

}  // namespace wattlab
