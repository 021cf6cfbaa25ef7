// Model names, the family grammar and lookup. The counts live in counts.cc.
#include <algorithm>
#include <cmath>

#include "catalog/catalog.h"
#include "core/strings.h"

namespace wattlab::catalog {
namespace {

bool Contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

// One family: its keys with their upper bounds (lower bound 1), and its form.
struct Family {
  const char* name;
  std::vector<std::pair<std::string, int64_t>> keys;  // key, max
  const char* form;
};

const std::vector<Family>& Families() {
  static const std::vector<Family> k = {
      {"mlp", {{"depth", 1000}, {"width", 1 << 16}}, "mlp:depth=D,width=W"},
      {"resnet", {{"depth", 1202}, {"width", 1024}}, "resnet:depth=D,width=W"},
      {"transformer",
       {{"layers", 256}, {"d_model", 8192}, {"heads", 256}, {"seq", 16384}},
       "transformer:layers=L,d_model=D,heads=H,seq=S"},
  };
  return k;
}

const Family* FindFamily(const std::string& name) {
  std::string prefix = name.substr(0, name.find(':'));
  for (const auto& f : Families())
    if (prefix == f.name) return &f;
  return nullptr;
}

Status UnknownName(const std::string& name) {
  return Status::InvalidArgument("unknown model '" + name + "'; valid names: " + Join(CifarModels(), ", ") +
                                 ", " + Join(ImagenetModels(), ", ") +
                                 "; or a family spec: " + FamilyForms() + " (see `wattlab models`)");
}

}  // namespace

const std::vector<std::string>& CifarModels() {
  static const std::vector<std::string> k = {
      "lenet",           "vgg16",         "resnet18",    "preact_resnet18", "googlenet",    "densenet121",
      "resnext29_2x64d", "mobilenet",     "mobilenetv2", "dpn26",           "shufflenetv2", "senet18",
      "efficientnet_b0", "regnetx_200mf", "simple_dla",  "pnasnet"};
  return k;
}

const std::vector<std::string>& ReferenceModels() {
  static const std::vector<std::string> k = {
      "simple_dla",      "dpn26",           "densenet121",   "efficientnet_b0",
      "googlenet",       "lenet",           "mobilenet",     "mobilenetv2",
      "pnasnet",         "preact_resnet18", "regnetx_200mf", "resnet18",
      "resnext29_2x64d", "senet18",         "shufflenetv2",  "vgg16"};
  return k;
}

const std::vector<std::string>& ImagenetModels() {
  static const std::vector<std::string> k = {"imagenet/resnet18", "imagenet/resnet50",
                                             "imagenet/mobilenet_v2", "imagenet/vgg16",
                                             "imagenet/efficientnet_b0"};
  return k;
}

const std::vector<std::string>& FamilyExamples() {
  static const std::vector<std::string> k = {"mlp:depth=3,width=256", "resnet:depth=20,width=16",
                                             "transformer:layers=4,d_model=128,heads=4,seq=64"};
  return k;
}

std::vector<std::string> ModelNames() {
  std::vector<std::string> names = CifarModels();
  names.insert(names.end(), ImagenetModels().begin(), ImagenetModels().end());
  names.insert(names.end(), FamilyExamples().begin(), FamilyExamples().end());
  return names;
}

const char* FamilyForms() {
  return "mlp:depth=D,width=W | resnet:depth=D,width=W (D = 6n+2) | "
         "transformer:layers=L,d_model=D,heads=H,seq=S "
         "(S a square number, D divisible by H)";
}

bool IsFamilyName(const std::string& name) { return FindFamily(name) != nullptr; }

Result<FamilySpec> ParseFamily(const std::string& name) {
  const Family* fam = FindFamily(name);
  if (fam == nullptr) return UnknownName(name);
  const std::string form = fam->form;
  FamilySpec spec;
  spec.family = fam->name;
  auto colon = name.find(':');
  std::string body = colon == std::string::npos ? "" : name.substr(colon + 1);
  for (const auto& part : Split(body, ',')) {
    if (TrimCopy(part).empty()) continue;
    auto eq = part.find('=');
    std::string key = TrimCopy(part.substr(0, eq));
    bool known = false;
    for (const auto& k : fam->keys) known = known || k.first == key;
    if (!known) {
      return Status::InvalidArgument("model spec '" + name + "': unknown key '" + key + "'; the form is " +
                                     form);
    }
    if (eq == std::string::npos) {
      return Status::InvalidArgument("model spec '" + name + "': key '" + key +
                                     "' has no value; the form is " + form);
    }
    auto v = ParseInt(TrimCopy(part.substr(eq + 1)));
    if (!v) {
      return Status::InvalidArgument("model spec '" + name + "': " + key + " must be an integer, got '" +
                                     part.substr(eq + 1) + "'; the form is " + form);
    }
    spec.values[key] = *v;
  }
  for (const auto& [key, max] : fam->keys) {
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
      return Status::InvalidArgument(
          "model spec '" + name +
          "': depth must be 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...), got " + std::to_string(d));
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
      return Status::InvalidArgument("model spec '" + name +
                                     "': seq must be a square number (the image is cut into a "
                                     "g x g grid of patches: 16, 64, 256, ...), got " +
                                     std::to_string(s));
    }
  }
  return spec;
}

Result<ModelInfo> LookupModel(const std::string& name) {
  ModelInfo info;
  info.name = name;
  if (Contains(CifarModels(), name)) {
    info.kind = ModelKind::kCifar;
    info.native_input = Shape{3, 32, 32};
    info.native_classes = 10;
    return info;
  }
  if (Contains(ImagenetModels(), name)) {
    info.kind = ModelKind::kImagenet;
    info.native_input = Shape{3, 224, 224};
    info.native_classes = 1000;
    return info;
  }
  WATTLAB_ASSIGN_OR_RETURN(FamilySpec spec, ParseFamily(name));
  info.kind = ModelKind::kFamily;
  info.native_input = Shape{3, 32, 32};
  info.native_classes = 10;
  info.family = std::move(spec);
  return info;
}

Status CheckModelName(const std::string& name) { return LookupModel(name).status(); }

}  // namespace wattlab::catalog
