// Detection: run every probe, keep every attempt, choose one source per
// component. See detect.h for the rules.
#include "meter/detect.h"

#include <set>
#include <string>

#include "core/strings.h"

namespace wattlab {

const char* ComponentName(Component c) {
  switch (c) {
    case Component::kCpu:
      return "cpu";
    case Component::kDram:
      return "dram";
    case Component::kGpu:
      return "gpu";
    case Component::kPlatform:
      return "platform";
    case Component::kOther:
      return "other";
  }
  return "other";
}

namespace {

class DomainSubsetSource : public EnergySource {
 public:
  DomainSubsetSource(std::unique_ptr<EnergySource> inner, std::vector<size_t> keep)
      : inner_(std::move(inner)), keep_(std::move(keep)), buffer_(inner_->domains().size()) {
    for (size_t i : keep_) domains_.push_back(inner_->domains()[i]);
  }
  const std::string& name() const override { return inner_->name(); }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  std::chrono::nanoseconds min_interval() const override { return inner_->min_interval(); }
  Status Read(std::vector<Reading>& out) override {
    Status st = inner_->Read(buffer_);
    if (!st.ok()) return st;
    for (size_t j = 0; j < keep_.size(); ++j) out[j] = buffer_[keep_[j]];
    return Status::Ok();
  }
  std::vector<std::pair<std::string, std::string>> Facts() const override { return inner_->Facts(); }

 private:
  std::unique_ptr<EnergySource> inner_;
  std::vector<size_t> keep_;
  std::vector<DomainInfo> domains_;
  std::vector<Reading> buffer_;
};

std::string ComponentList(const std::set<Component>& comps) {
  std::vector<std::string> names;
  for (Component c : comps) names.push_back(ComponentName(c));
  return Join(names, ", ");
}

}  // namespace

std::unique_ptr<EnergySource> NewDomainSubsetSource(std::unique_ptr<EnergySource> inner,
                                                    std::vector<size_t> keep) {
  return std::make_unique<DomainSubsetSource>(std::move(inner), std::move(keep));
}

DetectionReport ChooseSources(std::vector<ProbeResult> probes, const MeterOptions& options) {
  (void)options;  // psys in/out of the total is the powercap source's decision (DomainInfo.in_total)
  DetectionReport report;
  // Which chosen source covers each component, for the "already measured by" reason.
  std::vector<std::pair<Component, std::string>> covered;
  auto covered_by = [&](Component c) -> const std::string* {
    for (const auto& [comp, src] : covered)
      if (comp == c) return &src;
    return nullptr;
  };

  for (auto& probe : probes) {
    SourceAttempt attempt = std::move(probe.attempt);
    attempt.chosen = false;
    if (!probe.source) attempt.available = false;
    if (!attempt.available || !probe.source) {
      if (attempt.reason.empty()) attempt.reason = "not available";
      report.attempts.push_back(std::move(attempt));
      continue;
    }
    if (attempt.domains.empty()) attempt.domains = probe.source->domains();
    const auto& domains = probe.source->domains();
    if (domains.empty()) {
      attempt.reason = "available but reports no domains";
      report.attempts.push_back(std::move(attempt));
      continue;
    }
    std::vector<size_t> keep;
    std::set<Component> fresh, already;
    std::set<std::string> already_sources;
    for (size_t i = 0; i < domains.size(); ++i) {
      if (const std::string* by = covered_by(domains[i].component)) {
        already.insert(domains[i].component);
        already_sources.insert(*by);
      } else {
        keep.push_back(i);
        fresh.insert(domains[i].component);
      }
    }
    std::vector<std::string> by(already_sources.begin(), already_sources.end());
    if (keep.empty()) {
      attempt.reason = ComponentList(already) + " already measured by " + Join(by, " and ");
      report.attempts.push_back(std::move(attempt));
      continue;
    }
    attempt.chosen = true;
    const std::string source_name = probe.source->name();
    if (keep.size() == domains.size()) {
      report.chosen.push_back(std::move(probe.source));
    } else {
      attempt.reason = "chosen for " + ComponentList(fresh) + " only (" + ComponentList(already) +
                       " already measured by " + Join(by, " and ") + ")";
      report.chosen.push_back(NewDomainSubsetSource(std::move(probe.source), keep));
    }
    for (Component c : fresh) covered.emplace_back(c, source_name);
    report.attempts.push_back(std::move(attempt));
  }
  return report;
}

Result<DetectionReport> DetectSources(Env* env, const MeterOptions& options) {
  if (env == nullptr) return Status::InvalidArgument("DetectSources: no Env given");
  if (options.interval.count() <= 0)
    return Status::InvalidArgument("sampling interval must be positive, e.g. --interval 100ms");
  if (options.timeline_capacity == 0)
    return Status::InvalidArgument("timeline capacity must be at least 1 sample");
  std::vector<ProbeResult> probes;
  probes.push_back(ProbePowercap(env, options));
  probes.push_back(ProbePerf(env, options));
  probes.push_back(ProbeMsr(env, options));
  probes.push_back(ProbeHwmon(env, options));
  probes.push_back(ProbeNvml(env, options));
  probes.push_back(ProbeEstimate(env, options));
  return ChooseSources(std::move(probes), options);
}

}  // namespace wattlab
