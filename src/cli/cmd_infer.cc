// PLACEHOLDER: replaced by the module that owns 'wattlab infer'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdInfer(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab infer: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
