// rapl-powercap: see powercap.h for the layout this reads.
#include "meter/powercap.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/strings.h"
#include "meter/rapl_common.h"
#include "meter/sources.h"

namespace wattlab {

namespace {

constexpr const char* kPowercapDir = "/sys/class/powercap";

// "intel-rapl:0:1" -> {0,1}; nullopt for anything else ("intel-rapl" itself is
// the control type directory, not a zone).
std::optional<std::vector<int>> ParseZoneIndex(const std::string& entry, const std::string& prefix) {
  if (!StartsWith(entry, prefix)) return std::nullopt;
  std::vector<int> index;
  for (const std::string& part : Split(entry.substr(prefix.size()), ':')) {
    auto v = ParseInt(part);
    if (!v || *v < 0) return std::nullopt;
    index.push_back(static_cast<int>(*v));
  }
  if (index.empty()) return std::nullopt;
  return index;
}

// "package-0" -> "package"; "core" -> "core"; "package-0-die-1" -> "package".
std::string KindOf(const std::string& raw) {
  auto dash = raw.find('-');
  return raw.substr(0, dash);
}

// True when the raw name already carries its own number ("package-1").
bool HasNumberSuffix(const std::string& raw) {
  auto dash = raw.rfind('-');
  return dash != std::string::npos && dash + 1 < raw.size() && ParseInt(raw.substr(dash + 1)).has_value();
}

// "package-1" -> "1" (the number subzones inherit: core-1, dram-1).
std::string PackageNumber(const PowercapZone& parent) {
  if (HasNumberSuffix(parent.raw_name)) return parent.raw_name.substr(parent.raw_name.find('-') + 1);
  return std::to_string(parent.index.front());
}

class PowercapSource : public rapl::SourceBase {
 public:
  PowercapSource() : SourceBase(kSourceRaplPowercap, std::chrono::milliseconds(1)) {}

  void Add(DomainInfo info, std::unique_ptr<ReadableFile> file) {
    domains_.push_back(std::move(info));
    files_.push_back(std::move(file));
  }
  void AddFact(std::string key, std::string value) { facts_.emplace_back(std::move(key), std::move(value)); }
  std::vector<DomainInfo>& mutable_domains() { return domains_; }

  Status Read(std::vector<Reading>& out) override {
    for (size_t i = 0; i < files_.size(); ++i) {
      if (Status st = ReadOne(i, out[i]); !st.ok()) return st;
    }
    return Status::Ok();
  }
  Status ReadDomains(const std::vector<size_t>& which, std::vector<Reading>& out) override {
    for (size_t i : which) {
      if (Status st = ReadOne(i, out[i]); !st.ok()) return st;
    }
    return Status::Ok();
  }

 private:
  Status ReadOne(size_t i, Reading& out) {
    auto uj = rapl::PReadDecimal(*files_[i]);
    if (!uj.ok()) return uj.status().WithContext(name_);
    // Dividing by the exact 1e6 rounds once: 123456789 uJ reads as exactly
    // 123.456789 J, the figure a user checks against the file.
    out = Reading::Energy(static_cast<double>(*uj) / 1e6);
    return Status::Ok();
  }
  std::vector<std::unique_ptr<ReadableFile>> files_;
};

// Power limits of one zone as facts: "package-0.constraint_0_power_limit_w".
void AddConstraintFacts(Env* env, const PowercapZone& z, PowercapSource& src) {
  for (int n = 0; n < 8; ++n) {
    std::string base = z.dir + "/constraint_" + std::to_string(n) + "_";
    auto limit = rapl::ReadTrimmed(env, base + "power_limit_uw");
    if (!limit.ok()) break;
    std::string key = z.domain + ".constraint_" + std::to_string(n) + "_";
    if (auto name = rapl::ReadTrimmed(env, base + "name"); name.ok()) src.AddFact(key + "name", *name);
    if (auto v = ParseU64(*limit, base + "power_limit_uw"); v.ok())
      src.AddFact(key + "power_limit_w", rapl::Num(static_cast<double>(*v) * 1e-6));
    if (auto t = rapl::ReadTrimmed(env, base + "time_window_us"); t.ok())
      if (auto v = ParseU64(*t, base + "time_window_us"); v.ok())
        src.AddFact(key + "time_window_s", rapl::Num(static_cast<double>(*v) * 1e-6));
    if (auto t = rapl::ReadTrimmed(env, base + "max_power_uw"); t.ok())
      if (auto v = ParseU64(*t, base + "max_power_uw"); v.ok() && *v > 0)
        src.AddFact(key + "max_power_w", rapl::Num(static_cast<double>(*v) * 1e-6));
  }
  if (auto en = rapl::ReadTrimmed(env, z.dir + "/enabled"); en.ok()) src.AddFact(z.domain + ".enabled", *en);
}

}  // namespace

Result<std::vector<PowercapZone>> ListPowercapZones(Env* env) {
  auto entries = env->ListDir(kPowercapDir);
  if (!entries.ok()) return entries.status();
  std::vector<PowercapZone> zones;
  // intel-rapl first so that its packages win over the mmio duplicates.
  for (bool mmio : {false, true}) {
    std::vector<PowercapZone> group;
    const std::string prefix = mmio ? "intel-rapl-mmio:" : "intel-rapl:";
    for (const std::string& e : *entries) {
      auto index = ParseZoneIndex(e, prefix);
      if (!index) continue;
      PowercapZone z;
      z.id = e;
      z.dir = std::string(kPowercapDir) + "/" + e;
      z.mmio = mmio;
      z.index = *index;
      auto name = rapl::ReadTrimmed(env, z.dir + "/name");
      z.raw_name = name.ok() && !name->empty() ? *name : ("zone-" + e.substr(prefix.size()));
      z.kind = KindOf(z.raw_name);
      group.push_back(std::move(z));
    }
    // Numeric order ("10" after "2"), each parent right before its subzones.
    std::sort(group.begin(), group.end(),
              [](const PowercapZone& a, const PowercapZone& b) { return a.index < b.index; });
    std::map<std::vector<int>, const PowercapZone*> by_index;
    for (PowercapZone& z : group) {
      if (z.index.size() > 1) {
        std::vector<int> parent_index(z.index.begin(), z.index.end() - 1);
        auto it = by_index.find(parent_index);
        std::string number =
            it != by_index.end() ? PackageNumber(*it->second) : std::to_string(z.index.front());
        if (it != by_index.end()) z.parent_domain = it->second->domain;
        z.domain = HasNumberSuffix(z.raw_name) ? z.raw_name : z.raw_name + "-" + number;
      } else if (HasNumberSuffix(z.raw_name) || z.kind == "psys") {
        z.domain = z.raw_name;
      } else {
        z.domain = z.raw_name + "-" + std::to_string(z.index.front());
      }
      by_index[z.index] = &z;
    }
    for (PowercapZone& z : group) zones.push_back(std::move(z));
  }
  return zones;
}

ProbeResult ProbePowercap(Env* env, const MeterOptions& options) {
  ProbeResult r;
  r.attempt.source = kSourceRaplPowercap;
  const std::string no_zones_hint =
      "load the RAPL driver: `sudo modprobe intel_rapl_msr` (AMD needs Linux >= 5.8); virtual machines and "
      "containers usually have no RAPL: point --sysfs-root at a folder the hypervisor fills, or use "
      "rapl-perf, "
      "rapl-msr or the estimate";
  auto zones = ListPowercapZones(env);
  if (!zones.ok()) {
    r.attempt.reason = "no powercap class (" + env->Resolve(kPowercapDir) +
                       " not readable: " + zones.status().message() + ")";
    r.attempt.hint = no_zones_hint;
    return r;
  }

  auto src = std::make_unique<PowercapSource>();
  std::set<std::string> seen_domains;
  std::map<std::string, std::string> zone_of_domain;
  for (const PowercapZone& z : *zones) {
    if (seen_domains.count(z.domain)) {
      // intel-rapl-mmio:0 "package-0" is intel-rapl:0's counter read over MMIO.
      src->AddFact(z.id + ".skipped", "duplicates " + z.domain + " of " + zone_of_domain[z.domain]);
      continue;
    }
    const std::string energy_path = z.dir + "/energy_uj";
    auto file = env->OpenForRead(energy_path);
    Status st = file.ok() ? rapl::PReadDecimal(**file).status() : file.status();
    if (!st.ok()) {
      if (st.kind() == Status::Kind::kNotFound) {
        src->AddFact(z.id + ".skipped", "no energy_uj");
        continue;
      }
      if (st.kind() == Status::Kind::kPermissionDenied) {
        r.attempt.reason = "energy_uj is root-only since CVE-2020-8694: cannot read " +
                           env->Resolve(energy_path) + " (" + st.message() + ")";
        r.attempt.hint = rapl::PowercapPermissionHint();
      } else {
        r.attempt.reason = "cannot read " + env->Resolve(energy_path) + ": " + st.ToString();
        r.attempt.hint = "check the powercap tree (a fixture or --sysfs-root folder may be incomplete)";
      }
      return r;
    }

    DomainInfo d;
    d.name = z.domain;
    d.source = kSourceRaplPowercap;
    d.is_counter = true;
    if (auto range = rapl::ReadTrimmed(env, z.dir + "/max_energy_range_uj"); range.ok()) {
      if (auto v = ParseU64(*range, z.dir + "/max_energy_range_uj"); v.ok())
        d.max_energy_range_j = static_cast<double>(*v) / 1e6;
    }
    std::vector<std::string> notes;
    if (z.kind == "package") {
      d.component = Component::kCpu;
    } else if (z.kind == "core" || z.kind == "uncore") {
      d.component = Component::kCpu;
      d.in_total = false;
      notes.push_back("nested in " + (z.parent_domain.empty() ? std::string("a package") : z.parent_domain));
      if (z.kind == "uncore") notes.push_back("PP1: integrated graphics on client chips");
    } else if (z.kind == "dram") {
      d.component = Component::kDram;
    } else if (z.kind == "psys") {
      d.component = Component::kPlatform;  // in_total and note: ApplyIncludePsys below
    } else {
      d.component = Component::kOther;
      d.in_total = false;
      notes.push_back("unknown RAPL zone '" + z.raw_name + "'; reported, not summed");
    }
    if (z.mmio) notes.push_back("read through intel-rapl-mmio");
    if (d.max_energy_range_j == 0)
      notes.push_back("max_energy_range_uj missing: wraparound cannot be corrected");
    d.note = Join(notes, "; ");

    if (z.index.size() == 1) AddConstraintFacts(env, z, *src);
    src->AddFact(z.domain + ".zone", z.id);
    seen_domains.insert(z.domain);
    zone_of_domain[z.domain] = z.id;
    src->Add(std::move(d), std::move(*file));
  }

  rapl::ApplyIncludePsys(src->mutable_domains(), options.include_psys);

  if (src->domains().empty()) {
    r.attempt.reason = "no readable RAPL zones under " + env->Resolve(kPowercapDir);
    r.attempt.hint = no_zones_hint;
    return r;
  }
  r.attempt.available = true;
  r.attempt.domains = src->domains();
  r.attempt.facts = src->Facts();
  r.source = std::move(src);
  return r;
}

}  // namespace wattlab
