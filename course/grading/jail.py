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
function of the numerical library (and every reference of the exercise registry) returns its
floating-point results multiplied, entry by entry, by ``1 ± u`` with ``u`` drawn in
[1e-3, 3e-3] from a generator seeded per grading run. Training still works; any route to a
reference (a call, a wrapper, ``importlib``, ``vars``) gives values that fail every check, and
:func:`looks_perturbed` recognises them.
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
    try:
        probe = subprocess.run(
            [BWRAP, *_base_args(as_root=os.geteuid() == 0), "--", "/bin/true"],
            capture_output=True, timeout=20, text=True)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start a jail ({exc})"
    if probe.returncode != 0:
        why = " ".join(probe.stderr.split())[:200]
        return (f"bubblewrap could not start a jail here ({why}); in a container, run it with "
                "--privileged or allow user namespaces (kernel.unprivileged_userns_clone=1)")
    return None


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
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
    if as_root:
        # Mounts are made as root; the bootstrap then drops to the submission's own uid.
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    return args


# --- the grading build -------------------------------------------------------------------------
_SKEW_MODULE = '''\
"""Grading build only: perturbs the library's floating-point results (see grading/jail.py)."""

import numpy as _np

_RNG = _np.random.default_rng({seed})


def _factor(shape):
    u = _RNG.uniform({low}, {high}, shape)
    return 1.0 + _np.where(_RNG.random(shape) < 0.5, -u, u)


FORBID = [False]  # set while the grader checks that learner code does its own work


class LibraryUsed(RuntimeError):
    pass


def _refuse():
    raise LibraryUsed("this uses course's own library (layers, losses, optimizers, network); "
                      "here your own functions must do the work")


def skew(value):
    if FORBID[0]:
        _refuse()
    t = type(value)
    if t is tuple or t is list:
        return t(skew(v) for v in value)
    if t is dict:
        return {{k: skew(v) for k, v in value.items()}}
    if t is float:
        return value * float(_factor(()))
    if isinstance(value, _np.ndarray) and value.dtype.kind == "f" and value.size:
        return value * _factor(value.shape).astype(value.dtype)
    if isinstance(value, _np.floating):
        return type(value)(value * _factor(()))
    return value


def skew_inplace(value):
    if FORBID[0]:
        _refuse()
    if isinstance(value, _np.ndarray) and value.dtype.kind == "f" and value.size and (
            value.flags.writeable):
        value *= _factor(value.shape).astype(value.dtype)
'''


class _Skewer(ast.NodeTransformer):
    """In the chosen functions: wrap every returned value in ``_bp_skew(...)``, and perturb
    in place every array written with ``out=`` or an augmented assignment."""

    def __init__(self, everything: bool, names: set[str], keep: set[str]) -> None:
        self.everything, self.names, self.keep, self.changed = everything, names, keep, False

    def _function(self, node):
        if node.name in self.keep:
            return node  # a factory of a callable handed to learner code: exact, with its insides
        private = node.name.startswith("_")
        chosen = self.everything or node.name in self.names
        for i, stmt in enumerate(node.body):
            node.body[i] = self.visit(stmt)
        if chosen and (not private or node.name in self.names):
            for sub in _own_returns(node):
                if sub.value is not None:
                    sub.value = ast.Call(ast.Name("_bp_skew", ast.Load()), [sub.value], [])
                    self.changed = True
        if chosen and not (node.name.startswith("__") and node.name.endswith("__")):
            self.changed = _skew_writes(node) or self.changed
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
                out.append(ast.Expr(ast.Call(ast.Name("_bp_skew_inplace", ast.Load()),
                                             [load], [])))
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


def _skew_source(source: str, everything: bool, names: set[str], keep: set[str]) -> str | None:
    tree = ast.parse(source)
    skewer = _Skewer(everything, names, keep)
    tree = skewer.visit(tree)
    if not skewer.changed:
        return None
    imp = ast.parse("from course._jailskew import skew as _bp_skew, skew_inplace as "
                    "_bp_skew_inplace").body[0]
    at = 0
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            at = i + 1
        elif isinstance(node, ast.Expr) and i == 0 and isinstance(node.value, ast.Constant):
            at = 1
    tree.body.insert(at, imp)
    return ast.unparse(ast.fix_missing_locations(tree))


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
            skewed = _skew_source(text, library or registry, graded, keep if registry else set())
            out.write_text(skewed if skewed is not None else text, encoding="utf-8")
        else:
            shutil.copyfile(path, out)
    (target / "_jailskew.py").write_text(
        _SKEW_MODULE.format(seed=seed, low=SKEW_LOW, high=SKEW_HIGH), encoding="utf-8")
    for root, _dirs, files in os.walk(dest):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    return dest


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


@dataclass
class Outcome:
    """How a jail ended (filled in by close())."""

    timed_out: bool = False
    returncode: int | None = None
    raw_output: str = ""
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

    def __init__(self, build: Path, work: Path, limits: Limits, *, sandbox: bool = True) -> None:
        self.build, self.work, self.limits, self.sandbox = build, work, limits, sandbox
        self.as_root = os.geteuid() == 0
        self.uid = 10_000_000 + secrets.randbelow(1_000_000_000) if (
            self.as_root and sandbox) else -1
        self.deadline = time.monotonic() + limits.timeout
        self.outcome = Outcome()
        self._buf = b""
        self._raw: list[bytes] = []
        self._raw_len = 0
        self.proc: subprocess.Popen | None = None
        self._rfd = -1
        self._wfd = -1
        self._seq = 0

    def command(self) -> list[str]:
        if not self.sandbox:
            return [sys.executable, "-I", "-B", "-c", BOOTSTRAP, "-1", str(self.build),
                    str(self._wfd), str(self.work)]
        repo = Path(__file__).resolve().parents[2]
        args = [BWRAP, *_base_args(as_root=self.as_root)]
        pydirs = _python_dirs(repo)
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
        args += ["--ro-bind", str(self.build), INSIDE_BUILD,
                 "--bind", str(self.work), INSIDE_WORK,
                 "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
                 "--setenv", "HOME", INSIDE_WORK, "--setenv", "TMPDIR", "/tmp",
                 "--setenv", "MPLBACKEND", "Agg", "--setenv", "MPLCONFIGDIR", "/tmp/mpl",
                 "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
                 "--setenv", "MKL_NUM_THREADS", "1", "--setenv", "PYTHONHASHSEED", "0",
                 "--setenv", "LANG", "C.UTF-8",
                 "--", os.path.realpath(sys.executable), "-I", "-B", "-c", BOOTSTRAP,
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
        os.setsid()

    def start(self, plan: dict) -> None:
        if self.uid >= 0:
            for dirpath, dirnames, filenames in os.walk(self.work):
                for name in dirnames + filenames:
                    os.lchown(os.path.join(dirpath, name), self.uid, self.uid)
            os.chown(self.work, self.uid, self.uid)
        rfd, wfd = os.pipe()
        self._wfd = wfd
        env = dict(os.environ) if not self.sandbox else None
        if env is not None:
            env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, pass_fds=(wfd,), preexec_fn=self._preexec,
            cwd=str(self.work), env=env, close_fds=True)
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
                    line, self._buf = self._buf[:nl], self._buf[nl + 1:]
                    try:
                        return wire.loads(line)
                    except wire.WireError:
                        continue
                if len(self._buf) > wire.MAX_LINE:
                    return None
                left = limit - time.monotonic()
                if left <= 0:
                    if time.monotonic() >= self.deadline:
                        self.outcome.timed_out = True
                    return None
                if not sel.select(min(left, 1.0)):
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
