// A fake GPU whose power follows its power limit and whose steps slow down
// once the limit falls below its demand, so that the energy optimum is
// interior and known (issue 13: "a fake where a lower cap always wins proves
// nothing"). The limit is the fake NVML's (tests/meter/fake_nvml.c), read
// from its FAKE_NVML_LIMITS_FILE (GPU 0's line).
//
// Model, with c = min(limit, demand):
//   busy power   P(c) = static_w + c            (the GPU draws up to its limit)
//   step time    t(c) = t0 · (demand / c)^a     (a = 1/2: half the power, 1.41x the time)
// Energy above an idle baseline of idle_w per unit of work is then
//   E(c) ∝ (static_w − idle_w + c) · (demand / c)^a,
// flat above the demand, and minimal where dE/dc = 0:
//   c* = a · (static_w − idle_w) / (1 − a) = static_w − idle_w   (a = 1/2).
// With static 185 W, idle 10 W, demand 300 W and a 350 W default limit:
// c* = 175 W = 50% of the default, one of the reference study's caps.
#pragma once

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

namespace wattlab::testing {

struct CappedDevice {
  std::string limits_file;  // FAKE_NVML_LIMITS_FILE
  double demand_w = 300, static_w = 185, idle_w = 10, exponent = 0.5;
  double no_file_limit_w = 320;  // the fake NVML's limit when the file is missing

  double LimitW() const {
    std::ifstream f(limits_file);
    double mw = 0;
    if (f >> mw) return mw / 1000.0;
    return no_file_limit_w;
  }
  double Effective() const { return std::min(LimitW(), demand_w); }
  double PowerW() const { return static_w + Effective(); }
  double Slowdown() const { return std::pow(demand_w / Effective(), exponent); }
  // The known optimum (energy above idle), for the test's expectations.
  double OptimalCapW() const { return exponent * (static_w - idle_w) / (1 - exponent); }
};

}  // namespace wattlab::testing
