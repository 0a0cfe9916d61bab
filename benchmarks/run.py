"""Run every benchmark and write a Markdown table: ``python -m benchmarks [--quick]``.

Sections: training step vs torch, digits training, gradient checking, widget latency,
notebook execution, grading. Without torch the torch rows say "skipped"; a section whose
module is missing (benchmarks/widget_latency.py, benchmarks/grading_bench.py) says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402

SECTIONS = ("step", "digits", "gradcheck", "checks", "widgets", "notebooks", "grading")


def _log(msg: str) -> None:
    print(f"[benchmarks {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- Sections: each returns Markdown --------------------------------------------------------------
def section_step(quick: bool, out_dir: Path, plot: bool) -> str:
    import numpy as np

    import course
    from benchmarks import step_bench

    rows = step_bench.measure(quick=quick)
    text = [
        "Forward, softmax cross-entropy, backward and an Adam update (lr 1e-3) of the reference "
        "`course.mlp` vs the same model in PyTorch CPU (weights copied, same batch, "
        "`torch.optim.Adam` with its defaults). Times are medians per step; pairs are timed "
        "in alternating rounds and **ref / torch is the median of the per-round ratios**, "
        "so both sides share the machine's noise. Lower is faster; the goal is the issue's.",
        "",
        step_bench.table(rows),
    ]
    if quick:
        text += ["", "_Quick mode: one thread, the 784-1024-1024-10 rows are not measured and "
                 "rounds are few._"]
    if plot and step_bench.plot(rows, out_dir / "step_ratios.png"):
        text += ["", "![reference / torch step time](step_ratios.png)"]
    contract = step_bench.measure_contract(quick=quick)
    text += [
        "", "### The contract functions, composed as a learner composes them", "",
        "The same model written with the learners' functions: `linear_forward`, `relu_forward`, "
        "`softmax_cross_entropy`, their backwards (default arguments: every layer's dx, the "
        "first one's too) and `W = sgd_step(W, dW, lr)` for every parameter, against torch's "
        "same step with `torch.optim.SGD`. One thread, interleaved rounds as above.", "",
        step_bench.contract_table(contract),
    ]
    if not quick and common.torch_or_none() is not None:
        parts = {}
        for sizes, batch, _ in step_bench.CONFIGS:
            for dtype in (np.float32, np.float64):
                parts[(sizes, batch, dtype)] = step_bench.breakdown(sizes, batch, dtype,
                                                                   rounds=21)
        gemms = {key: step_bench.gemm_times(*key) for key in parts}
        why = [_why(key, parts[key], gemms[key]) for key in parts]
        text += [
            "", "### Where the time goes (one thread, medians per phase)", "",
            "The column *torch + dL/dx* runs torch with `x.requires_grad_(True)`, so that it "
            "also computes the gradient with respect to the input batch, which autograd skips "
            "for data. " + (
                "The reference, like `course.fit`, skips it too (`input_grad=False`)."
                if step_bench.fit_backward_kwargs(course.mlp([2, 2])) else
                "The reference computes it: `Sequential.backward` returns dL/dx (the contract's "
                "`linear_backward` always computes dx), and `course.fit` calls it that way."),
            "", step_bench.breakdown_table(parts),
            "", "The same matrix products, NumPy against torch and nothing else (what the "
            "two BLAS libraries contribute):", "", step_bench.gemm_table(gemms),
            "", "Why, per model (one thread, from the two tables above):", "", *why,
        ]
    return "\n".join(text)


def _why(key: tuple, b: dict[str, list[float]], g: dict[str, tuple[float, float]]) -> str:
    """One bullet explaining a reference/torch gap from the phase and GEMM measurements."""
    from benchmarks.common import ms

    sizes, batch, dtype = key
    name = f"{'-'.join(map(str, sizes))} b{batch} {getattr(dtype, '__name__', dtype)}"
    ref, tor, tdx = b["ref"], b["torch"], b["torch_dx"]
    gemm = sum(a for a, _ in g.values()) / sum(t for _, t in g.values())
    return (
        f"- **{name}**: {ms(sum(ref))} vs {ms(sum(tor))} per step. Optimizer step "
        f"{ms(ref[2])} vs {ms(tor[2])}; backward {ms(ref[1])} vs {ms(tor[1])} (torch computing "
        f"dL/dx as well: {ms(tdx[1])}); forward + loss {ms(ref[0])} vs {ms(tor[0])}; the bare "
        f"matrix products take {gemm:.2f}x as long in NumPy as in torch."
    )


def section_digits(quick: bool, out_dir: Path, plot: bool) -> str:
    from benchmarks import digits_bench as d

    rows = d.measure(quick=quick)
    return "\n".join([
        f"`course.fit` vs a plain torch loop: standardized digits (train/test split "
        f"`test_fraction=0.2, seed=0`), MLP {'-'.join(map(str, d.SIZES))}, Adam lr {d.LR}, "
        f"batch {d.BATCH}, {d.EPOCHS} epochs, same initial weights and batch order. Time is "
        "the median over interleaved repeats of the training alone; accuracy is on the "
        "held-out 20 %. This configuration was picked from a small sweep (hidden 64/128/256, "
        "lr 1e-3/3e-3/1e-2, batch 32/64) on this same split, so the accuracy is optimistic "
        "by the usual amount of choosing on the test set.",
        "",
        d.table(rows),
    ])


def section_gradcheck(quick: bool, out_dir: Path, plot: bool) -> str:
    from benchmarks import gradcheck_bench as g

    timings = g.timings(quick=quick)
    headers, rows = g.caught(quick=quick, full=not quick, with_torch=not quick)
    return "\n".join([
        f"The digits MLP ({'-'.join(map(str, g.SIZES))}, "
        f"{sum(a * b + b for a, b in zip(g.SIZES[:-1], g.SIZES[1:], strict=True))} "
        f"parameters) at its initial weights on a batch of {g.BATCH}, float64, one thread.",
        "",
        g.timing_table(timings),
        "",
        "Which wrong gradients each checker catches: bugs planted in the reference network's "
        "backward; torch's gradcheck is pointed at the same network through a "
        "`torch.autograd.Function` whose backward calls the reference's. Caught means the "
        "check does not call the gradient right (course: `report.ok` is False, i.e. "
        "suspicious or wrong; torch: gradcheck returns False).",
        "",
        common.md_table(headers, rows),
    ] + (["", "_Quick mode: the full checks and torch's checker are left out of this table._"]
         if quick else []))


def render(result: Any) -> str:
    """Markdown for what another benchmark's measure() returned: text, rows, or a table."""
    if result is None:
        return "_(no result returned)_"
    if isinstance(result, str):
        return result
    if hasattr(result, "to_markdown"):
        return result.to_markdown()
    if isinstance(result, dict) and "markdown" in result:
        return str(result["markdown"])
    if isinstance(result, dict):
        result = [{"name": k, **(v if isinstance(v, dict) else {"value": v})}
                  for k, v in result.items()]
    if isinstance(result, Sequence) and result and all(isinstance(r, dict) for r in result):
        headers = list(dict.fromkeys(k for r in result for k in r))
        return common.md_table(headers, [[r.get(h, "") for h in headers] for r in result])
    return f"```\n{result!r}\n```"


def _external(module_name: str, what: str, quick: bool, quick_kwargs: dict[str, Any]) -> str:
    """Run benchmarks/<module_name>.py, written by another helper, and render its result.

    Calls its measure() (or run()) with quick=... when it takes that argument, or with
    `quick_kwargs` in quick mode; renders with its table() (or _table()) when it has one.
    """
    try:
        module = importlib.import_module(f"benchmarks.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"benchmarks.{module_name}":
            raise
        return (f"**Missing**: `benchmarks/{module_name}.py` is not in the repository yet, so "
                f"{what} was not measured. No numbers are shown rather than made-up ones.")
    fn = getattr(module, "measure", None) or getattr(module, "run", None)
    if fn is None:
        raise AttributeError(f"benchmarks/{module_name}.py has neither measure() nor run()")
    params = inspect.signature(fn).parameters
    kwargs = {k: v for k, v in quick_kwargs.items() if k in params} if quick else {}
    if "quick" in params:
        kwargs = {"quick": quick}
    result = fn(**kwargs)
    table_fn = getattr(module, "table", None) or getattr(module, "_table", None)
    text = table_fn(result) if callable(table_fn) else render(result)
    if isinstance(result, dict) and "within_budget" in result:
        budget = result.get("budget_ms", "?")
        text += (f"\n\nGoal: 95th percentile <= {budget} ms: "
                 + ("yes" if result["within_budget"] else "**no**") + ".")
    call = f"`{module_name}.{fn.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})`"
    return f"Measured by {call} (benchmarks/{module_name}.py).\n\n{text}"


def section_checks(quick: bool, out_dir: Path, plot: bool) -> str:
    from benchmarks import checks_bench as c

    return "\n".join([
        "Every learner check (`course.checks.check_<name>`, one per function exercise of the "
        "registry) run on the exercise's reference, as a learner re-running a check cell "
        "waits for it. The first call also builds the test inputs.",
        "",
        c.table(c.measure(quick=quick)),
    ])


def section_widgets(quick: bool, out_dir: Path, plot: bool) -> str:
    return _external("widget_latency", "the slider-to-redraw latency", quick, {"repeats": 10})


def section_notebooks(quick: bool, out_dir: Path, plot: bool) -> str:
    if quick:
        return "_Skipped in quick mode (executes every solution notebook: minutes)._"
    from benchmarks import notebook_bench as nb

    rows = nb.measure(ROOT)
    return "\n".join([
        "Each solution notebook executed top to bottom with nbclient in a fresh `python3` "
        "kernel (kernel start included), one after the other.",
        "",
        nb.table(rows),
    ])


def section_grading(quick: bool, out_dir: Path, plot: bool) -> str:
    if quick:
        return "_Skipped in quick mode (grades 20 submissions twice: minutes)._"
    return _external("grading_bench", "`backprop-course grade --jobs 2` vs stock "
                     "`nbgrader autograde`", quick, {})


SECTION_FUNCS: dict[str, tuple[str, Callable[[bool, Path, bool], str]]] = {
    "step": ("Training step: reference vs PyTorch", section_step),
    "digits": ("Training on the digits to convergence", section_digits),
    "gradcheck": ("Gradient checking the digits MLP", section_gradcheck),
    "checks": ("Learner checks: time per check", section_checks),
    "widgets": ("Widgets: slider to redraw", section_widgets),
    "notebooks": ("Solution notebooks: execution time", section_notebooks),
    "grading": ("Grading: backprop-course grade vs stock nbgrader", section_grading),
}


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def machine_section() -> str:
    info = common.machine()
    return common.md_table(["", ""], [[k, v] for k, v in info.items()])


def run(sections: Sequence[str], quick: bool, output: Path, plot: bool = True) -> str:
    """Run the sections, write the Markdown report to `output`, and return it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick mode (fewer rounds, some rows left out)" if quick else "full run"
    parts = [
        "# Benchmarks",
        "",
        f"Written by `python -m benchmarks{' --quick' if quick else ''}` on {now} ({mode}). "
        "Every time is a median after warm-up; every ratio compares two things timed in the "
        "same run, interleaved.",
        "",
        "## Machine",
        "",
        machine_section(),
    ]
    cores = os.cpu_count() or 1
    busy = []
    for name in sections:
        title, fn = SECTION_FUNCS[name]
        _log(f"{name} ...")
        t0 = time.perf_counter()
        try:
            body = fn(quick, output.parent, plot)
        except Exception:
            body = ("**This section failed**; its numbers are missing:\n\n```\n"
                    + traceback.format_exc(limit=4) + "```")
        _log(f"{name} done in {time.perf_counter() - t0:.1f} s")
        load = _load()
        if load is not None and load > cores:
            busy.append(name)
            body += (f"\n\n_Load average (1 min) at the end of this section: {load:.1f} on "
                     f"{cores} cores: other processes were competing for the CPU, so times "
                     "are longer than on an idle machine. Ratios of interleaved one-thread "
                     f"pairs suffer least; rows with {cores} threads mostly measure the "
                     "contention._")
        parts += ["", f"## {title}", "", body]
    if busy:
        parts[4:4] = [f"**The machine was busy** (load average above {cores}) during: "
                      f"{', '.join(busy)}. See the note under each of those sections.", ""]
    parts += ["", f"_Whole run: {time.perf_counter() - started:.0f} s._", ""]
    text = "\n".join(parts)
    output.write_text(text, encoding="utf-8")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds and sizes, skip notebooks and grading (< 1 min)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections out of {','.join(SECTIONS)}")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the Markdown (default benchmarks/RESULTS.md, "
                        "or benchmarks/RESULTS-quick.md with --quick)")
    parser.add_argument("--no-plot", action="store_true", help="do not draw step_ratios.png")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in SECTION_FUNCS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    output = args.output or ROOT / "benchmarks" / (
        "RESULTS-quick.md" if args.quick else "RESULTS.md")
    text = run(sections, args.quick, output, plot=not args.no_plot)
    print(text)
    _log(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
