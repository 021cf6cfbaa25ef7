// wattlab: measure, model and cut the energy of ML training and inference.
// Subcommands and their options are CLI11's (commands.h); this file picks
// the subcommand, parses, turns parse errors into one message form and exit
// code, and runs the command.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"

namespace {

using wattlab::cli::CommandFn;
using wattlab::cli::Invocation;

struct Command {
  const char* name;
  CommandFn (*add)(CLI::App*);
  const char* summary;
  // Exit code of a usage error: 2, or measure's 125 (env(1)'s convention:
  // wattlab failed before running the command).
  int usage_exit = wattlab::cli::kExitUsage;
  // Takes a command after "--".
  bool takes_rest = false;
};

const Command kCommands[] = {
    {"study", wattlab::cli::AddStudy, "run a study (default: the built-in pilot study) and store every run"},
    {"merge", wattlab::cli::AddMerge, "merge the databases of a study's shards (Slurm job array) into one"},
    {"meters", wattlab::cli::AddMeters, "list every energy source tried, available or not and why"},
    {"measure", wattlab::cli::AddMeasure, "run a command and report its energy, like perf stat",
     wattlab::cli::kExitCannotStart, true},
    {"idle", wattlab::cli::AddIdle, "measure idle power and remember it for measure --subtract-idle"},
    {"models", wattlab::cli::AddModels, "list models with params, MACs and MACs/param"},
    {"train", wattlab::cli::AddTrain, "train a model with metered train and eval windows"},
    {"infer", wattlab::cli::AddInfer, "run metered inference (zoo model or TorchScript file)"},
    {"runs", wattlab::cli::AddRuns, "export stored runs (one row per measured window) as CSV or JSON"},
    {"analyze", wattlab::cli::AddAnalyze, "correlations, predictor error, trade-offs, lifecycle, carbon"},
    {"predict", wattlab::cli::AddPredict, "predict energy of a model never run here"},
    {"calibrate", wattlab::cli::AddCalibrate,
     "time each operator kind on this machine (for the operator-level model of analyze/predict)"},
    {"report", wattlab::cli::AddReport, "write an HTML + Markdown report of a study"},
    {"estimate", wattlab::cli::AddEstimate,
     "what the CPU estimate would say for a CPU model, with its error band"},
    {"cap", wattlab::cli::AddCap,
     "show, set and restore GPU/CPU power limits and CPU clocks (restores the originals)"},
    {"place", wattlab::cli::AddPlace, "edge or cloud: energy per request of each placement, with sources"},
    {"exporter", wattlab::cli::AddExporter, "serve the machine's energy and power to Prometheus (/metrics)"},
};

void PrintUsage(FILE* out) {
  std::fprintf(out, "usage: wattlab COMMAND [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\n'wattlab COMMAND --help' shows a command's options; 'wattlab --version' the version.\n");
}

// CLI11's help, with a blank line after the description and "-- CMD
// [ARGS...]" in the usage line of a command that takes one.
class Formatter : public CLI::Formatter {
 public:
  std::string make_description(const CLI::App* app) const override {
    std::string d = CLI::Formatter::make_description(app);
    return d.empty() ? d : d + "\n";
  }
  std::string make_usage(const CLI::App* app, std::string name) const override {
    std::string usage = CLI::Formatter::make_usage(app, std::move(name));
    for (const auto& c : kCommands)
      if (c.takes_rest && app->get_name() == c.name && !usage.empty() && usage.back() == '\n')
        usage.insert(usage.size() - 1, " -- CMD [ARGS...]");
    return usage;
  }
};

// "wattlab CMD: message" on stderr; the command's usage exit code.
int UsageError(const Command& c, const std::string& message, bool point_at_help) {
  std::fprintf(stderr, "wattlab %s: %s%s\n", c.name, message.c_str(),
               point_at_help ? ("; see 'wattlab " + std::string(c.name) + " --help'").c_str() : "");
  return c.usage_exit;
}

// CLI11's structural errors, in wattlab's words where CLI11's are terse.
std::string ParseErrorMessage(const CLI::ParseError& e, bool* point_at_help) {
  std::string m = e.what();
  *point_at_help = dynamic_cast<const CLI::ValidationError*>(&e) == nullptr;
  // "--pue: 1 required X missing" -> "option --pue needs a value (X)"
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    const auto colon = m.find(": 1 required ");
    const auto missing = m.rfind(" missing");
    if (colon != std::string::npos && missing != std::string::npos && missing > colon + 13)
      return "option " + m.substr(0, colon) + " needs a value (" +
             m.substr(colon + 13, missing - colon - 13) + ")";
  }
  return m;
}

bool IsOption(const std::string& a) {
  return a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9') && a[1] != '.';
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return wattlab::cli::kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (name == "--version" || name == "version") {
    std::printf("wattlab %s\n", wattlab::cli::WattlabVersion().c_str());
    return 0;
  }
  const Command* command = nullptr;
  for (const auto& c : kCommands)
    if (name == c.name) command = &c;
  if (!command) {
    std::fprintf(stderr, "wattlab: unknown command '%s'\n\n", name.c_str());
    PrintUsage(stderr);
    return wattlab::cli::kExitUsage;
  }

  // Options end at the first "--"; what follows is measure's command,
  // passed on verbatim and never parsed as options.
  Invocation inv;
  inv.args.assign(argv + 2, argv + argc);
  const auto dashdash = std::find(inv.args.begin(), inv.args.end(), std::string("--"));
  const bool has_rest = dashdash != inv.args.end();
  if (has_rest) inv.rest.assign(dashdash + 1, inv.args.end());

  CLI::App app("wattlab: measure, model and cut the energy of ML training and inference", "wattlab");
  app.formatter(std::make_shared<Formatter>());
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // the last value wins
  app.require_subcommand(1);
  CommandFn run = command->add(&app);
  CLI::App* sub = app.get_subcommand(command->name);
  sub->allow_extras();  // leftovers are reported below, in wattlab's words

  // CLI11 takes the arguments in reverse order, without the program name.
  std::vector<std::string> parse_args(inv.args.begin(), dashdash);
  parse_args.insert(parse_args.begin(), command->name);
  std::reverse(parse_args.begin(), parse_args.end());
  try {
    app.parse(parse_args);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    bool point_at_help = true;
    std::string message = ParseErrorMessage(e, &point_at_help);
    return UsageError(*command, message, point_at_help);
  }
  if (const std::vector<std::string> left = sub->remaining(); !left.empty()) {
    const std::string& a = left.front();
    return UsageError(
        *command,
        IsOption(a) ? "unknown option " + a.substr(0, a.find('=')) : "unexpected argument '" + a + "'", true);
  }
  if (has_rest && !command->takes_rest)
    return UsageError(*command, "'wattlab " + std::string(command->name) + "' takes no command after '--'",
                      true);
  // Caps left in force (a crash, a SIGKILL, or `cap` without --hold) are
  // machine state: say so before any other command runs on them.
  if (std::string(command->name) != "cap") wattlab::cli::WarnIfCapsPending();
  return run(inv);
}
