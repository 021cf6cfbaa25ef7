// wattlab models: every model with params, MACs, MACs by kind and MACs/param.
// Parsing and formatting only; counting is the engine's.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/workload_cli.h"
#include "core/strings.h"
#include "platform/plugin.h"

namespace wattlab::cli {

namespace {

struct Models {
  std::string input;
  std::optional<int64_t> n_classes;
  std::vector<std::string> only;
  bool json = false;
  int Run();
};

}  // namespace

CommandFn AddModels(CLI::App* root) {
  auto c = std::make_shared<Models>();
  CLI::App* p =
      AddCommand(root, "models", "list models with params, MACs (forward, per sample) and MACs/param");
  AddString(p, "--input", &c->input, "CxHxW",
            "count at this input shape (default: each model's native input)");
  AddCount(p, "--classes", &c->n_classes, 1, "N",
           "count with N output classes (default: each model's native count)");
  AddStrings(p, "--model", &c->only, "NAME", "only this model or family spec (repeatable)");
  AddFlag(p, "--json", &c->json, "print one JSON object");
  return [c](const Invocation&) { return c->Run(); };
}

int Models::Run() {
  const std::string cmd = "models";
  std::optional<Shape> shape;
  if (!input.empty()) {
    auto s = ParseShape(input);
    if (!s.ok()) return ReportError(cmd, s.status());
    shape = *s;
  }

  std::unique_ptr<Env> env = OpenDefaultEnv();
  PreferPassiveOpenMpWait(env.get());
  auto engine = LoadWorkloadEngine(env.get());
  if (!engine.ok()) return ReportError(cmd, engine.status());
  std::vector<std::string> names = only.empty() ? (*engine)->ModelNames() : only;

  // A model that cannot take the given shape is a row with its reason, not
  // the end of the listing; a name the user asked for that fails is an error.
  struct Row {
    std::string name;
    Result<ModelFacts> facts;
  };
  std::vector<Row> rows;
  int failed = 0;
  for (const auto& n : names) {
    rows.push_back(Row{n, (*engine)->Describe(n, shape, n_classes)});
    if (!rows.back().facts.ok()) ++failed;
  }
  if (!only.empty() && failed > 0) {
    for (const auto& r : rows)
      if (!r.facts.ok()) return ReportError(cmd, r.facts.status());
  }

  if (json) {
    nlohmann::json j;
    j["input"] = shape ? nlohmann::json(shape->ToString()) : nlohmann::json("native");
    j["classes"] = n_classes ? nlohmann::json(*n_classes) : nlohmann::json("native");
    j["mac_convention"] =
        "forward multiply-accumulates per sample (conv, linear, matmul, attention); other work by kind";
    j["models"] = nlohmann::json::array();
    for (const auto& r : rows) {
      if (r.facts.ok()) {
        j["models"].push_back(ModelJson(*r.facts));
      } else {
        j["models"].push_back({{"name", r.name}, {"error", r.facts.status().message()}});
      }
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%-44s %-11s %14s %16s %12s %16s %16s\n", "model", "input", "params", "macs", "macs/param",
                "conv", "linear");
    for (const auto& r : rows) {
      if (!r.facts.ok()) {
        std::printf("%-44s (not countable: %s)\n", r.name.c_str(), r.facts.status().message().c_str());
        continue;
      }
      const ModelFacts& f = *r.facts;
      auto kind = [&](const char* k) -> long long {
        auto it = f.macs_by_kind.find(k);
        return it == f.macs_by_kind.end() ? 0 : static_cast<long long>(it->second);
      };
      std::printf("%-44s %-11s %14lld %16lld %12.1f %16lld %16lld\n", f.name.c_str(),
                  f.input.ToString().c_str(), static_cast<long long>(f.params),
                  static_cast<long long>(f.macs), f.macs_per_param, kind("conv"), kind("linear"));
    }
    std::printf(
        "\nMACs: forward multiply-accumulates per sample (FLOPs = 2 x MACs); training costs about 3x.\n");
  }
  return failed == static_cast<int>(rows.size()) && !rows.empty() ? kExitFailure : kExitOk;
}

}  // namespace wattlab::cli
