"""The checks in a real Jupyter kernel, as a learner (and nbgrader) runs them: one line on
success, a short traceback that ends in the one-line check (not in the diagnosis machinery),
and nothing on stderr even when the learner's code overflows."""

from __future__ import annotations

import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

CELLS = [
    "import numpy as np\nfrom course.checks import check_linear_backward, "
    "check_softmax_cross_entropy\nfrom course.progress import show_progress",
    "def linear_backward(dout, x, W, b):\n    return dout @ W.T, x.T @ dout, dout.sum(axis=0)",
    "check_linear_backward(linear_backward)",
    "def softmax_cross_entropy(logits, labels):\n    e = np.exp(logits)\n"
    "    p = e / e.sum(1, keepdims=True)\n    n = len(labels)\n"
    "    loss = -np.log(p[range(n), labels]).mean()\n    p[range(n), labels] -= 1\n"
    "    return loss, p / n",
    "check_softmax_cross_entropy(softmax_cross_entropy)",
    "def relu_forward(x):\n    raise NotImplementedError()",
    "p = show_progress(notebook='04')\np",
]


@pytest.mark.slow
def test_checks_in_a_kernel():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    outputs = [c.outputs for c in nb.cells]
    for cell in outputs:
        assert not any(o.get("name") == "stderr" for o in cell)
    (ok,) = outputs[2]
    assert ok["text"].startswith("linear_backward: all good.") and ok["text"].count("\n") == 1
    (error,) = outputs[4]
    assert error["output_type"] == "error"
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"]))
    assert "_diagnose.py" not in traceback
    assert "loss is nan" in traceback and "Subtract each row's largest logit" in traceback
    # show_progress displays once (HTML + text), and the returned object is not shown again
    shown = [o for o in outputs[6] if o["output_type"] in ("display_data", "execute_result")]
    assert len(shown) == 1 and "text/html" in shown[0]["data"]
    assert "Progress: 0 of 8 exercises pass" in shown[0]["data"]["text/plain"]
