#!/usr/bin/env bash
# `wattlab report` end to end: a fixture study in a real store file, the
# default output directory beside it, replacing an earlier report, and the
# errors (missing database, bad flag value, unknown study, a non-report --out).
# Usage: cli_test.sh WATTLAB REPORT_FIXTURE_TOOL WORK_DIR
set -uo pipefail
wattlab=$1
tool=$2
work=$3
fail=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; fail=1; fi
}

rm -rf "$work"
mkdir -p "$work"
"$tool" --db "$work/study.db" || { echo "FAILED: could not write the fixture database"; exit 1; }

out=$("$wattlab" report --db "$work/study.db" 2>&1); rc=$?
check "report exits 0 ($out)" test "$rc" -eq 0
check "default --out is study-report beside the database" test -f "$work/study-report/index.html"
check "summary.md written" test -f "$work/study-report/summary.md"
check "plot CSVs written" test -f "$work/study-report/energy_vs_macs_per_param_infer.csv"
check "the report names the study" grep -q "fixture-rich" "$work/study-report/index.html"

out=$("$wattlab" report --db "$work/study.db" --out "$work/study-report" --title "Second" 2>&1); rc=$?
check "an earlier report is replaced ($out)" test "$rc" -eq 0
check "the replacement is the new report" grep -q "<h1>Second</h1>" "$work/study-report/index.html"

out=$("$wattlab" report --db "$work/absent.db" 2>&1); rc=$?
check "missing database exits 1" test "$rc" -eq 1
check "missing database message says what to do ($out)" grep -q "wattlab study" <<< "$out"
check "nothing written for a missing database" test ! -e "$work/absent-report"

out=$("$wattlab" report --db "$work/study.db" --pue 0.5 --out "$work/bad" 2>&1); rc=$?
check "bad --pue is a usage error (exit 2: $out)" test "$rc" -eq 2
check "nothing written for a bad flag" test ! -e "$work/bad"

out=$("$wattlab" report --db "$work/study.db" --study nope --out "$work/bad" 2>&1); rc=$?
check "unknown study is a usage error (exit 2: $out)" test "$rc" -eq 2
check "unknown study lists the studies" grep -q "fixture-rich" <<< "$out"

mkdir -p "$work/precious"
echo keep > "$work/precious/notes.txt"
out=$("$wattlab" report --db "$work/study.db" --out "$work/precious" 2>&1); rc=$?
check "a non-report --out is refused (exit 1: $out)" test "$rc" -eq 1
check "the refused directory is untouched" grep -q keep "$work/precious/notes.txt"
check "no temporary directory left behind" test -z "$(ls -A "$work" | grep -E '^\.(study-report|precious|bad).*(tmp|old)' || true)"

# One flag name for inferences per day in report and analyze; the old name stays as an alias.
out=$("$wattlab" report --db "$work/study.db" --out "$work/rpd" --requests-per-day 2e6 2>&1); rc=$?
check "--requests-per-day is accepted ($out)" test "$rc" -eq 0
check "--requests-per-day reaches the lifecycle" grep -q "2M inferences a day" "$work/rpd/summary.md"
out=$("$wattlab" report --db "$work/study.db" --out "$work/rpd" --inferences-per-day 2e6 2>&1); rc=$?
check "--inferences-per-day is still accepted as an alias ($out)" test "$rc" -eq 0
check "the alias reaches the lifecycle too" grep -q "2M inferences a day" "$work/rpd/summary.md"
out=$("$wattlab" report --db "$work/study.db" --out "$work/bad" --requests-per-day 1 --inferences-per-day 2 2>&1); rc=$?
check "both spellings at once is a usage error (exit 2: $out)" test "$rc" -eq 2
check "nothing written when both spellings are given" test ! -e "$work/bad"

# analyze --json and the report state the same findings, word for word.
"$wattlab" analyze --db "$work/study.db" --requests-per-day 1e6 --days 365 --json > "$work/analyze.json" 2>&1
same=$(python3 - "$work/analyze.json" "$work/study-report/index.html" <<'PY'
import html, json, re, sys
want = [f["text"] for f in json.load(open(sys.argv[1]))["findings"]]
page = open(sys.argv[2], encoding="utf-8").read()
block = page.split('<ul class="findings">', 1)[1].split("</ul>", 1)[0]
got = [html.unescape(re.sub(r" <span class=\"badge\".*", "", li)) for li in re.findall(r"<li>(.*?)</li>", block)]
print("same" if want == got and want else "differ:\n%s\n%s" % (want, got))
PY
)
check "analyze --json and the report name the same findings ($same)" test "$same" = same

out=$("$wattlab" report --bogus 2>&1); rc=$?
check "unknown flag exits 2 ($out)" test "$rc" -eq 2
exit $fail
