// PLACEHOLDER: replaced by the module that owns 'wattlab train'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdTrain(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab train: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
