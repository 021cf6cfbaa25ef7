// The zoo's API edge: Build, the analytic counter and parameter counting.
// Names, native shapes and the family grammar are the catalog's
// (src/catalog); this file only builds what it names. Every libtorch
// exception and ShapeError is turned into a Status here.
#include "workload/zoo/zoo.h"

#include <c10/util/Exception.h>

#include <exception>

#include "catalog/catalog.h"
#include "core/strings.h"
#include "workload/zoo/net.h"

namespace wattlab::zoo {
namespace {

Result<std::shared_ptr<ZooNet>> Make(const std::string& name, const Shape& input) {
  WATTLAB_ASSIGN_OR_RETURN(catalog::ModelInfo info, catalog::LookupModel(name));
  if (info.kind == catalog::ModelKind::kCifar) {
    std::shared_ptr<ZooNet> n = MakeCifarA(name, input.c);
    if (!n) n = MakeCifarB(name, input.c);
    if (!n) n = MakeCifarC(name, input.c);
    if (n) return n;
    return Status::Internal("zoo: no factory for '" + name + "'");
  }
  if (info.kind == catalog::ModelKind::kImagenet) return MakeImagenet(name, input.c);
  const catalog::FamilySpec& spec = *info.family;
  if (spec.family == "mlp") return MakeMlp(input.c, spec.at("depth"), spec.at("width"));
  if (spec.family == "resnet") return MakeCifarResnet(input.c, spec.at("depth"), spec.at("width"));
  return MakeTransformer(input, spec.at("layers"), spec.at("d_model"), spec.at("heads"), spec.at("seq"));
}

}  // namespace

Result<std::shared_ptr<ZooNet>> BuildZooNet(const std::string& name, const Shape& input, int64_t classes) {
  if (input.c < 1 || input.h < 1 || input.w < 1) {
    return Status::InvalidArgument("input shape " + input.ToString() + " must have every dimension >= 1");
  }
  if (classes < 1) {
    return Status::InvalidArgument("class count must be >= 1, got " + std::to_string(classes));
  }
  try {
    WATTLAB_ASSIGN_OR_RETURN(std::shared_ptr<ZooNet> net, Make(name, input));
    try {
      net->Finish(input, classes);
    } catch (const ShapeError& e) {
      std::string minimum;
      // The transformer's patch grid is fixed at construction, so only the
      // conv nets have a meaningful "smallest input".
      if (!StartsWith(name, "transformer:")) {
        for (int64_t s = 1; s <= 1024; ++s) {
          if (net->Fits(Shape{input.c, s, s})) {
            minimum = "; the smallest square input it takes is " + Shape{input.c, s, s}.ToString();
            break;
          }
        }
      }
      return Status::InvalidArgument("model '" + name + "' cannot take input " + input.ToString() + " (" +
                                     e.what() + ")" + minimum);
    }
    return net;
  } catch (const c10::Error& e) {
    return Status::Internal("libtorch failed building '" + name + "': " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Status::Internal("failed building '" + name + "': " + e.what());
  }
}

std::map<std::string, int64_t> FinalizeKinds(std::map<std::string, int64_t> by_kind) {
  std::map<std::string, int64_t> out;
  out["conv"] = by_kind["conv"];
  out["linear"] = by_kind["linear"];
  for (const auto& [k, v] : by_kind) {
    if (v != 0) out[k] = v;
  }
  return out;
}

int64_t MacsOf(const std::map<std::string, int64_t>& by_kind) {
  int64_t m = 0;
  for (const char* k : {"conv", "linear", "matmul"}) {
    auto it = by_kind.find(k);
    if (it != by_kind.end()) m += it->second;
  }
  return m;
}

std::vector<std::string> Names() { return catalog::ModelNames(); }

Result<Shape> NativeInput(const std::string& name) {
  WATTLAB_ASSIGN_OR_RETURN(catalog::ModelInfo info, catalog::LookupModel(name));
  return info.native_input;
}

int64_t NativeClasses(const std::string& name) {
  auto info = catalog::LookupModel(name);
  return info.ok() ? info->native_classes : 10;
}

Result<std::shared_ptr<Net>> Build(const std::string& name, const Shape& input, int64_t classes) {
  WATTLAB_ASSIGN_OR_RETURN(std::shared_ptr<ZooNet> net, BuildZooNet(name, input, classes));
  return std::shared_ptr<Net>(net);
}

Result<ModelFacts> CountAnalytic(const std::string& name, const Shape& input, int64_t classes) {
  WATTLAB_ASSIGN_OR_RETURN(std::shared_ptr<ZooNet> net, BuildZooNet(name, input, classes));
  return CountAnalyticOf(*net, name, input, classes);
}

Result<ModelFacts> CountAnalyticOf(ZooNet& net, const std::string& name, const Shape& input,
                                   int64_t classes) {
  Tally tally;
  try {
    net.Describe(Sym{{1, input.c, input.h, input.w}, &tally});
  } catch (const std::exception& e) {
    return Status::Internal("analytic count of '" + name + "' failed: " + e.what());
  }
  ModelFacts f;
  f.name = name;
  f.input = input;
  f.classes = classes;
  f.params = CountTrainableParams(net);
  f.macs_by_kind = FinalizeKinds(tally.by_kind);
  f.macs = MacsOf(f.macs_by_kind);
  f.macs_per_param = f.params > 0 ? static_cast<double>(f.macs) / static_cast<double>(f.params) : 0.0;
  f.counter = "analytic";
  return f;
}

Result<std::vector<SplitPoint>> SplitPoints(const std::string& name, const Shape& input, int64_t classes) {
  WATTLAB_ASSIGN_OR_RETURN(auto net, BuildZooNet(name, input, classes));
  return SplitPointsOf(*net, name, input);
}

Result<std::vector<SplitPoint>> SplitPointsOf(ZooNet& net, const std::string& name, const Shape& input) {
  std::vector<Cut> cuts;
  Tally tally;
  tally.cuts = &cuts;
  try {
    net.Describe(Sym{{1, input.c, input.h, input.w}, &tally});
  } catch (const std::exception& e) {
    return Status::Internal("split points of '" + name + "' failed: " + e.what());
  }
  const int64_t total = tally.Macs();
  std::vector<SplitPoint> out;
  for (const auto& c : cuts) {
    if (c.macs_before <= 0 || c.macs_before >= total) continue;
    // "before blockK+1" right after "after blockK" with no work between: the same cut.
    if (!out.empty() && c.elements_per_sample == out.back().activation_elements &&
        static_cast<double>(c.macs_before) / static_cast<double>(total) == out.back().mac_share)
      continue;
    out.push_back(
        {c.layer, c.elements_per_sample, static_cast<double>(c.macs_before) / static_cast<double>(total)});
  }
  return out;
}

int64_t CountTrainableParams(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters(/*recurse=*/true)) {
    if (p.requires_grad()) n += p.numel();
  }
  return n;
}

}  // namespace wattlab::zoo
