// The caps journal: what each knob held before wattlab changed it, as JSON.
//
//   {"format": "wattlab-caps-journal", "version": 1,
//    "sysfs_root": "/sys", "nvml_library": "libnvidia-ml.so.1",
//    "saved": [{"knob": "gpu_power_limit", "gpu": 0, "limit_mw": 250000, "pid": 42},
//              {"knob": "cpu_power_limit", "zone_dir": "/sys/class/powercap/intel-rapl:0",
//               "constraint": 0, "power_limit_uw": 95000000, "time_window_us": 999424,
//               "enabled": "1", "pid": 42},
//              {"knob": "cpu_max_freq", "cpu": 3, "scaling_max_freq_khz": 3600000, "pid": 42}]}
//
// Parsing is strict: anything unexpected is Corruption, because restoring a
// misread value would be worse than restoring none.
#include <nlohmann/json.hpp>

#include "caps/internal.h"
#include "core/strings.h"

namespace wattlab::caps {

namespace {

constexpr const char* kFormat = "wattlab-caps-journal";
constexpr int kVersion = 1;

using Json = nlohmann::ordered_json;

std::string Watts(uint64_t v, double scale) { return FormatDouble(static_cast<double>(v) * scale); }

}  // namespace

std::string SavedKnob::Key() const {
  switch (kind) {
    case Kind::kGpuPowerLimit:
      return "gpu:" + std::to_string(index);
    case Kind::kPackagePowerLimit:
      return "powercap:" + zone_dir + ":" + std::to_string(constraint);
    case Kind::kCpuMaxFreq:
      return "cpufreq:" + std::to_string(index);
  }
  return "";
}

std::string SavedKnob::Describe() const {
  switch (kind) {
    case Kind::kGpuPowerLimit:
      return "GPU " + std::to_string(index) + " power limit " + Watts(value, 1e-3) + " W";
    case Kind::kPackagePowerLimit: {
      std::string zone = zone_dir.substr(zone_dir.rfind('/') + 1);
      std::string s =
          zone + " constraint " + std::to_string(constraint) + " power limit " + Watts(value, 1e-6) + " W";
      if (time_window_us) s += ", time window " + Watts(*time_window_us, 1e-6) + " s";
      if (enabled) s += ", enabled " + *enabled;
      return s;
    }
    case Kind::kCpuMaxFreq:
      return "cpu" + std::to_string(index) + " max frequency " + Watts(value, 1e-3) + " MHz";
  }
  return "";
}

std::string JournalToJson(const Journal& journal) {
  Json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["sysfs_root"] = journal.sysfs_root;
  j["nvml_library"] = journal.nvml_library;
  j["saved"] = Json::array();
  for (const SavedKnob& s : journal.saved) {
    Json e;
    switch (s.kind) {
      case SavedKnob::Kind::kGpuPowerLimit:
        e["knob"] = "gpu_power_limit";
        e["gpu"] = s.index;
        e["limit_mw"] = s.value;
        break;
      case SavedKnob::Kind::kPackagePowerLimit:
        e["knob"] = "cpu_power_limit";
        e["zone_dir"] = s.zone_dir;
        e["constraint"] = s.constraint;
        e["power_limit_uw"] = s.value;
        if (s.time_window_us) e["time_window_us"] = *s.time_window_us;
        if (s.enabled) e["enabled"] = *s.enabled;
        break;
      case SavedKnob::Kind::kCpuMaxFreq:
        e["knob"] = "cpu_max_freq";
        e["cpu"] = s.index;
        e["scaling_max_freq_khz"] = s.value;
        break;
    }
    e["pid"] = s.pid;
    j["saved"].push_back(std::move(e));
  }
  return j.dump(2) + "\n";
}

namespace {

Status Corrupt(const std::string& path, const std::string& why) {
  return Status::Corruption(
      "the caps journal " + path + " is corrupt (" + why +
      "); it was left in place: compare the values in it with the hardware, put them back by "
      "hand, then remove it");
}

Result<uint64_t> U64(const Json& e, const char* key, const std::string& path) {
  auto it = e.find(key);
  if (it == e.end() || !it->is_number_unsigned())
    return Corrupt(path, std::string("'") + key + "' missing or not a whole number");
  return it->get<uint64_t>();
}

Result<int> SmallInt(const Json& e, const char* key, const std::string& path) {
  WATTLAB_ASSIGN_OR_RETURN(uint64_t v, U64(e, key, path));
  if (v > 1u << 20) return Corrupt(path, std::string("'") + key + "' out of range");
  return static_cast<int>(v);
}

Result<std::string> Str(const Json& e, const char* key, const std::string& path) {
  auto it = e.find(key);
  if (it == e.end() || !it->is_string())
    return Corrupt(path, std::string("'") + key + "' missing or not a string");
  return it->get<std::string>();
}

}  // namespace

Result<Journal> JournalFromJson(const std::string& text, const std::string& path) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corrupt(path, "not a JSON object");
  if (j.value("format", std::string()) != kFormat)
    return Corrupt(path, "no \"format\": \"" + std::string(kFormat) + "\"");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != kVersion)
    return Corrupt(path, "version is not " + std::to_string(kVersion));
  Journal out;
  WATTLAB_ASSIGN_OR_RETURN(out.sysfs_root, Str(j, "sysfs_root", path));
  WATTLAB_ASSIGN_OR_RETURN(out.nvml_library, Str(j, "nvml_library", path));
  if (!j.contains("saved") || !j["saved"].is_array()) return Corrupt(path, "'saved' missing or not a list");
  for (const Json& e : j["saved"]) {
    if (!e.is_object()) return Corrupt(path, "an entry of 'saved' is not an object");
    SavedKnob s;
    WATTLAB_ASSIGN_OR_RETURN(std::string knob, Str(e, "knob", path));
    if (knob == "gpu_power_limit") {
      s.kind = SavedKnob::Kind::kGpuPowerLimit;
      WATTLAB_ASSIGN_OR_RETURN(s.index, SmallInt(e, "gpu", path));
      WATTLAB_ASSIGN_OR_RETURN(s.value, U64(e, "limit_mw", path));
    } else if (knob == "cpu_power_limit") {
      s.kind = SavedKnob::Kind::kPackagePowerLimit;
      WATTLAB_ASSIGN_OR_RETURN(s.zone_dir, Str(e, "zone_dir", path));
      if (!StartsWith(s.zone_dir, internal::kPowercapDir))
        return Corrupt(path, "zone_dir outside /sys/class/powercap");
      WATTLAB_ASSIGN_OR_RETURN(s.constraint, SmallInt(e, "constraint", path));
      WATTLAB_ASSIGN_OR_RETURN(s.value, U64(e, "power_limit_uw", path));
      if (e.contains("time_window_us")) {
        WATTLAB_ASSIGN_OR_RETURN(uint64_t tw, U64(e, "time_window_us", path));
        s.time_window_us = tw;
      }
      if (e.contains("enabled")) {
        WATTLAB_ASSIGN_OR_RETURN(std::string en, Str(e, "enabled", path));
        if (en != "0" && en != "1") return Corrupt(path, "'enabled' is neither \"0\" nor \"1\"");
        s.enabled = en;
      }
    } else if (knob == "cpu_max_freq") {
      s.kind = SavedKnob::Kind::kCpuMaxFreq;
      WATTLAB_ASSIGN_OR_RETURN(s.index, SmallInt(e, "cpu", path));
      WATTLAB_ASSIGN_OR_RETURN(s.value, U64(e, "scaling_max_freq_khz", path));
    } else {
      return Corrupt(path, "unknown knob '" + knob + "'");
    }
    if (s.value == 0) return Corrupt(path, "a saved value of 0");
    if (e.contains("pid")) {
      WATTLAB_ASSIGN_OR_RETURN(s.pid, SmallInt(e, "pid", path));
    }
    out.saved.push_back(std::move(s));
  }
  return out;
}

Result<std::optional<Journal>> ReadJournal(Env* env, const std::string& path) {
  WATTLAB_ASSIGN_OR_RETURN(FileInfo info, env->Stat(path));
  if (info.kind == FileKind::kMissing) return std::optional<Journal>();
  if (info.kind != FileKind::kRegular) return Corrupt(path, "not a regular file");
  WATTLAB_ASSIGN_OR_RETURN(std::string text, env->ReadFile(path));
  WATTLAB_ASSIGN_OR_RETURN(Journal j, JournalFromJson(text, path));
  return std::optional<Journal>(std::move(j));
}

std::optional<std::string> PendingJournalWarning(Env* env, const std::string& path) {
  auto info = env->Stat(path);
  if (!info.ok() || info->kind == FileKind::kMissing) return std::nullopt;
  auto j = ReadJournal(env, path);
  if (!j.ok())
    return "warning: a corrupt power-cap journal is pending at " + path + " (" + j.status().message() + ")";
  if (!*j || (*j)->saved.empty()) return std::nullopt;
  std::vector<std::string> what;
  for (const SavedKnob& s : (*j)->saved) what.push_back(s.Describe());
  std::string pids;
  for (const SavedKnob& s : (*j)->saved)
    if (s.pid > 0 && s.pid != env->Pid() && env->Exists("/proc/" + std::to_string(s.pid))) {
      pids = " (process " + std::to_string(s.pid) +
             ", which set them, still appears to run: it restores them when it ends)";
      break;
    }
  return "warning: power caps set by wattlab are still in force" + pids + "; `" + kRestoreCommand +
         "` puts back the original " + (what.size() == 1 ? "value" : "values") + " (" + Join(what, "; ") +
         ") saved in " + path;
}

}  // namespace wattlab::caps
