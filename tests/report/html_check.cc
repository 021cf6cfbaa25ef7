#include "html_check.h"

#include <cctype>
#include <set>

namespace wattlab::report::testing {
namespace {

bool ValidEntity(const std::string& d, size_t amp) {
  size_t i = amp + 1;
  if (i < d.size() && d[i] == '#') {
    ++i;
    const size_t start = i;
    while (i < d.size() && std::isdigit(static_cast<unsigned char>(d[i]))) ++i;
    return i > start && i < d.size() && d[i] == ';';
  }
  const size_t start = i;
  while (i < d.size() && std::isalpha(static_cast<unsigned char>(d[i]))) ++i;
  return i > start && i < d.size() && d[i] == ';';
}

}  // namespace

std::string CheckWellFormed(const std::string& d) {
  static const std::set<std::string> kVoid = {"meta", "link", "br", "hr", "img", "input"};
  std::vector<std::string> stack;
  size_t i = 0;
  auto err = [&](const std::string& what, size_t at) { return what + " at offset " + std::to_string(at); };
  while (i < d.size()) {
    const char c = d[i];
    if (c == '&') {
      if (!ValidEntity(d, i)) return err("bare '&'", i);
      ++i;
      continue;
    }
    if (c != '<') {
      ++i;
      continue;
    }
    if (d.compare(i, 4, "<!--") == 0) {
      const size_t e = d.find("-->", i);
      if (e == std::string::npos) return err("unterminated comment", i);
      i = e + 3;
      continue;
    }
    if (d.compare(i, 2, "<!") == 0) {
      const size_t e = d.find('>', i);
      if (e == std::string::npos) return err("unterminated declaration", i);
      i = e + 1;
      continue;
    }
    const bool closing = i + 1 < d.size() && d[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < d.size() && (std::isalnum(static_cast<unsigned char>(d[j])) || d[j] == '-' || d[j] == ':'))
      ++j;
    if (j == name_start) return err("'<' that does not start a tag", i);
    std::string name = d.substr(name_start, j - name_start);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    // Attributes.
    bool self_closing = false;
    while (true) {
      while (j < d.size() && std::isspace(static_cast<unsigned char>(d[j]))) ++j;
      if (j >= d.size()) return err("unterminated tag <" + name, i);
      if (d[j] == '>') {
        ++j;
        break;
      }
      if (d[j] == '/' && j + 1 < d.size() && d[j + 1] == '>') {
        self_closing = true;
        j += 2;
        break;
      }
      if (closing) return err("attributes on a closing tag </" + name, i);
      const size_t an = j;
      while (j < d.size() &&
             (std::isalnum(static_cast<unsigned char>(d[j])) || d[j] == '-' || d[j] == ':' || d[j] == '_'))
        ++j;
      if (j == an) return err("bad attribute in <" + name, j);
      if (j < d.size() && d[j] == '=') {
        ++j;
        if (j >= d.size() || d[j] != '"') return err("unquoted attribute value in <" + name, j);
        const size_t e = d.find('"', j + 1);
        if (e == std::string::npos) return err("unterminated attribute value in <" + name, j);
        for (size_t k = j + 1; k < e; ++k) {
          if (d[k] == '<') return err("'<' inside an attribute value", k);
          if (d[k] == '&' && !ValidEntity(d, k)) return err("bare '&' in an attribute value", k);
        }
        j = e + 1;
      }
    }
    if (closing) {
      if (stack.empty()) return err("</" + name + "> closes nothing", i);
      if (stack.back() != name) return err("</" + name + "> closes <" + stack.back() + ">", i);
      stack.pop_back();
    } else if (!self_closing && !kVoid.count(name)) {
      if (name == "style" || name == "script") {
        const size_t e = d.find("</" + name + ">", j);
        if (e == std::string::npos) return err("unterminated <" + name + ">", i);
        j = e + name.size() + 3;
      } else {
        stack.push_back(name);
      }
    }
    i = j;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + "> at end of document";
  return "";
}

std::vector<std::string> ElementTexts(const std::string& doc, const std::string& tag,
                                      const std::string& cls) {
  std::vector<std::string> out;
  const std::string needle = "class=\"" + cls + "\"";
  size_t pos = 0;
  while ((pos = doc.find("<" + tag + " ", pos)) != std::string::npos) {
    const size_t gt = doc.find('>', pos);
    if (gt == std::string::npos) break;
    const std::string open = doc.substr(pos, gt - pos);
    const size_t close = doc.find("</" + tag + ">", gt);
    if (close == std::string::npos) break;
    if (open.find(needle) != std::string::npos) out.push_back(doc.substr(gt + 1, close - gt - 1));
    pos = gt;
  }
  return out;
}

}  // namespace wattlab::report::testing
