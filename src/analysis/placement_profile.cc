// The placement profile's TOML reader (ParsePlacementProfile in
// placement.h). Text in, profile out: no file access, so it can be fuzzed.
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>

#include "analysis/placement.h"
#include "core/strings.h"

namespace wattlab::analysis {

namespace {

class Where {
 public:
  explicit Where(std::string file) : file_(std::move(file)) {}
  Status At(const toml::source_region& src, const std::string& key, const std::string& msg) const {
    std::string where = file_ + (src.begin.line > 0 ? ":" + std::to_string(src.begin.line) : "");
    return Status::InvalidArgument(where + ": key '" + key + "': " + msg);
  }

 private:
  std::string file_;
};

std::vector<std::string> LinkKeyList() {
  return std::vector<std::string>(kLinkKeys, kLinkKeys + kLinkKeyCount);
}

Result<double> Number(const toml::node& n, const std::string& key, const Where& w) {
  std::optional<double> v;
  if (auto i = n.as_integer()) v = static_cast<double>(i->get());
  if (auto f = n.as_floating_point()) v = f->get();
  if (!v) return w.At(n.source(), key, "must be a number, or [low, central, high]");
  if (!std::isfinite(*v)) return w.At(n.source(), key, "must be finite");
  if (*v < 0) return w.At(n.source(), key, "must be >= 0 (got " + FormatDouble(*v) + ")");
  return *v;
}

Result<Triple> TripleOf(const toml::node& n, const std::string& key, const Where& w) {
  if (const auto* a = n.as_array()) {
    if (a->size() != 3) return w.At(n.source(), key, "an array must be exactly [low, central, high]");
    double v[3];
    for (size_t i = 0; i < 3; ++i) {
      WATTLAB_ASSIGN_OR_RETURN(v[i], Number(*a->get(i), key, w));
    }
    if (!(v[0] <= v[1] && v[1] <= v[2]))
      return w.At(n.source(), key,
                  "[low, central, high] out of order (got [" + FormatDouble(v[0]) + ", " +
                      FormatDouble(v[1]) + ", " + FormatDouble(v[2]) + "]); need low <= central <= high");
    return Triple{v[0], v[1], v[2]};
  }
  WATTLAB_ASSIGN_OR_RETURN(double v, Number(n, key, w));
  return Triple::Of(v);
}

}  // namespace

Result<PlacementProfile> ParsePlacementProfile(std::string_view toml_text, const std::string& file,
                                               PlacementProfile base) {
  const Where w(file);
  toml::table root;
  try {
    root = toml::parse(toml_text, file);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(file + ":" + std::to_string(e.source().begin.line) +
                                   ": not valid TOML: " + std::string(e.description()));
  }
  const std::string source = "profile " + file;
  for (auto&& [k, v] : root) {
    const std::string key(k.str());
    if (key == "cloud") {
      const auto* t = v.as_table();
      if (!t) return w.At(v.source(), "cloud", "must be a table: [cloud]");
      for (auto&& [ck, cv] : *t) {
        const std::string ckey(ck.str());
        if (ckey != "pue") return w.At(ck.source(), "cloud." + ckey, "unknown key; allowed keys here: pue");
        WATTLAB_ASSIGN_OR_RETURN(Triple p, TripleOf(cv, "cloud.pue", w));
        if (p.low < 1)
          return w.At(cv.source(), "cloud.pue", "must be >= 1 (got " + FormatDouble(p.low) + ")");
        base.pue = {p, source};
      }
    } else if (key == "link") {
      const auto* links = v.as_table();
      if (!links) return w.At(v.source(), "link", "must hold tables: [link.NAME]");
      for (auto&& [lk, lv] : *links) {
        const std::string name(lk.str());
        const auto* t = lv.as_table();
        if (!t) return w.At(lv.source(), "link." + name, "must be a table: [link." + name + "]");
        auto it = std::find_if(base.links.begin(), base.links.end(),
                               [&](const LinkProfile& l) { return l.name == name; });
        const bool known = it != base.links.end();
        LinkProfile link;
        if (known) link = *it;
        link.name = name;
        bool given[kLinkKeyCount] = {};
        for (auto&& [ek, ev] : *t) {
          const std::string ekey(ek.str());
          const auto* pos = std::find(kLinkKeys, kLinkKeys + kLinkKeyCount, ekey);
          if (pos == kLinkKeys + kLinkKeyCount)
            return w.At(ek.source(), "link." + name + "." + ekey,
                        "unknown key; allowed keys here: " + Join(LinkKeyList(), ", "));
          const int idx = static_cast<int>(pos - kLinkKeys);
          WATTLAB_ASSIGN_OR_RETURN(Triple val, TripleOf(ev, "link." + name + "." + ekey, w));
          link.coef[idx] = {val, source};
          given[idx] = true;
        }
        if (!known) {
          std::vector<std::string> missing;
          for (int i = 0; i < kLinkKeyCount; ++i)
            if (!given[i]) missing.push_back(kLinkKeys[i]);
          if (!missing.empty())
            return w.At(lv.source(), "link." + name,
                        "a new link must give every key; missing: " + Join(missing, ", "));
          base.links.push_back(std::move(link));
        } else {
          *it = std::move(link);
        }
      }
    } else {
      return w.At(k.source(), key, "unknown table; allowed: [link.NAME], [cloud]");
    }
  }
  return base;
}

}  // namespace wattlab::analysis
