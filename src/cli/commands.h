// One function per subcommand, each in its own cmd_<name>.cc.
// args are the arguments after the subcommand's name.
#pragma once

#include <string>
#include <vector>

namespace wattlab::cli {

using Args = std::vector<std::string>;
int CmdMeters(const Args& args);
int CmdMeasure(const Args& args);
int CmdIdle(const Args& args);
int CmdModels(const Args& args);
int CmdTrain(const Args& args);
int CmdInfer(const Args& args);
int CmdStudy(const Args& args);
int CmdRuns(const Args& args);
int CmdAnalyze(const Args& args);
int CmdPredict(const Args& args);
int CmdReport(const Args& args);

}  // namespace wattlab::cli
