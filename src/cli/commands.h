// One subcommand per cmd_<name>.cc. Add<Name> declares subcommand `name`
// with its options on the root CLI::App and returns what runs it once the
// command line has parsed; main.cc parses and dispatches.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace wattlab::cli {

struct Invocation {
  // The arguments after the subcommand's name, as typed (study repeats them
  // in its --resume hint).
  std::vector<std::string> args;
  // Everything after the first "--" (measure's command).
  std::vector<std::string> rest;
};
using CommandFn = std::function<int(const Invocation&)>;

CommandFn AddMeters(CLI::App* root);
CommandFn AddMeasure(CLI::App* root);
CommandFn AddIdle(CLI::App* root);
CommandFn AddModels(CLI::App* root);
CommandFn AddTrain(CLI::App* root);
CommandFn AddInfer(CLI::App* root);
CommandFn AddStudy(CLI::App* root);
CommandFn AddMerge(CLI::App* root);
CommandFn AddRuns(CLI::App* root);
CommandFn AddAnalyze(CLI::App* root);
CommandFn AddCalibrate(CLI::App* root);
CommandFn AddPredict(CLI::App* root);
CommandFn AddReport(CLI::App* root);
CommandFn AddEstimate(CLI::App* root);
CommandFn AddPlace(CLI::App* root);
CommandFn AddCap(CLI::App* root);
CommandFn AddExporter(CLI::App* root);

// Prints one warning to stderr when power caps set by wattlab are still in
// force (a caps journal is pending), naming `wattlab cap --restore`. Every
// command but `cap` calls it as it starts (main.cc).
void WarnIfCapsPending();

}  // namespace wattlab::cli
