// Dataset files generated for tests: gzip'd idx (Fashion-MNIST) and
// CIFAR-10 binary records in a temporary directory. Shared by data_test (the
// readers) and workload_test (LoadDataset over them).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace wattlab::testing {

// A fresh temporary directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/wattlab-dataset-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string Gzip(const std::string& raw) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, raw.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string Be32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
}

// An idx file: magic 0x0000080R, big-endian dims, bytes.
inline std::string Idx(const std::vector<uint32_t>& dims, const std::string& data) {
  std::string s = Be32(0x800u | static_cast<uint32_t>(dims.size()));
  for (uint32_t d : dims) s += Be32(d);
  return s + data;
}

// n images 28x28 whose pixels are (i + y + x) % 256, labels i % 10.
inline void WriteFashionSplit(const std::string& dir, const std::string& split, uint32_t n) {
  std::string pixels, labels;
  for (uint32_t i = 0; i < n; ++i) {
    labels.push_back(static_cast<char>(i % 10));
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) pixels.push_back(static_cast<char>((i + y + x) % 256));
  }
  WriteFile(dir + "/" + split + "-images-idx3-ubyte.gz", Gzip(Idx({n, 28, 28}, pixels)));
  WriteFile(dir + "/" + split + "-labels-idx1-ubyte.gz", Gzip(Idx({n}, labels)));
}

// Three CIFAR-10 records with labels 4, 5, 6 and pixels (r * 3072 + i) % 256.
inline std::string CifarRecords(int n = 3) {
  std::string bytes;
  for (int r = 0; r < n; ++r) {
    bytes.push_back(static_cast<char>(r + 4));
    for (int i = 0; i < 3072; ++i) bytes.push_back(static_cast<char>((r * 3072 + i) % 256));
  }
  return bytes;
}

}  // namespace wattlab::testing
