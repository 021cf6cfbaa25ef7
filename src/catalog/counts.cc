// Parameters, forward MACs and work by kind (docs/mac-convention.md), without
// building a model.
//
// Families are counted layer by layer from their parameters with the same
// wiring as src/workload/zoo (families.cc, models_a.cc's CifarResNet), at any
// input shape. The fixed zoo models come from a table of their counts at the
// native input and classes; tests/workload/zoo/zoo_test.cc (label torch)
// checks every row (and a spread of family specs) against libtorch's counters.
#include <cmath>
#include <limits>

#include "catalog/catalog.h"

namespace wattlab::catalog {
namespace {

// ---- counting with overflow detection ----
class Tally {
 public:
  int64_t Mul(std::initializer_list<int64_t> xs) {
    int64_t r = 1;
    for (int64_t x : xs)
      if (__builtin_mul_overflow(r, x, &r)) overflow_ = true;
    return r;
  }
  void Add(const std::string& kind, int64_t n) {
    int64_t& slot = by_kind_[kind];
    if (__builtin_add_overflow(slot, n, &slot)) overflow_ = true;
  }
  void AddParams(int64_t n) {
    if (__builtin_add_overflow(params_, n, &params_)) overflow_ = true;
  }
  bool overflow() const { return overflow_; }
  int64_t params() const { return params_; }
  const std::map<std::string, int64_t>& by_kind() const { return by_kind_; }

 private:
  bool overflow_ = false;
  int64_t params_ = 0;
  std::map<std::string, int64_t> by_kind_;
};

// A per-sample feature map (batch 1).
struct Map {
  int64_t c, h, w;
};

int64_t OutSize(int64_t in, int64_t k, int64_t s, int64_t p) { return (in + 2 * p - k) / s + 1; }

// The layer vocabulary the families use, with the zoo's per-kind rules.
class Layers {
 public:
  explicit Layers(Tally* t) : t_(t) {}
  // Conv k x k, no bias (the zoo's default).
  Map Conv(const Map& x, int64_t out, int64_t k, int64_t stride, int64_t pad) {
    Map y{out, OutSize(x.h, k, stride, pad), OutSize(x.w, k, stride, pad)};
    t_->AddParams(t_->Mul({out, x.c, k, k}));
    t_->Add("conv", t_->Mul({out, y.h, y.w, x.c, k, k}));
    return y;
  }
  void Bn(const Map& x) {
    t_->AddParams(2 * x.c);
    t_->Add("norm", t_->Mul({x.c, x.h, x.w}));
  }
  void Act(int64_t n) { t_->Add("act", n); }
  void Elementwise(int64_t n) { t_->Add("elementwise", n); }
  // Linear with bias over `rows` rows.
  void Linear(int64_t rows, int64_t in, int64_t out) {
    t_->AddParams(t_->Mul({in, out}) + out);
    t_->Add("linear", t_->Mul({rows, in, out}));
  }
  static int64_t Numel(const Map& x) { return x.c * x.h * x.w; }

 private:
  Tally* t_;
};

// mlp:depth=D,width=W: flatten, D x (linear + relu), linear.
Status CountMlp(const FamilySpec& f, const Shape& in, int64_t classes, Tally* t) {
  Layers l(t);
  int64_t width = f.at("width"), features = t->Mul({in.c, in.h, in.w});
  for (int64_t i = 0; i < f.at("depth"); ++i) {
    l.Linear(1, i == 0 ? features : width, width);
    l.Act(width);
  }
  l.Linear(1, width, classes);
  return Status::Ok();
}

// resnet:depth=6n+2,width=W: conv3x3-bn-relu, three stages of n basic blocks
// (widths W, 2W, 4W; stride 2 into stages 2 and 3), global average pool, linear.
Status CountCifarResnet(const FamilySpec& f, const Shape& in, int64_t classes, Tally* t) {
  Layers l(t);
  const int64_t n = (f.at("depth") - 2) / 6, width = f.at("width");
  Map x = l.Conv(Map{in.c, in.h, in.w}, width, 3, 1, 1);
  l.Bn(x);
  l.Act(Layers::Numel(x));
  for (int s = 0; s < 3; ++s) {
    const int64_t planes = width << s;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t stride = (i == 0 && s > 0) ? 2 : 1;
      Map y = l.Conv(x, planes, 3, stride, 1);
      l.Bn(y);
      l.Act(Layers::Numel(y));
      y = l.Conv(y, planes, 3, 1, 1);
      l.Bn(y);
      if (stride != 1 || x.c != planes) l.Bn(l.Conv(x, planes, 1, stride, 0));
      l.Elementwise(Layers::Numel(y));
      l.Act(Layers::Numel(y));
      x = y;
    }
  }
  t->Add("pool", Layers::Numel(x));
  l.Linear(1, x.c, classes);
  return Status::Ok();
}

// transformer:layers=L,d_model=D,heads=H,seq=S: the image cut into a g x g
// grid of patches (g^2 = S), a linear patch embedding plus a learned position
// table, L pre-norm encoder layers (attention, then a 4D-wide GELU MLP), a
// final layer norm, mean over tokens, linear.
Status CountTransformer(const std::string& name, const FamilySpec& f, const Shape& in, int64_t classes,
                        Tally* t) {
  Layers l(t);
  const int64_t layers = f.at("layers"), d = f.at("d_model"), heads = f.at("heads"), s = f.at("seq");
  const int64_t g = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(s))));
  const int64_t ph = in.h / g, pw = in.w / g;
  if (ph < 1 || pw < 1 || in.h != g * ph || in.w != g * pw) {
    return Status::InvalidArgument(
        "model '" + name + "' cannot take input " + in.ToString() +
        " (transformer: seq=" + std::to_string(s) + " cuts the image into a " + std::to_string(g) + "x" +
        std::to_string(g) + " grid of patches, so H and W must be multiples of " + std::to_string(g) + ")");
  }
  l.Linear(s, t->Mul({in.c, ph, pw}), d);  // patch embedding
  t->AddParams(t->Mul({s, d}));            // position table
  l.Elementwise(t->Mul({s, d}));           // + position
  const int64_t sd = t->Mul({s, d}), hss = t->Mul({heads, s, s});
  for (int64_t i = 0; i < layers; ++i) {
    t->AddParams(2 * d);  // ln1
    t->Add("norm", sd);
    l.Linear(s, d, 3 * d);                // qkv
    t->Add("matmul", t->Mul({s, s, d}));  // q k^T: heads x S x S x d/heads
    l.Elementwise(hss);                   // scale
    l.Act(hss);                           // softmax
    t->Add("matmul", t->Mul({s, s, d}));  // attention x v
    l.Linear(s, d, d);                    // proj
    l.Elementwise(sd);                    // residual
    t->AddParams(2 * d);                  // ln2
    t->Add("norm", sd);
    l.Linear(s, d, 4 * d);  // fc1
    l.Act(4 * sd);          // gelu
    l.Linear(s, 4 * d, d);  // fc2
    l.Elementwise(sd);      // residual
  }
  t->AddParams(2 * d);  // final norm
  t->Add("norm", sd);
  t->Add("pool", sd);  // mean over tokens
  l.Linear(1, d, classes);
  return Status::Ok();
}

// ---- the fixed zoo models at their native input and classes ----
// Copied from `wattlab models --json` (the zoo's analytic counter, equal to its
// traced counter; libtorch 1.13.1); checked row by row by zoo_test (label torch).
struct Row {
  const char* name;
  int64_t params, conv, linear, matmul, norm, act, pool, elementwise;
};

// clang-format off
constexpr Row kTable[] = {
    // name                     params       conv         linear       matmul       norm         act          pool         elementwise
    {"lenet",                     62006,       592800,      58920,       0,           0,           6508,        6304,        0},
    {"vgg16",                     14728266,    313196544,   5120,        0,           276480,      276480,      125440,      0},
    {"resnet18",                  11173962,    555417600,   5120,        0,           614400,      557056,      8192,        245760},
    {"preact_resnet18",           11171146,    555417600,   5120,        0,           548864,      548864,      8192,        245760},
    {"googlenet",                 6166250,     1521745920,  10240,       0,           2554880,     2554880,     12599296,    0},
    {"densenet121",               6956298,     888340480,   10240,       0,           4853760,     4853760,     245760,      0},
    {"resnext29_2x64d",           9128778,     1409482752,  10240,       0,           3571712,     3112960,     65536,       1376256},
    {"mobilenet",                 3217226,     46344192,    10240,       0,           411648,      411648,      4096,        0},
    {"mobilenetv2",               2296922,     91142144,    12800,       0,           1724928,     1534976,     20480,       122880},
    {"dpn26",                     11574842,    665026560,   24320,       0,           2619904,     2184704,     38912,       983040},
    {"shufflenetv2",              1263854,     44991872,    10240,       0,           563072,      412160,      16384,       0},
    {"senet18",                   11260354,    555504640,   5120,        0,           614400,      616440,      253952,      491520},
    {"efficientnet_b0",           3599686,     30328192,    3200,        0,           544896,      506876,      189568,      703356},
    {"regnetx_200mf",             2321946,     223313920,   3680,        0,           1604608,     1460224,     23552,       402432},
    {"simple_dla",                15142970,    913489920,   5120,        0,           1097728,     974848,      8192,        344064},
    {"pnasnet",                   451626,      74473472,    1280,        0,           1531904,     1138688,     3215360,     737280},
    {"imagenet/resnet18",         11689512,    1813561344,  512000,      0,           2483712,     2308096,     1831424,     752640},
    {"imagenet/resnet50",         25557032,    4087136256,  2048000,     0,           11113984,    9608704,     1906688,     5519360},
    {"imagenet/mobilenet_v2",     3504872,     299494272,   1280000,     0,           6678112,     6105792,     62720,       216384},
    {"imagenet/vgg16",            138357544,   15346630656, 123633664,   0,           0,           13555712,    6146560,     0},
    {"imagenet/efficientnet_b0",  5288548,     384534752,   1280000,     0,           6737696,     6166876,     2369248,     2516640},
};
// clang-format on

const Row* FindRow(const std::string& name) {
  for (const auto& r : kTable)
    if (name == r.name) return &r;
  return nullptr;
}

std::map<std::string, int64_t> FinalKinds(const std::map<std::string, int64_t>& raw) {
  // conv and linear always; other kinds when nonzero (as the zoo reports them).
  std::map<std::string, int64_t> out{{"conv", 0}, {"linear", 0}};
  for (const auto& [k, v] : raw)
    if (v != 0 || k == "conv" || k == "linear") out[k] = v;
  return out;
}

ModelFacts Facts(const std::string& name, const Shape& input, int64_t classes, int64_t params,
                 std::map<std::string, int64_t> by_kind) {
  ModelFacts f;
  f.name = name;
  f.input = input;
  f.classes = classes;
  f.params = params;
  f.macs_by_kind = FinalKinds(by_kind);
  for (const char* k : {"conv", "linear", "matmul"}) {
    auto it = f.macs_by_kind.find(k);
    if (it != f.macs_by_kind.end()) f.macs += it->second;
  }
  f.macs_per_param = f.params > 0 ? static_cast<double>(f.macs) / static_cast<double>(f.params) : 0.0;
  f.counter = "catalog";
  return f;
}

}  // namespace

bool CountedByFormula(const std::string& name) { return IsFamilyName(name); }

Result<ModelFacts> CountModel(const std::string& name, std::optional<Shape> input,
                              std::optional<int64_t> classes) {
  WATTLAB_ASSIGN_OR_RETURN(ModelInfo info, LookupModel(name));
  const Shape shape = input.value_or(info.native_input);
  const int64_t n_classes = classes.value_or(info.native_classes);
  if (shape.c < 1 || shape.h < 1 || shape.w < 1) {
    return Status::InvalidArgument("input shape " + shape.ToString() + " must have every dimension >= 1");
  }
  if (n_classes < 1)
    return Status::InvalidArgument("class count must be >= 1, got " + std::to_string(n_classes));

  if (!info.family) {
    const Row* row = FindRow(name);
    if (row == nullptr) return Status::Internal("catalog: no counts for '" + name + "'");
    if (!(shape == info.native_input) || n_classes != info.native_classes) {
      return Status::NotSupported(
          "'" + name + "' at input " + shape.ToString() + " with " + std::to_string(n_classes) +
          " classes is not known analytically (the catalog has its counts at " +
          info.native_input.ToString() + " with " + std::to_string(info.native_classes) + " classes only)");
    }
    return Facts(name, shape, n_classes, row->params,
                 {{"conv", row->conv},
                  {"linear", row->linear},
                  {"matmul", row->matmul},
                  {"norm", row->norm},
                  {"act", row->act},
                  {"pool", row->pool},
                  {"elementwise", row->elementwise}});
  }

  Tally t;
  const FamilySpec& f = *info.family;
  Status st = f.family == "mlp"      ? CountMlp(f, shape, n_classes, &t)
              : f.family == "resnet" ? CountCifarResnet(f, shape, n_classes, &t)
                                     : CountTransformer(name, f, shape, n_classes, &t);
  WATTLAB_RETURN_IF_ERROR(st);
  if (t.overflow()) {
    return Status::InvalidArgument("model '" + name + "' at input " + shape.ToString() +
                                   " is too large to count (more than 2^63 parameters or operations)");
  }
  return Facts(name, shape, n_classes, t.params(), t.by_kind());
}

}  // namespace wattlab::catalog
