#include "core/strings.h"
#include "wattlab/workload.h"

namespace wattlab {

Result<Shape> ParseShape(const std::string& text) {
  auto parts = Split(text, 'x');
  if (parts.size() != 3)
    return Status::InvalidArgument("invalid shape '" + text +
                                   "': use CxHxW with positive integers, e.g. 3x32x32");
  int64_t v[3];
  for (int i = 0; i < 3; ++i) {
    auto n = ParseInt(parts[i]);
    if (!n || *n <= 0 || *n > 100000)
      return Status::InvalidArgument("invalid shape '" + text +
                                     "': use CxHxW with positive integers, e.g. 3x32x32");
    v[i] = *n;
  }
  return Shape{v[0], v[1], v[2]};
}

}  // namespace wattlab
