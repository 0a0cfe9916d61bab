"""Shared helpers for the benchmarks: timing, thread limits, the machine, Markdown tables.

Timing follows three rules: warm up before measuring, report medians, and when two
implementations are compared, interleave them (A, B, B, A, ...) so that a noisy neighbour on
the machine slows both alike and the ratio stays honest.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any


def torch_or_none() -> Any:
    """The torch module, or None when it is not installed (the torch rows are then skipped)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


TORCH_MISSING = "torch not installed: `pip install torch==2.13.0` (CPU build) to get these rows"


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Limit NumPy's BLAS (threadpoolctl) and torch (set_num_threads) to n threads."""
    from threadpoolctl import threadpool_limits

    torch = torch_or_none()
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        if torch is not None and before is not None:
            torch.set_num_threads(before)


def time_once(fn: Callable[[], Any], repeat: int = 1) -> float:
    """Seconds per call of fn, averaged over `repeat` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def interleaved(
    fns: dict[str, Callable[[], Any]], *, rounds: int, inner: int = 1, warmup: int = 3
) -> dict[str, list[float]]:
    """Time several functions in alternating order; returns name -> seconds per call per round.

    Each round times `inner` back-to-back calls of every function; the order is reversed every
    other round so neither side always runs first (caches, CPU frequency, neighbours).
    """
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            times[name].append(time_once(fns[name], inner))
    return times


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def percentile(xs: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or platform.processor() elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    """The vector instruction sets the CPU reports (AVX2, AVX-512, ...)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    wanted = ["avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx_tile"]
                    return ", ".join(w for w in wanted if w in flags) or "none of AVX/AVX-512"
    except OSError:
        pass
    return "unknown"


def machine() -> dict[str, str]:
    """What the numbers were measured on: cores, CPU, versions, BLAS libraries."""
    import numpy as np
    from threadpoolctl import threadpool_info

    info = {
        "cores (os.cpu_count)": str(os.cpu_count()),
        "CPU": cpu_model(),
        "CPU vector extensions": cpu_flags(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "NumPy": np.__version__,
    }
    torch = torch_or_none()
    info["torch"] = torch.__version__ if torch is not None else "not installed"
    libs = []
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            arch = lib.get("architecture")
            libs.append(
                f"{lib.get('internal_api')} {lib.get('version')}"
                + (f" ({arch} kernels)" if arch else "")
                + f", {lib.get('num_threads')} threads"
            )
    info["NumPy BLAS (threadpoolctl)"] = "; ".join(libs) or "unknown"
    if torch is not None:
        cfg = torch.__config__.show()
        blas = "MKL" if "BLAS_INFO=mkl" in cfg else ("OpenBLAS" if "openblas" in cfg else "?")
        cap = next((ln.split(":", 1)[1].strip() for ln in cfg.splitlines()
                    if "CPU capability usage" in ln), "?")
        info["torch BLAS / CPU kernels"] = f"{blas}; CPU capability {cap}"
    try:
        load = os.getloadavg()
        info["load average at start (1, 5, 15 min)"] = ", ".join(f"{x:.2f}" for x in load)
    except OSError:
        pass
    return info


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; every cell is converted with str()."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def ms(seconds: float) -> str:
    """Seconds as milliseconds with sensible precision."""
    value = seconds * 1e3
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.3g} ms"
