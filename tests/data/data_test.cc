// data_test: the dataset readers of src/data/ (Fashion-MNIST idx/gzip,
// CIFAR-10 binary) on generated files, without libtorch. Findings of
// tests/fuzz/idx_fuzz and cifar_fuzz have their regression tests here.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "data/readers.h"
#include "dataset_files.h"
#include "platform/real_env.h"

namespace wattlab::data {
namespace {

using namespace wattlab::testing;  // NOLINT: the generated-file helpers

namespace fs = std::filesystem;

// The real Env the engine reaches files and the environment through.
Env* TestEnv() {
  static const std::unique_ptr<Env> env = NewRealEnv();
  return env.get();
}

TEST(Gzip, RoundTripAndErrors) {
  std::string raw(100000, 'x');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(i * 7919 % 251);
  std::string gz = Gzip(raw);
  auto back = Gunzip(gz, "mem");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, raw);

  auto truncated = Gunzip(gz.substr(0, gz.size() / 2), "half.gz");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().kind(), Status::Kind::kCorruption);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos)
      << truncated.status().message();
  EXPECT_NE(truncated.status().message().find("half.gz"), std::string::npos);

  auto garbage = Gunzip("this is not gzip at all", "plain.txt");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().kind(), Status::Kind::kCorruption);
  EXPECT_NE(garbage.status().message().find("not valid gzip"), std::string::npos)
      << garbage.status().message();
}

TEST(Idx, ParsesAndRejectsBadFiles) {
  auto ok = ParseIdx(Idx({2, 3, 4}, std::string(24, '\x07')), 3, "img");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->dims, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(ok->data.size(), 24u);

  // Labels magic (rank 1) where images (rank 3) are expected.
  auto wrong = ParseIdx(Idx({24}, std::string(24, '\0')), 3, "img");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().kind(), Status::Kind::kCorruption);
  EXPECT_NE(wrong.status().message().find("wrong idx magic 0x00000801"), std::string::npos)
      << wrong.status().message();

  auto short_data = ParseIdx(Idx({2, 3, 4}, std::string(23, '\0')), 3, "img");
  ASSERT_FALSE(short_data.ok());
  EXPECT_NE(short_data.status().message().find("truncated idx data"), std::string::npos);

  auto extra = ParseIdx(Idx({2}, std::string(3, '\0')), 1, "lbl");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("unexpected bytes"), std::string::npos);

  EXPECT_FALSE(ParseIdx("ab", 1, "tiny").ok());
  EXPECT_FALSE(ParseIdx(Idx({2, 3}, ""), 3, "hdr").ok());  // header cut short
}

TEST(FashionMnist, LoadsASplitAndExplainsFailures) {
  TempDir dir;
  WriteFashionSplit(dir.path(), "train", 12);
  auto ds = LoadFashionMnist(TestEnv(), dir.path(), "train", 10);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->name, "fashion-mnist/train");
  EXPECT_EQ(ds->size(), 10);  // limited
  EXPECT_EQ(ds->shape, (Shape{1, 28, 28}));
  EXPECT_EQ(ds->labels[7], 7);
  EXPECT_EQ(ds->pixels[3 * 784 + 28 * 2 + 5], 3 + 2 + 5);

  auto missing = LoadFashionMnist(TestEnv(), dir.path(), "t10k", 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), Status::Kind::kNotFound);
  EXPECT_NE(missing.status().message().find("apt-get install dataset-fashion-mnist"), std::string::npos);

  WriteFashionSplit(dir.path(), "t10k", 5);
  WriteFile(dir / "t10k-labels-idx1-ubyte.gz", Gzip(Idx({5}, std::string("\1\2\3\4\x0a", 5))));
  auto label = LoadFashionMnist(TestEnv(), dir.path(), "t10k", 0);
  ASSERT_FALSE(label.ok());
  EXPECT_NE(label.status().message().find("label 10 at index 4"), std::string::npos)
      << label.status().message();
}

TEST(Cifar10, ParsesRecordsUpToTheLimit) {
  const std::string bytes = CifarRecords();
  Dataset ds;
  ASSERT_TRUE(ParseCifar10(bytes, "b.bin", 0, &ds).ok());
  EXPECT_EQ(ds.labels, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(ds.pixels.size(), 3u * 3072);
  EXPECT_EQ(ds.pixels[3072 + 10], (3072 + 10) % 256);

  Dataset limited;
  ASSERT_TRUE(ParseCifar10(bytes, "b.bin", 2, &limited).ok());
  EXPECT_EQ(limited.labels, (std::vector<int64_t>{4, 5}));
  ASSERT_TRUE(ParseCifar10(bytes, "c.bin", 2, &limited).ok());  // already full
  EXPECT_EQ(limited.size(), 2);
}

TEST(Cifar10, RefusesBadFilesAndLeavesTheDatasetAlone) {
  Dataset ds;
  ASSERT_TRUE(ParseCifar10(CifarRecords(1), "a.bin", 0, &ds).ok());
  std::string bytes = CifarRecords();
  Status cut = ParseCifar10(std::string_view(bytes).substr(0, 3073 + 100), "b.bin", 0, &ds);
  EXPECT_EQ(cut.kind(), Status::Kind::kCorruption);
  EXPECT_NE(cut.message().find("3073 bytes each"), std::string::npos);
  bytes[2 * 3073] = 12;  // the third record's label
  Status label = ParseCifar10(bytes, "b.bin", 0, &ds);
  EXPECT_EQ(label.kind(), Status::Kind::kCorruption);
  EXPECT_NE(label.message().find("b.bin: label 12 in record 2"), std::string::npos) << label.message();
  EXPECT_EQ(ds.size(), 1);  // the first file's record only
  EXPECT_EQ(ds.pixels.size(), 3072u);
  EXPECT_EQ(ParseCifar10("", "e.bin", 0, &ds).kind(), Status::Kind::kCorruption);
}

TEST(Cifar10, LoadsFilesThroughTheEnv) {
  TempDir dir;
  WriteFile(dir / "data_batch_1.bin", CifarRecords());
  WriteFile(dir / "data_batch_2.bin", CifarRecords());
  auto ds = LoadCifar10(TestEnv(), {dir / "data_batch_1.bin", dir / "data_batch_2.bin"}, "cifar10/train", 4);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->shape, (Shape{3, 32, 32}));
  EXPECT_EQ(ds->labels, (std::vector<int64_t>{4, 5, 6, 4}));
  // The limit is reached before the second file, which is then not read.
  auto enough = LoadCifar10(TestEnv(), {dir / "data_batch_1.bin", dir / "none.bin"}, "t", 3);
  EXPECT_TRUE(enough.ok());
  auto missing = LoadCifar10(TestEnv(), {dir / "none.bin"}, "t", 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), Status::Kind::kNotFound);
  EXPECT_NE(missing.status().message().find("data_batch_1..5.bin"), std::string::npos);
}

}  // namespace
}  // namespace wattlab::data
