"""The benchmarks measure what they claim: same models, same losses, honest tables.

No timing assertions: only that the compared implementations compute the same thing and
that the runner produces a complete table (with torch rows skipped, not faked, without torch).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from support import ROOT

import course

# benchmarks/ is a folder at the repository root, not an installed package: the ini pythonpath
# has the root
from benchmarks import (
    common,
    digits_bench,
    gradcheck_bench,
    notebook_bench,
    run,
    step_bench,
)

SMALL = (64, 128, 64, 10)


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="torch is the optional `bench` extra")


def _ref_grads(ref: step_bench.ReferenceStep) -> tuple[float, list[np.ndarray]]:
    out = ref.model.forward(ref.x)
    loss, dout = course.softmax_cross_entropy(out, ref.y)
    ref.model.backward(dout)
    return loss, [p.grad.copy() for p in ref.model.parameters()]


@pytest.mark.parametrize("sizes,batch", [(SMALL, 64), ((784, 256, 256, 10), 128)])
def test_torch_twin_same_loss_and_gradients_float64(torch, sizes, batch):
    from benchmarks.torch_mirror import torch_grads_as_course

    ref = step_bench.ReferenceStep(sizes, batch, np.float64)
    ts = step_bench.TorchStep(ref)
    loss, grads = _ref_grads(ref)
    ts.opt.zero_grad()
    tloss = torch.nn.functional.cross_entropy(ts.model(ts.x), ts.y)
    tloss.backward()
    assert tloss.item() == pytest.approx(loss, rel=1e-12)
    tgrads = torch_grads_as_course(ts.model)
    assert [g.shape for g in tgrads] == [g.shape for g in grads]
    for g, tg in zip(grads, tgrads, strict=True):
        np.testing.assert_allclose(g, tg, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-9), (np.float32, 1e-3)])
def test_training_steps_stay_equal(torch, dtype, rtol):
    """Five timed steps (forward, backward, Adam) leave both models with the same weights."""
    from benchmarks.torch_mirror import torch_params_as_course

    ref = step_bench.ReferenceStep(SMALL, 64, dtype)
    ts = step_bench.TorchStep(ref)
    for _ in range(5):
        loss, tloss = ref(), ts()
        assert tloss == pytest.approx(loss, rel=rtol)
    params = [p.value for p in ref.model.parameters()]
    tparams = torch_params_as_course(ts.model)
    assert all(p.dtype == np.dtype(dtype) for p in params)
    for p, tp in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p, tp, rtol=rtol, atol=rtol * 1e-2)
    # the models really trained (Adam moved every weight matrix)
    fresh = course.mlp(list(SMALL), rng=0, dtype=dtype).parameters()
    assert all(not np.allclose(p, f.value) for p, f in zip(params[::2], fresh[::2], strict=True))


def test_contract_step_and_torch_sgd_step_stay_equal(torch):
    """The hand-composed contract functions and torch's SGD step train the same model alike."""
    from benchmarks.torch_mirror import torch_params_as_course

    ref = step_bench.ContractStep(SMALL, 64, np.float64)
    ts = step_bench.TorchSGDStep(ref)
    for _ in range(3):
        assert ts() == pytest.approx(ref(), rel=1e-9)
    params = [a for pair in ref.params for a in pair]
    for p, tp in zip(params, torch_params_as_course(ts.model), strict=True):
        np.testing.assert_allclose(p, tp, rtol=1e-9, atol=1e-12)


def test_a_two_thread_row_where_torch_slows_down_is_not_counted():
    def row(threads, ref_s, torch_s, one):
        return step_bench.StepRow(SMALL, 64, "float32", threads, ref_s, torch_s, 0.5, 3,
                                  ref_s / torch_s, one)

    slower = row(2, 0.6e-3, 2.0e-3, 0.8e-3)  # torch: 2.0 ms on two threads, 0.8 ms on one
    faster = row(2, 0.6e-3, 0.7e-3, 0.8e-3)
    assert slower.met is None and faster.met is False
    text = step_bench.table([slower, faster])
    assert "not counted: torch is slower on 2 threads than on 1" in text
    assert "**no**" in text


def test_step_rows_without_torch_are_skipped_not_faked(monkeypatch):
    monkeypatch.setattr(common, "torch_or_none", lambda: None)
    rows = step_bench.measure(quick=True, configs=[(SMALL, 64, 0.5)], dtypes=(np.float32,))
    assert len(rows) == 1
    assert rows[0].torch_s is None and rows[0].ratio is None and rows[0].ref_s > 0
    text = step_bench.table(rows)
    assert "skipped" in text and "torch row skipped" in text


def test_digits_reference_and_torch_train_alike(torch):
    data = digits_bench.digits_split(np.float64)
    _, acc_ref = digits_bench.train_reference(data, epochs=2)
    _, acc_torch = digits_bench.train_torch(data, epochs=2)
    # same weights, batches and optimizer: at most one of the 359 test digits may differ
    assert abs(acc_ref - acc_torch) <= 1 / len(data[3]) + 1e-12
    assert acc_ref > 0.85


def test_course_network_through_torch_function_has_course_gradients(torch):
    model, loss_fn, x, y = gradcheck_bench.digits_problem()
    f = gradcheck_bench.course_loss_as_torch(model, loss_fn, x, y)
    inputs = gradcheck_bench.torch_inputs(model)
    loss = f(*inputs)
    loss.backward()
    expected_loss, dout = loss_fn(model.forward(x), y)
    model.backward(dout)
    assert loss.item() == pytest.approx(expected_loss, rel=1e-12)
    for t, p in zip(inputs, model.parameters(), strict=True):
        np.testing.assert_allclose(t.grad.numpy(), p.grad, rtol=1e-12, atol=1e-15)
    assert gradcheck_bench.torch_gradcheck(f, inputs, fast=True)


@pytest.mark.parametrize("bug", list(gradcheck_bench.BUGS))
def test_planted_bugs_are_real_and_the_fast_check_sees_them(bug):
    model, loss_fn, x, y = gradcheck_bench.buggy_problem(bug)
    clean, _, _, _ = gradcheck_bench.buggy_problem(None)
    for m in (model, clean):
        m.backward(loss_fn(m.forward(x), y)[1])
    differs = [not np.allclose(p.grad, q.grad, rtol=1e-6, atol=0)
               for p, q in zip(model.parameters(), clean.parameters(), strict=True)]
    assert any(differs), f"the planted bug {bug!r} does not change any gradient"
    assert not course.check_network(model, loss_fn, x, y, fast=True).ok


def test_gradcheck_table_marks_a_correct_network_as_passing():
    headers, rows = gradcheck_bench.caught(quick=True, full=False, with_torch=False)
    assert rows[0][0].startswith("none")
    assert all(cell.startswith("passes") for cell in rows[0][1:] if "skipped" not in cell)
    assert len(rows) == 1 + len(gradcheck_bench.BUGS)
    assert all(len(r) == len(headers) for r in rows)


def test_notebook_bench_times_a_notebook_and_reports_a_failing_one(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1 + 1")]),
                   good)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), bad)
    rows = notebook_bench.measure(tmp_path, [good, bad])
    assert rows[0].seconds is not None and rows[0].seconds > 0
    assert rows[1].seconds is None and "ZeroDivisionError" in rows[1].error
    text = notebook_bench.table(rows)
    assert "1 notebook(s) failed" in text and "good.ipynb" in text


def test_render_and_missing_external_benchmark():
    table = run.render([{"widget": "optimizer_race", "median_ms": 12.5, "p95_ms": 40.0}])
    assert table.splitlines()[0] == "| widget | median_ms | p95_ms |"
    assert "optimizer_race" in table
    text = run._external("no_such_benchmark", "something", quick=True, quick_kwargs={})
    assert text.startswith("**Missing**") and "no_such_benchmark.py" in text


def test_machine_description_names_cpu_blas_and_versions():
    info = common.machine()
    assert info["cores (os.cpu_count)"].isdigit()
    assert info["NumPy"] == np.__version__
    assert info["CPU"] and info["CPU"] != "unknown"
    assert info["NumPy BLAS (threadpoolctl)"] != "unknown"  # e.g. "openblas 0.3.31 ..."
    assert "threads" in info["NumPy BLAS (threadpoolctl)"]


@pytest.mark.slow
def test_quick_run_writes_a_complete_table(tmp_path):
    """`python -m benchmarks --quick` from the repo root writes every section's table."""
    out = tmp_path / "results.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--no-plot", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    for title, _ in run.SECTION_FUNCS.values():
        assert f"## {title}" in text
    assert "This section failed" not in text, text
    assert "## Machine" in text and "NumPy BLAS" in text
    step_lines = [ln for ln in text.splitlines() if ln.startswith("| 64-128-64-10 |")]
    assert len(step_lines) == 2  # float32 and float64, one thread in quick mode
    if common.torch_or_none() is None:
        assert all("skipped" in ln for ln in step_lines)
    else:
        ratios = [float(ln.split("|")[7]) for ln in step_lines]
        assert all(0 < r < 100 for r in ratios)
    assert "| reference | float64 | 1 |" in text
    assert "course check_network(fast=True)" in text
