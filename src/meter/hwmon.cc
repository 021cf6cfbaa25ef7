// hwmon: see hwmon.h for what each chip's sensors mean.
#include "meter/hwmon.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/strings.h"
#include "meter/rapl_common.h"
#include "meter/sources.h"

namespace wattlab {

namespace {

constexpr const char* kHwmonDir = "/sys/class/hwmon";

// "energy12_input" with prefix "energy" and suffix "_input" -> 12.
std::optional<int> SensorNumber(const std::string& f, const std::string& prefix, const std::string& suffix) {
  if (!StartsWith(f, prefix) || !EndsWith(f, suffix) || f.size() <= prefix.size() + suffix.size())
    return std::nullopt;
  auto v = ParseInt(f.substr(prefix.size(), f.size() - prefix.size() - suffix.size()));
  if (!v || *v < 0) return std::nullopt;
  return static_cast<int>(*v);
}

// "hwmon10" -> 10, for numeric order.
int HwmonIndex(const std::string& e) { return static_cast<int>(ParseInt(e.substr(5)).value_or(1 << 20)); }

class HwmonSource : public rapl::SourceBase {
 public:
  HwmonSource() : SourceBase(kSourceHwmon, std::chrono::milliseconds(1)) {}
  void Add(DomainInfo info, std::unique_ptr<ReadableFile> file) {
    domains_.push_back(std::move(info));
    files_.push_back(std::move(file));
  }
  void AddFact(std::string key, std::string value) { facts_.emplace_back(std::move(key), std::move(value)); }
  void set_min_interval(std::chrono::nanoseconds d) { min_interval_ = d; }

  Status Read(std::vector<Reading>& out) override {
    for (size_t i = 0; i < files_.size(); ++i) {
      auto v = rapl::PReadDecimal(*files_[i]);
      if (!v.ok()) return v.status().WithContext(name_);
      const double si = static_cast<double>(*v) / 1e6;  // uJ -> J, uW -> W; one rounding
      out[i] = domains_[i].is_counter ? Reading::Energy(si) : Reading::Power(si);
    }
    return Status::Ok();
  }

 private:
  std::vector<std::unique_ptr<ReadableFile>> files_;
};

}  // namespace

Result<std::vector<HwmonSensor>> ListHwmonSensors(Env* env) {
  auto entries = env->ListDir(kHwmonDir);
  if (!entries.ok()) return entries.status();
  std::vector<std::string> hwmons;
  for (const std::string& e : *entries)
    if (StartsWith(e, "hwmon") && ParseInt(e.substr(5))) hwmons.push_back(e);
  std::sort(hwmons.begin(), hwmons.end(),
            [](const std::string& a, const std::string& b) { return HwmonIndex(a) < HwmonIndex(b); });

  std::vector<HwmonSensor> sensors;
  for (const std::string& h : hwmons) {
    std::string dir = std::string(kHwmonDir) + "/" + h;
    // Drivers older than Linux 5.x keep their attributes under device/.
    if (!env->Exists(dir + "/name") && env->Exists(dir + "/device/name")) dir += "/device";
    auto chip = rapl::ReadTrimmed(env, dir + "/name");
    auto files = env->ListDir(dir);
    if (!chip.ok() || !files.ok()) continue;
    std::set<std::string> present(files->begin(), files->end());
    std::map<int, std::string> energy, power;
    for (const std::string& f : *files) {
      if (auto n = SensorNumber(f, "energy", "_input")) energy[*n] = f;
      // A mean over the driver's interval integrates better than one sample.
      if (auto n = SensorNumber(f, "power", "_average")) power[*n] = f;
      if (auto n = SensorNumber(f, "power", "_input"); n && !power.count(*n)) power[*n] = f;
    }
    auto add = [&](const std::map<int, std::string>& m, const char* kind, bool is_energy) {
      for (auto& [n, f] : m) {
        HwmonSensor s;
        s.chip = *chip;
        s.dir = dir;
        s.file = f;
        s.is_energy = is_energy;
        std::string label_file = std::string(kind) + std::to_string(n) + "_label";
        if (present.count(label_file))
          if (auto l = rapl::ReadTrimmed(env, dir + "/" + label_file); l.ok()) s.label = *l;
        if (s.label.empty()) s.label = std::string(kind) + std::to_string(n);
        sensors.push_back(std::move(s));
      }
    };
    add(energy, "energy", true);
    add(power, "power", false);
  }
  return sensors;
}

ProbeResult ProbeHwmon(Env* env, const MeterOptions& options) {
  (void)options;
  ProbeResult r;
  r.attempt.source = kSourceHwmon;
  auto sensors = ListHwmonSensors(env);
  if (!sensors.ok()) {
    r.attempt.reason = "no hwmon class (" + env->Resolve(kHwmonDir) + ": " + sensors.status().message() + ")";
    r.attempt.hint = "hwmon energy/power sensors come from drivers such as amd_energy or amdgpu; none here";
    return r;
  }

  // Chips of the same name get a number so domain names stay unique.
  std::map<std::string, std::set<std::string>> dirs_of_chip;
  for (const HwmonSensor& s : *sensors) dirs_of_chip[s.chip].insert(s.dir);
  std::map<std::string, std::map<std::string, int>> chip_ordinal;
  for (auto& [chip, dirs] : dirs_of_chip) {
    int i = 0;
    for (const std::string& d : dirs) chip_ordinal[chip][d] = i++;
  }

  auto src = std::make_unique<HwmonSource>();
  std::map<std::string, int> skipped_cores;
  std::vector<std::string> denied;
  std::chrono::nanoseconds min_interval = std::chrono::milliseconds(1);
  std::set<std::string> names;
  for (const HwmonSensor& s : *sensors) {
    DomainInfo d;
    d.source = kSourceHwmon;
    d.is_counter = s.is_energy;
    std::string chip_name =
        s.chip + (dirs_of_chip[s.chip].size() > 1 ? std::to_string(chip_ordinal[s.chip][s.dir]) : "");
    if (s.chip == "amd_energy") {
      if (StartsWith(s.label, "Ecore")) {
        ++skipped_cores[s.dir];
        continue;
      }
      d.component = Component::kCpu;
      auto socket = StartsWith(s.label, "Esocket") ? ParseInt(s.label.substr(7)) : std::nullopt;
      d.name = socket ? "package-" + std::to_string(*socket) : chip_name + "-" + rapl::SanitizeName(s.label);
      d.note = "amd_energy " + s.label;
    } else if (s.chip == "amdgpu") {
      d.component = Component::kGpu;
      d.name = chip_name + "-" + rapl::SanitizeName(s.label);
      d.note = "AMD GPU " + s.label;
    } else if (s.chip == "power_meter") {
      d.component = Component::kPlatform;
      d.in_total = false;
      d.name = chip_name + "-" + rapl::SanitizeName(s.label);
      d.note = "ACPI power meter: whole machine, overlaps cpu and dram; reported, not summed";
    } else {
      d.component = Component::kOther;
      d.in_total = false;
      d.name = rapl::SanitizeName(chip_name) + "-" + rapl::SanitizeName(s.label);
      d.note = "board sensor " + s.chip + " " + s.label + ": what it covers is unknown; reported, not summed";
    }
    if (names.count(d.name)) d.name += "-" + rapl::SanitizeName(s.file);

    const std::string path = s.dir + "/" + s.file;
    auto file = env->OpenForRead(path);
    Status st = file.ok() ? rapl::PReadDecimal(**file).status() : file.status();
    if (!st.ok()) {
      if (st.kind() == Status::Kind::kPermissionDenied && s.chip == "amd_energy") {
        denied.push_back(env->Resolve(path));
      } else {
        src->AddFact(d.name + ".skipped", st.message());
      }
      continue;
    }
    if (!s.is_energy) {
      // Power is sampled: reading faster than the driver updates it only
      // repeats the same value.
      std::chrono::nanoseconds interval = std::chrono::milliseconds(10);
      for (const std::string& f :
           {s.dir + "/update_interval", path.substr(0, path.rfind('_')) + "_average_interval"}) {
        if (auto t = rapl::ReadTrimmed(env, f); t.ok())
          if (auto ms = ParseInt(*t); ms && *ms > 0)
            interval = std::max(interval, std::chrono::nanoseconds(*ms * 1000000));
      }
      min_interval = std::max(min_interval, interval);
    }
    names.insert(d.name);
    src->AddFact(d.name + ".file", env->Resolve(path));
    src->Add(std::move(d), std::move(*file));
  }
  for (auto& [dir, n] : skipped_cores)
    src->AddFact("amd_energy.cores_skipped",
                 std::to_string(n) + " per-core counters (Ecore*) nested in the sockets");
  src->set_min_interval(min_interval);

  const std::string amd_denied = "amd_energy counters are root-only since CVE-2020-12912: cannot read " +
                                 (denied.empty() ? std::string() : denied.front());
  const std::string amd_hint =
      "run as root, or `sudo chmod o+r /sys/class/hwmon/hwmon*/energy*_input` (reset at boot), or use "
      "rapl-perf / "
      "rapl-powercap";
  if (src->domains().empty()) {
    if (!denied.empty()) {
      r.attempt.reason = amd_denied;
      r.attempt.hint = amd_hint;
    } else {
      r.attempt.reason = "no readable hwmon energy or power sensors under " + env->Resolve(kHwmonDir);
      r.attempt.hint = "hwmon energy/power sensors come from drivers such as amd_energy or amdgpu; none here";
    }
    return r;
  }
  if (!denied.empty()) src->AddFact("amd_energy.skipped", amd_denied + "; " + amd_hint);
  r.attempt.available = true;
  r.attempt.domains = src->domains();
  r.attempt.facts = src->Facts();
  r.source = std::move(src);
  return r;
}

}  // namespace wattlab
