// PLACEHOLDER: replaced by the module that owns 'wattlab models'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdModels(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab models: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
