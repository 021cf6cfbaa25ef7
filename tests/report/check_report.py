#!/usr/bin/python3
"""Checks for the report's browser test (Python standard library only).

  check_report.py html FILE...    well formed (html.parser), self-contained
  check_report.py console LOG     no console errors in Chromium's stderr log
  check_report.py png FILE W H    a W x H screenshot that is not blank
  check_report.py dom FILE        the DOM Chromium built holds the report's parts
"""
import re
import struct
import sys
import zlib
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Balance(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags = [], [], {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href") and value and re.match(r"^(https?:)?//", value):
                self.errors.append("external reference %s=%s at line %d" % (name, value, self.getpos()[0]))
        if tag == "script":
            self.errors.append("script element at line %d (the report has no scripts)" % self.getpos()[0])
        if tag not in VOID:
            self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if not self.stack:
            self.errors.append("</%s> at line %d closes nothing" % (tag, self.getpos()[0]))
            return
        top, line = self.stack.pop()
        if top != tag:
            self.errors.append("</%s> at line %d closes <%s> from line %d" % (tag, self.getpos()[0], top, line))


def check_html(paths):
    bad = 0
    for p in paths:
        text = open(p, encoding="utf-8").read()
        parser = Balance()
        parser.feed(text)
        parser.close()
        errors = list(parser.errors)
        if parser.stack:
            errors.append("unclosed: " + ", ".join("<%s> (line %d)" % t for t in parser.stack))
        if re.search(r"(?i)(^|[^a-z])(nan|-?inf|infinity)([^a-z]|$)", re.sub(r"<style>.*?</style>", "", text, flags=re.S)):
            errors.append("NaN or infinity printed")
        if parser.tags.get("svg", 0) == 0 and "no data" not in text:
            errors.append("no plot and no 'no data' explanation")
        for e in errors[:20]:
            print("%s: %s" % (p, e))
        bad += bool(errors)
        if not errors:
            print("%s: well formed (%d svg plots, %d tables)" % (p, parser.tags.get("svg", 0), parser.tags.get("table", 0)))
    return 1 if bad else 0


def check_console(path):
    bad = []
    for line in open(path, encoding="utf-8", errors="replace"):
        if ("CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line
                or "net::ERR_" in line or "Refused to" in line):
            bad.append(line.rstrip())
    for b in bad[:20]:
        print("console: " + b)
    if not bad:
        print("%s: no console errors" % path)
    return 1 if bad else 0


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or interlace != 0 or ctype not in (0, 2, 4, 6):
        raise ValueError("unsupported PNG (depth %d, colour type %d, interlace %d)" % (depth, ctype, interlace))
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((x + p) & 255 for x, p in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                ul = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + paeth(left, prev[i], ul)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_png(path, want_w, want_h):
    w, h, bpp, rows = decode_png(path)
    if (w, h) != (want_w, want_h):
        print("%s: %dx%d, expected %dx%d" % (path, w, h, want_w, want_h))
        return 1
    # Sample every 4th pixel of every 4th row: colours and how many differ
    # from the most common (background) colour.
    counts = {}
    for y in range(0, h, 4):
        r = rows[y]
        for x in range(0, w, 4):
            px = r[x * bpp:(x + 1) * bpp]
            counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    background = max(counts.values())
    ink = 1 - background / total
    print("%s: %dx%d, %d distinct sampled colours, %.1f%% non-background" % (path, w, h, len(counts), ink * 100))
    if len(counts) < 16 or ink < 0.05:
        print("%s: the screenshot looks blank" % path)
        return 1
    return 0


def check_dom(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    missing = [k for k in ('id="energy-basis"', 'id="findings"', "<svg", 'id="correlation"', 'id="runs"',
                           "Headline findings") if k not in text]
    if missing:
        print("%s: the rendered DOM lacks %s" % (path, ", ".join(missing)))
        return 1
    print("%s: DOM has %d svg plots" % (path, text.count("<svg")))
    return 0


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    cmd = argv[1]
    if cmd == "html":
        return check_html(argv[2:])
    if cmd == "console":
        return check_console(argv[2])
    if cmd == "png":
        return check_png(argv[2], int(argv[3]), int(argv[4]))
    if cmd == "dom":
        return check_dom(argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
