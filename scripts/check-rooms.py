#!/usr/bin/python3
"""Checks the rooms of docs/architecture.md on the C++ sources.

Held to the rules: every C/C++ file under src/ and include/. Not held:
tests/, bench/ and anything else outside src/ and include/.

Rules (each violation is printed as `file:line: rule: message`):

  os-include    outside src/platform/, no #include of <filesystem>, <fstream>,
                <unistd.h>, <dlfcn.h>, <fcntl.h>, <csignal>, <signal.h> or
                <sys/...>: take a wattlab::Env* (src/core/env.h) instead.
  os-call       outside src/platform/, no call of getenv, secure_getenv,
                clock_gettime, sysconf, dlopen or dlsym (as code: comments and
                string literals do not count).
  torch         outside src/workload/, no torch/, ATen/ or c10/ header.
  private       a room's private headers are for that room alone: a header
                is private when its file name ends in `_impl.h` or is
                `internal.h`, or when it lies in a folder named `internal/`
                (e.g. meter/meter_impl.h, analysis/internal.h).
  room          a file in src/<room>/ includes "<other>/..." only when <other>
                is in ROOM_DEPS[<room>] below (the table of
                docs/architecture.md); include/wattlab/ is for every room and
                include/ itself includes nothing but include/wattlab/.

Usage: check-rooms.py [--root DIR]   (default: the repository holding this
script). Exit 0 when clean, 1 with the violations on stdout.
"""

import argparse
import os
import re
import sys

# Which rooms each room may include (besides itself and include/wattlab/).
# The build enforces the same through link lines (src/*/CMakeLists.txt); this
# table catches what a temporary link (marked `# TODO(room)` there) lets by.
ROOM_DEPS = {
    "core": set(),
    "platform": {"core"},
    "meter": {"core", "platform"},
    "workload": {"core", "catalog", "data"},
    "data": {"core"},
    "catalog": {"core"},
    "store": {"core"},
    "analysis": {"core", "catalog"},
    "report": {"core", "analysis"},
    "study": {"core", "meter", "store", "catalog", "caps"},
    "caps": {"core", "meter"},
    "exporter": {"core", "meter"},
    "cli": {"core", "platform", "meter", "workload", "catalog", "store", "analysis", "report", "study", "caps",
            "exporter"},
}
PUBLIC_API = "wattlab"  # include/wattlab/: for every room

OS_HEADERS = {"filesystem", "fstream", "unistd.h", "dlfcn.h", "fcntl.h", "csignal", "signal.h"}
OS_CALLS = ("getenv", "secure_getenv", "clock_gettime", "sysconf", "dlopen", "dlsym")
TORCH_PREFIXES = ("torch/", "ATen/", "c10/")
SOURCE_SUFFIXES = (".h", ".hh", ".hpp", ".c", ".cc", ".cpp", ".cxx", ".inc", ".h.in")

INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)
CALL_RE = re.compile(r"(?<![A-Za-z0-9_])(%s)[ \t\n]*\(" % "|".join(OS_CALLS))


def strip(text):
    """Returns (no_comments, code): the text with comments blanked, and with
    comments and string/char literals blanked. Newlines are kept, so line
    numbers stay right. Knows raw strings and digit separators."""
    nc, code = [], []
    i, n = 0, len(text)

    def blank(s):
        return "".join(c if c == "\n" else " " for c in s)

    def emit(s, in_nc, in_code):
        nc.append(s if in_nc else blank(s))
        code.append(s if in_code else blank(s))

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            # A backslash at the end of a // comment continues it.
            while j < n and text[j - 1] == "\\":
                k = text.find("\n", j + 1)
                j = n if k < 0 else k
            emit(text[i:j], False, False)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            emit(text[i:j], False, False)
            i = j
        elif c == '"':
            # Raw string? R"delim( ... )delim", with an optional prefix.
            m = re.search(r"(?:u8|u|U|L)?R$", text[max(0, i - 3):i])
            word_start = i - (len(m.group(0)) if m else 0)
            if m and (word_start == 0 or not (text[word_start - 1].isalnum() or text[word_start - 1] == "_")):
                p = text.find("(", i + 1)
                delim = text[i + 1:p] if p >= 0 else ""
                end = text.find(")" + delim + '"', p + 1) if p >= 0 else -1
                j = n if end < 0 else end + len(delim) + 2
            else:
                j = i + 1
                while j < n and text[j] not in '"\n':
                    j += 2 if text[j] == "\\" else 1
                j = min(j + 1, n)
            emit(text[i:j], True, False)
            i = j
        elif c == "'":
            # A digit separator (1'000, 0xFF'FF) is not a character literal.
            k = i
            while k > 0 and (text[k - 1].isalnum() or text[k - 1] in "_'."):
                k -= 1
            if k < i and text[k].isdigit():
                emit(c, True, True)
                i += 1
                continue
            j = i + 1
            while j < n and text[j] not in "'\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            emit(text[i:j], True, False)
            i = j
        else:
            j = i
            while j < n and text[j] not in "/\"'":
                j += 1
            if j == i:
                j = i + 1
            emit(text[i:j], True, True)
            i = j
    return "".join(nc), "".join(code)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def is_private(header):
    parts = header.split("/")
    name = parts[-1]
    return name.endswith("_impl.h") or name == "internal.h" or "internal" in parts[:-1]


def room_of(rel):
    parts = rel.split("/")
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[0] == "include":
        return PUBLIC_API
    return None


def check_file(rel, text):
    out = []
    room = room_of(rel)
    in_platform = room == "platform"
    no_comments, code = strip(text)

    for m in INCLUDE_RE.finditer(no_comments):
        kind, header = m.group(1), m.group(2).strip()
        ln = line_of(no_comments, m.start())
        if not in_platform and kind == "<" and (header in OS_HEADERS or header.startswith("sys/")):
            out.append((ln, "os-include", "<%s> outside src/platform/: take a wattlab::Env* (src/core/env.h)" % header))
        if room != "workload" and header.startswith(TORCH_PREFIXES):
            out.append((ln, "torch", "%s outside src/workload/: libtorch stays in the workload room" % header))
        if kind != '"' or "/" not in header:
            continue
        target = header.split("/")[0]
        if target == room or target == PUBLIC_API:
            continue
        if room == PUBLIC_API:
            out.append((ln, "room", '"%s": include/wattlab/ includes only include/wattlab/ and std' % header))
            continue
        if target not in ROOM_DEPS:
            continue  # not a room (a header next to the file, a generated one)
        if is_private(header):
            out.append((ln, "private", '"%s" is private to src/%s/' % (header, target)))
        elif room in ROOM_DEPS and target not in ROOM_DEPS[room]:
            allowed = ", ".join(sorted(ROOM_DEPS[room])) or "nothing"
            out.append((ln, "room", '"%s": %s may depend on %s only' % (header, room, allowed)))
        elif room not in ROOM_DEPS:
            where = "src/%s/" % room if room else "a file directly in src/"
            out.append((ln, "room", "%s is not in the room table of scripts/check-rooms.py" % where))

    if not in_platform:
        for m in CALL_RE.finditer(code):
            ln = line_of(code, m.start())
            out.append((ln, "os-call", "%s() outside src/platform/: take a wattlab::Env* (src/core/env.h)" % m.group(1)))
    return sorted(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(here), help="repository root to check")
    args = ap.parse_args()
    root = os.path.abspath(args.root)

    files = []
    for top in ("src", "include"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith(SOURCE_SUFFIXES):
                    files.append(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))

    bad = 0
    for rel in files:
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for ln, rule, msg in check_file(rel, text):
            print("%s:%d: %s: %s" % (rel, ln, rule, msg))
            bad += 1
    if bad:
        print("check-rooms: %d violation(s) in %d files checked (rules: docs/architecture.md)" % (bad, len(files)),
              file=sys.stderr)
        return 1
    print("check-rooms: %d files clean" % len(files), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
