// PLACEHOLDER: replaced by the module that owns 'wattlab idle'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdIdle(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab idle: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
