#include "study/spec.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "catalog/catalog.h"
#include "core/strings.h"
#include "study/presets.h"  // generated from presets/*.toml
#include "study/profile.h"

namespace wattlab {
namespace {

const char* TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

// Builds "FILE:LINE: key 'K': message".
class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  Status At(int line, const std::string& key, const std::string& msg) const {
    std::string where = file_ + (line > 0 ? ":" + std::to_string(line) : "");
    return Status::InvalidArgument(where + ": key '" + key + "': " + msg);
  }
  Status At(const toml::node& n, const std::string& key, const std::string& msg) const {
    return At((int)n.source().begin.line, key, msg);
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

std::string Quoted(const std::vector<std::string>& xs) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i) out += (i ? ", " : "") + xs[i];
  return out;
}

Status CheckKeys(const toml::table& t, const std::vector<std::string>& allowed, const std::string& prefix,
                 const Errors& err) {
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return err.At((int)k.source().begin.line, prefix + key,
                    "unknown key; allowed keys here: " + Quoted(allowed));
  }
  return Status::Ok();
}

Result<int64_t> GetInt(const toml::node& n, const std::string& key, int64_t min, const Errors& err) {
  if (!n.is_integer()) return err.At(n, key, std::string("expected an integer, got ") + TypeName(n));
  int64_t v = n.as_integer()->get();
  if (v < min) return err.At(n, key, "must be >= " + std::to_string(min) + ", got " + std::to_string(v));
  return v;
}

Result<double> GetNumber(const toml::node& n, const std::string& key, double min, const Errors& err) {
  double v;
  if (n.is_integer())
    v = (double)n.as_integer()->get();
  else if (n.is_floating_point())
    v = n.as_floating_point()->get();
  else
    return err.At(n, key, std::string("expected a number, got ") + TypeName(n));
  if (!(v >= min)) return err.At(n, key, "must be >= " + FormatDouble(min) + ", got " + FormatDouble(v));
  // TOML has inf: `cooldown_s = inf` or `lr = inf` passed ">= min" (found
  // with spec_fuzz's invariants).
  if (!std::isfinite(v)) return err.At(n, key, "must be a finite number, got " + FormatDouble(v));
  return v;
}

Result<bool> GetBool(const toml::node& n, const std::string& key, const Errors& err) {
  if (!n.is_boolean()) return err.At(n, key, std::string("expected true or false, got ") + TypeName(n));
  return n.as_boolean()->get();
}

Result<std::string> GetString(const toml::node& n, const std::string& key, const Errors& err) {
  if (!n.is_string()) return err.At(n, key, std::string("expected a string, got ") + TypeName(n));
  return n.as_string()->get();
}

// A non-empty array of strings (a single string is accepted as a one-element list).
Result<std::vector<std::string>> GetStrings(const toml::node& n, const std::string& key, const Errors& err) {
  std::vector<std::string> out;
  if (n.is_string()) return std::vector<std::string>{n.as_string()->get()};
  if (!n.is_array()) return err.At(n, key, std::string("expected an array of strings, got ") + TypeName(n));
  for (const auto& e : *n.as_array()) {
    if (!e.is_string())
      return err.At(e, key, std::string("expected an array of strings, found ") + TypeName(e) + " in it");
    out.push_back(e.as_string()->get());
  }
  if (out.empty()) return err.At(n, key, "empty sweep: give at least one value");
  return out;
}

Result<std::vector<int64_t>> GetInts(const toml::node& n, const std::string& key, int64_t min,
                                     const Errors& err) {
  std::vector<int64_t> out;
  if (n.is_integer()) {
    WATTLAB_ASSIGN_OR_RETURN(int64_t v, GetInt(n, key, min, err));
    return std::vector<int64_t>{v};
  }
  if (!n.is_array()) return err.At(n, key, std::string("expected an array of integers, got ") + TypeName(n));
  for (const auto& e : *n.as_array()) {
    WATTLAB_ASSIGN_OR_RETURN(int64_t v, GetInt(e, key, min, err));
    out.push_back(v);
  }
  if (out.empty()) return err.At(n, key, "empty sweep: give at least one value");
  return out;
}

// A non-empty array of positive numbers (a single number is a one-element list).
Result<std::vector<double>> GetPositiveNumbers(const toml::node& n, const std::string& key,
                                               const Errors& err) {
  std::vector<double> out;
  auto one = [&](const toml::node& e) -> Status {
    WATTLAB_ASSIGN_OR_RETURN(double v, GetNumber(e, key, 0, err));
    if (!(v > 0)) return err.At(e, key, "must be > 0, got " + FormatDouble(v));
    out.push_back(v);
    return Status::Ok();
  };
  if (n.is_integer() || n.is_floating_point()) {
    WATTLAB_RETURN_IF_ERROR(one(n));
    return out;
  }
  if (!n.is_array()) return err.At(n, key, std::string("expected an array of numbers, got ") + TypeName(n));
  for (const auto& e : *n.as_array()) WATTLAB_RETURN_IF_ERROR(one(e));
  if (out.empty()) return err.At(n, key, "empty sweep: give at least one value");
  return out;
}

}  // namespace

namespace {
constexpr const char* kDatasetOverride = "\n# wattlab study --dataset ";
}  // namespace

void OverrideDataset(StudySpec* spec, const std::string& dataset) {
  spec->dataset = dataset;
  spec->toml += std::string(kDatasetOverride) + dataset + "\n";
}

Result<StudySpec> ParseStoredStudySpec(const std::string& stored_toml, const std::string& file) {
  WATTLAB_ASSIGN_OR_RETURN(StudySpec spec, ParseStudySpec(stored_toml, file));
  const size_t at = stored_toml.rfind(kDatasetOverride);
  if (at != std::string::npos) {
    const size_t from = at + std::string(kDatasetOverride).size();
    const size_t end = stored_toml.find('\n', from);
    spec.dataset = stored_toml.substr(from, end == std::string::npos ? std::string::npos : end - from);
  }
  spec.toml = stored_toml;
  return spec;
}

Result<StudySpec> ParseStudySpec(const std::string& text, const std::string& file) {
  Errors err(file);
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(file + ":" + std::to_string(e.source().begin.line) +
                                   ": not valid TOML: " + std::string(e.description()));
  }
  StudySpec spec;
  spec.file = file;
  spec.toml = text;
  WATTLAB_RETURN_IF_ERROR(CheckKeys(root,
                                    {"name", "description", "seed", "repetitions", "warmup_steps",
                                     "cooldown_s", "idle_s", "idle_every_s", "dataset", "calibrate", "sweep"},
                                    "", err));
  if (const auto* n = root.get("name")) {
    WATTLAB_ASSIGN_OR_RETURN(spec.name, GetString(*n, "name", err));
  }
  if (spec.name.empty())
    return err.At(1, "name", "missing or empty: every study needs a name, e.g. name = \"pilot\"");
  if (const auto* n = root.get("description")) {
    WATTLAB_RETURN_IF_ERROR(GetString(*n, "description", err).status());
  }
  if (const auto* n = root.get("seed")) {
    WATTLAB_ASSIGN_OR_RETURN(int64_t s, GetInt(*n, "seed", 0, err));
    spec.seed = (uint64_t)s;
  }
  if (const auto* n = root.get("repetitions")) {
    WATTLAB_ASSIGN_OR_RETURN(spec.repetitions, GetInt(*n, "repetitions", 1, err));
  }
  if (const auto* n = root.get("warmup_steps")) {
    WATTLAB_ASSIGN_OR_RETURN(spec.warmup_steps, GetInt(*n, "warmup_steps", 1, err));
  }
  if (const auto* n = root.get("cooldown_s")) {
    WATTLAB_ASSIGN_OR_RETURN(spec.cooldown_s, GetNumber(*n, "cooldown_s", 0, err));
  }
  if (const auto* n = root.get("idle_s")) {
    WATTLAB_ASSIGN_OR_RETURN(spec.idle_s, GetNumber(*n, "idle_s", 0, err));
  }
  if (const auto* n = root.get("idle_every_s")) {
    WATTLAB_ASSIGN_OR_RETURN(spec.idle_every_s, GetNumber(*n, "idle_every_s", 0, err));
  }
  if (const auto* n = root.get("dataset")) {
    WATTLAB_ASSIGN_OR_RETURN(spec.dataset, GetString(*n, "dataset", err));
    Status ds = catalog::CheckDataset(spec.dataset);
    if (!ds.ok()) return err.At(*n, "dataset", ds.message());
  }

  if (const auto* n = root.get("calibrate")) {
    if (n->is_boolean()) {
      spec.calibrate = n->as_boolean()->get() ? "default" : "";
    } else if (n->is_string() && (n->as_string()->get() == "quick" || n->as_string()->get() == "default")) {
      spec.calibrate = n->as_string()->get();
    } else {
      return err.At(*n, "calibrate", "expected true, false, \"quick\" or \"default\"");
    }
  }

  const toml::node* sweeps = root.get("sweep");
  if (!sweeps) return err.At(0, "sweep", "missing: a study needs at least one [[sweep]] table");
  if (!sweeps->is_array_of_tables())
    return err.At(*sweeps, "sweep", std::string("expected [[sweep]] tables, got ") + TypeName(*sweeps));
  const auto& arr = *sweeps->as_array();
  if (arr.empty()) return err.At(*sweeps, "sweep", "empty: a study needs at least one [[sweep]] table");
  for (size_t i = 0; i < arr.size(); ++i) {
    const toml::table& t = *arr[i].as_table();
    std::string p = "sweep[" + std::to_string(i + 1) + "].";
    SweepSpec sw;
    sw.line = (int)t.source().begin.line;
    if (const auto* n = t.get("name")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.label, GetString(*n, p + "name", err));
    }
    // Which kind of sweep: the user's command, a TorchScript file, or zoo models.
    const auto* command = t.get("command");
    const auto* models = t.get("models");
    const auto* script = t.get("torchscript");
    const std::string who = sw.label.empty() ? "" : "sweep '" + sw.label + "': ";
    if (command && models)
      return err.At(*command, p + "command",
                    who + "give command (your program) or models (the zoo), not both in one sweep");
    if (script && models)
      return err.At(*script, p + "torchscript",
                    who + "give torchscript (your model file) or models (the zoo), not both in one sweep");
    static const std::vector<std::string> kModelKeys = {"name",
                                                        "models",
                                                        "torchscript",
                                                        "input",
                                                        "batch_sizes",
                                                        "threads",
                                                        "precision",
                                                        "phases",
                                                        "profile_steps",
                                                        "max_profile_steps",
                                                        "epochs",
                                                        "steps_per_epoch",
                                                        "train_samples",
                                                        "full_length",
                                                        "evaluate",
                                                        "eval_samples",
                                                        "infer_samples",
                                                        "optimizer",
                                                        "lr",
                                                        "gpu_power_limits_w",
                                                        "gpu_power_limits_pct",
                                                        "cpu_power_limits_w",
                                                        "cpu_max_freqs_mhz",
                                                        "omp_wait_policy"};
    static const std::vector<std::string> kCommandKeys = {"name",
                                                          "command",
                                                          "batch_sizes",
                                                          "threads",
                                                          "precision",
                                                          "epochs",
                                                          "phases",
                                                          "params",
                                                          "macs",
                                                          "torchscript",
                                                          "input",
                                                          "windows",
                                                          "timeout_s",
                                                          "gpu_power_limits_w",
                                                          "gpu_power_limits_pct",
                                                          "cpu_power_limits_w",
                                                          "cpu_max_freqs_mhz"};
    if (command) {
      for (auto&& [k, v] : t) {
        std::string key(k.str());
        if (std::find(kCommandKeys.begin(), kCommandKeys.end(), key) == kCommandKeys.end())
          return err.At((int)k.source().begin.line, p + key,
                        who +
                            (std::find(kModelKeys.begin(), kModelKeys.end(), key) != kModelKeys.end()
                                 ? "not used by a command sweep (your program decides it)"
                                 : "unknown key") +
                            "; allowed keys in a command sweep: " + Quoted(kCommandKeys));
      }
    } else {
      for (auto&& [k, v] : t) {
        std::string key(k.str());
        if (std::find(kModelKeys.begin(), kModelKeys.end(), key) == kModelKeys.end())
          return err.At((int)k.source().begin.line, p + key,
                        who +
                            (std::find(kCommandKeys.begin(), kCommandKeys.end(), key) != kCommandKeys.end()
                                 ? "only for a command sweep (command = [...])"
                                 : "unknown key") +
                            "; allowed keys here: " + Quoted(kModelKeys));
      }
    }
    if (script) {
      WATTLAB_ASSIGN_OR_RETURN(sw.torchscript, GetString(*script, p + "torchscript", err));
      if (sw.torchscript.empty())
        return err.At(*script, p + "torchscript", who + "empty: give the path of a TorchScript file");
    }
    if (const auto* n = t.get("input")) {
      if (!script)
        return err.At(*n, p + "input",
                      who + "input is the shape of a torchscript model: give torchscript too");
      WATTLAB_ASSIGN_OR_RETURN(sw.input, GetString(*n, p + "input", err));
      auto shape = ParseShape(sw.input);
      if (!shape.ok()) return err.At(*n, p + "input", who + shape.status().message());
    }
    if (command) {
      if (sw.label.empty())
        return err.At(*command, p + "name",
                      "missing: a command sweep needs a name (the model name of its rows), e.g. name = "
                      "\"my model\"");
      if (!command->is_array() || command->as_array()->empty())
        return err.At(*command, p + "command",
                      who +
                          "expected a non-empty array: the program and its arguments, e.g. command = "
                          "[\"/usr/bin/python3\", \"train.py\", \"--batch-size\", \"{batch_size}\"]");
      WATTLAB_ASSIGN_OR_RETURN(sw.command, GetStrings(*command, p + "command", err));
      if (sw.command[0].empty())
        return err.At(*command, p + "command", who + "the program (first element) is empty");
      std::vector<std::pair<std::string, std::string>> probe;
      for (const auto& ph : CommandPlaceholders()) probe.emplace_back(ph, "1");
      for (const auto& a : sw.command) {
        auto filled = FillPlaceholders(a, probe);
        if (!filled.ok()) return err.At(*command, p + "command", who + filled.status().message());
      }
      if (const auto* n = t.get("params")) {
        WATTLAB_ASSIGN_OR_RETURN(sw.params, GetInt(*n, p + "params", 1, err));
      }
      if (const auto* n = t.get("macs")) {
        WATTLAB_ASSIGN_OR_RETURN(sw.macs, GetInt(*n, p + "macs", 1, err));
      }
      if (const auto* n = t.get("timeout_s")) {
        WATTLAB_ASSIGN_OR_RETURN(sw.timeout_s, GetNumber(*n, p + "timeout_s", 0, err));
        if (sw.timeout_s <= 0) return err.At(*n, p + "timeout_s", who + "must be > 0");
      }
    } else if (script) {
      // The user's model file, trained and run by the engine: the rows' model name.
      sw.models = {sw.label.empty() ? sw.torchscript : sw.label};
    } else {
      if (!models)
        return err.At(sw.line, p + "models",
                      "missing: list the models to sweep, e.g. models = [\"lenet\"] (or command = [...] "
                      "for your own program, torchscript = \"model.pt\" for your own model)");
      WATTLAB_ASSIGN_OR_RETURN(sw.models, GetStrings(*models, p + "models", err));
      for (const auto& m : sw.models) {
        Status s = catalog::CheckModelName(m);
        if (!s.ok()) return err.At(*models, p + "models", s.message());
      }
    }
    const auto* batches = t.get("batch_sizes");
    if (!batches) return err.At(sw.line, p + "batch_sizes", "missing: e.g. batch_sizes = [32]");
    WATTLAB_ASSIGN_OR_RETURN(sw.batch_sizes, GetInts(*batches, p + "batch_sizes", 1, err));
    sw.threads = {0};
    if (const auto* n = t.get("threads")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.threads, GetInts(*n, p + "threads", 0, err));
    }
    sw.precision = {"fp32"};
    if (const auto* n = t.get("precision")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.precision, GetStrings(*n, p + "precision", err));
      for (const auto& x : sw.precision)
        if (x != "fp32" && x != "bf16")
          return err.At(*n, p + "precision", "'" + x + "' is not allowed; allowed: fp32, bf16");
    }
    sw.phases = sw.is_command() ? std::vector<std::string>{"train", "eval", "infer"}
                                : std::vector<std::string>{"train", "infer"};
    if (const auto* n = t.get("phases")) {
      sw.phases_given = true;
      WATTLAB_ASSIGN_OR_RETURN(sw.phases, GetStrings(*n, p + "phases", err));
      for (const auto& x : sw.phases) {
        if (sw.is_command()) {
          if (x != "train" && x != "eval" && x != "infer")
            return err.At(*n, p + "phases", who + "'" + x + "' is not allowed; allowed: train, eval, infer");
        } else if (x != "train" && x != "infer") {
          return err.At(
              *n, p + "phases",
              "'" + x +
                  "' is not allowed; allowed: train, infer (eval runs inside train when evaluate = true)");
        }
      }
    }
    if (const auto* n = t.get("windows")) {
      if (!n->is_table())
        return err.At(*n, p + "windows",
                      who +
                          std::string("expected a table of phase = \"pattern\", e.g. windows = { train = "
                                      "\"epoch*\", infer = \"predict\" }, got ") +
                          TypeName(*n));
      for (auto&& [k, v] : *n->as_table()) {
        std::string phase(k.str());
        const std::string key = p + "windows." + phase;
        if (phase != "train" && phase != "eval" && phase != "infer")
          return err.At(v, key, who + "'" + phase + "' is not a phase; allowed: train, eval, infer");
        if (std::find(sw.phases.begin(), sw.phases.end(), phase) == sw.phases.end())
          return err.At(v, key, who + "phase '" + phase + "' is not in phases (" + Quoted(sw.phases) + ")");
        WATTLAB_ASSIGN_OR_RETURN(auto pats, GetStrings(v, key, err));
        sw.windows.emplace_back(phase, std::move(pats));
      }
    }
    if (const auto* n = t.get("omp_wait_policy")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.omp_wait_policy, GetStrings(*n, p + "omp_wait_policy", err));
      for (auto& x : sw.omp_wait_policy) {
        if (x != "default" && x != "active" && x != "passive")
          return err.At(
              *n, p + "omp_wait_policy",
              "'" + x + "' is not allowed; allowed: default (OMP_WAIT_POLICY unset), active, passive");
      }
      std::set<std::string> distinct(sw.omp_wait_policy.begin(), sw.omp_wait_policy.end());
      if (distinct.size() != sw.omp_wait_policy.size())
        return err.At(*n, p + "omp_wait_policy", "a policy is listed twice");
    }
    if (const auto* n = t.get("profile_steps")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.profile_steps, GetInt(*n, p + "profile_steps", 3, err));
    }
    if (const auto* n = t.get("max_profile_steps")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.max_profile_steps, GetInt(*n, p + "max_profile_steps", 3, err));
      if (sw.max_profile_steps < sw.profile_steps)
        return err.At(*n, p + "max_profile_steps",
                      who + std::to_string(sw.max_profile_steps) +
                          " is less than profile_steps = " + std::to_string(sw.profile_steps) +
                          " (the profile's minimum); give max_profile_steps >= profile_steps, or equal to "
                          "it for a profile of exactly that many steps");
    } else {
      // Not given: the default, or profile_steps when that asks for more.
      sw.max_profile_steps = std::max(kDefaultMaxProfileSteps, sw.profile_steps);
    }
    if (const auto* n = t.get("epochs")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.epochs, GetInt(*n, p + "epochs", 1, err));
    }
    if (const auto* n = t.get("steps_per_epoch")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.steps_per_epoch, GetInt(*n, p + "steps_per_epoch", 0, err));
    }
    if (const auto* n = t.get("train_samples")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.train_samples, GetInt(*n, p + "train_samples", 0, err));
    }
    if (const auto* n = t.get("full_length")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.full_length, GetBool(*n, p + "full_length", err));
    }
    if (const auto* n = t.get("evaluate")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.evaluate, GetBool(*n, p + "evaluate", err));
      if (sw.evaluate && !sw.full_length)
        return err.At(
            *n, p + "evaluate",
            "evaluate = true needs full_length = true (accuracy after a few profile steps means nothing)");
    }
    if (const auto* n = t.get("eval_samples")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.eval_samples, GetInt(*n, p + "eval_samples", 0, err));
    }
    if (const auto* n = t.get("infer_samples")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.infer_samples, GetInt(*n, p + "infer_samples", 1, err));
    }
    if (const auto* n = t.get("optimizer")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.optimizer, GetString(*n, p + "optimizer", err));
      if (sw.optimizer != "sgd" && sw.optimizer != "adam")
        return err.At(*n, p + "optimizer", "'" + sw.optimizer + "' is not allowed; allowed: sgd, adam");
    }
    if (const auto* n = t.get("lr")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.lr, GetNumber(*n, p + "lr", 0, err));
      if (sw.lr <= 0) return err.At(*n, p + "lr", "must be > 0");
    }
    if (const auto* n = t.get("gpu_power_limits_w")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.gpu_power_limits_w, GetPositiveNumbers(*n, p + "gpu_power_limits_w", err));
    }
    if (const auto* n = t.get("gpu_power_limits_pct")) {
      if (t.get("gpu_power_limits_w"))
        return err.At(*n, p + "gpu_power_limits_pct",
                      "give gpu_power_limits_w or gpu_power_limits_pct, not both");
      WATTLAB_ASSIGN_OR_RETURN(sw.gpu_power_limits_pct,
                               GetPositiveNumbers(*n, p + "gpu_power_limits_pct", err));
    }
    if (const auto* n = t.get("cpu_power_limits_w")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.cpu_power_limits_w, GetPositiveNumbers(*n, p + "cpu_power_limits_w", err));
    }
    if (const auto* n = t.get("cpu_max_freqs_mhz")) {
      WATTLAB_ASSIGN_OR_RETURN(sw.cpu_max_freqs_mhz, GetPositiveNumbers(*n, p + "cpu_max_freqs_mhz", err));
    }
    if (sw.is_command()) {
      // A swept value the command never receives would give identical runs.
      auto uses = [&](const std::string& ph) {
        for (const auto& a : sw.command)
          if (a.find("{" + ph + "}") != std::string::npos) return true;
        return false;
      };
      const std::pair<const char*, size_t> swept[] = {{"batch_size", sw.batch_sizes.size()},
                                                      {"threads", sw.threads.size()},
                                                      {"precision", sw.precision.size()}};
      for (const auto& [ph, count] : swept)
        if (count > 1 && !uses(ph))
          return err.At(sw.line, p + (std::string(ph) == "batch_size" ? "batch_sizes" : ph),
                        who + std::to_string(count) + " values, but command has no {" + ph +
                            "}: the runs would be identical; put {" + ph + "} in command or give one value");
    }
    bool trains = std::find(sw.phases.begin(), sw.phases.end(), "train") != sw.phases.end();
    if (sw.full_length && !trains)
      return err.At(sw.line, p + "full_length", "full_length = true needs \"train\" in phases");
    spec.sweeps.push_back(std::move(sw));
  }
  return spec;
}

const std::vector<std::string>& CommandPlaceholders() {
  static const std::vector<std::string> k = {"batch_size", "threads",    "precision", "epochs",
                                             "seed",       "repetition", "run_id",    "dataset"};
  return k;
}

Result<std::string> FillPlaceholders(const std::string& arg,
                                     const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  for (size_t i = 0; i < arg.size(); ++i) {
    const char c = arg[i];
    if ((c == '{' || c == '}') && i + 1 < arg.size() && arg[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '}')
      return Status::InvalidArgument("'" + arg + "': a '}' without its '{' (write }} for a literal brace)");
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = arg.find('}', i + 1);
    if (close == std::string::npos)
      return Status::InvalidArgument("'" + arg + "': a '{' without its '}' (write {{ for a literal brace)");
    const std::string name = arg.substr(i + 1, close - i - 1);
    bool found = false;
    for (const auto& [k, v] : values)
      if (k == name) {
        out += v;
        found = true;
        break;
      }
    if (!found)
      return Status::InvalidArgument("unknown placeholder {" + name + "} in '" + arg + "'; allowed: {" +
                                     Join(CommandPlaceholders(), "}, {") +
                                     "} (write {{ and }} for literal braces)");
    i = close;
  }
  return out;
}

bool GlobMatch(const std::string& pattern, const std::string& text) {
  // Iterative matcher with one backtrack point for the last '*'.
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const std::vector<std::string>& PresetNames() {
  static const std::vector<std::string> k = {"quick", "default", "paper"};
  return k;
}

Result<std::string> PresetText(const std::string& name) {
  if (name == "quick") return std::string(study_presets::kQuick);
  if (name == "default") return std::string(study_presets::kDefault);
  if (name == "paper") return std::string(study_presets::kPaper);
  return Status::NotFound("unknown preset '" + name + "'; allowed: " + Quoted(PresetNames()));
}

Result<StudySpec> LoadPreset(const std::string& name) {
  WATTLAB_ASSIGN_OR_RETURN(std::string text, PresetText(name));
  return ParseStudySpec(text, "preset:" + name);
}

}  // namespace wattlab

#include "wattlab/workload.h"