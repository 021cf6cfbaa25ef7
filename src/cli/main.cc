// wattlab: measure, model and cut the energy of ML training and inference.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"

namespace {

struct Command {
  const char* name;
  int (*fn)(const wattlab::cli::Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"study", wattlab::cli::CmdStudy, "run a study (default: the built-in pilot study) and store every run"},
    {"meters", wattlab::cli::CmdMeters, "list every energy source tried, available or not and why"},
    {"measure", wattlab::cli::CmdMeasure, "run a command and report its energy, like perf stat"},
    {"idle", wattlab::cli::CmdIdle, "measure idle power and remember it for measure --subtract-idle"},
    {"models", wattlab::cli::CmdModels, "list models with params, MACs and MACs/param"},
    {"train", wattlab::cli::CmdTrain, "train a model with metered train and eval windows"},
    {"infer", wattlab::cli::CmdInfer, "run metered inference (zoo model or TorchScript file)"},
    {"runs", wattlab::cli::CmdRuns, "export stored runs (one row per measured window) as CSV or JSON"},
    {"analyze", wattlab::cli::CmdAnalyze, "correlations, predictor error, trade-offs, lifecycle, carbon"},
    {"predict", wattlab::cli::CmdPredict, "predict energy of a model never run here"},
    {"report", wattlab::cli::CmdReport, "write an HTML + Markdown report of a study"},
};

void PrintUsage(FILE* out) {
  std::fprintf(out, "usage: wattlab COMMAND [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out, "\n'wattlab COMMAND --help' shows a command's options; 'wattlab --version' the version.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return wattlab::cli::kExitUsage;
  }
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (cmd == "--version" || cmd == "version") {
    std::printf("wattlab %s\n", wattlab::cli::WattlabVersion().c_str());
    return 0;
  }
  wattlab::cli::Args args(argv + 2, argv + argc);
  for (const auto& c : kCommands)
    if (cmd == c.name) return c.fn(args);
  std::fprintf(stderr, "wattlab: unknown command '%s'\n\n", cmd.c_str());
  PrintUsage(stderr);
  return wattlab::cli::kExitUsage;
}
