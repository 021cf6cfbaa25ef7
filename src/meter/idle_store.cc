#include "meter/idle_store.h"

#include <nlohmann/json.hpp>

namespace wattlab {

namespace {

std::string ParentDir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<std::string> IdleStatePath(Env* env) {
  if (auto x = env->GetEnvVar("XDG_STATE_HOME"); x && !x->empty() && (*x)[0] == '/')
    return *x + "/wattlab/idle.json";
  if (auto h = env->GetEnvVar("HOME"); h && !h->empty()) return *h + "/.local/state/wattlab/idle.json";
  return Status::FailedPrecondition(
      "cannot place the idle state file: neither XDG_STATE_HOME nor HOME is set; set one of them");
}

std::string HostName(Env* env) {
  if (auto t = env->ReadFile("/proc/sys/kernel/hostname"); t.ok()) {
    std::string h = Trim(*t);
    if (!h.empty()) return h;
  }
  return env->HostName();
}

Result<std::vector<IdleEntry>> LoadIdleEntries(Env* env, const std::string& path) {
  std::vector<IdleEntry> out;
  auto text = env->ReadFile(path);
  if (!text.ok()) {
    if (text.status().kind() == Status::Kind::kNotFound) return out;
    return text.status();
  }
  const std::string fix = "; delete it and run `wattlab idle` again";
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("entries") || !j["entries"].is_array())
    return Status::Corruption(path + " is not a wattlab idle state file" + fix);
  try {
    for (const auto& e : j["entries"]) {
      IdleEntry x;
      x.host = e.at("host").get<std::string>();
      x.sources = e.at("sources").get<std::vector<std::string>>();
      x.idle_power_w = e.at("idle_power_w").get<double>();
      x.measured_at_s = e.at("measured_at_s").get<double>();
      x.duration_s = e.value("duration_s", 0.0);
      x.estimated = e.value("estimated", false);
      x.busy = e.value("busy", false);
      if (e.contains("cpu_util") && e["cpu_util"].is_number()) x.cpu_util = e["cpu_util"].get<double>();
      if (e.contains("domains"))
        for (const auto& d : e["domains"])
          x.domains_w.emplace_back(d.at("name").get<std::string>(), d.at("power_w").get<double>());
      out.push_back(std::move(x));
    }
  } catch (const nlohmann::json::exception& ex) {
    return Status::Corruption(path + ": malformed entry (" + ex.what() + ")" + fix);
  }
  return out;
}

Result<std::optional<IdleEntry>> FindIdleEntry(Env* env, const std::string& path, const std::string& host,
                                               const std::vector<std::string>& sources) {
  auto entries = LoadIdleEntries(env, path);
  if (!entries.ok()) return entries.status();
  std::optional<IdleEntry> found;
  for (auto& e : *entries)
    if (e.host == host && e.sources == sources) found = e;
  return found;
}

Status SaveIdleEntry(Env* env, const std::string& path, const IdleEntry& entry) {
  auto entries = LoadIdleEntries(env, path);
  if (!entries.ok()) return entries.status();
  nlohmann::json j;
  j["version"] = 1;
  j["entries"] = nlohmann::json::array();
  auto to_json = [](const IdleEntry& e) {
    nlohmann::json x;
    x["host"] = e.host;
    x["sources"] = e.sources;
    x["idle_power_w"] = e.idle_power_w;
    x["domains"] = nlohmann::json::array();
    for (const auto& [n, w] : e.domains_w) x["domains"].push_back({{"name", n}, {"power_w", w}});
    x["measured_at_s"] = e.measured_at_s;
    x["duration_s"] = e.duration_s;
    x["estimated"] = e.estimated;
    x["busy"] = e.busy;
    if (e.cpu_util) x["cpu_util"] = *e.cpu_util;
    return x;
  };
  for (const auto& e : *entries)
    if (!(e.host == entry.host && e.sources == entry.sources)) j["entries"].push_back(to_json(e));
  j["entries"].push_back(to_json(entry));
  // Env::WriteFileAtomically writes a temporary sibling, syncs it and renames
  // it over the file: on any failure (disk full, rename refused, directory
  // gone) the previous file is whole and the temporary is removed.
  const std::string what = "cannot save the idle baseline to " + path;
  if (std::string dir = ParentDir(path); !dir.empty())
    WATTLAB_RETURN_IF_ERROR(env->CreateDirs(dir).WithContext(what));
  return env->WriteFileAtomically(path, j.dump(2) + "\n").WithContext(what);
}

}  // namespace wattlab
