// Setting and restoring knobs: journal first, then the change, rollback on a
// part-way failure, and restore of exactly what was found.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "caps/internal.h"
#include "core/strings.h"

namespace wattlab::caps {

using namespace internal;

namespace {

std::string W(double v) { return FormatDouble(v); }

// The same kind of error with more said after its message.
Status WithSuffix(const Status& st, const std::string& suffix) {
  const std::string m = st.message() + suffix;
  switch (st.kind()) {
    case Status::Kind::kNotFound:
      return Status::NotFound(m);
    case Status::Kind::kPermissionDenied:
      return Status::PermissionDenied(m);
    case Status::Kind::kNotSupported:
      return Status::NotSupported(m);
    case Status::Kind::kInvalidArgument:
      return Status::InvalidArgument(m);
    case Status::Kind::kCorruption:
      return Status::Corruption(m);
    case Status::Kind::kFailedPrecondition:
      return Status::FailedPrecondition(m);
    case Status::Kind::kInterrupted:
      return Status::Interrupted(m);
    case Status::Kind::kIOError:
      return Status::IOError(m);
    default:
      return Status::Internal(m);
  }
}

std::string ParentDir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string ListText(const std::vector<int>& v) {
  std::vector<std::string> s;
  for (int i : v) s.push_back(std::to_string(i));
  return s.empty() ? "none" : Join(s, ", ");
}

std::string ConstraintBase(const std::string& zone_dir, int constraint) {
  return zone_dir + "/constraint_" + std::to_string(constraint) + "_";
}

// Writes the file only when it holds something else (fewer writes, and a
// read-only time window that already matches is no failure).
Status PutBackFile(Env* env, const std::string& path, const std::string& value, const std::string& what) {
  auto cur = env->ReadFile(path);
  if (cur.ok() && Trim(*cur) == value) return Status::Ok();
  return WriteTextFile(env, path, value, what);
}

// Writes a saved value back. `nvml` may be null when no GPU entry is present.
Status PutBack(Env* env, Nvml* nvml, const std::string& nvml_problem, const SavedKnob& s) {
  switch (s.kind) {
    case SavedKnob::Kind::kGpuPowerLimit: {
      if (!nvml) return Status::NotFound("cannot reach GPU " + std::to_string(s.index) + ": " + nvml_problem);
      auto cur = nvml->LimitMw(static_cast<unsigned>(s.index));
      if (cur.ok() && *cur == s.value) return Status::Ok();
      return nvml->SetLimitMw(static_cast<unsigned>(s.index), static_cast<unsigned>(s.value));
    }
    case SavedKnob::Kind::kPackagePowerLimit: {
      const std::string base = ConstraintBase(s.zone_dir, s.constraint);
      WATTLAB_RETURN_IF_ERROR(
          PutBackFile(env, base + "power_limit_uw", std::to_string(s.value), "powercap limits"));
      if (s.time_window_us)
        WATTLAB_RETURN_IF_ERROR(
            PutBackFile(env, base + "time_window_us", std::to_string(*s.time_window_us), "powercap limits"));
      if (s.enabled)
        WATTLAB_RETURN_IF_ERROR(PutBackFile(env, s.zone_dir + "/enabled", *s.enabled, "powercap limits"));
      return Status::Ok();
    }
    case SavedKnob::Kind::kCpuMaxFreq:
      return PutBackFile(env, CpufreqPath(s.index, "scaling_max_freq"), std::to_string(s.value),
                         "cpufreq limits");
  }
  return Status::Internal("unknown knob kind");
}

Status WriteJournalFile(Env* env, const std::string& path, const Journal& j) {
  if (j.saved.empty()) {
    Status st = env->RemoveFile(path);
    return st.kind() == Status::Kind::kNotFound ? Status::Ok() : st;
  }
  if (std::string dir = ParentDir(path); !dir.empty() && dir != "/")
    WATTLAB_RETURN_IF_ERROR(env->CreateDirs(dir));
  return env->WriteFileAtomically(path, JournalToJson(j));
}

// One change: the value found, and how to apply the new one.
struct Change {
  SavedKnob found;
  std::function<Status()> apply;
};

}  // namespace

class CapSession::Impl {
 public:
  Impl(Env* env, CapsOptions options, std::string journal_path)
      : env_(env), options_(std::move(options)), journal_path_(std::move(journal_path)) {}

  Result<Nvml*> GetNvml() {
    if (!nvml_) {
      WATTLAB_ASSIGN_OR_RETURN(nvml_, Nvml::Open(env_, options_.nvml_library));
    }
    return nvml_.get();
  }

  // Journal first, then each change in order; on a failure the ones already
  // made are put back (newest first) and their journal entries dropped.
  Status Apply(std::vector<Change> changes) {
    WATTLAB_ASSIGN_OR_RETURN(std::optional<Journal> pending, ReadJournal(env_, journal_path_));
    Journal journal;
    journal.sysfs_root = env_->Resolve("/sys");
    journal.nvml_library = options_.nvml_library;
    if (pending) {
      if (pending->sysfs_root != journal.sysfs_root || pending->nvml_library != journal.nvml_library)
        return Status::FailedPrecondition("a caps journal written for sysfs root " + pending->sysfs_root +
                                          " and NVML library " + pending->nvml_library + " is pending at " +
                                          journal_path_ + "; restore it first (`" + kRestoreCommand +
                                          " --sysfs-root " + pending->sysfs_root + "`)");
      journal = *pending;
    }
    std::set<std::string> in_journal;
    for (const SavedKnob& s : journal.saved) in_journal.insert(s.Key());
    std::set<std::string> added;
    for (Change& c : changes) {
      c.found.pid = env_->Pid();
      if (in_journal.insert(c.found.Key()).second) {
        journal.saved.push_back(c.found);
        added.insert(c.found.Key());
      }
    }
    if (!added.empty()) {
      Status st = WriteJournalFile(env_, journal_path_, journal);
      if (!st.ok())
        return WithSuffix(st.WithContext("cannot write the caps journal " + journal_path_ + " (set " +
                                         kJournalEnvVar + " to put it elsewhere); nothing was changed"),
                          st.kind() == Status::Kind::kPermissionDenied
                              ? "; changing power caps and clocks needs root (or CAP_SYS_ADMIN)"
                              : "");
    }
    for (size_t i = 0; i < changes.size(); ++i) {
      Status st = changes[i].apply();
      if (st.ok()) continue;
      std::vector<std::string> undone, stuck;
      std::set<std::string> keep;
      for (size_t k = i; k-- > 0;) {
        Status back = PutBack(env_, nvml_.get(), "NVML is not open", changes[k].found);
        if (back.ok()) {
          undone.push_back(changes[k].found.Describe());
        } else {
          stuck.push_back(changes[k].found.Describe() + " (" + back.message() + ")");
          keep.insert(changes[k].found.Key());
        }
      }
      // The failed one may have changed part of its files (a package's limit
      // but not `enabled`): put it back as well, quietly when nothing changed.
      Status self = PutBack(env_, nvml_.get(), "NVML is not open", changes[i].found);
      if (!self.ok()) keep.insert(changes[i].found.Key());
      std::erase_if(journal.saved,
                    [&](const SavedKnob& s) { return added.count(s.Key()) && !keep.count(s.Key()); });
      Status jst = WriteJournalFile(env_, journal_path_, journal);
      std::string msg;
      if (!undone.empty()) msg += "; put back what was already set: " + Join(undone, "; ");
      if (!stuck.empty())
        msg += "; could NOT put back: " + Join(stuck, "; ") + " (kept in " + journal_path_ + " for `" +
               kRestoreCommand + "`)";
      if (!jst.ok()) msg += "; and the journal could not be updated: " + jst.message();
      return WithSuffix(st, msg);
    }
    for (const Change& c : changes) {
      const std::string key = c.found.Key();
      if (!found_.count(key)) {
        found_.emplace(key, c.found);
        order_.push_back(key);
      }
      if (added.count(key)) added_.insert(key);
    }
    return Status::Ok();
  }

  Status Restore() {
    std::vector<std::string> stuck;
    std::set<std::string> restored;
    for (size_t k = order_.size(); k-- > 0;) {
      const SavedKnob& s = found_.at(order_[k]);
      Status st = PutBack(env_, nvml_.get(), "NVML is not open", s);
      if (st.ok()) {
        restored.insert(order_[k]);
      } else {
        stuck.push_back(s.Describe() + " (" + st.message() + ")");
      }
    }
    std::erase_if(order_, [&](const std::string& key) { return restored.count(key) > 0; });
    for (const std::string& key : restored) found_.erase(key);
    Status jst = Status::Ok();
    std::set<std::string> drop;
    for (const std::string& key : restored)
      if (added_.count(key)) drop.insert(key);
    if (!drop.empty()) {
      auto pending = ReadJournal(env_, journal_path_);
      if (!pending.ok()) {
        jst = pending.status();
      } else if (*pending) {
        std::erase_if((*pending)->saved, [&](const SavedKnob& s) { return drop.count(s.Key()) > 0; });
        jst = WriteJournalFile(env_, journal_path_, **pending);
      }
      if (jst.ok())
        for (const std::string& key : drop) added_.erase(key);
    }
    if (stuck.empty() && jst.ok()) return Status::Ok();
    std::string msg;
    if (!stuck.empty())
      msg = "could not put back " + Join(stuck, "; ") + "; the originals stay in " + journal_path_ +
            " for `" + kRestoreCommand + "`";
    if (!jst.ok())
      msg += (msg.empty() ? "" : "; ") + ("the caps journal could not be updated: " + jst.message());
    return Status::IOError(msg);
  }

  Env* env() { return env_; }
  Nvml* nvml() { return nvml_.get(); }

 private:
  Env* env_;
  CapsOptions options_;
  std::string journal_path_;
  std::unique_ptr<Nvml> nvml_;
  std::map<std::string, SavedKnob> found_;  // first value this session found, by key
  std::vector<std::string> order_;          // keys in the order first changed
  std::set<std::string> added_;             // keys whose journal entry this session wrote
};

Result<std::unique_ptr<CapSession>> CapSession::Open(Env* env, CapsOptions options, bool restore_at_end) {
  std::unique_ptr<CapSession> s(new CapSession());
  s->journal_path_ = options.journal_path.empty() ? JournalPath(env) : options.journal_path;
  s->restore_at_end_ = restore_at_end;
  // Refuse early, before anything changes, when the journal cannot be read.
  auto pending = ReadJournal(env, s->journal_path_);
  if (!pending.ok()) return pending.status();
  s->impl_ = std::make_unique<Impl>(env, std::move(options), s->journal_path_);
  return s;
}

CapSession::~CapSession() {
  if (restore_at_end_ && impl_) last_error_ = impl_->Restore();
}

Status CapSession::Restore() {
  last_error_ = impl_->Restore();
  return last_error_;
}

Status CapSession::SetGpuPowerLimit(double watts, const std::vector<int>& gpus) {
  if (!std::isfinite(watts) || watts <= 0)
    return Status::InvalidArgument("a GPU power limit must be a positive number of watts, got " + W(watts));
  WATTLAB_ASSIGN_OR_RETURN(Nvml * nvml, impl_->GetNvml());
  std::vector<int> all;
  for (unsigned i = 0; i < nvml->count(); ++i) all.push_back(static_cast<int>(i));
  if (all.empty()) return Status::NotFound("NVML found no GPUs");
  std::vector<int> targets = gpus.empty() ? all : gpus;
  const unsigned mw = static_cast<unsigned>(std::llround(watts * 1000.0));
  std::vector<Change> changes;
  for (int g : targets) {
    if (g < 0 || g >= static_cast<int>(all.size()))
      return Status::InvalidArgument("there is no GPU " + std::to_string(g) +
                                     " (GPUs here: " + ListText(all) + ")");
    const unsigned idx = static_cast<unsigned>(g);
    WATTLAB_ASSIGN_OR_RETURN(auto range, nvml->ConstraintsMw(idx));
    if (mw < range.first || mw > range.second)
      return Status::InvalidArgument("GPU power limit " + W(watts) + " W is outside GPU " +
                                     std::to_string(g) + "'s allowed range, " + W(MilliToUnit(range.first)) +
                                     " to " + W(MilliToUnit(range.second)) + " W");
    WATTLAB_ASSIGN_OR_RETURN(unsigned cur, nvml->LimitMw(idx));
    Change c;
    c.found.kind = SavedKnob::Kind::kGpuPowerLimit;
    c.found.index = g;
    c.found.value = cur;
    c.apply = [nvml, idx, mw] { return nvml->SetLimitMw(idx, mw); };
    changes.push_back(std::move(c));
  }
  return impl_->Apply(std::move(changes));
}

Status CapSession::SetPackagePowerLimit(double watts, const std::vector<int>& packages,
                                        const std::string& constraint) {
  if (!std::isfinite(watts) || watts <= 0)
    return Status::InvalidArgument("a CPU package power limit must be a positive number of watts, got " +
                                   W(watts));
  Env* env = impl_->env();
  auto zones = ListPackageZones(env);
  if (!zones.ok()) return Status::NotFound("no CPU package power limits here: " + zones.status().message());
  if (zones->empty())
    return Status::NotFound("no CPU package power limits here: powercap lists no package zone");
  std::vector<int> all;
  for (const PackageZone& z : *zones) all.push_back(z.package);
  std::vector<int> targets = packages.empty() ? all : packages;
  const uint64_t uw = static_cast<uint64_t>(std::llround(watts * 1e6));
  std::vector<Change> changes;
  for (int p : targets) {
    auto z = std::find_if(zones->begin(), zones->end(), [p](const PackageZone& x) { return x.package == p; });
    if (z == zones->end())
      return Status::InvalidArgument("there is no package " + std::to_string(p) +
                                     " (packages here: " + ListText(all) + ")");
    WATTLAB_ASSIGN_OR_RETURN(int k, FindConstraint(env, z->dir, constraint));
    const std::string base = ConstraintBase(z->dir, k);
    auto max_uw = ReadU64File(env, base + "max_power_uw");
    auto min_uw = ReadU64File(env, base + "min_power_uw");
    const uint64_t lo = min_uw.ok() ? *min_uw : 0;
    const bool has_max = max_uw.ok() && *max_uw > 0;
    if (uw < lo || uw == 0 || (has_max && uw > *max_uw))
      return Status::InvalidArgument(
          "CPU power limit " + W(watts) + " W is outside " + z->name + "'s allowed range for " + constraint +
          ", " + (lo > 0 ? W(MicroToUnit(lo)) + " W" : "above 0 W") +
          (has_max ? " to " + W(MicroToUnit(*max_uw)) + " W" : " (the zone states no maximum)"));
    WATTLAB_ASSIGN_OR_RETURN(uint64_t cur, ReadU64File(env, base + "power_limit_uw"));
    Change c;
    c.found.kind = SavedKnob::Kind::kPackagePowerLimit;
    c.found.zone_dir = z->dir;
    c.found.constraint = k;
    c.found.value = cur;
    if (auto tw = ReadU64File(env, base + "time_window_us"); tw.ok()) c.found.time_window_us = *tw;
    if (auto en = env->ReadFile(z->dir + "/enabled"); en.ok() && (Trim(*en) == "0" || Trim(*en) == "1"))
      c.found.enabled = Trim(*en);
    const std::optional<std::string> enabled = c.found.enabled;
    const std::string zone_dir = z->dir;
    c.apply = [env, base, uw, enabled, zone_dir] {
      WATTLAB_RETURN_IF_ERROR(WriteU64File(env, base + "power_limit_uw", uw, "powercap limits"));
      // A limit on a disabled zone does nothing: switch limiting on.
      if (enabled && *enabled == "0")
        WATTLAB_RETURN_IF_ERROR(WriteTextFile(env, zone_dir + "/enabled", "1", "powercap limits"));
      return Status::Ok();
    };
    changes.push_back(std::move(c));
  }
  return impl_->Apply(std::move(changes));
}

Status CapSession::SetCpuMaxFreq(double mhz) {
  if (!std::isfinite(mhz) || mhz <= 0)
    return Status::InvalidArgument("a CPU maximum frequency must be a positive number of MHz, got " + W(mhz));
  Env* env = impl_->env();
  std::vector<int> cpus = ListCpufreqCpus(env);
  if (cpus.empty())
    return Status::NotFound("no cpufreq here (no /sys/devices/system/cpu/cpuN/cpufreq/scaling_max_freq)");
  const uint64_t khz = static_cast<uint64_t>(std::llround(mhz * 1000.0));
  struct Bounds {
    uint64_t cur, lo, hi;
  };
  std::vector<Bounds> bounds;
  uint64_t all_lo = 0, all_hi = 0;
  for (int cpu : cpus) {
    WATTLAB_ASSIGN_OR_RETURN(uint64_t cur, ReadU64File(env, CpufreqPath(cpu, "scaling_max_freq")));
    WATTLAB_ASSIGN_OR_RETURN(uint64_t lo, ReadU64File(env, CpufreqPath(cpu, "cpuinfo_min_freq")));
    WATTLAB_ASSIGN_OR_RETURN(uint64_t hi, ReadU64File(env, CpufreqPath(cpu, "cpuinfo_max_freq")));
    bounds.push_back({cur, lo, hi});
    all_lo = std::max(all_lo, lo);
    all_hi = std::max(all_hi, hi);
  }
  if (khz < all_lo || khz > all_hi)
    return Status::InvalidArgument("CPU maximum frequency " + W(mhz) + " MHz is outside the allowed range, " +
                                   W(MilliToUnit(all_lo)) + " to " + W(MilliToUnit(all_hi)) + " MHz");
  std::vector<Change> changes;
  for (size_t i = 0; i < cpus.size(); ++i) {
    Change c;
    c.found.kind = SavedKnob::Kind::kCpuMaxFreq;
    c.found.index = cpus[i];
    c.found.value = bounds[i].cur;
    // A core that cannot reach the value (the efficiency cores of a hybrid)
    // gets its own maximum.
    const uint64_t value = std::min(khz, bounds[i].hi);
    const std::string path = CpufreqPath(cpus[i], "scaling_max_freq");
    c.apply = [env, path, value] { return WriteU64File(env, path, value, "cpufreq limits"); };
    changes.push_back(std::move(c));
  }
  return impl_->Apply(std::move(changes));
}

std::optional<double> CapSession::GpuPowerLimitW(int gpu) {
  auto nvml = impl_->GetNvml();
  if (!nvml.ok() || gpu < 0) return std::nullopt;
  auto v = (*nvml)->LimitMw(static_cast<unsigned>(gpu));
  if (!v.ok()) return std::nullopt;
  return MilliToUnit(*v);
}

std::optional<double> CapSession::PackagePowerLimitW(int package, const std::string& constraint) {
  Env* env = impl_->env();
  auto zones = ListPackageZones(env);
  if (!zones.ok()) return std::nullopt;
  for (const PackageZone& z : *zones) {
    if (z.package != package) continue;
    auto k = FindConstraint(env, z.dir, constraint);
    if (!k.ok()) return std::nullopt;
    auto v = ReadU64File(env, ConstraintBase(z.dir, *k) + "power_limit_uw");
    if (!v.ok()) return std::nullopt;
    return MicroToUnit(*v);
  }
  return std::nullopt;
}

std::optional<double> CapSession::CpuMaxFreqMhz() {
  Env* env = impl_->env();
  std::optional<double> best;
  for (int cpu : ListCpufreqCpus(env)) {
    auto v = ReadU64File(env, CpufreqPath(cpu, "scaling_max_freq"));
    if (!v.ok()) continue;
    double mhz = MilliToUnit(*v);
    if (!best || mhz > *best) best = mhz;
  }
  return best;
}

Result<RestoreReport> RestoreFromJournal(Env* env, const CapsOptions& options) {
  const std::string path = options.journal_path.empty() ? JournalPath(env) : options.journal_path;
  WATTLAB_ASSIGN_OR_RETURN(std::optional<Journal> pending, ReadJournal(env, path));
  RestoreReport report;
  if (!pending) return report;
  Journal& j = *pending;
  if (j.sysfs_root != env->Resolve("/sys"))
    return Status::FailedPrecondition("the caps journal " + path + " was written with /sys at " +
                                      j.sysfs_root + ", but /sys is " + env->Resolve("/sys") + " now; run `" +
                                      kRestoreCommand + " --sysfs-root " + j.sysfs_root + "`");
  std::unique_ptr<Nvml> nvml;
  std::string nvml_problem;
  if (std::any_of(j.saved.begin(), j.saved.end(),
                  [](const SavedKnob& s) { return s.kind == SavedKnob::Kind::kGpuPowerLimit; })) {
    // The GPU entries were set through this library: put them back through it.
    auto n = Nvml::Open(env, j.nvml_library);
    if (n.ok())
      nvml = std::move(*n);
    else
      nvml_problem = n.status().message();
  }
  std::vector<SavedKnob> left;
  for (size_t k = j.saved.size(); k-- > 0;) {
    const SavedKnob& s = j.saved[k];
    Status st = PutBack(env, nvml.get(), nvml_problem, s);
    if (st.ok()) {
      report.restored.push_back(s.Describe());
    } else {
      report.failed.push_back(s.Describe() + ": " + st.message());
      left.insert(left.begin(), s);
    }
  }
  j.saved = std::move(left);
  Status st = WriteJournalFile(env, path, j);
  if (!st.ok()) report.failed.push_back("the journal " + path + " could not be updated: " + st.message());
  return report;
}

}  // namespace wattlab::caps
