#!/usr/bin/env bash
# Checks that every C/C++ file under src/ include/ tests/ bench/ is formatted
# by the checked-in .clang-format, with Debian's clang-format-14 (pinned: other
# versions format some constructs differently). tests/fixtures/ is data and is
# not checked. Prints clang-format's diagnostics and exits 1 when a file
# differs. To fix: scripts/check-format.sh --fix (rewrites the files in place).
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$CLANG_FORMAT" >/dev/null; then
  echo "check-format: $CLANG_FORMAT not found (apt-get install clang-format-14, or scripts/setup.sh)" >&2
  exit 2
fi

mapfile -d '' files < <(find src include tests bench -path tests/fixtures -prune -o -type f \
  \( -name '*.h' -o -name '*.hpp' -o -name '*.c' -o -name '*.cc' -o -name '*.cpp' \) -print0 | sort -z)

if [[ "${1:-}" == --fix ]]; then
  "$CLANG_FORMAT" -i --style=file "${files[@]}"
  echo "check-format: formatted ${#files[@]} files" >&2
  exit 0
fi
if ! "$CLANG_FORMAT" --dry-run --Werror --style=file "${files[@]}"; then
  echo "check-format: files above differ from .clang-format (fix: scripts/check-format.sh --fix)" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted" >&2
