#!/usr/bin/python3
"""Tests of scripts/check-rooms.py: the clean fixture tree passes; each rule
catches a violation planted in a copy of it and names file, line and rule.

Usage: check_rooms_test.py CHECK_SCRIPT FIXTURE_TREE
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

CHECK = None
FIXTURE = None


class CheckRoomsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="check-rooms-")
        self.copies = 0
        self.fresh()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def fresh(self):
        """Points self.root at a new copy of the clean fixture tree."""
        self.copies += 1
        self.root = os.path.join(self.tmp, "repo%d" % self.copies)
        shutil.copytree(FIXTURE, self.root, symlinks=True)

    def run_check(self):
        p = subprocess.run([sys.executable, CHECK, "--root", self.root], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    def plant(self, rel, line):
        """Puts `line` first in file rel (created if absent): it is line 1."""
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        old = ""
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
        with open(path, "w") as f:
            f.write(line + "\n" + old)

    def assert_caught(self, rel, line, rule):
        """Plants line in a fresh copy: the check fails naming rel:1 and rule, and nothing else."""
        self.fresh()
        self.plant(rel, line)
        rc, out, err = self.run_check()
        self.assertEqual(rc, 1, "planted %r in %s; output:\n%s%s" % (line, rel, out, err))
        self.assertIn("%s:1: %s:" % (rel, rule), out)
        self.assertEqual(len(out.strip().splitlines()), 1, out)  # only the planted line
        return out

    def test_clean_tree_passes(self):
        rc, out, err = self.run_check()
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out, "")
        self.assertIn("files clean", err)

    def test_fstream_in_analysis_fails(self):
        out = self.assert_caught("src/analysis/x.cc", "#include <fstream>", "os-include")
        self.assertIn("<fstream>", out)

    def test_every_os_header_outside_platform(self):
        for h in ("filesystem", "fstream", "unistd.h", "dlfcn.h", "fcntl.h", "csignal", "signal.h",
                  "sys/stat.h", "sys/types.h"):
            with self.subTest(header=h):
                self.assert_caught("src/core/extra.cc", "#  include <%s>" % h, "os-include")

    def test_os_calls_outside_platform(self):
        for call in ("std::getenv(\"X\");", "::clock_gettime(CLOCK_MONOTONIC, &ts);", "sysconf(_SC_CLK_TCK);",
                     "dlopen(\"x.so\", RTLD_NOW);", "dlsym (h, \"f\");", "secure_getenv(\"X\");"):
            with self.subTest(call=call):
                self.assert_caught("src/analysis/y.cc", "void F() { %s }" % call, "os-call")

    def test_words_in_comments_strings_and_names_are_not_calls(self):
        self.plant("src/analysis/z.cc",
                   'int MyGetenv(); int a = MyGetenv(); /* getenv( */ const char* s = "sysconf(";')
        rc, out, err = self.run_check()
        self.assertEqual(rc, 0, out + err)

    def test_torch_outside_workload(self):
        self.assert_caught("src/meter/t.cc", "#include <ATen/ATen.h>", "torch")
        self.assert_caught("include/wattlab/api.h", "#include <c10/util/Half.h>", "torch")

    def test_private_header_of_another_room(self):
        out = self.assert_caught("src/cli/cmd.cc", '#include "meter/meter_impl.h"', "private")
        self.assertIn("private to src/meter/", out)
        self.assert_caught("src/report/r.cc", '#include "analysis/internal.h"', "private")

    def test_room_outside_the_table(self):
        out = self.assert_caught("src/report/r.cc", '#include "store/store.h"', "room")
        self.assertIn("report may depend on analysis, core only", out)
        self.assert_caught("src/core/c.cc", '#include "platform/real_env.h"', "room")

    def test_tests_and_bench_are_not_held(self):
        self.plant("tests/more_test.cc", "#include <filesystem>")
        self.plant("bench/more.cc", '#include "meter/meter_impl.h"')
        rc, out, err = self.run_check()
        self.assertEqual(rc, 0, out + err)


if __name__ == "__main__":
    CHECK, FIXTURE = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0]], verbosity=2)
