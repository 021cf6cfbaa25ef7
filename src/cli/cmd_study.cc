// PLACEHOLDER: replaced by the module that owns 'wattlab study'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdStudy(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab study: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
