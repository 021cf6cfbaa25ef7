// WriteReport: the store and the analysis glued to the pure builder, and the
// atomic directory writer.
#include "report/report.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "analysis/analysis.h"
#include "core/strings.h"
#include "core/env.h"
#include "platform/real_env.h"
#include "report/builder.h"
#include "store/store.h"

#ifndef WATTLAB_VERSION
#define WATTLAB_VERSION "unknown"
#endif
#ifndef WATTLAB_GIT_REV
#define WATTLAB_GIT_REV "unknown"
#endif

namespace wattlab {
namespace fs = std::filesystem;

namespace report {

Status WriteFilesAtomically(const std::vector<ReportFile>& files, const std::string& out_dir, bool overwrite) {
  if (out_dir.empty()) return Status::InvalidArgument("empty output directory: pass --out DIR");
  std::error_code ec;
  fs::path target = fs::path(out_dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "dir/" -> "dir"
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");

  // Refuse before writing anything: an existing directory is replaced only
  // when it is an earlier report (never, say, a home directory given as --out).
  const bool exists = fs::exists(target, ec);
  if (exists) {
    if (!fs::is_directory(target, ec)) {
      return Status::FailedPrecondition(target.string() + " exists and is not a directory: choose another --out");
    }
    const bool empty = fs::is_empty(target, ec);
    if (!empty) {
      if (!overwrite) {
        return Status::FailedPrecondition(target.string() + " already exists: remove it or choose another --out");
      }
      if (!fs::exists(target / "index.html", ec) || !fs::exists(target / "summary.md", ec)) {
        return Status::FailedPrecondition("refusing to replace " + target.string() +
                                          ": it exists and is not a wattlab report; choose another --out");
      }
    }
  }
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) return Status::IOError("cannot create " + parent.string() + ": " + ec.message());
  }

  static std::atomic<int> counter{0};
  const std::string suffix = std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const fs::path tmp = parent / ("." + target.filename().string() + ".tmp-" + suffix);
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec) || ec) {
    return Status::IOError("cannot create " + tmp.string() + ": " + (ec ? ec.message() : "already exists") +
                           " (is the directory writable?)");
  }
  auto fail = [&](Status st) {
    std::error_code ignore;
    fs::remove_all(tmp, ignore);
    return st;
  };
  for (const auto& f : files) {
    if (f.name.empty() || f.name.find('/') != std::string::npos || f.name[0] == '.') {
      return fail(Status::Internal("report file name '" + f.name + "' is not a plain file name"));
    }
    const fs::path p = tmp / f.name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (!out) return fail(Status::IOError("cannot write " + p.string() + ": " + std::strerror(errno)));
    out.write(f.content.data(), static_cast<std::streamsize>(f.content.size()));
    out.close();
    if (!out) return fail(Status::IOError("cannot write " + p.string() + " (disk full?)"));
  }

  // Swap: move the old report aside, move the new one in, then drop the old.
  fs::path old;
  if (fs::exists(target, ec)) {
    old = parent / ("." + target.filename().string() + ".old-" + suffix);
    fs::rename(target, old, ec);
    if (ec) return fail(Status::IOError("cannot replace " + target.string() + ": " + ec.message()));
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignore;
    if (!old.empty()) fs::rename(old, target, ignore);
    return fail(Status::IOError("cannot move the report into " + target.string() + ": " + ec.message()));
  }
  if (!old.empty()) fs::remove_all(old, ec);
  return Status::Ok();
}

}  // namespace report

std::string DefaultReportDir(const std::string& db_path) {
  fs::path p(db_path);
  std::string stem = p.filename().string();
  if (EndsWith(stem, ".db")) stem.resize(stem.size() - 3);
  if (stem.empty()) stem = "wattlab";
  return (p.parent_path() / (stem + "-report")).string();
}

Status WriteReport(const std::string& db_path, const std::string& out_dir, const ReportOptions& options) {
  auto env = NewRealEnv();
  WATTLAB_ASSIGN_OR_RETURN(auto store, Store::Open(env.get(), db_path, OpenMode::kReadOnly));
  report::ReportInput in;
  WATTLAB_ASSIGN_OR_RETURN(std::vector<StudyInfo> studies, store->ReadStudies());
  if (!options.study.empty()) {
    bool found = false;
    std::vector<std::string> names;
    for (auto& st : studies) {
      names.push_back(st.name);
      if (st.name == options.study) {
        in.studies.push_back(st);
        found = true;
      }
    }
    if (!found) {
      return Status::InvalidArgument("no study '" + options.study + "' in " + db_path + " (studies: " +
                                     (names.empty() ? std::string("none") : Join(names, ", ")) + ")");
    }
  } else {
    in.studies = std::move(studies);
  }
  WATTLAB_ASSIGN_OR_RETURN(in.rows, store->ReadRows(options.study));
  WATTLAB_ASSIGN_OR_RETURN(in.timelines, store->ReadTimelines(options.study));

  analysis::AnalysisOptions aopt;
  aopt.intensity_g_per_kwh = options.carbon_intensity_g_per_kwh;
  aopt.pue = options.pue;
  if (options.inferences_per_day > 0) {
    aopt.requests_per_day = options.inferences_per_day;
    aopt.days = 365;
  }
  if (in.rows.empty()) {
    in.analysis_error = "the database holds no measured windows" +
                        (options.study.empty() ? std::string() : " for study '" + options.study + "'");
  } else {
    auto result = analysis::Analyze(in.rows, aopt);
    if (result.ok()) {
      in.analysis = std::move(result).value();
    } else if (result.status().kind() == Status::Kind::kInvalidArgument) {
      return result.status().WithContext("report options");
    } else {
      in.analysis_error = result.status().message();
    }
  }
  double now = 0;
  if (options.generated_at_unix_s) {
    now = *options.generated_at_unix_s;
  } else {
    now = NewRealEnv()->NowWallSeconds();
  }
  in.generated_at = report::FormatUtc(now);
  in.wattlab_version = std::string(WATTLAB_VERSION) + " (git " + WATTLAB_GIT_REV + ")";
  return report::WriteFilesAtomically(report::BuildReport(in, options), out_dir, options.overwrite);
}

}  // namespace wattlab
