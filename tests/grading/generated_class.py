"""A generated class for the report, export and feedback tests (and the README screenshot).

Everything about it is known in advance: who passed what, which mistake each wrong answer
carries, each row's status, the similarity flags.  ``EXPECTED`` states those facts
independently of the code under test, so the tests compare against it instead of recomputing.

The class grades assignment ``03-linear-layer`` (four graded items plus a written answer that
is graded by hand).  Hostile rows: ids that look like spreadsheet formulas, ids with control
characters and line breaks, unicode ids, a message that names its student.

``write_output(out_dir)`` lays the class out as ``backprop-course grade`` leaves it:
``OUT/grades.csv`` and ``OUT/results/<key>.json`` with ``{"row", "results", "notebook"}``.
"""

from __future__ import annotations

import base64
import copy
import csv
import io
import json
import re
from pathlib import Path

from support import ROOT

ASSIGNMENT = "03-linear-layer"
# grade_id, name, kind, title, max points
ITEMS = [
    ("test_linear_forward", "linear_forward", "function", "linear_forward: the forward pass", 2.0),
    ("test_linear_backward", "linear_backward", "function", "linear_backward: the gradients",
     4.0),
    ("test_mc_dw_shape", "MC_DW_SHAPE", "choice", "Question 1: the shape of dW", 1.0),
    ("test_mc_db_sum", "MC_DB_SUM", "choice", "Question 2: why db sums over the batch", 1.0),
    ("written_why_transpose", None, "written", "Written: why the transpose", 2.0),
]
MAX_SCORE = sum(i[4] for i in ITEMS)
HIDDEN_SECRET = "HIDDEN_CASE_SECRET_7731"  # must never appear in a feedback page

MESSAGES = {
    "transposed": "dW has shape (2, 3) but W has shape (3, 2): it looks transposed. "
                  "dW = x^T dout has the shape of W, (D, M).",
    "missing_sum": "db has shape (4, 2); it should have the shape of b, (2,): sum dout over "
                   "the batch axis.",
    "bias_missing": "out is off by exactly b in every row: did you forget to add the bias?",
    "wrong_choice": "Not this one: the gradient has the shape of the parameter.",
    None: "dx is wrong (relative error 0.61); the shapes are right.",
}

# student -> (status, {grade_id: mistake tag, "pass", or "none" for wrong-without-tag},
#             similarity_reference, similarity_peer)
P = "pass"
STUDENTS: dict[str, tuple[str, dict[str, str | None], float | None, float | None]] = {
    "alice": ("graded", {}, 0.12, 0.20),
    "bob": ("graded", {"test_linear_backward": "transposed"}, 0.15, 0.96),
    "carol": ("graded", {"test_linear_backward": "transposed",
                         "test_mc_dw_shape": "wrong_choice"}, 0.91, 0.30),
    "dan": ("graded", {"test_linear_forward": "bias_missing",
                       "test_linear_backward": "missing_sum"}, 0.10, 0.10),
    "josé": ("graded", {"test_linear_backward": "none"}, None, None),
    "jos_": ("graded", {"test_linear_backward": "transposed"}, 0.05, 0.05),
    "=cmd()": ("timeout", {"test_linear_forward": "none", "test_linear_backward": "none",
                           "test_mc_dw_shape": "none", "test_mc_db_sum": "none"}, None, None),
    "+SUM(A1:A9)": ("crashed", {"test_linear_backward": "none", "test_mc_db_sum": "none"},
                    0.2, 0.2),
    "-2+3": ("graded", {"test_linear_backward": "missing_sum"}, 0.3, 0.3),
    "@evil": ("integrity", {"test_linear_forward": "none", "test_linear_backward": "none"},
              0.99, 0.1),
    "tab\tid": ("memory-limit", {"test_linear_backward": "none"}, None, None),
    "line\nbreak\x1b[31m": ("tampered", {"test_mc_dw_shape": "none"}, None, None),
    "学生, \"quoted\"": ("graded", {"test_mc_db_sum": "wrong_choice"}, 0.4, 0.4),
    "missing-student": ("missing", "no results", None, None),
    "broken": ("malformed", "no results", None, None),
}

# The facts the tests check, written out by hand from the table above.
EXPECTED = {
    "students": 15,
    "statuses": {"graded": 8, "timeout": 1, "crashed": 1, "memory-limit": 1, "malformed": 1,
                 "missing": 1, "tampered": 1, "integrity": 1},
    # grade_id -> (passed, failed, manual, not graded)
    "counts": {
        "test_linear_forward": (10, 3, 0, 2),
        "test_linear_backward": (3, 10, 0, 2),
        "test_mc_dw_shape": (10, 3, 0, 2),
        "test_mc_db_sum": (10, 3, 0, 2),
        "written_why_transpose": (0, 0, 13, 2),
    },
    # grade_id -> ranked [(mistake, students)]
    "mistakes": {
        "test_linear_forward": [("bias_missing", 1)],
        "test_linear_backward": [("transposed", 3), ("missing_sum", 2)],
        "test_mc_dw_shape": [("wrong_choice", 1)],
        "test_mc_db_sum": [("wrong_choice", 1)],
        "written_why_transpose": [],
    },
    "unnamed": {"test_linear_forward": 2, "test_linear_backward": 5, "test_mc_dw_shape": 2,
                "test_mc_db_sum": 2, "written_why_transpose": 0},
    "flagged_at_0.8": ["@evil", "bob", "carol"],
    "full_marks": 0,  # written answers count 0 until graded by hand: alice has 8 / 10
}


def results_for(student: str) -> list[dict]:
    status, outcome, _, _ = STUDENTS[student]
    if outcome == "no results":
        return []
    out = []
    for gid, name, kind, title, pts in ITEMS:
        if kind == "written":
            out.append({"grade_id": gid, "name": name, "kind": kind, "title": title,
                        "points": 0.0, "max_points": pts, "passed": None, "message": "",
                        "mistake": None, "output": None})
            continue
        tag = outcome.get(gid, P)
        if tag == P:
            message = f"{name} passed all checks."
            if student == "alice" and gid == "test_linear_forward":
                message = "linear_forward passed all checks. Well done, alice!"
            out.append({"grade_id": gid, "name": name, "kind": kind, "title": title,
                        "points": pts, "max_points": pts, "passed": True, "message": message,
                        "mistake": None, "output": None})
        else:
            mistake = None if tag == "none" else tag
            message = MESSAGES[mistake]
            if student == "bob" and gid == "test_linear_backward":
                message += " (bob: look at the transpose)"  # names the student: anonymised
            out.append({"grade_id": gid, "name": name, "kind": kind, "title": title,
                        "points": 0.0, "max_points": pts, "passed": False, "message": message,
                        "mistake": mistake, "output": None})
    return out


def row_for(student: str) -> dict:
    status, outcome, sim_ref, sim_peer = STUDENTS[student]
    results = results_for(student)
    score = sum(r["points"] for r in results)
    detail = {"timeout": "ran longer than 300 s", "crashed": "the kernel died",
              "memory-limit": "used more than 2048 MiB", "malformed": "not a notebook: bad JSON",
              "missing": "no 03-linear-layer.ipynb in the submission",
              "tampered": "test cell test_mc_dw_shape was edited",
              "integrity": "linear_backward called the reference implementation"}.get(status, "")
    row = {"student_id": student, "assignment": ASSIGNMENT, "score": score,
           "max_score": MAX_SCORE, "status": status, "detail": detail}
    for gid, *_ in ITEMS:
        row[gid] = next((r["points"] for r in results if r["grade_id"] == gid), 0.0)
    if sim_ref is not None:
        row["similarity_reference"] = sim_ref
    if sim_peer is not None:
        row["similarity_peer"] = f"{sim_peer:.2f} (alice)" if student == "bob" else sim_peer
    return row


def entries() -> list[dict]:
    """``[{"row", "results"}]`` for the whole class, in table order."""
    return [{"row": row_for(s), "results": results_for(s)} for s in STUDENTS]


def safe_key(student: str) -> str:
    """A collision-free file name per student (as the grader's): readable part + short hash."""
    import hashlib

    readable = re.sub(r"[^A-Za-z0-9._-]", "_", student).strip("._")[:40] or "_"
    return f"{readable}-{hashlib.sha256(student.encode()).hexdigest()[:8]}"


# --- a learner's executed notebook ---------------------------------------------------------------
def _png() -> str:
    """A small real matplotlib plot, base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2), dpi=60)
    ax = fig.subplots()
    ax.plot([0, 1, 2, 3], [3, 1, 0.5, 0.2], color="#0072B2")
    ax.set_title("training loss")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


SOLUTIONS = {
    "linear_forward": "def linear_forward(x, W, b):\n    return x @ W + b\n",
    "linear_backward": ("def linear_backward(dout, x, W, b):\n    dx = dout @ W.T\n"
                        "    dW = x.T @ dout\n    db = dout.sum(axis=0)\n    return dx, dW, db\n"),
    "mc_dw_shape": 'MC_DW_SHAPE = "b"\n',
    "mc_db_sum": 'MC_DB_SUM = "a"\n',
}


def notebook_for(student: str) -> dict:
    """The released notebook 03, answered and 'executed': outputs, a plot, a LaTeX output,
    and (defensively tested) a hidden-test region left in one test cell."""
    nb = json.loads((ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    nb = copy.deepcopy(nb)
    results = {r["grade_id"]: r for r in results_for(student)}
    count = 0
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell["cell_type"] != "code":
            continue
        count += 1
        cell["execution_count"] = count
        cell["outputs"] = []
        if gid in SOLUTIONS:
            cell["source"] = SOLUTIONS[gid]
        r = results.get(gid)
        if r is not None:
            cell["outputs"].append({"output_type": "stream", "name": "stdout",
                                    "text": r["message"] + "\n"})
        if gid == "test_linear_backward":
            src = "".join(cell["source"])
            cell["source"] = (src + "\n### BEGIN HIDDEN TESTS\n"
                              f"x_hidden = {HIDDEN_SECRET}  # a hidden input\n"
                              "assert_grads_close(linear_backward, x_hidden)\n"
                              "### END HIDDEN TESTS\n")
            cell["outputs"].append({"output_type": "stream", "name": "stdout",
                                    "text": f"x_hidden = {HIDDEN_SECRET}  # a hidden input\n"})
        if gid:
            cell["id"] = gid
    count += 1
    plot = {"cell_type": "code", "id": "learner-plot", "execution_count": count, "metadata": {},
            "source": "plot_loss(history)  # the learner's own plot cell",
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": "(4, 2)\n"},
                {"output_type": "display_data", "metadata": {},
                 "data": {"image/png": _png(), "text/plain": "<Figure size 300x200>"}},
                {"output_type": "display_data", "metadata": {},
                 "data": {"text/latex": r"$\frac{\partial L}{\partial W} = x^\top \, dout$",
                          "text/plain": "<IPython.core.display.Math object>"}},
                {"output_type": "display_data", "metadata": {},
                 "data": {"text/html": "<b>bold</b><script>fetch('https://example.com/x')"
                                       "</script><img src='https://example.com/t.png'>",
                          "text/plain": "<HTML>"}},
            ]}
    nb["cells"].append(plot)
    nb["cells"].append({"cell_type": "markdown", "id": "written_why_transpose",
                        "metadata": {"nbgrader": {
        "grade": True, "grade_id": "written_why_transpose", "locked": False, "points": 2,
        "schema_version": 3, "solution": True, "task": False}},
        "source": "Because $dW_{dm} = \\sum_n x_{nd}\\, dout_{nm}$, so $dW = x^\\top dout$."})
    nb["metadata"]["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


# --- an output folder as `backprop-course grade` leaves it ---------------------------------------
def _csv_cell(v: object) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    s = str(v)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def write_output(out: Path, *, with_notebooks: bool = False) -> Path:
    """OUT/grades.csv + OUT/results/<key>.json for the generated class."""
    out = Path(out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    cols = ["student_id", "assignment", "score", "max_score", "status", "detail",
            *[i[0] for i in ITEMS]]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for e in entries():
        w.writerow([_csv_cell(e["row"].get(c, "")) for c in cols])
        data = dict(e)
        if with_notebooks:
            data["notebook"] = notebook_for(e["row"]["student_id"])
        (out / "results" / f"{safe_key(e['row']['student_id'])}.json").write_text(
            json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (out / "grades.csv").write_text(buf.getvalue(), encoding="utf-8")
    return out
