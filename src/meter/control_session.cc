#include "meter/control_session.h"

#include "core/control_protocol.h"

namespace wattlab {

namespace {

// The line as it is quoted in a warning: cut, with control bytes shown.
std::string Quote(const std::string& line) {
  std::string q;
  for (char c : line.substr(0, 200)) {
    if (static_cast<unsigned char>(c) < 0x20) {
      q += '?';
    } else {
      q += c;
    }
  }
  if (line.size() > 200) q += "...";
  return "\"" + q + "\"";
}

}  // namespace

std::string ControlSession::Warn(const std::string& line, const std::string& why) {
  std::string w = "control line " + std::to_string(line_no_) + " " + Quote(line) + ": " + why + "; ignored";
  warnings_.push_back(w);
  return w;
}

Status ControlSession::Close(Entry& e, bool at_exit) {
  e.open = false;
  e.window.closed_at_exit = at_exit;
  auto r = meter_->EndWindow(e.id);
  if (!r.ok()) {
    e.failed = true;
    return r.status();
  }
  e.window.result = std::move(*r);
  return Status::Ok();
}

std::string ControlSession::HandleLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  ++line_no_;
  auto parsed = ParseControlLine(line);
  if (!parsed.ok()) return Warn(line, parsed.status().message());
  const ControlCommand& c = *parsed;
  auto find_open = [&](const std::string& name) -> Entry* {
    for (auto& e : entries_)
      if (e.open && e.name == name) return &e;
    return nullptr;
  };
  switch (c.kind) {
    case ControlCommand::Kind::kNone:
      return "";
    case ControlCommand::Kind::kBegin: {
      if (find_open(c.name)) return Warn(line, "window '" + c.name + "' is already open");
      Entry e;
      e.name = c.name;
      e.id = meter_->BeginWindow(c.name);
      entries_.push_back(std::move(e));
      return "";
    }
    case ControlCommand::Kind::kEnd: {
      Entry* e = find_open(c.name);
      if (!e) return Warn(line, "no open window named '" + c.name + "'");
      Status st = Close(*e, false);
      if (!st.ok()) return Warn(line, "the meter could not measure window '" + c.name + "': " + st.message());
      return "";
    }
    case ControlCommand::Kind::kSamples: {
      for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (!it->open) continue;
        it->window.samples += c.samples;
        it->window.samples_reported = true;
        return "";
      }
      return Warn(line, "no window is open");
    }
    case ControlCommand::Kind::kMeta:
      meta_.emplace_back(c.name, c.value);
      return "";
  }
  return "";
}

std::vector<std::string> ControlSession::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (auto& e : entries_) {
    if (!e.open) continue;
    Status st = Close(e, true);
    std::string w = "window '" + e.name + "' was still open when the program ended; closed then";
    if (!st.ok()) w += " (the meter could not measure it: " + st.message() + ")";
    warnings_.push_back(w);
    out.push_back(w);
  }
  return out;
}

std::vector<ControlWindow> ControlSession::windows() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ControlWindow> out;
  for (const auto& e : entries_)
    if (!e.open && !e.failed) out.push_back(e.window);
  return out;
}

std::vector<std::string> ControlSession::warnings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return warnings_;
}

std::vector<std::pair<std::string, std::string>> ControlSession::meta() const {
  std::lock_guard<std::mutex> lock(mu_);
  return meta_;
}

int64_t ControlSession::lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return line_no_;
}

}  // namespace wattlab
