"""How close each learner's answers are to the reference code and to classmates' answers.

For the instructor to judge, never an automatic zero.  Each answer is parsed and reduced to a
sequence of syntax tokens in which every identifier becomes ``N`` and every number or string a
placeholder (docstrings, comments, annotations and formatting are gone), so renaming variables,
re-wrapping lines or rewording comments changes nothing.  The sequence is cut into overlapping
k-grams; winnowing keeps a small, position-independent fingerprint of each answer (Schleimer,
Wilkerson and Aiken, "Winnowing", SIGMOD 2003: the method behind MOSS).

- ``similarity_reference``: the largest share of a reference function's fingerprint found in one
  answer (1.0: all of it, for example pasted with renamed variables).  A short reference counts
  in proportion to its length, and one too short to tell a copy from an independent solution
  is left out: there is one natural way to write ``dx = dout @ W.T``.
- ``similarity_peer``: the largest overlap between one answer and a classmate's answer of the
  same name, counting only what is in neither the reference nor the starter code.

:func:`suspicious_constructs` is a separate static scan for code that reaches for the reference
or the grader at run time (``eval``, frame walks, ``importlib``, ...).  :func:`similarity_for` is
what the grader calls: both, with a one-line note per student for grades.csv.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import inspect
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable

K = 6  # tokens per k-gram (one short statement is about 6 to 10 tokens)
WINDOW = 4  # winnowing window: every shared run of K + WINDOW - 1 tokens is detected
MIN_FINGERPRINTS = 6  # a reference or answer with fewer is too short to judge
# A match with less code than this counts in proportion: a short correct answer has few ways to
# be written, so every good student matches a short reference and a 1.0 there proves nothing.
DISTINCTIVE = 20
MAX_SOURCE_CHARS = 200_000  # longer answers are not compared (and are flagged by the scan)

_BUILTINS = frozenset(dir(builtins))
_MAGIC = re.compile(r"^(\s*)([%!].*)$", re.M)

__all__ = [
    "fingerprint", "library_references", "normalized_tokens", "reference_sources",
    "similarity", "similarity_for", "similarity_table", "suspicious_constructs",
]


# --- normalisation -----------------------------------------------------------------------------
def _parse(source: str) -> ast.AST | None:
    if len(str(source)) > MAX_SOURCE_CHARS:
        return None
    text = textwrap.dedent(str(source))
    text = _MAGIC.sub(lambda m: m.group(1) + "pass", text)  # IPython magics and shell lines
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _is_docstring(node: ast.AST) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


class _Tokens(ast.NodeVisitor):
    """Pre-order syntax tokens with identifiers and literals normalised."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.expr_context):
            return
        if _is_docstring(node):
            return  # docstrings, and bare strings used as comments
        if isinstance(node, ast.Name):
            self.out.append(node.id if node.id in _BUILTINS else "N")
            return
        if isinstance(node, ast.Constant):
            value = node.value
            if value is None or isinstance(value, bool) or value is Ellipsis:
                self.out.append(repr(value))
            else:
                self.out.append("NUM" if isinstance(value, int | float | complex) else "STR")
            return
        if isinstance(node, ast.JoinedStr):
            self.out.append("STR")
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            self.out.append(type(node).__name__)
            self.visit(node.args)
            for stmt in node.body if isinstance(node.body, list) else [node.body]:
                self.visit(stmt)
            return  # name, decorators, annotations and return type left out
        if isinstance(node, ast.arg):
            self.out.append("arg")
            return
        self.out.append(type(node).__name__)
        if isinstance(node, ast.Attribute):
            self.out.append("." + node.attr)  # the API used (.T, .sum, .reshape) is kept
        elif isinstance(node, ast.keyword):
            self.out.append(f"{node.arg}=")
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.visit(node.target)
                self.visit(node.value)
            return
        super().generic_visit(node)


def normalized_tokens(source: str) -> list[str]:
    """The normalised token sequence of some Python source (empty if it does not parse)."""
    tree = _parse(source)
    if tree is None:
        return []
    visitor = _Tokens()
    try:
        visitor.visit(tree)
    except RecursionError:
        return []
    return visitor.out


def _hash(gram: tuple[str, ...]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(gram).encode(), digest_size=8).digest(),
                          "big")


def fingerprint(source: str, k: int = K, window: int = WINDOW) -> frozenset[int]:
    """The winnowed k-gram fingerprint of a source (a set of 64-bit hashes)."""
    tokens = normalized_tokens(source)
    if not tokens:
        return frozenset()
    if len(tokens) < k:
        return frozenset({_hash(tuple(tokens))})
    hashes = [_hash(tuple(tokens[i:i + k])) for i in range(len(tokens) - k + 1)]
    if len(hashes) <= window:
        return frozenset({min(hashes)})
    chosen: set[int] = set()
    for i in range(len(hashes) - window + 1):
        win = hashes[i:i + window]
        chosen.add(min(win))
    return frozenset(chosen)


def similarity(answer: str, reference: str) -> float:
    """The share of ``reference``'s fingerprint that appears in ``answer`` (0..1)."""
    a, r = fingerprint(answer), fingerprint(reference)
    return len(a & r) / len(r) if r else 0.0


# --- the table ---------------------------------------------------------------------------------
def _weight(n: int) -> float:
    return min(1.0, n / DISTINCTIVE)


def similarity_table(
    answers: dict[str, dict[str, str]],
    references: dict[str, str],
    templates: dict[str, str] | None = None,
) -> dict[str, dict]:
    """Per student: ``{"similarity_reference", "reference_match", "similarity_peer", "peer"}``.

    ``answers``: student id -> {answer name (function or grade id) -> learner source}.
    ``references``: name -> reference source (library functions, the solution's answer cells).
    ``templates``: name -> starter code handed out (its fingerprint never counts).

    ``similarity_reference`` is the largest share of any one reference's fingerprint found in
    any one of the student's answers (``reference_match``: that reference's name).
    ``similarity_peer`` is the largest overlap, over answers of the same name, with one
    classmate (``peer``), measured on the fingerprints in neither the references nor the
    templates, relative to the smaller of the two answers.  Both are scaled down when the code
    compared is short (fewer than ``DISTINCTIVE`` fingerprints): the textbook three-line answer
    is what every good student writes.  Scores are rounded to 0.01; empty names and 0.0 mean
    nothing worth a look.
    """
    boiler: set[int] = set()
    for src in (templates or {}).values():
        boiler |= fingerprint(src)
    ref_fps = {name: fingerprint(src) - boiler for name, src in references.items()}
    ref_fps = {name: fp for name, fp in ref_fps.items() if len(fp) >= MIN_FINGERPRINTS}
    all_ref: set[int] = set().union(*ref_fps.values()) if ref_fps else set()

    fps: dict[str, dict[str, frozenset[int]]] = {
        sid: {name: fingerprint(src) for name, src in (subs or {}).items()}
        for sid, subs in answers.items()
    }
    table: dict[str, dict] = {}
    for sid, by_name in fps.items():
        best, match = 0.0, ""
        for fp in by_name.values():
            for rname, rfp in ref_fps.items():
                score = len(fp & rfp) / len(rfp) * _weight(len(rfp))
                if score > best:
                    best, match = score, rname
        table[sid] = {"similarity_reference": round(best, 2), "reference_match": match,
                      "similarity_peer": 0.0, "peer": ""}

    # peers: an inverted index per answer name, over the fingerprints that are the learner's own
    own: dict[str, dict[str, frozenset[int]]] = {}
    for sid, by_name in fps.items():
        for name, fp in by_name.items():
            rest = fp - all_ref - boiler
            if len(rest) >= MIN_FINGERPRINTS:
                own.setdefault(name, {})[sid] = rest
    for by_sid in own.values():
        index: dict[int, list[str]] = {}
        for sid, fp in by_sid.items():
            for h in fp:
                index.setdefault(h, []).append(sid)
        for sid, fp in by_sid.items():
            shared: Counter[str] = Counter()
            for h in fp:
                shared.update(other for other in index[h] if other != sid)
            for other, n in shared.items():
                smaller = min(len(fp), len(by_sid[other]))
                score = n / smaller * _weight(smaller)
                row = table[sid]
                better = score > row["similarity_peer"] + 1e-9
                tie = abs(score - row["similarity_peer"]) <= 1e-9 and other < row["peer"]
                if round(score, 2) > 0 and (better or tie):
                    row["similarity_peer"], row["peer"] = score, other
    for row in table.values():
        row["similarity_peer"] = round(row["similarity_peer"], 2)
    return table


NOTE_AT = 0.8  # a similarity from this on is named in the note (the class report flags 0.8)
NOTE_FLAGS = 3  # static-scan findings named in the note (the rest counted)


def similarity_for(
    answers: dict[str, dict[str, str]],
    references: Iterable[Callable] | dict[str, str],
    templates: dict[str, str] | None = None,
) -> dict[str, dict]:
    """What the grader puts in grades.csv: :func:`similarity_table` plus, per student,
    ``suspicious`` (the static-scan findings of every answer that parses, prefixed with the
    answer's name) and ``similarity_note``, one line for a spreadsheet cell, for example
    ``reference linear_backward 1.00; classmate ann 0.95; linear_backward line 3: eval()``.

    ``references``: callables (their source is read with ``inspect``) or ``{name: source}``.
    Every student id in ``answers`` gets an entry.
    """
    refs = dict(references) if isinstance(references, dict) else reference_sources(references)
    table = similarity_table(answers, refs, templates)
    from course.grading.submissions import display_id

    for sid, row in table.items():
        flags: list[str] = []
        for name, src in sorted((answers.get(sid) or {}).items()):
            if not isinstance(src, str):
                continue
            if _parse(src) is None and len(src) <= MAX_SOURCE_CHARS:
                continue  # written answers (markdown), code that does not parse
            flags += [f"{name} {flag}" for flag in suspicious_constructs(src)]
        row["suspicious"] = flags
        note = []
        if row["similarity_reference"] >= NOTE_AT:
            note.append(f"reference {row['reference_match']} {row['similarity_reference']:.2f}")
        if row["similarity_peer"] >= NOTE_AT:
            note.append(f"classmate {display_id(row['peer'], 40)} {row['similarity_peer']:.2f}")
        note += [display_id(f, 120) for f in flags[:NOTE_FLAGS]]
        if len(flags) > NOTE_FLAGS:
            note.append(f"{len(flags) - NOTE_FLAGS} more findings")
        row["similarity_note"] = "; ".join(note)
    return table


# --- reference sources -------------------------------------------------------------------------
def reference_sources(callables: Iterable[Callable]) -> dict[str, str]:
    """``{qualified name: source}`` of functions, methods or classes (a class contributes each
    method defined in it); objects without Python source are skipped."""
    out: dict[str, str] = {}
    for obj in callables:
        obj = inspect.unwrap(obj) if callable(obj) else obj
        if inspect.isclass(obj):
            members = []
            for value in vars(obj).values():
                if isinstance(value, staticmethod | classmethod):
                    value = value.__func__
                elif isinstance(value, property):
                    value = value.fget
                if inspect.isfunction(value):
                    members.append(value)
        else:
            members = [obj]
        for fn in members:
            try:
                src = textwrap.dedent(inspect.getsource(fn))
            except (OSError, TypeError):
                continue
            name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
            out[name.rsplit("<locals>.", 1)[-1]] = src
    return out


LIBRARY_MODULES = ("course.layers", "course.losses", "course.optim", "course.gradcheck")


def library_references(modules: Iterable[str] = LIBRARY_MODULES) -> dict[str, str]:
    """The source of every function and class defined in the course's library modules (the
    working references of the graded exercises), by qualified name."""
    import importlib

    objs: list = []
    for modname in modules:
        mod = importlib.import_module(modname)
        for value in vars(mod).values():
            if (inspect.isfunction(value) or inspect.isclass(value)) and \
                    getattr(value, "__module__", None) == mod.__name__:
                objs.append(value)
    return reference_sources(objs)


# --- the static scan ---------------------------------------------------------------------------
_CALLS = {
    "eval": "eval()", "exec": "exec()", "compile": "compile()", "__import__": "__import__()",
    "globals": "globals()", "vars": "vars()", "breakpoint": "breakpoint()",
    "open": "open() of a file", "setattr": "setattr()", "delattr": "delattr()",
    "get_ipython": "get_ipython()",
}
_MODULES = {
    "inspect": "inspect", "importlib": "importlib", "imp": "importlib", "sys": "sys", "gc": "gc",
    "ctypes": "ctypes", "cffi": "ctypes", "os": "os", "subprocess": "subprocess",
    "shutil": "os", "pty": "subprocess", "multiprocessing": "subprocess", "signal": "signal",
    "socket": "socket", "builtins": "builtins", "types": "types", "marshal": "marshal",
    "pickle": "pickle", "dill": "pickle", "dis": "dis", "traceback": "frame walking",
    "threading": "threading", "code": "exec()", "codeop": "exec()", "runpy": "exec()",
    "pathlib": "file access", "io": "file access", "glob": "file access",
    "course": "the course package", "nbgrader": "the grader", "IPython": "IPython internals",
    "pytest": "the grader", "unittest": "the grader",
}
_ATTRS = {
    "__code__", "__globals__", "__closure__", "__builtins__", "__dict__", "__wrapped__",
    "__subclasses__", "__bases__", "__mro__", "__class__", "__getattribute__", "__loader__",
    "__spec__", "__file__", "__self__", "__func__", "__kwdefaults__", "__defaults__",
    "f_back", "f_globals", "f_locals", "f_code", "f_builtins", "tb_frame", "tb_next",
    "gi_frame", "cr_frame", "ag_frame", "co_code", "co_consts", "_getframe",
    "getsource", "getsourcelines", "getfile", "currentframe", "settrace", "setprofile",
    "read_text", "read_bytes",
}
# attributes that are suspicious only on a given module
_DOTTED = {"sys.modules", "inspect.stack", "inspect.trace", "os.system", "os.popen", "os.environ",
           "traceback.extract_stack", "traceback.walk_stack", "sys.exc_info", "sys.path"}
_NAMES = {"__builtins__", "__loader__", "__spec__", "__file__", "__import__", "__name__"}
_STRINGS = ("__", "f_back", "f_globals", "_getframe", "getsource", "solutions", "grading",
            "course.", "course/", ".py", "site-packages", "/proc", "importlib", "sys.modules")
_MODULE_ALIASES = {"np", "numpy", "math", "course", "builtins", "sys", "torch", "scipy"}
_HARMLESS_MAGICS = {"matplotlib", "time", "timeit", "load_ext", "autoreload", "config"}


def _line(node: ast.AST) -> str:
    return f"line {getattr(node, 'lineno', '?')}"


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def suspicious_constructs(source: str) -> list[str]:
    """Lines of answer code that reach beyond the exercise at run time: dynamic code (``eval``,
    ``exec``, ``compile``), introspection of other code (``inspect``, ``__code__``, frame
    walks via ``sys._getframe``/``f_back``/``f_globals``, ``gc``), importing machinery
    (``importlib``, ``sys.modules``, ``__import__``), ``vars()``/``globals()``, file and process
    access (``open``, ``os``, ``subprocess``, ``ctypes``), shell lines and patches of library
    attributes.  One short line per finding, in source order; [] when nothing is found.

    A flag for the instructor to read, never a grade: the harness decides the points.
    """
    if len(str(source)) > MAX_SOURCE_CHARS:
        return [f"the code is too long to scan ({len(str(source))} characters)"]
    text = textwrap.dedent(str(source))
    found: list[tuple[int, str]] = []
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("!"):
            found.append((n, f"line {n}: shell command {stripped[:40]!r}"))
        elif stripped.startswith("%"):
            magic = stripped.lstrip("%").split(maxsplit=1)[0] if stripped.lstrip("%") else ""
            if magic not in _HARMLESS_MAGICS:
                found.append((n, f"line {n}: IPython magic %{magic}"))
    tree = _parse(text)
    if tree is None:
        if not found:
            found.append((0, "the code does not parse, so it was not scanned"))
        return [msg for _, msg in sorted(found)]

    aliases: set[str] = set(_MODULE_ALIASES)
    try:
        nodes = list(ast.walk(tree))
        docs = _docstring_nodes(tree)
    except RecursionError:
        return ["the code is nested too deeply to scan"]
    for node in nodes:
        line = getattr(node, "lineno", 0)
        where = _line(node)
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or "."])
            for a in node.names:
                aliases.add((a.asname or a.name).split(".")[0])
            for mod in names:
                top = mod.split(".")[0]
                if top in _MODULES:
                    found.append((line, f"{where}: imports {mod} ({_MODULES[top]})"))
            if isinstance(node, ast.ImportFrom):
                for a in node.names:
                    if a.name in _ATTRS or a.name in _CALLS:
                        found.append((line, f"{where}: imports {a.name} from {node.module}"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            dotted = _dotted(func)
            if isinstance(func, ast.Name) and name in _CALLS:
                what = _CALLS[name]
                if name == "open" and node.args:
                    what = f"open({_snippet(node.args[0])})"
                found.append((line, f"{where}: {what}"))
            elif dotted in ("io.open", "os.open", "codecs.open"):
                arg = _snippet(node.args[0]) if node.args else ""
                found.append((line, f"{where}: {dotted}({arg})"))
            if isinstance(func, ast.Name) and name in ("getattr", "hasattr"):
                if len(node.args) >= 2:
                    attr = node.args[1]
                    if not (isinstance(attr, ast.Constant) and isinstance(attr.value, str)):
                        found.append((line, f"{where}: {name}() with a computed attribute name"))
                    elif attr.value in _ATTRS or attr.value.startswith("__"):
                        found.append((line, f"{where}: {name}(..., {attr.value!r})"))
        elif isinstance(node, ast.Attribute):
            if node.attr in _ATTRS:
                found.append((line, f"{where}: .{node.attr} ({_dotted(node) or node.attr})"))
            elif _dotted(node) in _DOTTED:
                found.append((line, f"{where}: {_dotted(node)}"))
        elif isinstance(node, ast.Name):
            if node.id in _NAMES and not (node.id == "__name__"):
                found.append((line, f"{where}: {node.id}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            low = node.value.lower()
            hit = next((s for s in _STRINGS if s in low), None)
            if hit is not None and id(node) not in docs:
                found.append((line, f"{where}: string {_snippet(node)} mentions {hit!r}"))
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = (node.targets if isinstance(node, ast.Assign | ast.Delete)
                       else [node.target])
            for target in targets:
                for sub in _stored_attributes(target):
                    base = sub
                    while isinstance(base, ast.Attribute | ast.Subscript):
                        base = base.value
                    if isinstance(base, ast.Name) and base.id in aliases:
                        found.append((line, f"{where}: changes {_dotted(sub)}"))
    seen: set[str] = set()
    out = []
    for _, msg in sorted(found, key=lambda f: f[0]):
        if msg not in seen:
            seen.add(msg)
            out.append(msg)
    return out


def _stored_attributes(target: ast.AST) -> list[ast.Attribute]:
    """The attributes an assignment target writes (``a.b =``, ``a.b[i] =``, ``x, a.b =``), not
    the ones it only reads in an index (``d[np.arange(n)] =``)."""
    if isinstance(target, ast.Attribute):
        return [target]
    if isinstance(target, ast.Subscript):
        return _stored_attributes(target.value)
    if isinstance(target, ast.Starred):
        return _stored_attributes(target.value)
    if isinstance(target, ast.Tuple | ast.List):
        return [a for elt in target.elts for a in _stored_attributes(elt)]
    return []


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for stmt in body:
                if _is_docstring(stmt):
                    ids.add(id(stmt.value))
    return ids


def _snippet(node: ast.AST, limit: int = 40) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - only for the message
        text = "..."
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
