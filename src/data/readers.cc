#include "data/readers.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>

namespace wattlab::data {

namespace {

constexpr const char* kFashionInstallHint =
    "install dataset-fashion-mnist: apt-get install dataset-fashion-mnist";

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

Result<std::string> ReadBinaryFile(Env* env, const std::string& path) { return env->ReadFile(path); }

Result<std::string> Gunzip(std::string_view bytes, const std::string& what) {
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip header, not a raw zlib stream.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::Internal("zlib inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > kMaxGunzipBytes) {
      inflateEnd(&zs);
      return Status::Corruption(what + ": inflates to more than " + std::to_string(kMaxGunzipBytes >> 30) +
                                " GiB; not a dataset file");
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the stream did
  }
  inflateEnd(&zs);
  if (rc == Z_STREAM_END) return out;
  if (rc == Z_OK || rc == Z_BUF_ERROR)
    return Status::Corruption(what + ": truncated gzip data (the stream ends early); reinstall the file");
  return Status::Corruption(what + ": not valid gzip data (" +
                            (zs.msg ? zs.msg : "zlib error " + std::to_string(rc)) + ")");
}

Result<IdxArray> ParseIdx(std::string_view bytes, int expected_rank, const std::string& what) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4)
    return Status::Corruption(what + ": too short for an idx header (" + std::to_string(bytes.size()) +
                              " bytes)");
  uint32_t magic = BigEndian32(p);
  uint32_t expected_magic = 0x800u | static_cast<uint32_t>(expected_rank);
  if (magic != expected_magic) {
    char got[16], want[16];
    std::snprintf(got, sizeof got, "0x%08x", magic);
    std::snprintf(want, sizeof want, "0x%08x", expected_magic);
    return Status::Corruption(what + ": wrong idx magic " + got + " (expected " + want +
                              ", unsigned bytes of rank " + std::to_string(expected_rank) + ")");
  }
  size_t header = 4 + 4 * static_cast<size_t>(expected_rank);
  if (bytes.size() < header) return Status::Corruption(what + ": truncated idx header");
  IdxArray a;
  uint64_t total = 1;
  for (int i = 0; i < expected_rank; ++i) {
    uint32_t d = BigEndian32(p + 4 + 4 * i);
    if (d == 0) return Status::Corruption(what + ": idx dimension " + std::to_string(i) + " is zero");
    a.dims.push_back(d);
    total *= d;
    if (total > (uint64_t{1} << 36)) return Status::Corruption(what + ": implausibly large idx dimensions");
  }
  if (bytes.size() - header < total)
    return Status::Corruption(what + ": truncated idx data (" + std::to_string(bytes.size() - header) +
                              " bytes, header promises " + std::to_string(total) + ")");
  if (bytes.size() - header > total)
    return Status::Corruption(what + ": " + std::to_string(bytes.size() - header - total) +
                              " unexpected bytes after the idx data");
  a.data.assign(bytes.substr(header));
  return a;
}

Result<Dataset> LoadFashionMnist(Env* env, const std::string& dir, const std::string& split, int64_t limit) {
  std::string images_path = dir + "/" + split + "-images-idx3-ubyte.gz";
  std::string labels_path = dir + "/" + split + "-labels-idx1-ubyte.gz";
  auto load = [&](const std::string& path, int rank) -> Result<IdxArray> {
    auto raw = ReadBinaryFile(env, path);
    if (!raw.ok()) {
      if (raw.status().kind() == Status::Kind::kNotFound)
        return Status::NotFound("Fashion-MNIST file " + path + " is missing; " + kFashionInstallHint);
      return raw.status();
    }
    WATTLAB_ASSIGN_OR_RETURN(std::string bytes, Gunzip(*raw, path));
    return ParseIdx(bytes, rank, path);
  };
  WATTLAB_ASSIGN_OR_RETURN(IdxArray images, load(images_path, 3));
  WATTLAB_ASSIGN_OR_RETURN(IdxArray labels, load(labels_path, 1));
  if (images.dims[0] != labels.dims[0])
    return Status::Corruption(images_path + " has " + std::to_string(images.dims[0]) + " images but " +
                              labels_path + " has " + std::to_string(labels.dims[0]) + " labels");
  Dataset ds;
  ds.name = "fashion-mnist/" + std::string(split == "t10k" ? "test" : split);
  ds.shape = Shape{1, images.dims[1], images.dims[2]};
  ds.classes = 10;
  ds.mean = {0.2860f};
  ds.std = {0.3530f};
  int64_t n = images.dims[0];
  if (limit > 0) n = std::min(n, limit);
  ds.pixels.assign(images.data.begin(), images.data.begin() + n * ds.SampleBytes());
  ds.labels.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t l = static_cast<unsigned char>(labels.data[i]);
    if (l >= ds.classes)
      return Status::Corruption(labels_path + ": label " + std::to_string(l) + " at index " +
                                std::to_string(i) + " is outside 0..9");
    ds.labels[i] = l;
  }
  return ds;
}

Status ParseCifar10(std::string_view bytes, const std::string& what, int64_t limit, Dataset* ds) {
  if (bytes.empty() || bytes.size() % kCifar10RecordBytes != 0)
    return Status::Corruption(
        what + ": " + std::to_string(bytes.size()) +
        " bytes is not a whole number of CIFAR-10 records (3073 bytes each); the file is "
        "truncated or not in the binary format");
  const int64_t records = static_cast<int64_t>(bytes.size()) / kCifar10RecordBytes;
  // Labels first, so a bad file leaves ds as it was.
  for (int64_t r = 0; r < records; ++r) {
    const int64_t label = static_cast<unsigned char>(bytes[r * kCifar10RecordBytes]);
    if (label >= 10)
      return Status::Corruption(what + ": label " + std::to_string(label) + " in record " +
                                std::to_string(r) + " is outside 0..9; not a CIFAR-10 binary file");
  }
  for (int64_t r = 0; r < records; ++r) {
    if (limit > 0 && ds->size() >= limit) break;
    const char* rec = bytes.data() + r * kCifar10RecordBytes;
    ds->labels.push_back(static_cast<unsigned char>(rec[0]));
    ds->pixels.insert(ds->pixels.end(), rec + 1, rec + kCifar10RecordBytes);
  }
  return Status::Ok();
}

Result<Dataset> LoadCifar10(Env* env, const std::vector<std::string>& files, const std::string& name,
                            int64_t limit) {
  Dataset ds;
  ds.name = name;
  ds.shape = Shape{3, 32, 32};
  ds.classes = 10;
  // The per-channel statistics used by the reference CIFAR training code.
  ds.mean = {0.4914f, 0.4822f, 0.4465f};
  ds.std = {0.2023f, 0.1994f, 0.2010f};
  for (const auto& path : files) {
    if (limit > 0 && ds.size() >= limit) break;
    auto raw = ReadBinaryFile(env, path);
    if (!raw.ok()) {
      if (raw.status().kind() == Status::Kind::kNotFound)
        return Status::NotFound(
            "CIFAR-10 file " + path +
            " is missing; give the folder holding data_batch_1..5.bin and test_batch.bin "
            "(the 'CIFAR-10 binary version'), e.g. --dataset cifar10:/data/cifar-10-batches-bin");
      return raw.status();
    }
    WATTLAB_RETURN_IF_ERROR(ParseCifar10(*raw, path, limit, &ds));
  }
  return ds;
}

}  // namespace wattlab::data
