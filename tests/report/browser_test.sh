#!/usr/bin/env bash
# The report in a real browser: writes every fixture report, checks each
# index.html with Python's html.parser, then loads the rich report from disk
# in headless Chromium: no console errors, the DOM holds the report, and the
# screenshot is 1280x2400 and not blank.
# Usage: browser_test.sh REPORT_FIXTURE_TOOL WORK_DIR
# Exit 77 (skipped) only when /usr/bin/chromium is absent.
set -euo pipefail
tool=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3

rm -rf "$work"
mkdir -p "$work"
for s in rich one-run estimated-only no-accuracy; do
  "$tool" "$s" "$work/$s"
  "$py" "$here/check_report.py" html "$work/$s/index.html"
done

chromium=/usr/bin/chromium
if [[ ! -x "$chromium" ]]; then
  echo "SKIPPED: $chromium is absent (apt-get install chromium, as scripts/setup.sh does); the HTML checks above passed"
  exit 77
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile" --enable-logging=stderr --v=0
       --hide-scrollbars)
url="file://$work/rich/index.html"
log="$work/chromium.log"
: > "$log"

timeout 120 "$chromium" "${flags[@]}" --screenshot="$work/screenshot.png" --window-size=1280,2400 "$url" \
  >> "$log" 2>&1 || { echo "chromium --screenshot failed:"; tail -20 "$log"; exit 1; }
timeout 120 "$chromium" "${flags[@]}" --dump-dom "$url" > "$work/dom.html" 2>> "$log" \
  || { echo "chromium --dump-dom failed:"; tail -20 "$log"; exit 1; }

"$py" "$here/check_report.py" console "$log"
"$py" "$here/check_report.py" dom "$work/dom.html"
"$py" "$here/check_report.py" png "$work/screenshot.png" 1280 2400
echo "browser test passed: $work/screenshot.png"
