#include "cli/args.h"

namespace wattlab::cli {

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void ArgParser::AddFlag(const std::string& name, bool* out, const std::string& help) {
  specs_[name] = Spec{Spec::kFlag, out, nullptr, nullptr, "", help};
  order_.push_back(name);
}
void ArgParser::AddOption(const std::string& name, std::string* out, const std::string& value_name,
                          const std::string& help) {
  specs_[name] = Spec{Spec::kOption, nullptr, out, nullptr, value_name, help};
  order_.push_back(name);
}
void ArgParser::AddMulti(const std::string& name, std::vector<std::string>* out, const std::string& value_name,
                         const std::string& help) {
  specs_[name] = Spec{Spec::kMulti, nullptr, nullptr, out, value_name, help};
  order_.push_back(name);
}
void ArgParser::AllowPositionals(std::vector<std::string>* out, const std::string& usage) {
  positionals_ = out;
  positional_usage_ = usage;
}
void ArgParser::AllowRest(std::vector<std::string>* out) { rest_ = out; }

Status ArgParser::Parse(const std::vector<std::string>& args) {
  const std::string see = "; see 'wattlab " + command_ + " --help'";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      if (!rest_) return Status::InvalidArgument("'wattlab " + command_ + "' takes no command after '--'" + see);
      rest_->assign(args.begin() + static_cast<long>(i) + 1, args.end());
      return Status::Ok();
    }
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string name = a.substr(2), value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      auto it = specs_.find(name);
      if (it == specs_.end()) return Status::InvalidArgument("unknown option --" + name + " for 'wattlab " + command_ + "'" + see);
      Spec& s = it->second;
      given_[name]++;
      if (s.kind == Spec::kFlag) {
        if (has_value) return Status::InvalidArgument("option --" + name + " takes no value" + see);
        *s.flag = true;
        continue;
      }
      if (!has_value) {
        if (i + 1 >= args.size())
          return Status::InvalidArgument("option --" + name + " needs a value (" + s.value_name + ")" + see);
        value = args[++i];
      }
      if (s.kind == Spec::kOption) *s.value = value;
      else s.multi->push_back(value);
      continue;
    }
    if (a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9'))
      return Status::InvalidArgument("unknown option " + a + " for 'wattlab " + command_ + "'" + see);
    if (!positionals_) return Status::InvalidArgument("unexpected argument '" + a + "' for 'wattlab " + command_ + "'" + see);
    positionals_->push_back(a);
  }
  return Status::Ok();
}

std::string ArgParser::Help() const {
  std::string h = "usage: wattlab " + command_ + " [options]";
  if (positionals_) h += " " + positional_usage_;
  if (rest_) h += " -- CMD [ARGS...]";
  h += "\n\n" + summary_ + "\n\noptions:\n";
  for (const auto& name : order_) {
    const Spec& s = specs_.at(name);
    std::string left = "  --" + name + (s.kind == Spec::kFlag ? "" : " " + s.value_name);
    if (left.size() < 30) left.resize(30, ' ');
    else left += "\n" + std::string(30, ' ');
    h += left + s.help + "\n";
  }
  h += "  --help                      show this help\n";
  return h;
}

}  // namespace wattlab::cli
