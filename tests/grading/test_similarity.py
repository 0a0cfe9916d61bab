"""Similarity of answers to the reference and to classmates, and the static scan of answer code
(issue 11, item 4): a column for the instructor, never an automatic zero."""

from __future__ import annotations

import inspect

import pytest

from course import layers
from course.grading import similarity as S

PASTED = inspect.getsource(layers.linear_backward)

def _renamed(source: str) -> str:
    """The reference with every local name renamed and a comment added: what a learner who
    pastes it and tidies the names hands in."""
    import ast

    tree = ast.parse(source)
    fn = tree.body[0]
    names = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    names |= {n.id for n in ast.walk(fn)
              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    mapping = {name: f"my_{i}" for i, name in enumerate(sorted(names))}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]
        elif isinstance(node, ast.arg) and node.arg in mapping:
            node.arg = mapping[node.arg]
    return "# my own work, honest!\n" + ast.unparse(tree)


RENAMED = _renamed(PASTED)

TEXTBOOK = '''
def linear_backward(dout, x, W, b):
    """Backward pass of the linear layer."""
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db
'''

LOOPS = '''
def linear_backward(dout, x, W, b):
    n, d = x.shape
    m = W.shape[1]
    dx = np.zeros((n, d))
    dW = np.zeros((d, m))
    db = np.zeros(m)
    for i in range(n):
        for j in range(m):
            dx[i, :] += dout[i, j] * W[:, j]
            dW[:, j] += x[i, :] * dout[i, j]
            db[j] += dout[i, j]
    return dx, dW, db
'''

LOOPS_COPIED = '''
def linear_backward(grad, inputs, weight, bias):
    """I wrote this myself."""
    rows, cols = inputs.shape
    outs = weight.shape[1]
    # gradients start at zero
    g_in = np.zeros((rows, cols))
    g_w = np.zeros((cols, outs))
    g_b = np.zeros(outs)
    for r in range(rows):
        for c in range(outs):
            g_in[r, :] += grad[r, c] * weight[:, c]
            g_w[:, c] += inputs[r, :] * grad[r, c]
            g_b[c] += grad[r, c]
    return g_in, g_w, g_b
'''

EINSUM = '''
def linear_backward(dout, x, W, b):
    grads = []
    grads.append(np.einsum("nm,dm->nd", dout, W))
    grads.append(np.einsum("nd,nm->dm", x, dout))
    grads.append(np.einsum("nm->m", dout))
    if grads[0].shape != x.shape:
        raise RuntimeError("shape mismatch")
    return tuple(grads)
'''

TEMPLATE = '''
def linear_backward(dout, x, W, b):
    """Gradients of out = x W + b.

    dout: (N, M) upstream gradient.  x: (N, D), W: (D, M), b: (M,) the forward inputs.
    Returns (dx: (N, D), dW: (D, M), db: (M,)).
    """
    # YOUR CODE HERE
    raise NotImplementedError()
'''


@pytest.fixture(scope="module")
def references() -> dict[str, str]:
    return S.library_references()


def test_library_references_hold_the_graded_functions(references):
    for name in ("linear_forward", "linear_backward", "relu_backward", "softmax_cross_entropy",
                 "sgd_step", "adam_step", "numerical_gradient"):
        assert name in references, name
    assert "def linear_backward" in references["linear_backward"]


def test_reference_sources_from_callables():
    class Layer:
        def forward(self, x):
            return x * 2

        @staticmethod
        def helper(y):
            return y + 1

    refs = S.reference_sources([layers.relu_backward, Layer, print])
    assert set(refs) == {"relu_backward", "Layer.forward", "Layer.helper"}
    assert refs["relu_backward"].startswith("def relu_backward")


def test_normalisation_ignores_names_comments_docstrings_and_layout():
    a = "def f(x, y):\n    '''doc'''\n    # note\n    z = x @ y  # c\n    return z.sum(axis=0)\n"
    b = "def g(p,q):\n    t = (p\n         @ q)\n    return t.sum(axis=1)\n"
    assert S.normalized_tokens(a) == S.normalized_tokens(b)
    assert S.normalized_tokens("x = len(y)") != S.normalized_tokens("x = foo(y)")
    assert S.normalized_tokens("x.T") != S.normalized_tokens("x.sum")
    assert S.normalized_tokens("def f(:") == []
    assert S.fingerprint("def f(:") == frozenset()
    # IPython magics do not stop the comparison
    assert S.normalized_tokens("%time\nx = 1") == S.normalized_tokens("pass\nx = 1")


def test_pasted_reference_scores_high(references):
    table = S.similarity_table({"paster": {"linear_backward": PASTED}}, references)
    row = table["paster"]
    assert row["similarity_reference"] == 1.0
    assert row["reference_match"] == "linear_backward"


def test_renamed_variables_still_score_high(references):
    table = S.similarity_table({"renamer": {"linear_backward": RENAMED}}, references)
    assert table["renamer"]["similarity_reference"] >= 0.9
    assert table["renamer"]["reference_match"] == "linear_backward"


def test_reference_pasted_under_another_name_and_among_other_code(references):
    hidden = PASTED.replace("def linear_backward", "def helper") + "\n\n" + LOOPS
    table = S.similarity_table({"s": {"linear_backward": hidden}}, references)
    assert table["s"]["similarity_reference"] >= 0.9
    assert table["s"]["reference_match"] == "linear_backward"


def test_independent_solutions_score_lower(references):
    answers = {"loops": {"linear_backward": LOOPS}, "einsum": {"linear_backward": EINSUM},
               "textbook": {"linear_backward": TEXTBOOK}}
    table = S.similarity_table(answers, references)
    pasted = S.similarity_table({"p": {"linear_backward": PASTED}}, references)["p"]
    for sid in answers:
        assert table[sid]["similarity_reference"] <= 0.35, (sid, table[sid])
        assert table[sid]["similarity_reference"] < pasted["similarity_reference"] - 0.5


def test_classmate_copy_is_detected(references):
    answers = {
        "ann": {"linear_backward": LOOPS},
        "ben": {"linear_backward": LOOPS_COPIED},
        "cat": {"linear_backward": EINSUM},
        "dan": {"linear_backward": TEXTBOOK},
        "eve": {"linear_backward": TEMPLATE},
        "fay": {"linear_backward": TEMPLATE},
        "gus": {},
    }
    table = S.similarity_table(answers, references, templates={"linear_backward": TEMPLATE})
    assert set(table) == set(answers)
    assert table["ben"]["peer"] == "ann" and table["ben"]["similarity_peer"] >= 0.9
    assert table["ann"]["peer"] == "ben" and table["ann"]["similarity_peer"] >= 0.9
    # independent work and the untouched starter code are not flagged as copies
    for sid in ("cat", "dan", "eve", "fay", "gus"):
        assert table[sid]["similarity_peer"] <= 0.3, (sid, table[sid])
    assert table["gus"] == {"similarity_reference": 0.0, "reference_match": "",
                            "similarity_peer": 0.0, "peer": ""}
    for row in table.values():
        assert 0.0 <= row["similarity_reference"] <= 1.0
        assert 0.0 <= row["similarity_peer"] <= 1.0


def test_two_students_pasting_the_reference_show_in_the_reference_column(references):
    table = S.similarity_table({"a": {"f": PASTED}, "b": {"f": RENAMED}}, references)
    assert table["a"]["similarity_reference"] == table["b"]["similarity_reference"] == 1.0


def test_short_solution_cells_are_weak_evidence():
    # the solution notebook's answer cells are references too; the short textbook answer is all
    # there is to write, so every correct student matches it: the score stays under the usual
    # 0.8 flag, and the peer column stays quiet
    refs = {"linear_backward": TEXTBOOK}
    table = S.similarity_table({"a": {"linear_backward": TEXTBOOK},
                                "b": {"linear_backward": TEXTBOOK}}, refs)
    assert 0.3 <= table["a"]["similarity_reference"] <= 0.7
    assert table["a"]["reference_match"] == "linear_backward"
    assert table["a"]["similarity_peer"] == 0.0
    # a longer reference, pasted, is strong evidence
    long_ref = {"linear_backward": LOOPS}
    table = S.similarity_table({"a": {"linear_backward": LOOPS_COPIED}}, long_ref)
    assert table["a"]["similarity_reference"] == 1.0


def test_bad_sources_do_not_break_the_table(references):
    answers = {"a": {"f": "def f(:\n"}, "b": {"f": "(" * 10000 + ")" * 10000},
               "c": {"f": "x = 1\n" * 20000}, "d": {"f": "\0"}}
    table = S.similarity_table(answers, references)
    assert set(table) == set(answers)


# --- the static scan ---------------------------------------------------------------------------
@pytest.mark.parametrize(("source", "words"), [
    ("def f(x):\n    return eval('x')", "eval()"),
    ("def f(x):\n    exec('y = x')", "exec()"),
    ("def f(x):\n    return compile('x', 'layers.py', 'eval')", "compile()"),
    ("import inspect\ndef f():\n    return inspect.getsource(g)", "imports inspect"),
    ("def f():\n    return inspect.getsource(g)", ".getsource"),
    ("def f(g):\n    return g.__code__", ".__code__"),
    ("def f(g):\n    return g.__globals__['ref']", ".__globals__"),
    ("import importlib\ndef f():\n    m = importlib.import_module('course.layers')", "importlib"),
    ("from importlib import util", "importlib"),
    ("import sys\ndef f():\n    return sys.modules['course.layers']", "sys.modules"),
    ("import gc\ndef f():\n    return gc.get_objects()", "imports gc"),
    ("import course\ndef f(x):\n    return vars(course.layers)['relu_forward'](x)", "vars()"),
    ("from course import layers as L\ndef f(x):\n    return L.relu_forward(x)", "course"),
    ("def f():\n    return open('/work/main/course/layers.py').read()", "open('/work/main"),
    ("def f(p):\n    return open(p).read()", "open(p)"),
    ("def f(p):\n    return p.read_text()", ".read_text"),
    ("import ctypes", "ctypes"),
    ("import os\ndef f():\n    os.system('ls')", "os.system"),
    ("import subprocess", "subprocess"),
    ("import sys\ndef f():\n    return sys._getframe(1).f_back.f_globals", "._getframe"),
    ("def f():\n    try:\n        1/0\n    except Exception as e:\n        e.__traceback__"
     ".tb_frame.f_back", ".f_back"),
    ("def f():\n    return __builtins__", "__builtins__"),
    ("def f():\n    return __import__('os')", "__import__()"),
    ("def f():\n    return globals()['linear_backward']", "globals()"),
    ("def f(m):\n    return getattr(m, 'linear_' + 'backward')", "computed attribute"),
    ("def f(m):\n    return getattr(m, '__dict__')", "'__dict__'"),
    ("import numpy as np\nnp.allclose = lambda *a, **k: True", "changes np.allclose"),
    ("import numpy as np\na, np.testing.assert_allclose = 1, print", "changes np.testing"),
    ("import course\ncourse.layers.TABLE[0] = 1", "changes course.layers.TABLE"),
    ("import numpy as np\ndef f():\n    setattr(np, 'allclose', None)", "setattr()"),
    ("def f():\n    return ().__class__.__bases__[0].__subclasses__()", "__subclasses__"),
    ("!cat /etc/passwd\nx = 1", "shell command"),
    ("%%bash\nls", "IPython magic %bash"),
    ("def f():\n    return 'solutions/03-linear-layer'", "mentions 'solutions'"),
    ("def f():\n    get_ipython().run_line_magic('env', '')", "get_ipython()"),
])
def test_suspicious_constructs_are_flagged(source, words):
    found = S.suspicious_constructs(source)
    assert any(words in line for line in found), found
    assert all(line.startswith(("line ", "the code")) for line in found)


@pytest.mark.parametrize("source", [PASTED, RENAMED, TEXTBOOK, LOOPS, LOOPS_COPIED, EINSUM,
                                    TEMPLATE,
                                    "def f(z, y):\n    n = len(y)\n    d = np.exp(z)\n"
                                    "    d[np.arange(n), y] -= 1.0\n    return d / n\n",
                                    "import numpy as np\n%matplotlib inline\n"
                                    "class Net:\n    def __init__(self):\n        self.W = 1\n"
                                    "    def forward(self, x):\n        return np.stack([x]) @ "
                                    "self.W\n"])
def test_ordinary_answers_are_not_flagged(source):
    assert S.suspicious_constructs(source) == []


def test_scan_reports_lines_in_order_without_duplicates():
    src = "def f(x):\n    eval('1')\n    eval('1')\n    return exec('2')\n"
    found = S.suspicious_constructs(src)
    assert found == ["line 2: eval()", "line 3: eval()", "line 4: exec()"]
    assert S.suspicious_constructs("def f(:") == [
        "the code does not parse, so it was not scanned"]


# --- what the grader calls ---------------------------------------------------------------------
def test_similarity_for_gives_every_student_columns_and_a_note():
    written = "The gradient $dW = x^\\top \\, \\delta$ has the shape of $W$: (D, M). 100% sure!"
    answers = {
        "ann": {"linear_backward": LOOPS, "q_written": written},
        "\x1b[2Jben": {"linear_backward": LOOPS_COPIED, "q_written": written},
        "paster": {"linear_backward": PASTED},
        "sneaky": {"linear_backward": "def linear_backward(dout, x, W, b):\n"
                                      "    return eval('ref')(dout, x, W, b)\n"},
        "blank": {},
    }
    table = S.similarity_for(answers, [layers.linear_backward, layers.linear_forward])
    assert set(table) == set(answers)
    for row in table.values():
        assert {"similarity_reference", "reference_match", "similarity_peer", "peer",
                "similarity_note", "suspicious"} <= set(row)
        assert "\x1b" not in row["similarity_note"]
        assert "does not parse" not in row["similarity_note"]  # the written answer
    assert table["paster"]["similarity_note"] == "reference linear_backward 1.00"
    assert table["ann"]["peer"] == "\x1b[2Jben"
    assert table["ann"]["similarity_note"] == "classmate \\x1b[2Jben 1.00"
    assert table["sneaky"]["suspicious"] == ["linear_backward line 2: eval()"]
    assert table["sneaky"]["similarity_note"] == "linear_backward line 2: eval()"
    assert table["blank"]["similarity_note"] == "" and table["blank"]["suspicious"] == []


def test_similarity_for_accepts_sources_and_counts_extra_findings():
    src = "\n".join(f"x{i} = eval('{i}')" for i in range(6))
    table = S.similarity_for({"s": {"a": src}}, {"f": TEXTBOOK})
    assert table["s"]["similarity_note"].endswith("3 more findings")
    assert len(table["s"]["suspicious"]) == 6


def test_huge_answers_are_flagged_not_compared():
    huge = "x = 1\n" * (S.MAX_SOURCE_CHARS // 6 + 10)
    assert S.normalized_tokens(huge) == []
    assert "too long" in S.suspicious_constructs(huge)[0]
    table = S.similarity_for({"s": {"a": huge}}, {"f": TEXTBOOK})
    assert "too long" in table["s"]["similarity_note"]
