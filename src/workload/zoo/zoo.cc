// The zoo's API edge: names, spec parsing, Build, the analytic counter and
// parameter counting. Every libtorch exception and ShapeError is turned into
// a Status here.
#include "workload/zoo/zoo.h"

#include <cmath>
#include <exception>
#include <set>

#include <c10/util/Exception.h>

#include "core/strings.h"
#include "workload/zoo/net.h"

namespace wattlab::zoo {
namespace {

const std::vector<std::string>& CifarNames() {
  static const std::vector<std::string> kNames = {
      "lenet",       "vgg16",        "resnet18",  "preact_resnet18", "googlenet",       "densenet121",
      "resnext29_2x64d", "mobilenet", "mobilenetv2", "dpn26",        "shufflenetv2",    "senet18",
      "efficientnet_b0", "regnetx_200mf", "simple_dla", "pnasnet"};
  return kNames;
}
const std::vector<std::string>& ImagenetNames() {
  static const std::vector<std::string> kNames = {"imagenet/resnet18", "imagenet/resnet50", "imagenet/mobilenet_v2",
                                                  "imagenet/vgg16", "imagenet/efficientnet_b0"};
  return kNames;
}

constexpr const char* kFamilyForms =
    "mlp:depth=D,width=W | resnet:depth=D,width=W (D = 6n+2) | transformer:layers=L,d_model=D,heads=H,seq=S "
    "(S a square number, D divisible by H)";

Status UnknownName(const std::string& name) {
  return Status::InvalidArgument("unknown model '" + name + "'; valid names: " + Join(CifarNames(), ", ") + ", " +
                                 Join(ImagenetNames(), ", ") + "; or a family spec: " + kFamilyForms);
}

bool IsCifar(const std::string& n) {
  for (const auto& c : CifarNames()) if (c == n) return true;
  return false;
}
bool IsImagenet(const std::string& n) {
  for (const auto& c : ImagenetNames()) if (c == n) return true;
  return false;
}

// A parsed family spec.
struct Spec {
  std::string family;  // "mlp", "resnet", "transformer"
  std::map<std::string, int64_t> values;
};

// Parses "family:key=value,..." with exactly the family's keys, each an
// integer in [1, max].
Result<Spec> ParseSpec(const std::string& name) {
  auto colon = name.find(':');
  Spec spec;
  spec.family = name.substr(0, colon);
  std::vector<std::pair<std::string, int64_t>> keys;  // key, max
  if (spec.family == "mlp") {
    keys = {{"depth", 1000}, {"width", 1 << 16}};
  } else if (spec.family == "resnet") {
    keys = {{"depth", 1202}, {"width", 1024}};
  } else if (spec.family == "transformer") {
    keys = {{"layers", 256}, {"d_model", 8192}, {"heads", 256}, {"seq", 16384}};
  } else {
    return UnknownName(name);
  }
  std::string form = spec.family == "mlp" ? "mlp:depth=D,width=W"
                     : spec.family == "resnet" ? "resnet:depth=D,width=W"
                                               : "transformer:layers=L,d_model=D,heads=H,seq=S";
  std::string body = colon == std::string::npos ? "" : name.substr(colon + 1);
  for (const auto& part : Split(body, ',')) {
    if (TrimCopy(part).empty()) continue;
    auto eq = part.find('=');
    std::string key = TrimCopy(part.substr(0, eq));
    bool known = false;
    for (const auto& k : keys) known = known || k.first == key;
    if (!known) {
      return Status::InvalidArgument("model spec '" + name + "': unknown key '" + key + "'; the form is " + form);
    }
    if (eq == std::string::npos) {
      return Status::InvalidArgument("model spec '" + name + "': key '" + key + "' has no value; the form is " + form);
    }
    auto v = ParseInt(TrimCopy(part.substr(eq + 1)));
    if (!v) {
      return Status::InvalidArgument("model spec '" + name + "': " + key + " must be an integer, got '" +
                                     part.substr(eq + 1) + "'; the form is " + form);
    }
    spec.values[key] = *v;
  }
  for (const auto& [key, max] : keys) {
    auto it = spec.values.find(key);
    if (it == spec.values.end()) {
      return Status::InvalidArgument("model spec '" + name + "': missing " + key + "; the form is " + form);
    }
    if (it->second < 1 || it->second > max) {
      return Status::InvalidArgument("model spec '" + name + "': " + key + " must be between 1 and " +
                                     std::to_string(max) + ", got " + std::to_string(it->second));
    }
  }
  if (spec.family == "resnet") {
    int64_t d = spec.values["depth"];
    if (d < 8 || (d - 2) % 6 != 0) {
      return Status::InvalidArgument("model spec '" + name + "': depth must be 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...), got " +
                                     std::to_string(d));
    }
  }
  if (spec.family == "transformer") {
    int64_t d = spec.values["d_model"], h = spec.values["heads"], s = spec.values["seq"];
    if (d % h != 0) {
      return Status::InvalidArgument("model spec '" + name + "': d_model (" + std::to_string(d) +
                                     ") must be divisible by heads (" + std::to_string(h) + ")");
    }
    int64_t g = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(s))));
    if (g * g != s) {
      return Status::InvalidArgument("model spec '" + name + "': seq must be a square number (the image is cut into a "
                                     "g x g grid of patches: 16, 64, 256, ...), got " + std::to_string(s));
    }
  }
  return spec;
}

Result<std::shared_ptr<ZooNet>> Make(const std::string& name, const Shape& input) {
  if (IsCifar(name)) {
    std::shared_ptr<ZooNet> n = MakeCifarA(name, input.c);
    if (!n) n = MakeCifarB(name, input.c);
    if (!n) n = MakeCifarC(name, input.c);
    if (n) return n;
    return Status::Internal("zoo: no factory for '" + name + "'");
  }
  if (IsImagenet(name)) return MakeImagenet(name, input.c);
  WATTLAB_ASSIGN_OR_RETURN(Spec spec, ParseSpec(name));
  if (spec.family == "mlp") return MakeMlp(input.c, spec.values["depth"], spec.values["width"]);
  if (spec.family == "resnet") return MakeCifarResnet(input.c, spec.values["depth"], spec.values["width"]);
  return MakeTransformer(input, spec.values["layers"], spec.values["d_model"], spec.values["heads"],
                         spec.values["seq"]);
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
      return Status::InvalidArgument("model '" + name + "' cannot take input " + input.ToString() + " (" + e.what() +
                                     ")" + minimum);
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

std::vector<std::string> Names() {
  std::vector<std::string> names = CifarNames();
  names.insert(names.end(), ImagenetNames().begin(), ImagenetNames().end());
  names.push_back("mlp:depth=3,width=256");
  names.push_back("resnet:depth=20,width=16");
  names.push_back("transformer:layers=4,d_model=128,heads=4,seq=64");
  return names;
}

Result<Shape> NativeInput(const std::string& name) {
  if (IsCifar(name)) return Shape{3, 32, 32};
  if (IsImagenet(name)) return Shape{3, 224, 224};
  WATTLAB_ASSIGN_OR_RETURN(Spec spec, ParseSpec(name));
  (void)spec;
  return Shape{3, 32, 32};
}

int64_t NativeClasses(const std::string& name) { return IsImagenet(name) ? 1000 : 10; }

Result<std::shared_ptr<Net>> Build(const std::string& name, const Shape& input, int64_t classes) {
  WATTLAB_ASSIGN_OR_RETURN(std::shared_ptr<ZooNet> net, BuildZooNet(name, input, classes));
  return std::shared_ptr<Net>(net);
}

Result<ModelFacts> CountAnalytic(const std::string& name, const Shape& input, int64_t classes) {
  WATTLAB_ASSIGN_OR_RETURN(std::shared_ptr<ZooNet> net, BuildZooNet(name, input, classes));
  return CountAnalyticOf(*net, name, input, classes);
}

Result<ModelFacts> CountAnalyticOf(ZooNet& net, const std::string& name, const Shape& input, int64_t classes) {
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
    out.push_back({c.layer, c.elements_per_sample, static_cast<double>(c.macs_before) / static_cast<double>(total)});
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
