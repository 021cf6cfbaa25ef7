"""Packs python/wattlab and, when it has been built, the native extension.

The extension is built by wattlab's CMake (python/CMakeLists.txt), not here:
setup.py copies <build>/python/wattlab/_native*.so into the package, the
build directory being $WATTLAB_BUILD_DIR or the repository's build/. Without
it the package installs pure Python and measures only under a wattlab parent.
"""

import glob
import os
import shutil
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))


def find_native():
    build = os.environ.get("WATTLAB_BUILD_DIR") or os.path.join(os.path.dirname(HERE), "build")
    found = sorted(glob.glob(os.path.join(os.path.abspath(build), "python", "wattlab", "_native*.so")))
    return found[-1] if found else None


class BuildPyWithNative(build_py):
    def run(self):
        super().run()
        native = find_native()
        if native is None:
            sys.stderr.write(
                "wattlab: no built _native extension found (build wattlab with pybind11-dev installed, "
                "or set WATTLAB_BUILD_DIR); installing the protocol client only\n"
            )
            return
        target = os.path.join(self.build_lib, "wattlab", os.path.basename(native))
        self.mkpath(os.path.dirname(target))
        shutil.copy2(native, target)


class BinaryDistribution(Distribution):
    """The wheel carries a compiled module, so it is tagged for this platform."""

    def has_ext_modules(self):
        return find_native() is not None


setup(cmdclass={"build_py": BuildPyWithNative}, distclass=BinaryDistribution)
