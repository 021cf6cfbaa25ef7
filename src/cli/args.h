// A small, strict command-line parser: `--name value`, `--name=value`,
// boolean `--flag`, positionals, and everything after `--` kept verbatim.
// Unknown options are errors that name the command and point at --help.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "wattlab/status.h"

namespace wattlab::cli {

class ArgParser {
 public:
  ArgParser(std::string command, std::string summary);

  void AddFlag(const std::string& name, bool* out, const std::string& help);
  void AddOption(const std::string& name, std::string* out, const std::string& value_name, const std::string& help);
  // Repeatable option: every occurrence appended.
  void AddMulti(const std::string& name, std::vector<std::string>* out, const std::string& value_name,
                const std::string& help);
  // Allows positionals (otherwise a positional is an error).
  void AllowPositionals(std::vector<std::string>* out, const std::string& usage);
  // Everything after "--" goes to *out (measure's command).
  void AllowRest(std::vector<std::string>* out);

  // Returns InvalidArgument for unknown options or missing values. Sets
  // help_requested() on --help/-h.
  Status Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_; }
  std::string Help() const;
  // True when the option was given on the command line.
  bool Given(const std::string& name) const { return given_.count(name) > 0; }

 private:
  struct Spec {
    enum Kind { kFlag, kOption, kMulti } kind;
    bool* flag = nullptr;
    std::string* value = nullptr;
    std::vector<std::string>* multi = nullptr;
    std::string value_name, help;
  };
  std::string command_, summary_, positional_usage_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::vector<std::string>* positionals_ = nullptr;
  std::vector<std::string>* rest_ = nullptr;
  std::map<std::string, int> given_;
  bool help_ = false;
};

}  // namespace wattlab::cli
