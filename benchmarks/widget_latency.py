"""Slider-to-redraw latency of the interactive widgets (budget: 300 ms on 2 cores).

What is timed is what the kernel does between a slider message and the new image leaving
for the browser: the observer runs, the result is computed (or taken from the cache), the
figure is redrawn and encoded as PNG. Measured headless, by setting the slider from Python
exactly as the browser's message does. The learning-rate explorer first computes its sweep
(the progress bar phase, reported as ``warmup_s``); after that every slider position is a
cached run, as in the notebook. The optimizer race recomputes all four runs on every move.

Run: ``python benchmarks/widget_latency.py`` (prints a table and the JSON dict).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

BUDGET_MS = 300.0


def _stats(wall: Sequence[float], cpu: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(wall) * 1000
    cpu_ms = np.asarray(cpu) * 1000
    return {
        "median_ms": round(float(np.median(ms)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "max_ms": round(float(ms.max()), 1),
        "cpu_median_ms": round(float(np.median(cpu_ms)), 1),
        "cpu_p95_ms": round(float(np.percentile(cpu_ms, 95)), 1),
        "repeats": int(ms.size),
    }


def _time_moves(move: Callable[[Any], None], values: Sequence[Any]) -> dict[str, float]:
    wall, cpu = [], []
    for value in values:
        c0, t0 = time.process_time(), time.perf_counter()
        move(value)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return _stats(wall, cpu)


def _slider_walk(grid: Sequence[float], repeats: int, seed: int = 0) -> list[float]:
    """`repeats` slider positions: mostly one step left or right, sometimes a jump."""
    rng = np.random.default_rng(seed)
    i, out = len(grid) // 2, []
    for _ in range(repeats):
        step = int(rng.choice([-1, 1, -1, 1, int(rng.integers(-6, 7)) or 2]))
        i = int(np.clip(i + step, 0, len(grid) - 1))
        if out and grid[i] == out[-1]:
            i = i - 1 if i > 0 else i + 1
        out.append(float(grid[i]))
    return out


def measure(repeats: int = 30) -> dict[str, Any]:
    """Median and 95th percentile slider-to-redraw latency (ms) of the learning-rate explorer's
    and the optimizer race's learning-rate sliders; wall clock and process CPU time."""
    from course.widgets import LR_GRID, learning_rate_explorer, optimizer_race

    explorer = learning_rate_explorer()
    t0 = time.perf_counter()
    explorer.update()  # the sweep, as when the cell first runs
    warmup = time.perf_counter() - t0
    lr_explorer = _time_moves(lambda v: explorer.set(lr=v), _slider_walk(list(LR_GRID), repeats))
    lr_explorer["warmup_s"] = round(warmup, 2)

    race = optimizer_race()
    race.update()
    grid = list(10.0 ** np.arange(-4, 0.001, 0.25))
    race_stats = _time_moves(lambda v: race.set(lr=v), _slider_walk(grid, repeats, seed=1))

    return {
        "budget_ms": BUDGET_MS,
        "learning_rate_explorer": lr_explorer,
        "optimizer_race": race_stats,
        "within_budget": all(s["p95_ms"] <= BUDGET_MS for s in (lr_explorer, race_stats)),
    }


def _table(result: dict[str, Any]) -> str:
    rows = ["| widget | median ms | p95 ms | max ms | CPU median ms | CPU p95 ms | moves |",
            "|---|---|---|---|---|---|---|"]
    for name in ("learning_rate_explorer", "optimizer_race"):
        s = result[name]
        rows.append(f"| {name} | {s['median_ms']} | {s['p95_ms']} | {s['max_ms']} | "
                    f"{s['cpu_median_ms']} | {s['cpu_p95_ms']} | {s['repeats']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    res = measure()
    print(_table(res))
    print(f"budget {res['budget_ms']:.0f} ms; explorer sweep warm-up "
          f"{res['learning_rate_explorer']['warmup_s']} s; within budget: {res['within_budget']}")
    print(json.dumps(res, indent=2))
