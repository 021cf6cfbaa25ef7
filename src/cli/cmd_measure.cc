// PLACEHOLDER: replaced by the module that owns 'wattlab measure'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdMeasure(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab measure: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
