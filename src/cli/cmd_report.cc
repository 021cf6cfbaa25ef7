// PLACEHOLDER: replaced by the module that owns 'wattlab report'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdReport(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab report: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
