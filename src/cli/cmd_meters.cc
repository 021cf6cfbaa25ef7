// PLACEHOLDER: replaced by the module that owns 'wattlab meters'.
#include <cstdio>

#include "cli/commands.h"

namespace wattlab::cli {

int CmdMeters(const Args& args) {
  (void)args;
  std::fprintf(stderr, "wattlab meters: not built yet\n");
  return 1;
}

}  // namespace wattlab::cli
