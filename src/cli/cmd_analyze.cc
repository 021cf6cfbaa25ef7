// PLACEHOLDER: replaced by the module that owns 'wattlab analyze'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdAnalyze(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab analyze: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
