"""wattlab for Python scripts: energy windows from inside your own code.

    import wattlab

    with wattlab.window("epoch 1", samples=len(train_set)) as w:
        train_one_epoch()
    print(w)   # Window(name='epoch 1', duration_s=12.3, energy_j=456.7, samples=60000, ...)

    wattlab.begin_window("predict")          # Zeus's names; windows may overlap
    ...
    m = wattlab.end_window("predict")

    @wattlab.track                           # CodeCarbon's habit: one window per call
    def evaluate(): ...

Two ways to measure, chosen once per process:

* Under a wattlab parent (`wattlab measure -- python train.py`, or a study's
  command sweep) the environment holds WATTLAB_CONTROL=fd:N and the package
  speaks the window protocol on that pipe (docs/own-workloads.md); the
  parent measures. Then `duration_s` is the script's own clock and
  `energy_j` is None: the energy is in the parent's report.
* Without a parent it measures in-process through the native extension
  wattlab._native (the C++ meter: RAPL, NVML, or the labelled estimate),
  found in the build directory named by WATTLAB_BUILD_DIR (default: the
  repository's build/) or where pip installed it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional

__all__ = [
    "Window",
    "window",
    "begin_window",
    "end_window",
    "track",
    "mode",
    "native_path",
]

_CONTROL_ENV = "WATTLAB_CONTROL"


def _add_build_dir_to_path() -> None:
    """Lets `import wattlab._native` find the extension in a build tree."""
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.environ.get("WATTLAB_BUILD_DIR")
    if not build:
        build = os.path.join(os.path.dirname(os.path.dirname(here)), "build")
    candidate = os.path.join(os.path.abspath(build), "python", "wattlab")
    if os.path.isdir(candidate) and candidate not in __path__:
        # The build tree first: a fresh build wins over a stale installed copy.
        __path__.insert(0, candidate)  # noqa: F821 (the package's own __path__)


_add_build_dir_to_path()


@dataclasses.dataclass
class Window:
    """One measured window. The `as` target of `with wattlab.window(...)`:
    filled in when the block ends."""

    name: str
    duration_s: Optional[float] = None
    energy_j: Optional[float] = None
    samples: Optional[int] = None
    energy_above_idle_j: Optional[float] = dataclasses.field(default=None, repr=False)
    mean_power_w: Optional[float] = dataclasses.field(default=None, repr=False)
    energy_per_sample_j: Optional[float] = dataclasses.field(default=None, repr=False)
    sources: List[str] = dataclasses.field(default_factory=list, repr=False)
    estimated: Optional[bool] = None
    start_unix_s: Optional[float] = dataclasses.field(default=None, repr=False)
    # One meter per node (docs/scale.md): under torchrun or srun, a process
    # whose local rank (LOCAL_RANK / SLURM_LOCALID) is above 0 reads no
    # energy: energy_j is None, node_metered_by is "local rank 0", and
    # attributed_share (its share of the node's busy CPU time) is its figure.
    local_rank: Optional[int] = dataclasses.field(default=None, repr=False)
    node_metered_by: Optional[str] = dataclasses.field(default=None, repr=False)
    attributed_share: Optional[float] = dataclasses.field(default=None, repr=False)
    # The meter's whole record (meter/json.h's window shape) in-process.
    details: Dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    # Zeus's Measurement calls the duration `time`.
    @property
    def time(self) -> Optional[float]:
        return self.duration_s

    def add_samples(self, n: int) -> None:
        """Adds n workload samples to this window (under a parent: to the
        most recently begun window still open, as the protocol says)."""
        _backend().add_samples(self, int(n))

    def __enter__(self) -> "Window":
        _backend().begin(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _backend().end(self)


class _ControlBackend:
    """Speaks the window protocol to a wattlab parent on an inherited pipe."""

    name = "control"

    def __init__(self, spec: str):
        if not spec.startswith("fd:"):
            raise RuntimeError(f"{_CONTROL_ENV}={spec!r}: expected fd:N")
        self.fd = int(spec[3:])
        self.lock = threading.Lock()
        self.open: Dict[str, float] = {}

    def _send(self, text: str) -> None:
        # One write per call: lines under PIPE_BUF bytes arrive whole even
        # when threads or forked workers write too.
        data = text.encode("utf-8")
        while data:
            n = os.write(self.fd, data)
            data = data[n:]

    def begin(self, w: Window) -> None:
        _check_name(w.name)
        text = f"begin {w.name}\n"
        if w.samples:
            text += f"samples {int(w.samples)}\n"
        with self.lock:
            if w.name in self.open:
                raise ValueError(f"window {w.name!r} is already open")
            self.open[w.name] = time.monotonic()
            self._send(text)

    def add_samples(self, w: Window, n: int) -> None:
        w.samples = (w.samples or 0) + n
        with self.lock:
            self._send(f"samples {n}\n")

    def end(self, w: Window) -> None:
        with self.lock:
            t0 = self.open.pop(w.name, None)
            if t0 is None:
                raise ValueError(f"no open window named {w.name!r}")
            self._send(f"end {w.name}\n")
        w.duration_s = time.monotonic() - t0


class _NativeBackend:
    """Measures in this process through wattlab._native."""

    name = "native"

    def __init__(self) -> None:
        from . import _native  # noqa: PLC0415

        self.native = _native
        interval = float(os.environ.get("WATTLAB_INTERVAL_S", "0.1"))
        self.meter = _native.Meter(interval)
        self.lock = threading.Lock()
        self.open: Dict[str, int] = {}

    def begin(self, w: Window) -> None:
        _check_name(w.name)
        with self.lock:
            if w.name in self.open:
                raise ValueError(f"window {w.name!r} is already open")
            self.open[w.name] = self.meter.begin_window(w.name)

    def add_samples(self, w: Window, n: int) -> None:
        w.samples = (w.samples or 0) + n

    def end(self, w: Window) -> None:
        with self.lock:
            wid = self.open.pop(w.name, None)
        if wid is None:
            raise ValueError(f"no open window named {w.name!r}")
        samples = -1 if w.samples is None else int(w.samples)
        d = json.loads(self.meter.end_window(wid, samples))
        w.details = d
        w.duration_s = d["duration_s"]
        w.energy_j = d["energy_j"]
        w.energy_above_idle_j = d.get("energy_above_idle_j")
        w.mean_power_w = d.get("mean_power_w")
        w.energy_per_sample_j = d.get("energy_per_sample_j")
        w.sources = list(d.get("sources", []))
        w.estimated = d.get("estimated")
        w.start_unix_s = d.get("start_unix_s")
        w.local_rank = d.get("local_rank")
        w.node_metered_by = d.get("node_metered_by")
        w.attributed_share = d.get("attributed_share")


def _check_name(name: str) -> None:
    if not name or "\n" in name or "\r" in name or name.strip() != name:
        raise ValueError(f"window name {name!r}: must be non-empty, one line, without outer spaces")


_lock = threading.Lock()
_the_backend: Optional[Any] = None
_windows: Dict[str, Window] = {}


def _backend() -> Any:
    global _the_backend
    with _lock:
        if _the_backend is None:
            spec = os.environ.get(_CONTROL_ENV)
            _the_backend = _ControlBackend(spec) if spec else _NativeBackend()
        return _the_backend


def mode() -> str:
    """'control' under a wattlab parent, 'native' in-process."""
    return _backend().name


def native_path() -> str:
    """Where wattlab._native was loaded from (imports it)."""
    from . import _native  # noqa: PLC0415

    return _native.__file__


def window(name: str, samples: Optional[int] = None) -> Window:
    """A window to use with `with`; the `as` target holds the measurement."""
    return Window(name=name, samples=samples)


def begin_window(name: str, samples: Optional[int] = None) -> Window:
    """Opens a named window (Zeus's name); windows may overlap."""
    w = Window(name=name, samples=samples)
    w.__enter__()
    with _lock:
        _windows[name] = w
    return w


def end_window(name: str) -> Window:
    """Closes the window opened by begin_window(name) and returns it."""
    with _lock:
        w = _windows.pop(name, None)
    if w is None:
        raise ValueError(f"no window named {name!r} was begun with begin_window")
    w.__exit__(None, None, None)
    return w


def track(func: Optional[Callable] = None, *, name: Optional[str] = None) -> Callable:
    """Decorator: each call of the function is one window (named after the
    function unless name= is given). The last measurement is kept on the
    wrapper as `.last_window`."""

    def wrap(f: Callable) -> Callable:
        label = name or f.__qualname__

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            w = Window(name=label)
            with w:
                result = f(*args, **kwargs)
            wrapper.last_window = w  # type: ignore[attr-defined]
            return result

        wrapper.last_window = None  # type: ignore[attr-defined]
        return wrapper

    return wrap(func) if func is not None else wrap
