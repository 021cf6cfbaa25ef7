#include "cli/run_input.h"

#include <iostream>
#include <iterator>
#include <set>

#include "analysis/analysis.h"
#include "cli/common.h"
#include "core/strings.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

Status UnknownStudy(const std::string& study, const std::string& where, const std::set<std::string>& names) {
  std::vector<std::string> list(names.begin(), names.end());
  return Status::InvalidArgument("no study '" + study + "' in " + where +
                                 " (studies: " + (list.empty() ? "none" : Join(list, ", ")) + ")");
}

}  // namespace

Result<std::vector<RunRow>> LoadRunRows(Env* env, const std::string& db, const std::string& csv,
                                        const std::string& study) {
  if (!db.empty() && !csv.empty())
    return Status::InvalidArgument("give either --db FILE or --csv FILE, not both");
  if (!csv.empty()) {
    std::string text;
    if (csv == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto read = env->ReadFile(csv);
      if (!read.ok()) return Status::NotFound("cannot read --csv " + csv + ": no such file or not readable");
      text = std::move(*read);
    }
    const std::string where = csv == "-" ? "stdin" : csv;
    auto rows = analysis::ReadRunsCsv(text);
    if (!rows.ok()) return rows.status().WithContext(where);
    if (study.empty()) return rows;
    std::vector<RunRow> kept;
    std::set<std::string> names;
    for (auto& r : *rows) {
      names.insert(r.study);
      if (r.study == study) kept.push_back(std::move(r));
    }
    if (kept.empty()) return UnknownStudy(study, where, names);
    return kept;
  }
  const std::string path = db.empty() ? kDefaultDb : db;
  WATTLAB_ASSIGN_OR_RETURN(auto store, Store::Open(env, path, OpenMode::kReadOnly));
  if (!store->notice().empty()) std::cerr << "wattlab: note: " << store->notice() << "\n";
  if (!study.empty()) {
    WATTLAB_ASSIGN_OR_RETURN(auto info, store->ReadStudy(study));
    if (!info.has_value()) {
      std::set<std::string> names;
      if (auto all = store->ReadStudies(); all.ok())
        for (const auto& s : *all) names.insert(s.name);
      return UnknownStudy(study, path, names);
    }
  }
  return store->ReadRows(study);
}

}  // namespace wattlab::cli
