// PLACEHOLDER: replaced by the module that owns 'wattlab predict'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdPredict(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab predict: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
