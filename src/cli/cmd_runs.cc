// PLACEHOLDER: replaced by the module that owns 'wattlab runs'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdRuns(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab runs: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
