// The WorkloadEngine implementation: model names and facts, versions, thread
// setup. Training and inference live in train.cc and infer.cc.
#include "workload/engine.h"

#include <ATen/Parallel.h>
#include <malloc.h>
#include <torch/version.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "workload/torch_util.h"
#include "workload/zoo/zoo.h"

namespace wattlab::workload {

namespace {

// Which BLAS the process resolved sgemm_ to: Debian picks it through the
// libblas.so.3 alternative (reference BLAS, openblas-pthread, openblas-openmp,
// ...), which libtorch's own build info ("BLAS_INFO=generic") cannot tell.
std::string DetectBlas(Env* env) {
  void* sym = env->DlSym(nullptr, "sgemm_");
  if (!sym) return "none (sgemm_ not loaded)";
  std::optional<std::string> where = env->LibraryPathOf(sym);
  if (!where) return "unknown";
  const std::string& path = *where;
  std::string kind = "unknown";
  if (path.find("openblas-openmp") != std::string::npos)
    kind = "openblas-openmp";
  else if (path.find("openblas-pthread") != std::string::npos)
    kind = "openblas-pthread";
  else if (path.find("openblas-serial") != std::string::npos)
    kind = "openblas-serial";
  else if (path.find("openblas") != std::string::npos)
    kind = "openblas";
  else if (path.find("blis") != std::string::npos)
    kind = "blis";
  else if (path.find("mkl") != std::string::npos)
    kind = "mkl";
  else if (path.find("atlas") != std::string::npos)
    kind = "atlas";
  else if (path.find("/blas/") != std::string::npos)
    kind = "reference";
  return kind + " (" + path + ")";
}

// Tensor memory (issue 11). libtorch's CPU allocator is plain malloc. By
// default glibc maps each block above its mmap threshold (128 KiB at first,
// raised to the largest mapped block freed so far) afresh and unmaps it on
// free, and gives the top of its heap back to the kernel once twice that
// threshold is free there. A network's activations are megabytes each and
// are freed every step, so each step faulted much of its memory back in,
// page by page: ResNet18 batch-32 inference took about 296,000 page faults in
// a 9-batch run against 48,000 with the settings below, and ran 7-13% slower
// (docs/benchmarks.md). Blocks up to 32 MiB (glibc's largest mmap threshold)
// now come from the heap, and up to 1 GiB of free heap top is kept for the
// next step; larger blocks are still mapped and unmapped. Process-wide, so
// once, when the engine is created.
constexpr int kMmapThresholdBytes = 32 << 20;
constexpr int kTrimThresholdBytes = 1 << 30;
bool TuneAllocator() {
  static const bool ok = mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes) == 1 &&
                         mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes) == 1;
  return ok;
}

// A zoo model's input shape and class count: the caller's, else the model's native ones.
struct ModelInput {
  Shape shape;
  int64_t classes = 0;
};
Result<ModelInput> ResolveModelInput(const std::string& model, std::optional<Shape> input,
                                     std::optional<int64_t> classes) {
  ModelInput in;
  if (input) {
    in.shape = *input;
  } else {
    WATTLAB_ASSIGN_OR_RETURN(in.shape, zoo::NativeInput(model));
  }
  in.classes = classes ? *classes : zoo::NativeClasses(model);
  if (in.classes < 1) return Status::InvalidArgument("--classes must be at least 1");
  return in;
}

class TorchEngine : public WorkloadEngine {
 public:
  explicit TorchEngine(Env* env) : env_(env), allocator_tuned_(TuneAllocator()) {}

  std::vector<std::string> ModelNames() const override { return zoo::Names(); }

  Result<ModelFacts> Describe(const std::string& model, std::optional<Shape> input,
                              std::optional<int64_t> classes) override {
    WATTLAB_ASSIGN_OR_RETURN(const ModelInput in, ResolveModelInput(model, input, classes));
    const Shape& shape = in.shape;
    const int64_t n_classes = in.classes;
    return DescribeZooModel(model, shape, n_classes);
  }

  Result<ModelFacts> DescribeTorchScript(const std::string& path, const Shape& input) override;

  Result<std::vector<SplitPoint>> SplitPoints(const std::string& model, std::optional<Shape> input,
                                              std::optional<int64_t> classes) override {
    WATTLAB_ASSIGN_OR_RETURN(const ModelInput in, ResolveModelInput(model, input, classes));
    const Shape& shape = in.shape;
    const int64_t n_classes = in.classes;
    return CatchTorch("finding split points of " + model, [&]() -> Result<std::vector<SplitPoint>> {
      return zoo::SplitPoints(model, shape, n_classes);
    });
  }

  Result<OpProfile> ProfileOps(const std::string& model, std::optional<Shape> input,
                               std::optional<int64_t> classes) override {
    WATTLAB_ASSIGN_OR_RETURN(const ModelInput in, ResolveModelInput(model, input, classes));
    const Shape& shape = in.shape;
    const int64_t n_classes = in.classes;
    return CatchTorch("profiling the operators of " + model, [&]() -> Result<OpProfile> {
      OpProfile p;
      WATTLAB_ASSIGN_OR_RETURN(p.facts, DescribeZooModel(model, shape, n_classes));
      WATTLAB_ASSIGN_OR_RETURN(auto net, zoo::Build(model, shape, n_classes));
      net->eval();
      for (const auto& t : net->parameters())
        if (t.requires_grad()) ++p.param_tensors;
      p.convs_packed = true;  // as `infer` runs a zoo model by default
      WATTLAB_ASSIGN_OR_RETURN(
          p.ops,
          zoo::TraceOps([&net](const torch::Tensor& x) { return net->forward(x); }, shape, &p.unknown_ops));
      return p;
    });
  }
  Result<OpProfile> ProfileTorchScriptOps(const std::string& path, const Shape& input) override {
    return ProfileTorchScriptFile(env_, path, input);
  }
  Result<CalibrationResult> Calibrate(const CalibrationConfig& config) override {
    return RunCalibration(config);
  }

  Result<TrainResult> Train(const TrainConfig& config, WorkloadObserver* observer) override {
    return RunTraining(env_, config, observer);
  }
  Result<InferResult> Infer(const InferConfig& config, WorkloadObserver* observer) override {
    return RunInference(env_, config, observer);
  }

  std::vector<std::pair<std::string, std::string>> Versions() const override {
    const std::optional<std::string> wait = env_->GetEnvVar("OMP_WAIT_POLICY");
    return {{"libtorch", TORCH_VERSION},
            {"blas", DetectBlas(env_)},
            {"intra_op_threads", std::to_string(at::get_num_threads())},
            {"omp_wait_policy", wait ? *wait : "default (spinning)"},
            {"allocator", allocator_tuned_ ? "glibc malloc, mmap threshold 32 MiB, trim threshold 1 GiB"
                                           : "glibc malloc defaults (tuning refused)"}};
  }

 private:
  Env* env_;
  bool allocator_tuned_;
};

}  // namespace

// Declared here rather than in engine.h: only the engine needs it, and it
// keeps torch/script.h (the heaviest header) inside infer.cc.
Result<ModelFacts> DescribeTorchScriptFile(Env* env, const std::string& path, const Shape& input);

Result<ModelFacts> TorchEngine::DescribeTorchScript(const std::string& path, const Shape& input) {
  return DescribeTorchScriptFile(env_, path, input);
}

Result<ModelFacts> DescribeZooModel(const std::string& model, const Shape& input, int64_t classes) {
  return CatchTorch("counting " + model,
                    [&]() -> Result<ModelFacts> { return zoo::CountAnalytic(model, input, classes); });
}

int ConfigureThreads(int threads) {
  int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Our networks run one operator after another, so one inter-op thread is
  // enough; it can be set only once, before any inter-op work starts.
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
      // Already started by someone else in this process: keep theirs.
    }
  });
  at::set_num_threads(n);
  return n;
}

Status CheckPrecision(const std::string& precision) {
  if (precision == "fp32" || precision == "bf16") return Status::Ok();
  return Status::InvalidArgument("unknown precision '" + precision + "': use fp32 or bf16");
}

std::unique_ptr<WorkloadEngine> NewTorchEngine(Env* env) { return std::make_unique<TorchEngine>(env); }

}  // namespace wattlab::workload
