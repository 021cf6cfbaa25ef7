// workload_test: dataset specs over the readers (tests/data tests the readers
// themselves, without libtorch), training, inference and TorchScript
// support through the WorkloadEngine interface (no libtorch include here),
// the plugin entry point through dlopen, and end-to-end runs of `wattlab`.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "../data/dataset_files.h"
#include "platform/real_env.h"
#include "workload/data.h"
#include "workload/engine.h"

namespace wattlab::workload {
namespace {

using namespace wattlab::testing;  // NOLINT: the generated-file helpers

namespace fs = std::filesystem;

// The real Env the engine reaches files and the environment through.
Env* TestEnv() {
  static const std::unique_ptr<Env> env = NewRealEnv();
  return env.get();
}

TEST(FashionMnist, LoadsGeneratedFilesAndExplainsFailures) {
  TempDir dir;
  WriteFashionSplit(dir.path(), "train", 12);
  WriteFashionSplit(dir.path(), "t10k", 5);
  auto split = LoadDataset(TestEnv(), "fashion-mnist:" + dir.path(), 1, 10, 0);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->train.size(), 10);  // limited
  EXPECT_EQ(split->test.size(), 5);
  EXPECT_EQ(split->train.shape, (Shape{1, 28, 28}));
  EXPECT_EQ(split->train.labels[7], 7);
  EXPECT_EQ(split->train.pixels[3 * 784 + 28 * 2 + 5], 3 + 2 + 5);
  EXPECT_TRUE(split->train.accuracy_meaningful);

  // Missing package: say which one to install.
  auto missing = LoadDataset(TestEnv(), "fashion-mnist:" + dir.path() + "/nowhere", 1, 0, 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), Status::Kind::kNotFound);
  EXPECT_NE(missing.status().message().find("apt-get install dataset-fashion-mnist"), std::string::npos);

  // A truncated image file.
  std::string gz = Gzip(Idx({5, 28, 28}, std::string(5 * 784, '\0')));
  WriteFile(dir / "t10k-images-idx3-ubyte.gz", gz.substr(0, gz.size() - 9));
  auto truncated = LoadFashionMnist(TestEnv(), dir.path(), "t10k", 0);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().kind(), Status::Kind::kCorruption);
  EXPECT_NE(truncated.status().message().find("t10k-images-idx3-ubyte.gz"), std::string::npos);

  // Labels where images belong: wrong magic.
  WriteFile(dir / "t10k-images-idx3-ubyte.gz", Gzip(Idx({5}, std::string(5, '\0'))));
  auto magic = LoadFashionMnist(TestEnv(), dir.path(), "t10k", 0);
  ASSERT_FALSE(magic.ok());
  EXPECT_NE(magic.status().message().find("wrong idx magic"), std::string::npos) << magic.status().message();

  // Image and label counts that disagree.
  WriteFashionSplit(dir.path(), "t10k", 5);
  WriteFile(dir / "t10k-labels-idx1-ubyte.gz", Gzip(Idx({4}, std::string(4, '\1'))));
  auto count = LoadFashionMnist(TestEnv(), dir.path(), "t10k", 0);
  ASSERT_FALSE(count.ok());
  EXPECT_NE(count.status().message().find("4 labels"), std::string::npos) << count.status().message();
}

TEST(Cifar10, ReadsBinaryRecordsAndRejectsBadFiles) {
  TempDir dir;
  std::string bytes;
  for (int r = 0; r < 3; ++r) {
    bytes.push_back(static_cast<char>(r + 4));
    for (int i = 0; i < 3072; ++i) bytes.push_back(static_cast<char>((r * 3072 + i) % 256));
  }
  WriteFile(dir / "test_batch.bin", bytes);
  for (int i = 1; i <= 5; ++i) WriteFile(dir / ("data_batch_" + std::to_string(i) + ".bin"), bytes);
  auto split = LoadDataset(TestEnv(), "cifar10:" + dir.path(), 1, 0, 0);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->train.size(), 15);
  EXPECT_EQ(split->test.size(), 3);
  EXPECT_EQ(split->test.shape, (Shape{3, 32, 32}));
  EXPECT_EQ(split->test.labels, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(split->test.pixels[3072 + 10], (3072 + 10) % 256);

  WriteFile(dir / "test_batch.bin", bytes.substr(0, 3073 + 100));
  auto cut = LoadCifar10(TestEnv(), {dir / "test_batch.bin"}, "t", 0);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().kind(), Status::Kind::kCorruption);
  EXPECT_NE(cut.status().message().find("3073 bytes each"), std::string::npos);

  std::string bad_label = bytes.substr(0, 3073);
  bad_label[0] = 12;
  WriteFile(dir / "test_batch.bin", bad_label);
  EXPECT_EQ(LoadCifar10(TestEnv(), {dir / "test_batch.bin"}, "t", 0).status().kind(),
            Status::Kind::kCorruption);

  auto missing = LoadDataset(TestEnv(), "cifar10:" + dir.path() + "/none", 1, 0, 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), Status::Kind::kNotFound);
  EXPECT_NE(missing.status().message().find("data_batch_1.bin"), std::string::npos);
}

TEST(Synthetic, SeededAndMarkedMeaningless) {
  auto a = LoadDataset(TestEnv(), "synthetic:2x5x7:50", 9, 0, 0);
  auto b = LoadDataset(TestEnv(), "synthetic:2x5x7:50", 9, 0, 0);
  auto c = LoadDataset(TestEnv(), "synthetic:2x5x7:50", 10, 0, 0);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->train.size(), 50);
  EXPECT_EQ(a->test.size(), 10);
  EXPECT_EQ(a->train.shape, (Shape{2, 5, 7}));
  EXPECT_FALSE(a->train.accuracy_meaningful);
  EXPECT_EQ(a->train.pixels, b->train.pixels);
  EXPECT_EQ(a->train.labels, b->train.labels);
  EXPECT_NE(a->train.pixels, c->train.pixels);
  for (int64_t l : a->train.labels) EXPECT_TRUE(l >= 0 && l < 10);

  for (const char* bad : {"synthetic:3x32x32", "synthetic:3x32:10", "synthetic:3x32x32:0",
                          "synthetic:3x32x32:x", "imagenet", "cifar10:"}) {
    auto r = LoadDataset(TestEnv(), bad, 1, 0, 0);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument) << bad;
  }
}

TEST(FillBatch, PadsCentresAndRepeatsGreyChannel) {
  Dataset ds = MakeSynthetic(Shape{1, 2, 2}, 2, 10, 3, "s");
  ds.pixels = {0, 255, 51, 102, 10, 20, 30, 40};
  ds.mean = {0.5f};
  ds.std = {0.5f};
  ASSERT_TRUE(CheckAdaptable(ds.shape, Shape{3, 4, 4}).ok());
  EXPECT_FALSE(CheckAdaptable(Shape{3, 32, 32}, Shape{1, 32, 32}).ok());
  EXPECT_FALSE(CheckAdaptable(Shape{1, 40, 40}, Shape{3, 32, 32}).ok());
  EXPECT_EQ(AdaptedShape(Shape{1, 28, 28}, Shape{3, 32, 32}), (Shape{3, 32, 32}));
  EXPECT_EQ(AdaptedShape(Shape{3, 64, 64}, Shape{3, 32, 32}), (Shape{3, 64, 64}));
  std::vector<int64_t> order = {1, 0};
  std::vector<float> out(2 * 3 * 16, 99.f);
  std::vector<int64_t> labels(2);
  FillBatch(ds, order, 0, 2, Shape{3, 4, 4}, out.data(), labels.data());
  EXPECT_EQ(labels[0], ds.labels[1]);
  EXPECT_EQ(labels[1], ds.labels[0]);
  // Sample 0 of the batch is dataset sample 1; pixel (0,0) lands at (1,1).
  for (int c = 0; c < 3; ++c) {
    const float* plane = out.data() + c * 16;
    EXPECT_FLOAT_EQ(plane[0], -1.0f);  // padding = background pixel 0
    EXPECT_FLOAT_EQ(plane[1 * 4 + 1], (10 / 255.f - 0.5f) / 0.5f);
    EXPECT_FLOAT_EQ(plane[2 * 4 + 2], (40 / 255.f - 0.5f) / 0.5f);
    EXPECT_FLOAT_EQ(plane[3 * 4 + 3], -1.0f);
  }
  EXPECT_FLOAT_EQ(out[48 + 1 * 4 + 2], 1.0f);  // dataset sample 0, pixel (0,1) = 255
}

TEST(Permutation, SeededAndComplete) {
  std::mt19937_64 a(5), b(5);
  auto p = Permutation(1000, a);
  EXPECT_EQ(p, Permutation(1000, b));
  std::set<int64_t> seen(p.begin(), p.end());
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 999);
}

// Records the order of observer calls.
class Recorder : public WorkloadObserver {
 public:
  std::vector<std::string> events;
  int64_t steps = 0, step_samples = 0;
  void OnPhaseBegin(const std::string& p) override { events.push_back("begin " + p); }
  void OnPhaseEnd(const std::string& p, int64_t n) override {
    events.push_back("end " + p + " " + std::to_string(n));
  }
  void OnEpochBegin(int64_t e) override { events.push_back("epoch " + std::to_string(e)); }
  void OnEpochEnd(int64_t e, int64_t n, double) override {
    events.push_back("epoch end " + std::to_string(e) + " " + std::to_string(n));
  }
  void OnStepEnd(int64_t, int64_t n, double) override {
    ++steps;
    step_samples += n;
  }
  int64_t eval_batches = 0, eval_batch_samples = 0, last_eval_batch = 0;
  void OnEvalBatchEnd(int64_t batch, int64_t n) override {
    ++eval_batches;
    eval_batch_samples += n;
    last_eval_batch = batch;
  }
};

TEST(Train, LenetLearnsFashionMnist) {
  if (!fs::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz"))
    FAIL() << "install dataset-fashion-mnist: apt-get install dataset-fashion-mnist";
  auto engine = NewTorchEngine(TestEnv());
  TrainConfig cfg;
  cfg.model = "lenet";
  cfg.steps = 200;
  cfg.batch_size = 32;
  cfg.optimizer = "adam";
  cfg.lr = 2e-3;
  cfg.weight_decay = 0;
  cfg.threads = 2;
  cfg.train_samples = 6400;
  cfg.eval_samples = 2000;
  Recorder rec;
  auto r = engine->Train(cfg, &rec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model.input, (Shape{3, 32, 32}));  // padded and repeated into the reference LeNet
  EXPECT_EQ(r->model.params, 62006);
  EXPECT_EQ(r->steps, 200);
  EXPECT_EQ(r->samples, 200 * 32);
  EXPECT_EQ(r->step_loss.size(), 200u);
  EXPECT_EQ(r->eval_samples, 2000);
  ASSERT_TRUE(r->accuracy.has_value());
  EXPECT_GT(*r->accuracy, 0.6);
  EXPECT_LT(r->step_loss.back(), r->step_loss.front());
  EXPECT_EQ(rec.steps, 200);
  EXPECT_EQ(rec.step_samples, 200 * 32);
  // Every eval batch is reported, numbered from 1, with the samples it held (2000 = 62 x 32 + 16).
  EXPECT_EQ(rec.eval_batches, 63);
  EXPECT_EQ(rec.last_eval_batch, 63);
  EXPECT_EQ(rec.eval_batch_samples, 2000);
  std::vector<std::string> want = {"begin train",    "epoch 1",    "epoch end 1 6400",
                                   "end train 6400", "begin eval", "end eval 2000"};
  EXPECT_EQ(rec.events, want);
}

TEST(Train, SyntheticIsDeterministicAndHasNoAccuracy) {
  auto engine = NewTorchEngine(TestEnv());
  TrainConfig cfg;
  cfg.model = "lenet";
  cfg.dataset = "synthetic:1x28x28:40";
  cfg.steps = 3;
  cfg.batch_size = 16;
  cfg.threads = 2;
  cfg.seed = 7;
  auto a = engine->Train(cfg, nullptr);
  auto b = engine->Train(cfg, nullptr);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->step_loss, b->step_loss);
  EXPECT_FALSE(a->accuracy.has_value());
  EXPECT_FALSE(a->accuracy_meaningful);
  EXPECT_EQ(a->samples, 16 + 16 + 8);  // 40 samples: the third step is the partial last batch
  EXPECT_EQ(a->epoch_loss.size(), 1u);

  cfg.precision = "bf16";
  auto bf = engine->Train(cfg, nullptr);
  ASSERT_TRUE(bf.ok()) << bf.status().ToString();
  EXPECT_EQ(bf->steps, 3);
}

// eval_min_duration_s: the pass ends once it has run eval_min_batches and
// lasted that long (the study's profile); the samples it evaluated are reported.
TEST(Train, EvaluationEndsEarlyAtItsLeastBatchesAndDuration) {
  auto engine = NewTorchEngine(TestEnv());
  TrainConfig cfg;
  cfg.model = "lenet";
  cfg.dataset = "synthetic:1x28x28:1000";  // a test split of 200
  cfg.steps = 1;
  cfg.batch_size = 16;
  cfg.threads = 2;
  cfg.eval_samples = 160;  // 10 batches
  cfg.eval_min_batches = 3;
  cfg.eval_min_duration_s = 1e-9;  // already past after the third batch
  Recorder rec;
  auto r = engine->Train(cfg, &rec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->eval_samples, 3 * 16);
  EXPECT_EQ(rec.eval_batches, 3);
  cfg.eval_min_duration_s = 0;  // off: the whole pass
  auto whole = engine->Train(cfg, nullptr);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->eval_samples, 160);
  cfg.eval_min_duration_s = std::nan("");
  EXPECT_FALSE(engine->Train(cfg, nullptr).ok());
}

// The observer ends the train phase early (the study's profile, on its
// standard-error rule): the phase and epoch close normally with the samples
// done, and evaluation follows as after a last step.
TEST(Train, ObserverEndsTheTrainPhase) {
  class EndAfter : public Recorder {
   public:
    bool ShouldEndTraining() override { return steps >= 4; }
  };
  auto engine = NewTorchEngine(TestEnv());
  TrainConfig cfg;
  cfg.model = "lenet";
  cfg.dataset = "synthetic:1x28x28:1000";  // a test split of 200
  cfg.steps = 50;                          // the most
  cfg.batch_size = 8;
  cfg.threads = 2;
  cfg.eval_samples = 16;
  EndAfter rec;
  auto r = engine->Train(cfg, &rec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->steps, 4);
  EXPECT_EQ(r->samples, 32);
  EXPECT_EQ(r->step_loss.size(), 4u);
  std::vector<std::string> want = {"begin train",  "epoch 1",    "epoch end 1 32",
                                   "end train 32", "begin eval", "end eval 16"};
  EXPECT_EQ(rec.events, want);
}

TEST(Train, RejectsBadInput) {
  auto engine = NewTorchEngine(TestEnv());
  TrainConfig cfg;
  cfg.model = "no_such_net";
  cfg.steps = 1;
  auto r = engine->Train(cfg, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(r.status().message().find("resnet18"), std::string::npos)
      << "should list valid names: " << r.status().message();
  cfg.model = "lenet";
  cfg.epochs = 1;  // both epochs and steps
  EXPECT_EQ(engine->Train(cfg, nullptr).status().kind(), Status::Kind::kInvalidArgument);
  cfg.epochs = 0;
  cfg.precision = "fp8";
  EXPECT_EQ(engine->Train(cfg, nullptr).status().kind(), Status::Kind::kInvalidArgument);
  cfg.precision = "fp32";
  cfg.optimizer = "lbfgs";
  EXPECT_EQ(engine->Train(cfg, nullptr).status().kind(), Status::Kind::kInvalidArgument);
}

// A zoo model's inference at 2 threads: the tests' common configuration.
InferConfig ZooInfer(const std::string& model, int64_t batch, int64_t samples) {
  InferConfig cfg;
  cfg.model = model;
  cfg.batch_size = batch;
  cfg.samples = samples;
  cfg.threads = 2;
  return cfg;
}

TEST(Infer, DeterministicChecksumAndPercentiles) {
  auto engine = NewTorchEngine(TestEnv());
  InferConfig cfg = ZooInfer("lenet", 4, 10);
  Recorder rec;
  auto a = engine->Infer(cfg, &rec);
  auto b = engine->Infer(cfg, nullptr);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->checksum, b->checksum);
  EXPECT_NE(a->checksum, 0.0);
  EXPECT_EQ(a->samples, 10);
  EXPECT_EQ(a->batches, 3);
  EXPECT_LE(a->latency_p50_ms, a->latency_p90_ms);
  EXPECT_LE(a->latency_p90_ms, a->latency_p99_ms);
  EXPECT_GT(a->samples_per_s, 0);
  EXPECT_EQ(rec.events, (std::vector<std::string>{"begin infer", "end infer 10"}));
  EXPECT_EQ(rec.step_samples, 10);

  cfg.seed = 2;
  auto c = engine->Infer(cfg, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->checksum, a->checksum);

  cfg.model = "imagenet/nope";
  EXPECT_FALSE(engine->Infer(cfg, nullptr).ok());
}

// min_duration_s: the planned samples are the least; whole batches follow
// until the phase has lasted that long (the study's short inference windows).
TEST(Infer, RunsOnInWholeBatchesUntilTheLeastDuration) {
  auto engine = NewTorchEngine(TestEnv());
  InferConfig cfg = ZooInfer("mlp:depth=2,width=16", 4, 10);
  cfg.min_duration_s = 0.05;
  Recorder rec;
  auto r = engine->Infer(cfg, &rec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->duration_s, 0.05);
  EXPECT_GT(r->batches, 3);
  EXPECT_EQ(r->samples, 10 + 4 * (r->batches - 3));  // the planned 4 + 4 + 2, then whole batches
  EXPECT_EQ(rec.step_samples, r->samples);
  cfg.min_duration_s = -1;
  auto bad = engine->Infer(cfg, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("least inference time"), std::string::npos);
}

// Issue 11: a zoo model's convolutions run with weights packed once
// (zoo/packing.h) unless asked plain; same logits either way, and the
// result says what was in force.
TEST(Infer, ConvolutionWeightsPackedByDefaultSameLogitsAsPlain) {
  auto engine = NewTorchEngine(TestEnv());
  InferConfig cfg = ZooInfer("resnet:depth=8,width=8", 3, 5);
  EXPECT_EQ(cfg.conv_weights, "packed");
  auto packed = engine->Infer(cfg, nullptr);
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  EXPECT_EQ(packed->conv_weights, "packed");
  EXPECT_GT(packed->convs, 0);
  EXPECT_EQ(packed->packed_convs, packed->convs);
  cfg.conv_weights = "plain";
  auto plain = engine->Infer(cfg, nullptr);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->conv_weights, "plain");
  EXPECT_EQ(plain->conv_weights_why, "asked");
  EXPECT_EQ(plain->convs, 0);
  EXPECT_EQ(plain->packed_convs, 0);
  EXPECT_NEAR(packed->checksum, plain->checksum, 1e-4 * std::max(1.0, std::abs(plain->checksum)));

  // bf16 cannot be packed: plain in force, though asked.
  cfg.conv_weights = "packed";
  cfg.precision = "bf16";
  auto bf = engine->Infer(cfg, nullptr);
  ASSERT_TRUE(bf.ok()) << bf.status().ToString();
  EXPECT_EQ(bf->conv_weights, "plain");
  EXPECT_EQ(bf->conv_weights_why, "bf16");
  EXPECT_EQ(bf->convs, packed->convs);
  EXPECT_EQ(bf->packed_convs, 0);

  cfg.precision = "fp32";
  cfg.conv_weights = "tiled";
  auto bad = engine->Infer(cfg, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("use packed or plain"), std::string::npos) << bad.status().ToString();
}

// The calibration times a convolution's inference as the engine runs it by
// default: packed where the rule packs it (dense 3x3 at two threads), plain
// where it does not (1x1 stride 1 at batch 4 on one thread).
TEST(Calibrate, ConvolutionsTimedAsInferenceRunsThem) {
  auto engine = NewTorchEngine(TestEnv());
  for (int threads : {2, 1}) {
    CalibrationConfig cfg;
    cfg.threads = threads;
    cfg.shapes = "tiny";
    auto r = engine->Calibrate(cfg);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    int dense3 = 0, one_by_one = 0;
    for (const auto& p : r->points) {
      if (p.op.kind.rfind("conv", 0) != 0) {
        EXPECT_FALSE(p.forward_packed) << p.op.kind;
        EXPECT_EQ(p.forward_plain_s, 0) << p.op.kind;
        continue;
      }
      if (p.op.kernel == 9 && p.op.kind == "conv") {
        ++dense3;
        EXPECT_TRUE(p.forward_packed) << threads;
      }
      if (p.op.kernel == 1) {
        ++one_by_one;
        EXPECT_EQ(p.forward_packed, threads > 1) << threads;
      }
      // Packed points are also timed plain (TorchScript files run that way).
      EXPECT_EQ(p.forward_plain_s > 0, p.forward_packed) << p.op.kind;
    }
    EXPECT_GT(dense3, 0);
    EXPECT_GT(one_by_one, 0);
  }
}

TEST(TorchScript, ScriptedAtTestTimeIsCountedAndRun) {
  TempDir dir;
  std::string file = dir / "tiny.pt";
  std::string cmd = std::string("/usr/bin/python3 ") + WATTLAB_MAKE_TORCHSCRIPT + " " + file;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " failed (needs python3-torch)";
  auto engine = NewTorchEngine(TestEnv());
  auto facts = engine->DescribeTorchScript(file, Shape{3, 32, 32});
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->params, 137);
  EXPECT_EQ(facts->classes, 5);
  EXPECT_EQ(facts->counter, "traced");
  EXPECT_EQ(facts->macs_by_kind.at("conv"), 4 * 3 * 9 * 32 * 32);
  EXPECT_EQ(facts->macs_by_kind.at("linear"), 20);
  EXPECT_EQ(facts->macs, 4 * 3 * 9 * 32 * 32 + 20);

  InferConfig cfg;
  cfg.torchscript = file;
  cfg.input = Shape{3, 32, 32};
  cfg.batch_size = 2;
  cfg.samples = 6;
  cfg.threads = 2;
  auto a = engine->Infer(cfg, nullptr);
  auto b = engine->Infer(cfg, nullptr);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->model.params, 137);
  EXPECT_EQ(a->samples, 6);
  EXPECT_EQ(a->conv_weights, "plain");  // a TorchScript file runs as given
  EXPECT_EQ(a->conv_weights_why, "TorchScript file");
  EXPECT_EQ(a->checksum, b->checksum);

  WriteFile(dir / "junk.pt", "definitely not a zip archive");
  auto junk = engine->DescribeTorchScript(dir / "junk.pt", Shape{3, 32, 32});
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(junk.status().message().find("not a loadable TorchScript file"), std::string::npos);
  EXPECT_EQ(engine->DescribeTorchScript(dir / "absent.pt", Shape{3, 32, 32}).status().kind(),
            Status::Kind::kNotFound);
  auto wrong_shape = engine->DescribeTorchScript(file, Shape{5, 32, 32});  // conv wants 3 channels
  ASSERT_FALSE(wrong_shape.ok());
  EXPECT_EQ(wrong_shape.status().kind(), Status::Kind::kInvalidArgument);
}

TEST(Plugin, EntryPointLoadsThroughDlopen) {
  void* h = ::dlopen(WATTLAB_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << ::dlerror();
  auto create = reinterpret_cast<CreateWorkloadEngineFn>(::dlsym(h, kCreateWorkloadEngineSymbol));
  ASSERT_NE(create, nullptr);
  WorkloadEngine* engine = create(TestEnv());
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(create(TestEnv()), engine);  // one engine per process
  auto names = engine->ModelNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "lenet"), names.end());
  auto facts = engine->Describe("resnet18", std::nullopt, std::nullopt);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->params, 11173962);
  bool has_libtorch = false;
  for (const auto& [k, v] : engine->Versions()) has_libtorch |= (k == "libtorch" && !v.empty());
  EXPECT_TRUE(has_libtorch);
}

// Runs the real binary; returns exit status and stdout. Meter roots point at
// empty folders and NVML at a missing library, so the only source is the
// labelled estimate on every machine.
struct CliRun {
  int status = -1;
  std::string out;
};
// stderr joins stdout unless the caller parses stdout as JSON (warnings, such
// as a busy idle baseline on a loaded machine, go to stderr).
CliRun RunWattlab(const std::string& args, bool merge_stderr = true) {
  std::string cmd = std::string(WATTLAB_BINARY) + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  CliRun r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string IsolatedMeter(const TempDir& empty) {
  return " --sysfs-root " + empty.path() + " --dev-root " + empty.path() + " --nvml-library " + empty.path() +
         "/libnvidia-ml.so.1";
}

TEST(E2E, ModelsJsonListsEveryModel) {
  CliRun r = RunWattlab("models --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j["models"].is_array());
  std::set<std::string> names;
  for (const auto& m : j["models"]) {
    names.insert(m["name"].get<std::string>());
    if (m.contains("error")) continue;
    EXPECT_GT(m["params"].get<int64_t>(), 0) << m.dump();
    EXPECT_TRUE(m["macs_by_kind"].contains("conv")) << m.dump();
    EXPECT_TRUE(m["macs_by_kind"].contains("linear")) << m.dump();
    EXPECT_NEAR(m["macs_per_param"].get<double>(), m["macs"].get<double>() / m["params"].get<double>(),
                1e-6 * m["macs_per_param"].get<double>());
  }
  for (const char* want : {"lenet", "resnet18", "mobilenetv2", "vgg16", "densenet121"})
    EXPECT_TRUE(names.count(want)) << want;

  CliRun bad = RunWattlab("models --model no_such_net");
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("resnet18"), std::string::npos) << bad.out;
}

TEST(E2E, TrainStepsOnSyntheticDataWithEstimateMeter) {
  TempDir empty;
  CliRun r = RunWattlab(
      "train --model lenet --dataset synthetic:3x32x32:64 --steps 3 --batch-size 16 --threads 2 "
      "--idle-seconds 0.2 --interval 10ms --json" +
          IsolatedMeter(empty),
      /*merge_stderr=*/false);
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sources"], nlohmann::json::array({"estimate"}));
  EXPECT_EQ(j["estimated"], true);
  EXPECT_EQ(j["steps"], 3);
  EXPECT_EQ(j["samples"], 48);
  EXPECT_TRUE(j["accuracy"].is_null());
  EXPECT_EQ(j["accuracy_meaningful"], false);
  EXPECT_EQ(j["loss_curve"].size(), 3u);
  ASSERT_TRUE(j["phases"].contains("train"));
  ASSERT_TRUE(j["phases"].contains("eval"));
  const auto& train = j["phases"]["train"];
  EXPECT_EQ(train["samples"], 48);
  EXPECT_GE(train["energy_j"].get<double>(), 0);
  EXPECT_EQ(train["estimated"], true);
  // Above idle unless the baseline was busy (a loaded test machine) or the
  // window was within idle noise: then the whole energy, and it says so.
  if (j["meter"]["idle_busy"] == true) {
    EXPECT_EQ(train["energy_per_sample_basis"], "energy_j");
  } else {
    EXPECT_TRUE(train["energy_per_sample_basis"] == "energy_above_idle_j" ||
                train["energy_per_sample_basis"] == "energy_j")
        << train;
  }
  EXPECT_EQ(j["epochs"].size(), 1u);
  EXPECT_EQ(j["model"]["params"], 62006);

  CliRun bad = RunWattlab("train --model lenet --steps 1 --epochs 1");
  EXPECT_EQ(bad.status, 2) << bad.out;
  CliRun missing = RunWattlab(
      "train --model lenet --steps 1 --idle-seconds 0 --dataset cifar10:/nonexistent" + IsolatedMeter(empty));
  EXPECT_EQ(missing.status, 1) << missing.out;
  EXPECT_NE(missing.out.find("data_batch_1.bin"), std::string::npos) << missing.out;
}

TEST(E2E, InferReportsLatencyAndEnergy) {
  TempDir empty;
  CliRun r =
      RunWattlab("infer --model lenet --samples 20 --batch-size 2 --threads 2 --idle-seconds 0 --json" +
                 IsolatedMeter(empty));
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["samples"], 20);
  EXPECT_EQ(j["batches"], 10);
  EXPECT_TRUE(j["latency_ms"].contains("p99"));
  ASSERT_TRUE(j["phases"].contains("infer"));
  EXPECT_EQ(j["phases"]["infer"]["energy_per_sample_basis"], "energy_j");  // no idle baseline
  EXPECT_EQ(j["estimated"], true);
  EXPECT_EQ(j["config"]["conv_weights"], "packed");
  EXPECT_EQ(j["conv_weights"]["in_force"], "packed");
  EXPECT_EQ(j["conv_weights"]["convs"], 2);
  EXPECT_EQ(j["conv_weights"]["packed"], 2);

  CliRun plain =
      RunWattlab("infer --model lenet --samples 4 --threads 2 --idle-seconds 0 --conv-weights plain" +
                 IsolatedMeter(empty));
  ASSERT_EQ(plain.status, 0) << plain.out;
  EXPECT_NE(plain.out.find("convolution weights: plain"), std::string::npos) << plain.out;
  CliRun bogus = RunWattlab("infer --model lenet --conv-weights tiled");
  EXPECT_EQ(bogus.status, 2) << bogus.out;
  EXPECT_NE(bogus.out.find("conv-weights"), std::string::npos) << bogus.out;

  CliRun ts = RunWattlab("infer --torchscript /nonexistent.pt --input 3x32x32 --idle-seconds 0" +
                         IsolatedMeter(empty));
  EXPECT_EQ(ts.status, 1) << ts.out;
  EXPECT_NE(ts.out.find("/nonexistent.pt"), std::string::npos) << ts.out;
  CliRun no_input = RunWattlab("infer --torchscript x.pt");
  EXPECT_EQ(no_input.status, 2) << no_input.out;
}

// Issue 15: the user's own TorchScript model is trained (its parameters
// that require grad, cross-entropy over the classes), by the engine and by
// `wattlab train --torchscript`, and swept by a study.
TEST(TorchScript, ScriptedModelTrains) {
  TempDir dir;
  std::string file = dir / "tiny10.pt";
  std::string cmd = std::string("/usr/bin/python3 ") + WATTLAB_MAKE_TORCHSCRIPT + " " + file + " 10";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " failed (needs python3-torch)";
  auto engine = NewTorchEngine(TestEnv());
  TrainConfig cfg;
  cfg.torchscript = file;
  cfg.input = Shape{3, 32, 32};
  cfg.dataset = "synthetic:3x32x32:64";
  cfg.steps = 6;
  cfg.batch_size = 8;
  cfg.threads = 1;
  cfg.lr = 0.05;
  cfg.eval_samples = 16;
  auto r = engine->Train(cfg, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model.params, 4 * 3 * 9 + 4 + 4 * 10 + 10);
  EXPECT_EQ(r->model.classes, 10);
  EXPECT_EQ(r->samples, 48);
  ASSERT_EQ(r->step_loss.size(), 6u);
  for (double l : r->step_loss) EXPECT_TRUE(std::isfinite(l));
  EXPECT_NE(r->step_loss.front(), r->step_loss.back());  // the weights moved
  EXPECT_GT(r->eval_samples, 0);                         // the synthetic test split (at most eval_samples)
  EXPECT_LE(r->eval_samples, 16);

  // Fashion-MNIST's 1x28x28 into a 3-channel model: padded and repeated, as for the zoo.
  TrainConfig five = cfg;
  std::string file5 = dir / "tiny5.pt";
  ASSERT_EQ(std::system((std::string("/usr/bin/python3 ") + WATTLAB_MAKE_TORCHSCRIPT + " " + file5).c_str()),
            0);
  five.torchscript = file5;
  auto few = engine->Train(five, nullptr);
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("gives 5 outputs"), std::string::npos) << few.status().message();
  TrainConfig both = cfg;
  both.model = "lenet";
  EXPECT_EQ(engine->Train(both, nullptr).status().kind(), Status::Kind::kInvalidArgument);
  TrainConfig no_input = cfg;
  no_input.input.reset();
  EXPECT_EQ(engine->Train(no_input, nullptr).status().kind(), Status::Kind::kInvalidArgument);
}

TEST(E2E, TrainTorchScriptAndStudySweepOfIt) {
  TempDir dir, empty;
  std::string file = dir / "tiny10.pt";
  ASSERT_EQ(
      std::system((std::string("/usr/bin/python3 ") + WATTLAB_MAKE_TORCHSCRIPT + " " + file + " 10").c_str()),
      0);
  CliRun r =
      RunWattlab("train --torchscript " + file +
                     " --input 3x32x32 --dataset synthetic:3x32x32:64 --steps 4 --batch-size 8 --threads 1"
                     " --idle-seconds 0 --eval-samples 16 --json" +
                     IsolatedMeter(empty),
                 false);
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"]["params"], 4 * 3 * 9 + 4 + 4 * 10 + 10);
  EXPECT_EQ(j["model"]["macs"], 4 * 3 * 9 * 32 * 32 + 40);
  EXPECT_EQ(j["config"]["torchscript"], file);
  EXPECT_EQ(j["phases"]["train"]["samples"], 32);
  EXPECT_TRUE(j["phases"].contains("eval"));
  CliRun no_input = RunWattlab("train --torchscript " + file);
  EXPECT_EQ(no_input.status, 2) << no_input.out;
  EXPECT_NE(no_input.out.find("--input"), std::string::npos) << no_input.out;

  // A study sweeping the file over two batch sizes: profiled, extrapolated, inferred.
  std::string spec = dir / "ts.toml";
  WriteFile(spec,
            "name = \"ts\"\ncooldown_s = 0\nidle_s = 0\ndataset = \"synthetic:3x32x32:64\"\n"
            "[[sweep]]\nname = \"tiny\"\ntorchscript = \"" +
                file +
                "\"\ninput = \"3x32x32\"\n"
                "batch_sizes = [4, 8]\nthreads = [1]\ninfer_samples = 16\n");
  std::string db = dir / "ts.db";
  CliRun st = RunWattlab("study --spec " + spec + " --db " + db + " --no-report" + IsolatedMeter(empty));
  ASSERT_EQ(st.status, 0) << st.out;
  EXPECT_NE(st.out.find("2 of 2 runs stored"), std::string::npos) << st.out;
  CliRun rows = RunWattlab("runs --db " + db + " --json", false);
  ASSERT_EQ(rows.status, 0) << rows.out;
  auto rj = nlohmann::json::parse(rows.out);
  ASSERT_EQ(rj.size(), 4u);  // train/profile and infer/full per run
  for (const auto& row : rj) {
    EXPECT_EQ(row["model"], "tiny");
    EXPECT_EQ(row["params"], 4 * 3 * 9 + 4 + 4 * 10 + 10);
    EXPECT_EQ(row["macs"], 4 * 3 * 9 * 32 * 32 + 40);
  }
}

// Issue 12: the operator-level model end to end. `calibrate --shapes tiny`
// (the test-only shape set) stores a calibration; a calibration of another
// thread count is refused for the runs, naming the difference; the matching
// one judges the models leave-one-model-out in `analyze` and predicts a zoo
// model and a TorchScript file with an interval in `predict`.
TEST(E2E, CalibrateThenAnalyzeAndPredictWithTheOperatorModel) {
  TempDir dir, empty;
  const std::string db = dir / "op.db";
  CliRun cal2 = RunWattlab("calibrate --db " + db + " --threads 2 --shapes tiny --json", false);
  ASSERT_EQ(cal2.status, 0) << cal2.out;
  auto cj = nlohmann::json::parse(cal2.out);
  EXPECT_EQ(cj["threads"], 2);
  EXPECT_GT(cj["points"].get<int>(), 10);
  for (const char* k :
       {"conv", "conv_depthwise", "conv_grouped", "linear", "pool", "norm", "act", "optimizer"})
    EXPECT_TRUE(cj["points_by_kind"].contains(k)) << k << " " << cj.dump();

  std::string spec = dir / "op.toml";
  WriteFile(
      spec,
      "name = \"op\"\ncooldown_s = 0\nidle_s = 0\nrepetitions = 2\ndataset = \"synthetic:3x32x32:64\"\n"
      "[[sweep]]\nname = \"m\"\nmodels = [\"lenet\", \"mlp:depth=2,width=32\", \"mlp:depth=3,width=64\", "
      "\"resnet:depth=8,width=8\"]\nbatch_sizes = [8]\nthreads = [1]\nphases = [\"infer\"]\n"
      "infer_samples = 32\n");
  CliRun st = RunWattlab("study --spec " + spec + " --db " + db + " --no-report" + IsolatedMeter(empty));
  ASSERT_EQ(st.status, 0) << st.out;

  // Only a 2-thread calibration: the 1-thread runs are not judged, and the note says why.
  CliRun refused = RunWattlab("analyze --db " + db);
  ASSERT_EQ(refused.status, 0) << refused.out;
  EXPECT_NE(refused.out.find("threads: calibrated 2, wanted 1"), std::string::npos) << refused.out;

  CliRun cal1 = RunWattlab("calibrate --db " + db + " --threads 1 --shapes tiny");
  ASSERT_EQ(cal1.status, 0) << cal1.out;
  CliRun an = RunWattlab("analyze --db " + db + " --json", false);
  ASSERT_EQ(an.status, 0) << an.out;
  auto aj = nlohmann::json::parse(an.out);
  ASSERT_EQ(aj["op_model"]["phases"].size(), 1u) << aj["op_model"].dump();
  const auto& ph = aj["op_model"]["phases"][0];
  EXPECT_EQ(ph["phase"], "infer");
  EXPECT_EQ(ph["n_models"], 4);
  EXPECT_TRUE(ph["time_mape_pct"].is_number()) << ph.dump();
  EXPECT_TRUE(ph["median_time_cv_pct"].is_number()) << ph.dump();
  EXPECT_EQ(ph["models"].size(), 4u);
  CliRun table = RunWattlab("analyze --db " + db);
  EXPECT_NE(table.out.find("Operator-level model, phase infer"), std::string::npos) << table.out;

  CliRun pr = RunWattlab("predict --db " + db + " --model mlp:depth=2,width=64 --samples 1000 --json", false);
  ASSERT_EQ(pr.status, 0) << pr.out;
  auto pj = nlohmann::json::parse(pr.out);
  ASSERT_TRUE(pj["op_model"].is_object()) << pj.dump();
  const auto& op = pj["op_model"];
  EXPECT_GT(op["time_per_sample_s"].get<double>(), 0);
  EXPECT_LT(op["time_per_sample_low_s"].get<double>(), op["time_per_sample_s"].get<double>());
  EXPECT_GT(op["energy_per_sample_high_j"].get<double>(), op["energy_per_sample_j"].get<double>());
  EXPECT_TRUE(op["lomo_time_mape_pct"].is_number());
  EXPECT_NEAR(op["energy_j"].get<double>(), 1000 * op["energy_per_sample_j"].get<double>(),
              1e-9 * op["energy_j"].get<double>());

  std::string file = dir / "tiny.pt";
  ASSERT_EQ(std::system((std::string("/usr/bin/python3 ") + WATTLAB_MAKE_TORCHSCRIPT + " " + file).c_str()),
            0);
  CliRun ts = RunWattlab("predict --db " + db + " --torchscript " + file + " --input 3x32x32");
  ASSERT_EQ(ts.status, 0) << ts.out;
  EXPECT_NE(ts.out.find("operator-level model (calibrated on this machine)"), std::string::npos) << ts.out;
  EXPECT_NE(ts.out.find("95% interval"), std::string::npos) << ts.out;
}

}  // namespace
}  // namespace wattlab::workload
