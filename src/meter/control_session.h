// What the window protocol's lines (core/control_protocol.h) do to a meter:
// `begin NAME` opens a meter window, `end NAME` closes it, `samples N` adds
// to the most recently begun window still open, `meta KEY VALUE` is kept.
// Windows are named and may overlap (as in Zeus); one name is open at most
// once at a time. A malformed line, an `end` of a name that is not open, a
// second `begin` of an open name, or `samples` with no window open is a
// warning (with the line) and is otherwise ignored: never fatal. Finish()
// closes what is still open and flags it closed_at_exit.
//
// Ownership: borrows the Meter (started, outliving the session).
// Thread-safety: all methods may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "wattlab/meter.h"

namespace wattlab {

struct ControlWindow {
  WindowResult result;
  int64_t samples = 0;            // workload samples the program reported
  bool samples_reported = false;  // any `samples` line for this window
  bool closed_at_exit = false;    // still open when the program ended
};

class ControlSession {
 public:
  explicit ControlSession(Meter* meter) : meter_(meter) {}

  // Acts on one line. Returns the warning when the line was ignored, "" when
  // it was used.
  std::string HandleLine(const std::string& line);
  // Closes the windows still open (closed_at_exit). Returns its warnings
  // (one per window closed so, and any read error of the meter).
  std::vector<std::string> Finish();

  // Closed windows in the order they were begun.
  std::vector<ControlWindow> windows() const;
  std::vector<std::string> warnings() const;
  std::vector<std::pair<std::string, std::string>> meta() const;
  int64_t lines() const;

 private:
  struct Entry {
    std::string name;
    Meter::WindowId id = 0;
    bool open = true;
    bool failed = false;  // the meter could not measure it
    ControlWindow window;
  };
  std::string Warn(const std::string& line, const std::string& why);  // REQUIRES: mu_ held
  Status Close(Entry& e, bool at_exit);                               // REQUIRES: mu_ held

  Meter* meter_;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;  // GUARDED_BY(mu_), in begin order
  std::vector<std::string> warnings_;
  std::vector<std::pair<std::string, std::string>> meta_;
  int64_t line_no_ = 0;
};

}  // namespace wattlab
