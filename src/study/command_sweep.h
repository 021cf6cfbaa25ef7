// The pure parts of a command sweep's run (docs/own-workloads.md): the
// values its {placeholders} take, which of the program's windows stand for
// which phase, and the sum of several windows into one phase row. The runner
// (study/runner.h) spawns the program through meter/command_run.h and writes
// the rows.
//
// Pure code, no OS calls; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "study/plan.h"
#include "study/spec.h"
#include "wattlab/meter.h"

namespace wattlab {

// The phase (train, eval, infer) the program's window `window` stands for,
// "" when none: a phase the sweep maps (`windows`) takes the windows matching
// one of its patterns, a phase it does not map takes the window of its own
// name. Only phases the sweep keeps count; the first of train, eval, infer
// wins when several match.
std::string PhaseOfWindow(const SweepSpec& sweep, const std::string& window);

// {placeholder, value} for one run (CommandPlaceholders()); threads = 0
// ("all cores") becomes cpu_count.
std::vector<std::pair<std::string, std::string>> PlaceholderValues(const PlannedRun& run,
                                                                   const StudySpec& spec, int cpu_count);

// Several windows of one phase as one: durations, energies (total, above
// idle, attributed) and meter samples summed, domains summed by name, mean
// power = energy / duration, CPU utilisation weighted by duration; above
// idle only when every window has it; estimated or idle-busy when any is;
// start at the earliest. Overlapping windows would be counted twice: the
// caller sums windows of one phase, which a program does not overlap.
// REQUIRES: ws non-empty.
WindowResult SumWindows(const std::vector<WindowResult>& ws);

}  // namespace wattlab
