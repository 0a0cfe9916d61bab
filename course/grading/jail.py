"""The jail: where a learner's notebook runs, and the grading build of ``course`` it sees.

A jail is a bubblewrap (``bwrap``) sandbox: new PID, network, IPC, UTS and mount namespaces,
every capability dropped, ``--die-with-parent``, a read-only system and Python, a private
``/tmp`` and ``/dev/shm``, and one writable folder: the submission's own working copy. When
the grader runs as root, the learner's code runs as a fresh uid of its own (a random uid no
account uses), so it cannot touch the instructor's files, other submissions or other jails;
when it runs as an ordinary user, bubblewrap adds a user namespace and forbids nested ones.
Resource limits (address space, CPU seconds, file size, processes) are set before the jail
starts. Killing the jail's bubblewrap process kills every process inside it.

The jail imports ``course`` from a *grading build*: a copy of the package in which every
function and method of the numerical library returns its floating-point results multiplied,
entry by entry, by ``1 ± u`` with ``u`` drawn in [1e-3, 3e-3] from fresh entropy (private
helpers too, when they return to code outside the build; arrays written in place once, when
the function ends; never twice in the same state). Training still works; any route to a
reference (a call, a wrapper, ``importlib``, ``vars``, a layer or optimizer object, a private
helper) gives values that fail every check, and :func:`looks_perturbed` recognises them. The
references that only the exercise registry defines (``two_layer_net``, ``early_stopping``,
...) are withheld: they raise ``ReferenceWithheld``, which the harness reports as integrity.
What this cannot stop is learner code that rewrites the build itself (its source, its code
objects or its globals): such code shows in the similarity note (``__code__``, ``inspect``,
``sys.modules``, ...).
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BWRAP = shutil.which("bwrap") or "/usr/bin/bwrap"
SKEW_LOW, SKEW_HIGH = 1e-3, 3e-3
# Modules of the numerical library whose functions and methods are perturbed in the build.
LIBRARY_MODULES = ("layers.py", "losses.py", "optim.py", "gradcheck.py", "network.py",
                   "schedules.py", "train.py", "experiments.py")
INSIDE_BUILD = "/opt/backprop-grading"
INSIDE_WORK = "/submission"
RAW_CAP = 64 * 1024
BOOTSTRAP = (
    "import os, sys\n"
    "uid = int(sys.argv[1])\n"
    "if uid >= 0:\n"
    "    os.setgroups([]); os.setgid(uid); os.setuid(uid)\n"
    "    if os.getuid() == 0 or os.geteuid() == 0: raise SystemExit('uid switch failed')\n"
    "os.chdir(sys.argv[4])\n"
    "sys.path.insert(0, sys.argv[2])\n"
    "from course.grading.inmate import main\n"
    "main(int(sys.argv[3]))\n"
)


class JailUnavailable(RuntimeError):
    """No jail can be made on this machine (the message says how to get one)."""


def jail_problem() -> str | None:
    """None when bubblewrap works here; otherwise one line saying how to get it."""
    if not sys.platform.startswith("linux"):
        return ("learner code must run in a bubblewrap jail, which needs Linux: grade on a Linux "
                "machine or in a Linux container")
    if not os.path.exists(BWRAP):
        return ("learner code must run in a bubblewrap jail, and bwrap is not installed: "
                "apt-get install bubblewrap (Debian/Ubuntu) or dnf install bubblewrap")
    seccomp = _seccomp_fd()  # the same filter as a real jail's
    try:
        probe = subprocess.run(
            [BWRAP, *_base_args(as_root=os.geteuid() == 0),
             *(["--seccomp", str(seccomp)] if seccomp >= 0 else []), "--", "/bin/true"],
            capture_output=True, timeout=20, text=True,
            pass_fds=(seccomp,) if seccomp >= 0 else ())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start a jail ({exc})"
    finally:
        if seccomp >= 0:
            os.close(seccomp)
    if probe.returncode != 0:
        why = " ".join(probe.stderr.split())[:200]
        return (f"bubblewrap could not start a jail here ({why}); in a container, run it with "
                "--privileged or allow user namespaces (kernel.unprivileged_userns_clone=1)")
    return None


TMPFS_BYTES = 256 * 1024 * 1024


def _bwrap_sizes() -> bool:
    """Does this bubblewrap know ``--size`` (a bounded tmpfs)?"""
    global _SIZES
    if _SIZES is None:
        try:
            out = subprocess.run([BWRAP, "--help"], capture_output=True, text=True, timeout=20)
            _SIZES = "--size" in out.stdout + out.stderr
        except (OSError, subprocess.TimeoutExpired):
            _SIZES = False
    return _SIZES


_SIZES: bool | None = None


def _base_args(*, as_root: bool) -> list[str]:
    args = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "jail",
            "--ro-bind", "/usr", "/usr", "--cap-drop", "ALL"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/alternatives", "/etc/fonts", "/etc/localtime"):
        args += ["--ro-bind-try", etc, etc]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for tmp in ("/tmp", "/dev/shm"):
        # a tmpfs is memory that no rlimit counts: bounded where bubblewrap can (0.8 and later)
        args += [*(["--size", str(TMPFS_BYTES)] if _bwrap_sizes() else []), "--tmpfs", tmp]
    if as_root:
        # Mounts are made as root; the bootstrap then drops to the submission's own uid.
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    return args


# --- the grading build -------------------------------------------------------------------------
_SKEW_MODULE = '''\
"""Grading build only: perturbs the library's floating-point results (see grading/jail.py).

Every factor comes from fresh operating-system entropy (nothing to replay), and an array is
never perturbed twice in the same state (so a reference called through another one, or one
that writes its result in place and then returns it, is perturbed exactly once). The
functions keep their helpers in closures: re-binding this module's attributes changes nothing
in the modules that already imported them.
"""


class LibraryUsed(RuntimeError):
    pass


class ReferenceWithheld(RuntimeError):
    pass


def withheld(name):
    return ReferenceWithheld(
        f"{{name}} is the course's own reference: it is not available while your notebook is "
        "graded, so your code must compute the result itself")


def _build():
    import hashlib
    import sys
    import weakref

    import numpy as np

    codes = set()  # code objects of the build's own functions (registered by each module)
    marks = {{}}  # id(array) -> (weak reference, digest of its bytes when it was perturbed)
    forbid = [False]  # set while the grader checks that learner code does its own work
    getframe, code_type, ndarray, floating, complexfloating = sys._getframe, \\
        type(_build.__code__), np.ndarray, np.floating, np.complexfloating
    view, multiply, default_rng, where, contiguous, uint8 = ndarray.view, np.multiply, \\
        np.random.default_rng, np.where, np.ascontiguousarray, np.uint8
    blake2b, wref, library_used = hashlib.blake2b, weakref.ref, LibraryUsed

    def refuse():
        raise library_used("this uses course's own library (layers, losses, optimizers, "
                           "network); here your own functions must do the work")

    def factor(shape):
        rng = default_rng()  # fresh entropy for every factor
        u = rng.uniform({low}, {high}, shape)
        return 1.0 + where(rng.random(shape) < 0.5, -u, u)

    def digest(a):
        return blake2b(contiguous(a).view(uint8).reshape(-1), digest_size=16).digest()

    def marked(a):
        entry = marks.get(id(a))
        return entry is not None and entry[0]() is a and entry[1] == digest(a)

    def mark(a):
        key = id(a)
        try:
            ref = wref(a, lambda _r, key=key: marks.pop(key, None))
        except TypeError:
            return
        marks[key] = (ref, digest(a))

    def float_array(value):
        """The plain-ndarray view of a non-empty float array (a subclass's own methods, such
        as ``__mul__`` or ``dtype``, are never used); None for anything else."""
        if not isinstance(value, ndarray):
            return None
        base = view(value, ndarray)
        return base if base.dtype.kind in "fc" and base.size > 0 else None

    def skew(value, written=None):
        if forbid[0]:
            refuse()
        t = type(value)
        if t is tuple or t is list:
            return t(skew(v, written) for v in value)
        if t is dict:
            return {{k: skew(v, written) for k, v in value.items()}}
        if t is float or t is complex:
            return value * float(factor(()))
        base = float_array(value)
        if base is not None:
            if marked(value) or (written and written.get(id(value)) is value):
                return value  # already perturbed, or perturbed in place when the function ends
            out = multiply(base, factor(base.shape).astype(base.real.dtype))
            mark(out)
            return out
        if isinstance(value, (floating, complexfloating)):
            return type(value)(value * factor(()))
        return value

    def skew_private(value, written=None):
        """A private helper's result: perturbed unless it goes back into the build's code."""
        if forbid[0]:
            refuse()
        try:
            caller = getframe(2).f_code
        except ValueError:
            caller = None
        return value if caller in codes else skew(value, written)

    def note(written, value):
        """An array written in place (``out=``, ``+=``): perturbed once when the function ends."""
        written[id(value)] = value

    def flush(written):
        if not written:
            return
        if forbid[0]:
            refuse()
        for value in written.values():
            base = float_array(value)
            if base is not None and base.flags.writeable and not marked(value):
                multiply(base, factor(base.shape).astype(base.real.dtype), out=base)
                mark(value)

    def register(namespace):
        """Remember the code objects of a module's functions, methods and nested functions."""
        stack = []
        name = namespace.get("__name__")
        for obj in list(namespace.values()):
            if isinstance(obj, type) and obj.__module__ == name:
                for attr in vars(obj).values():
                    for part in (attr, getattr(attr, "__func__", None),
                                 getattr(attr, "fget", None), getattr(attr, "fset", None)):
                        code = getattr(part, "__code__", None)
                        if code is not None:
                            stack.append(code)
            elif getattr(obj, "__module__", None) == name and hasattr(obj, "__code__"):
                stack.append(obj.__code__)
        while stack:
            code = stack.pop()
            if type(code) is not code_type or code in codes:
                continue
            codes.add(code)
            stack.extend(c for c in code.co_consts if type(c) is code_type)

    return forbid, skew, skew_private, note, flush, register


FORBID, skew, skew_private, note, flush, register = _build()
del _build
'''


class _Skewer(ast.NodeTransformer):
    """In the chosen functions: wrap every returned value in ``_bp_skew(...)`` (a private
    helper's in ``_bp_skew_private(...)``: perturbed when it returns to code outside the
    build), note every array written with ``out=`` or an augmented assignment and perturb it
    once when the function ends; with ``withhold``, replace the body of every graded name
    defined at the top level by ``raise _bp_withheld(name)``."""

    def __init__(self, everything: bool, names: set[str], keep: set[str],
                 withhold: bool = False) -> None:
        self.everything, self.names, self.keep, self.changed = everything, names, keep, False
        self.withhold, self.depth = withhold, 0
        self.spare: set[str] = set()  # with withhold: functions the module calls on import

    def _function(self, node):
        if node.name in self.keep:
            return node  # a factory of a callable handed to learner code: exact, with its insides
        if self.withhold and self.depth == 0 and (
                node.name in self.names or node.name not in self.spare):
            # a reference that only the registry defines (nothing trains with it): withheld,
            # since results such as indices or orderings cannot be perturbed
            doc = node.body[:1] if (node.body and isinstance(node.body[0], ast.Expr) and
                                    isinstance(node.body[0].value, ast.Constant)) else []
            node.body = [*doc, *ast.parse(f"raise _bp_withheld({node.name!r})").body]
            self.changed = True
            return node
        dunder = node.name.startswith("__") and node.name.endswith("__")
        # a private helper's result is perturbed when it leaves the build's own code (called
        # from learner code); public functions and methods (``__call__`` too) always
        private = node.name.startswith("_") and not dunder and node.name not in self.names
        chosen = self.everything or node.name in self.names
        self.depth += 1
        for i, stmt in enumerate(node.body):
            node.body[i] = self.visit(stmt)
        self.depth -= 1
        writes = chosen and not dunder and _skew_writes(node)
        if chosen:
            wrapper = "_bp_skew_private" if private else "_bp_skew"
            extra = [ast.Name("_bp_w", ast.Load())] if writes else []
            for sub in _own_returns(node):
                if sub.value is not None:
                    sub.value = ast.Call(ast.Name(wrapper, ast.Load()), [sub.value, *extra], [])
                    self.changed = True
        if writes:
            # the arrays written in place are perturbed once, when the function ends
            doc = node.body[:1] if (node.body and isinstance(node.body[0], ast.Expr) and isinstance(
                node.body[0].value, ast.Constant) and isinstance(node.body[0].value.value, str)) \
                else []
            body = node.body[len(doc):] or [ast.Pass()]
            wrapped = ast.parse("_bp_w = {}\ntry:\n    pass\nfinally:\n    _bp_flush(_bp_w)").body
            wrapped[1].body = body
            node.body = [*doc, *wrapped]
            self.changed = True
        return node

    visit_FunctionDef = _function  # noqa: N815 - ast.NodeTransformer's naming

    def visit_Lambda(self, node):  # noqa: N802
        return node


def _written(stmt: ast.stmt) -> ast.expr | None:
    """The array a statement writes in place: ``f(..., out=X)`` or ``X op= ...``."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name | ast.Subscript
                                                      | ast.Attribute):
        target = stmt.target
        return target.value if isinstance(target, ast.Subscript) else target
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        for kw in stmt.value.keywords:
            if kw.arg == "out" and not isinstance(kw.value, ast.Tuple | ast.Constant):
                return kw.value
    return None


def _skew_writes(fn: ast.FunctionDef) -> bool:
    found = []

    def fix(body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                out.append(stmt)
                continue
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, name, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    setattr(stmt, name, fix(inner))
            for handler in getattr(stmt, "handlers", []) or []:
                handler.body = fix(handler.body)
            out.append(stmt)
            target = _written(stmt)
            if target is not None:
                found.append(target)
                load = ast.parse(ast.unparse(target), mode="eval").body
                out.append(ast.Expr(ast.Call(ast.Name("_bp_note", ast.Load()),
                                             [ast.Name("_bp_w", ast.Load()), load], [])))
        return out

    fn.body = fix(fn.body)
    return bool(found)


def _own_returns(fn: ast.FunctionDef):
    """The return statements of fn itself (not of functions nested in it)."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _skew_source(source: str, everything: bool, names: set[str], keep: set[str],
                 withhold: bool | str = False) -> str | None:
    tree = ast.parse(source)
    skewer = _Skewer(everything, names, keep, withhold)
    if withhold == "all":
        # Every top-level function of a notebook's registry module is withheld (its helpers
        # compute the answers too: orders, epochs, paths), except what it calls on import.
        skewer.spare = _called_on_import(tree)
    elif withhold:
        skewer.spare = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    tree = skewer.visit(tree)
    if not skewer.changed:
        return None
    imp = ast.parse("from course._jailskew import flush as _bp_flush, note as _bp_note, "
                    "register as _bp_register, skew as _bp_skew, "
                    "skew_private as _bp_skew_private, withheld as _bp_withheld").body[0]
    at = 0
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            at = i + 1
        elif isinstance(node, ast.Expr) and i == 0 and isinstance(node.value, ast.Constant):
            at = 1
    tree.body.insert(at, imp)
    tree.body.append(ast.parse("_bp_register(globals())").body[0])
    return ast.unparse(ast.fix_missing_locations(tree))


def _called_on_import(tree: ast.Module) -> set[str]:
    """Names that a module's top-level statements (not its function bodies) call."""
    called: set[str] = set()
    stack: list[ast.AST] = [n for n in tree.body
                            if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            stack += node.decorator_list + node.args.defaults + node.args.kw_defaults
    while stack:
        node = stack.pop()
        if node is None or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(node.func.id)
        stack.extend(ast.iter_child_nodes(node))
    return called


def _fn_targets() -> set[str]:
    """Names of the factories behind the registry's named callables (kept exact in the build:
    the learner's code receives them as arguments)."""
    from course import exercises

    names: set[str] = set()

    def scan(value) -> None:
        if isinstance(value, exercises.Fn):
            names.add(value.target.partition(":")[2])
        elif isinstance(value, dict):
            for v in value.values():
                scan(v)
        elif isinstance(value, list | tuple):
            for v in value:
                scan(v)

    for ex in exercises.exercises(kind="function"):
        for case in ex.visible() + ex.hidden(0):
            scan(case.args)
            scan(case.kwargs)
    return names


def make_build(dest: Path, seed: int) -> Path:
    """Write the grading build of ``course`` into ``dest/course``; return ``dest``.

    Perturbed: every function and method of the library modules, and every function of the
    exercise registry except the factories of the callables handed to learner code.
    """
    from course import exercises

    pkg = Path(__file__).resolve().parents[1]
    graded = {ex.name for ex in exercises.exercises() if ex.name}
    keep = _fn_targets()
    target = dest / "course"
    for path in sorted(pkg.rglob("*")):
        rel = path.relative_to(pkg)
        if "__pycache__" in rel.parts or path.is_dir():
            continue
        if rel.parts[0] == "grading" and rel.name not in ("__init__.py", "inmate.py", "wire.py"):
            continue
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".py":
            text = path.read_text(encoding="utf-8")
            library = len(rel.parts) == 1 and rel.name in LIBRARY_MODULES
            registry = rel.parts[0] == "exercises" and rel.name != "__init__.py"
            skewed = _skew_source(text, library or registry, graded, keep if registry else set(),
                                  withhold="all" if registry and rel.name.startswith("nb")
                                  else registry)
            out.write_text(skewed if skewed is not None else text, encoding="utf-8")
        else:
            shutil.copyfile(path, out)
    (target / "_jailskew.py").write_text(
        _SKEW_MODULE.format(seed=seed, low=SKEW_LOW, high=SKEW_HIGH), encoding="utf-8")
    _withhold_test_digits(target)
    for root, _dirs, files in os.walk(dest):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    return dest


_DIGITS_OVERRIDE = '''

# --- grading build only: the capstone's held-back digits are not in this copy ---------------
def load_digits(split: str = "all") -> Data:
    """The development digits only (the grading build holds the test digits back)."""
    if split not in ("all", "development"):
        raise ValueError(f'load_digits: split must be "all" or "development", not {split!r}.')
    images, labels = _digits_raw()
    return images.astype(np.float64) / 16.0, labels.astype(np.int64)
'''


def _withhold_test_digits(target: Path) -> None:
    """Leave the capstone's held-back digits out of the build: its data file keeps the
    development images only (in the order ``load_digits(split="development")`` gives them),
    and its ``load_digits`` returns them for every split."""
    from course.datasets import load_digits

    data = target / "data" / "digits.npz"
    code = target / "datasets.py"
    if not data.exists() or not code.exists():
        return
    x, y = load_digits(split="development")
    images = np.rint(x * 16.0).astype(np.uint8)
    with open(data, "wb") as fh:
        np.savez_compressed(fh, images=images, labels=y.astype(np.uint8))
    code.write_text(code.read_text(encoding="utf-8") + _DIGITS_OVERRIDE, encoding="utf-8")


def looks_perturbed(got, expected) -> bool:
    """True when every clearly non-zero float entry of got is expected times 1 ± [1e-3, 3e-3]."""
    pairs = []

    def walk(g, e):
        if isinstance(e, tuple | list) and isinstance(g, tuple | list) and len(g) == len(e):
            for a, b in zip(g, e, strict=True):
                walk(a, b)
        elif isinstance(e, dict) and isinstance(g, dict):
            for k in e:
                if k in g:
                    walk(g[k], e[k])
        else:
            try:
                ga = np.asarray(g, dtype=np.float64)
                ea = np.asarray(e, dtype=np.float64)
            except (TypeError, ValueError):
                return
            if ga.shape == ea.shape and ea.size:
                pairs.append((ga.ravel(), ea.ravel()))

    walk(got, expected)
    if not pairs:
        return False
    g = np.concatenate([p[0] for p in pairs])
    e = np.concatenate([p[1] for p in pairs])
    big = np.abs(e) > 1e-6 * max(float(np.max(np.abs(e))), 1e-300)
    if big.sum() < 2 or not np.all(np.isfinite(g[big])):
        return False
    with np.errstate(all="ignore"):
        rel = np.abs(g[big] / e[big] - 1.0)
    inside = (rel > SKEW_LOW * 0.5) & (rel < SKEW_HIGH * 1.5)
    return bool(np.mean(inside) >= 0.9)


# --- running one notebook ----------------------------------------------------------------------
@dataclass
class Limits:
    timeout: float = 300.0
    memory_mb: int = 2048
    fsize_mb: int = 256
    nproc: int = 64
    output_cap: int = 20000
    disk_mb: int = 1024  # the working copy, in total


@dataclass
class Outcome:
    """How a jail ended (filled in by close())."""

    timed_out: bool = False
    returncode: int | None = None
    raw_output: str = ""
    disk_full: bool = False
    events: list[dict] = field(default_factory=list)


def _python_dirs(exclude: Path) -> list[str]:
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix,
            os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    dirs |= {p for p in sys.path if p and os.path.isdir(p)}
    out: list[str] = []
    for d in sorted({os.path.realpath(d) for d in dirs}, key=len):
        if d == "/" or d.startswith(("/usr/", "/proc", "/dev")) or d == "/usr":
            continue
        if Path(d) == exclude or exclude in Path(d).parents:
            continue
        if any(d == o or d.startswith(o + os.sep) for o in out):
            continue
        out.append(d)
    return out


class Jail:
    """One learner notebook running in a jail, reached through JSON lines."""

    def __init__(self, build: Path, work: Path, limits: Limits, *, sandbox: bool = True,
                 stop: threading.Event | None = None) -> None:
        self.build, self.work, self.limits, self.sandbox = build, work, limits, sandbox
        self.stop = stop  # set (Ctrl-C): read() gives up at once, the jail is closed
        self.as_root = os.geteuid() == 0
        self.uid = 10_000_000 + secrets.randbelow(1_000_000_000) if (
            self.as_root and sandbox) else -1
        self.deadline = time.monotonic() + limits.timeout
        self.outcome = Outcome()
        self._buf = bytearray()
        self._raw: list[bytes] = []
        self._raw_len = 0
        self.proc: subprocess.Popen | None = None
        self._rfd = -1
        self._wfd = -1
        self._seq = 0
        self._disk_checked = 0.0
        self._tasks = 0
        self._seccomp = -1

    def command(self) -> list[str]:
        if not self.sandbox:
            return [sys.executable, "-I", "-B", "-c", BOOTSTRAP, "-1", str(self.build),
                    str(self._wfd), str(self.work)]
        pkg = Path(__file__).resolve().parents[1]
        # a source checkout (solutions/ beside course/) stays out of the jail entirely; an
        # installed package's folder (site-packages) is bound, with course itself hidden below
        installed = pkg.parent.name.endswith("-packages")
        args = [BWRAP, *_base_args(as_root=self.as_root)]
        pydirs = _python_dirs(pkg if installed else pkg.parent)
        made: set[str] = set()
        for dest in [*pydirs, INSIDE_BUILD]:
            # bwrap makes missing parents private (0700): the learner's uid could not enter them
            for parent in reversed(Path(dest).parents):
                p = str(parent)
                if p != "/" and p not in made and not p.startswith("/usr"):
                    made.add(p)
                    args += ["--perms", "0755", "--dir", p]
        for d in pydirs:
            args += ["--ro-bind", d, d]
            if os.path.isfile(os.path.join(d, "course", "__init__.py")):
                args += ["--tmpfs", os.path.join(d, "course")]
        if any(Path(d) in pkg.parents for d in [*pydirs, "/usr"]):
            args += ["--tmpfs", str(pkg)]  # the grader's own course: its references are exact
        args += ["--ro-bind", str(self.build), INSIDE_BUILD,
                 "--bind", str(self.work), INSIDE_WORK,
                 "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
                 "--setenv", "HOME", INSIDE_WORK, "--setenv", "TMPDIR", "/tmp",
                 "--setenv", "MPLBACKEND", "Agg", "--setenv", "MPLCONFIGDIR", "/tmp/mpl",
                 "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
                 "--setenv", "MKL_NUM_THREADS", "1", "--setenv", "PYTHONHASHSEED", "0",
                 "--setenv", "LANG", "C.UTF-8",
                 *(["--seccomp", str(self._seccomp)] if self._seccomp >= 0 else []),
                 "--", _python(), "-I", "-B", "-c", BOOTSTRAP,
                 str(self.uid), INSIDE_BUILD, str(self._wfd), INSIDE_WORK]
        return args

    def _preexec(self) -> None:
        import resource

        def cap(res, value):
            try:
                soft, hard = resource.getrlimit(res)
                if hard != resource.RLIM_INFINITY:
                    value = min(value, hard)
                resource.setrlimit(res, (value, value))
            except (ValueError, OSError):
                pass

        lim = self.limits
        cap(resource.RLIMIT_AS, int(lim.memory_mb) * 1024 * 1024)
        cap(resource.RLIMIT_CPU, int(lim.timeout) + 5)
        cap(resource.RLIMIT_FSIZE, int(lim.fsize_mb) * 1024 * 1024)
        cap(resource.RLIMIT_CORE, 0)
        if self.uid >= 0:
            cap(resource.RLIMIT_NPROC, int(lim.nproc))
        elif self.sandbox:
            # the learner shares the grader's uid: room for nproc more tasks than it has now
            cap(resource.RLIMIT_NPROC, self._tasks + int(lim.nproc))
        os.setsid()

    def start(self, plan: dict) -> None:
        if self.uid >= 0:
            for dirpath, dirnames, filenames in os.walk(self.work):
                for name in dirnames + filenames:
                    os.lchown(os.path.join(dirpath, name), self.uid, self.uid)
            os.chown(self.work, self.uid, self.uid)
        if self.uid < 0 and self.sandbox:
            self._tasks = _tasks_of(os.getuid())
        rfd, wfd = os.pipe()
        self._wfd = wfd
        env = dict(os.environ) if not self.sandbox else None
        if env is not None:
            env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
        self._seccomp = _seccomp_fd() if self.sandbox else -1
        try:
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(wfd,) + ((self._seccomp,) if self._seccomp >= 0 else ()),
                preexec_fn=self._preexec, cwd=str(self.work), env=env, close_fds=True)
        finally:
            if self._seccomp >= 0:
                os.close(self._seccomp)
        os.close(wfd)
        self._rfd = rfd
        os.set_blocking(rfd, False)
        threading.Thread(target=self._drain, daemon=True).start()
        self._send(plan)

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            if self._raw_len < RAW_CAP:
                self._raw.append(chunk[: RAW_CAP - self._raw_len])
                self._raw_len += len(chunk)

    def _send(self, msg: dict) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(msg, separators=(",", ":")) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def read(self, timeout: float | None = None) -> dict | None:
        """The next message from the jail, or None (ended, timed out, or unreadable)."""
        from course.grading import wire

        limit = self.deadline if timeout is None else min(self.deadline,
                                                          time.monotonic() + timeout)
        sel = selectors.DefaultSelector()
        sel.register(self._rfd, selectors.EVENT_READ)
        try:
            while True:
                nl = self._buf.find(b"\n")
                if nl >= 0:
                    line = bytes(self._buf[:nl])
                    del self._buf[:nl + 1]
                    try:
                        return wire.loads(line)
                    except wire.WireError:
                        continue
                if len(self._buf) > wire.MAX_LINE:
                    return None
                self._watch_disk()
                if self.stop is not None and self.stop.is_set():
                    return None
                left = limit - time.monotonic()
                if left <= 0:
                    if time.monotonic() >= self.deadline:
                        self.outcome.timed_out = True
                    return None
                if not sel.select(min(left, 0.25)):
                    continue
                try:
                    chunk = os.read(self._rfd, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    return None
                self._buf += chunk
        finally:
            sel.close()

    def _watch_disk(self) -> None:
        """End the jail when its working copy grows past the disk limit (files of up to
        ``fsize_mb`` each could otherwise fill the grader's disk)."""
        now = time.monotonic()
        if self.proc is None or now < self._disk_checked + 0.25 or self.outcome.disk_full:
            return
        self._disk_checked = now
        if _disk_usage(self.work, 20_000) > self.limits.disk_mb * 1024 * 1024:
            self.outcome.disk_full = True
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.kill()

    def send_continue(self) -> None:
        """Let the notebook run on past the test cell it stopped at."""
        self._send({"op": "continue"})

    def request(self, msg: dict, timeout: float = 120.0) -> dict | None:
        """Send one request and wait for the reply with the same id."""
        self._seq += 1
        msg = dict(msg, id=self._seq)
        self._send(msg)
        while True:
            reply = self.read(timeout)
            if reply is None:
                return None
            if reply.get("id") == self._seq:
                return reply

    def close(self) -> Outcome:
        if self.proc is not None:
            self._send({"op": "exit"})
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                self.proc.kill()
                self.proc.wait()
            self.outcome.returncode = self.proc.returncode
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except (OSError, AttributeError):
                    pass
        if self.uid >= 0:
            _kill_uid(self.uid)
        if self._rfd >= 0:
            os.close(self._rfd)
            self._rfd = -1
        self.outcome.raw_output = b"".join(self._raw).decode("utf-8", "replace")
        return self.outcome


# --- seccomp: no new user namespaces ------------------------------------------------------------
# With root, the learner runs as a fresh uid in the initial user namespace, where the kernel
# lets any uid create a user namespace (and hold every capability inside it). Mounts made by
# bubblewrap stay locked there, but a user namespace is also the usual first step of a kernel
# exploit: this filter refuses unshare/clone with CLONE_NEWUSER, clone3 (whose flags a filter
# cannot read; the C library falls back to clone) and system calls of a foreign ABI.
_ARCHES = {"x86_64": (0xC000003E, 272, 56, 435, True), "aarch64": (0xC00000B7, 97, 220, 435, False)}


def _seccomp_program() -> bytes | None:
    """The classic-BPF filter (struct sock_filter[]) for this machine, or None."""
    import platform
    import struct

    arch = _ARCHES.get(platform.machine())
    if arch is None:
        return None
    audit, unshare, clone, clone3, x32 = arch
    allow, enosys, eperm = 0x7FFF0000, 0x00050000 | 38, 0x00050000 | 1
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    # (label, code, k, jump-if-true label, jump-if-false label); None: the next instruction
    code = [
        (None, ld, 4, None, None),  # seccomp_data.arch
        (None, jeq, audit, None, "nosys"),  # a foreign ABI (i386 on x86_64): refused
        (None, ld, 0, None, None),  # seccomp_data.nr
        *([(None, jge, 0x40000000, "nosys", None)] if x32 else []),  # the x32 ABI
        (None, jeq, unshare, "flags", None),
        (None, jeq, clone, "flags", None),
        (None, jeq, clone3, "nosys", None),
        (None, ret, allow, None, None),
        ("flags", ld, 16, None, None),  # args[0], low 32 bits
        (None, jset, 0x10000000, "eperm", None),  # CLONE_NEWUSER
        (None, ret, allow, None, None),
        ("eperm", ret, eperm, None, None),
        ("nosys", ret, enosys, None, None),
    ]
    where = {label: i for i, (label, *_rest) in enumerate(code) if label}
    out = []
    for i, (_label, op, k, yes, no) in enumerate(code):
        jt = where[yes] - i - 1 if yes else 0
        jf = where[no] - i - 1 if no else 0
        out.append(struct.pack("=HBBI", op, jt, jf, k))
    return b"".join(out)


def _seccomp_fd() -> int:
    """A file descriptor holding the filter for bwrap --seccomp (-1 where there is none)."""
    program = _seccomp_program()
    if program is None or not hasattr(os, "memfd_create"):
        return -1
    fd = os.memfd_create("backprop-seccomp", 0)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _python() -> str:
    """This Python's executable for the jail: a venv's own (its site-packages come from the
    venv's pyvenv.cfg, found next to the path Python is started by), otherwise the real file."""
    if sys.prefix != sys.base_prefix:
        return os.path.abspath(sys.executable)
    return os.path.realpath(sys.executable)


def _tasks_of(uid: int) -> int:
    """How many tasks (processes and threads) of ``uid`` run now (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields.get("Threads", "1"))
        except (OSError, KeyError, ValueError):
            continue
    return count


def _disk_usage(root: Path, max_entries: int) -> int:
    """Bytes used under root (a folder with more than max_entries entries counts as full)."""
    total, seen = 0, 0
    stack = [str(root)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    seen += 1
                    if seen > max_entries:
                        return 1 << 62
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` (a backstop: the PID namespace already ends them)."""
    for _ in range(3):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found = True
                    os.kill(int(entry), signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
        if not found:
            return
        time.sleep(0.05)
