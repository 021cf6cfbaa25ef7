// WriteFilesAtomically: a report directory appears whole or not at all. All
// file operations go through the Env, so tests can fail any one of them.
#include <atomic>
#include <string>

#include "report/builder.h"

namespace wattlab::report {
namespace {

// index.html and summary.md mark a directory as an earlier wattlab report:
// only such a directory is ever replaced (never, say, a home directory given
// as --out).
bool LooksLikeReport(const std::vector<std::string>& entries) {
  bool html = false, md = false;
  for (const auto& e : entries) {
    html = html || e == "index.html";
    md = md || e == "summary.md";
  }
  return html && md;
}

}  // namespace

Status WriteFilesAtomically(const std::vector<ReportFile>& files, const std::string& out_dir, bool overwrite,
                            Env* env) {
  if (out_dir.empty()) return Status::InvalidArgument("empty output directory: pass --out DIR");
  std::string target = out_dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();  // "dir/" -> "dir"
  const size_t slash = target.rfind('/');
  const std::string name = slash == std::string::npos ? target : target.substr(slash + 1);
  const std::string parent = slash == std::string::npos ? std::string(".")
                             : slash == 0               ? std::string("/")
                                                        : target.substr(0, slash);
  if (name.empty() || name == "." || name == "..")
    return Status::InvalidArgument("--out " + out_dir +
                                   " does not name a new directory: give one, e.g. --out " +
                                   (parent == "/" ? "" : parent + "/") + "report");
  for (const auto& f : files) {
    if (f.name.empty() || f.name.find('/') != std::string::npos || f.name[0] == '.')
      return Status::Internal("report file name '" + f.name + "' is not a plain file name");
  }

  // Refuse before writing anything.
  WATTLAB_ASSIGN_OR_RETURN(FileInfo info, env->Stat(target));
  const bool exists = info.kind != FileKind::kMissing;
  if (exists) {
    if (info.kind != FileKind::kDirectory)
      return Status::FailedPrecondition(target + " exists and is not a directory: choose another --out");
    WATTLAB_ASSIGN_OR_RETURN(std::vector<std::string> entries, env->ListDir(target));
    if (!entries.empty()) {
      if (!overwrite)
        return Status::FailedPrecondition(target + " already exists: remove it or choose another --out");
      if (!LooksLikeReport(entries))
        return Status::FailedPrecondition("refusing to replace " + target +
                                          ": it exists and is not a wattlab report; choose another --out");
    }
  }
  WATTLAB_ASSIGN_OR_RETURN(FileInfo parent_info, env->Stat(parent));
  if (parent_info.kind == FileKind::kMissing) {
    if (Status st = env->CreateDirs(parent); !st.ok())
      return st.WithContext("cannot create " + parent + " for the report");
  }

  auto made = env->MakeTempDir(parent, "." + name + ".tmp-");
  if (!made.ok())
    return made.status().WithContext("cannot start the report in " + parent + " (is it writable?)");
  const std::string tmp = *made;
  const std::string unchanged =
      exists ? "the previous report in " + target + " is unchanged" : "nothing was written to " + target;
  auto fail = [&](const Status& st, const std::string& what) {
    (void)env->RemoveTree(tmp);  // best effort: gone already if its directory vanished
    return st.WithContext(what + "; " + unchanged);
  };
  auto vanished = [&](const std::string& dir) {
    auto st = env->Stat(dir);
    return st.ok() && st->kind == FileKind::kMissing;
  };

  for (const auto& f : files) {
    const Status st = env->WriteFileAtomically(tmp + "/" + f.name, f.content);
    if (st.ok()) continue;
    if (vanished(tmp))
      return fail(st, "the temporary directory " + tmp + " vanished while " + f.name + " was being written");
    return fail(st, "cannot write " + f.name + " of the report into " + tmp);
  }

  // Swap: move the old report aside, move the new one in, then drop the old.
  static std::atomic<int> counter{0};
  std::string old;
  if (exists) {
    old = parent + "/." + name + ".old-" + std::to_string(env->Pid()) + "-" + std::to_string(counter++);
    if (Status st = env->Rename(target, old); !st.ok())
      return fail(st, "cannot move the previous report " + target + " aside to replace it");
  }
  if (Status st = env->Rename(tmp, target); !st.ok()) {
    if (!old.empty()) {
      if (Status back = env->Rename(old, target); !back.ok()) {
        (void)env->RemoveTree(tmp);
        return st.WithContext("cannot move the new report into " + target +
                              ", and the previous report could not "
                              "be moved back: it is in " +
                              old + " (" + back.message() + ")");
      }
    }
    if (vanished(parent))
      return fail(st, "the directory " + parent + " vanished before the report could be moved into it");
    return fail(st, "cannot move the new report into " + target);
  }
  // The new report is in place; a leftover old copy is only clutter.
  if (!old.empty()) (void)env->RemoveTree(old);
  return Status::Ok();
}

}  // namespace wattlab::report
