#!/usr/bin/python3
"""Print the points of a database's newest operator calibration (issue 12),
per sample: forward, training and training as a first layer, in microseconds,
and for pooling the time per input element in nanoseconds. The figures that
docs/analysis.md quotes from a calibration (LeNet's first convolution with
and without its input gradient; 3x3 stride-1 against 2x2 stride-2 pooling)
come from this on the default study's database.

    /usr/bin/python3 bench/predict/calibration_points.py wattlab.db [KIND ...]
"""
import json
import sqlite3
import sys


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    kinds = set(argv[2:])
    try:
        db = sqlite3.connect(f"file:{argv[1]}?mode=ro", uri=True)
        row = db.execute(
            "SELECT calibration_id, shapes, threads, precision, points_json FROM calibrations"
            " ORDER BY created_at DESC LIMIT 1").fetchone()
    except sqlite3.Error as e:
        print(f"calibration_points: cannot read calibrations from {argv[1]}: {e}", file=sys.stderr)
        return 1
    if row is None:
        print(f"calibration_points: {argv[1]} holds no calibration: run `wattlab calibrate` first",
              file=sys.stderr)
        return 1
    cid, shapes, threads, precision, points = row
    print(f"calibration {cid}: shapes {shapes}, {threads} threads, {precision}")
    print(f"{'kind':<15} {'op':<20} {'work':>9} {'kernel':>6} {'batch':>5} "
          f"{'fwd us':>9} {'train us':>9} {'first us':>9} {'ns/in-elem':>10}")
    for p in json.loads(points):
        if kinds and p["kind"] not in kinds:
            continue
        b = max(1, p["batch"])
        per = lambda key: p.get(key, 0) * 1e6 / b
        ns = ""
        if p["kind"] == "pool" and p["kernel"] > 0:
            out = p["work"] // p["kernel"]
            inputs = p["bytes"] // 4 - out
            if inputs > 0:
                ns = f"{p['forward_s'] * 1e9 / b / inputs:10.2f}"
        print(f"{p['kind']:<15} {p['op']:<20} {p['work']:>9} {p['kernel']:>6} {b:>5} "
              f"{per('forward_s'):9.2f} {per('train_s'):9.2f} {per('train_first_s'):9.2f} {ns:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
