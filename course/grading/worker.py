"""The grading worker: runs ONE submission in a fresh, limited process.

The parent (:mod:`course.grading.sandbox`) starts this module as
``python -I -B -c "...worker.main()" RESULT_FD`` and writes a JSON *plan* on stdin.  The worker

1. reads the plan, applies the resource limits (address space, CPU time, file size, processes),
2. imports the comparison code (NumPy, ``course``, ``course.checks`` and whatever the
   instructor's cells import) **before any learner code runs**,
3. drops root privileges to the sandbox uid (when started as root), moves into the working copy,
4. guards the reference implementation: every ``course`` function whose name the learner must
   implement gets a trampoline that records calls coming from the learner's answer cells,
5. snapshots the identity of the critical objects (builtins, NumPy, ``course.*``),
6. runs the plan cell by cell: instructor cells (setup, demos, test cells *with* hidden tests)
   from the source notebook, answer cells from the learner's submission, and after every cell
   compares the snapshot; a difference is an integrity violation and grading stops there.

Events go to RESULT_FD as JSON lines; the parent decides scores from them.  Only the standard
library is imported at module level so the worker starts fast.
"""

from __future__ import annotations

import ast
import builtins
import functools
import io
import json
import os
import re
import sys
import threading
import traceback
import types

_GUARD_FILENAME = "<grading-guard>"
_ANSWER_PREFIX = "<answer:"
_TEST_PREFIX = "<test:"
_CELL_PREFIX = "<cell:"
_MAX_MSG = 2000

# Modules whose namespaces learner code must not change.  Entries that do not exist are skipped.
_SNAPSHOT_MODULES = (
    "builtins",
    "math",
    "numpy",
    "numpy.testing",
    "numpy.testing._private.utils",
    "numpy.linalg",
    "numpy.random",
    "numpy._core.numeric",
    "numpy._core.fromnumeric",
    "numpy._core.multiarray",
)


class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def write(self, s) -> int:  # noqa: D102
        s = str(s)
        room = self.cap - self.kept
        if room > 0:
            piece = s[:room]
            self.parts.append(piece)
            self.kept += len(piece)
            self.dropped += len(s) - len(piece)
        else:
            self.dropped += len(s)
        return len(s)

    def writable(self) -> bool:  # noqa: D102
        return True

    def isatty(self) -> bool:  # noqa: D102
        return False

    @property
    def encoding(self) -> str:  # noqa: D102
        return "utf-8"

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[... {self.dropped} more characters of output not shown]\n"
        return out


class _IPythonStub:
    """Enough of ``get_ipython()`` for notebooks that use line magics or ``display``."""

    def run_line_magic(self, *args, **kwargs) -> None:
        return None

    def run_cell_magic(self, *args, **kwargs) -> None:
        return None

    def system(self, *args, **kwargs) -> None:
        return None

    def __getattr__(self, name):
        return lambda *a, **k: None


_MAGIC = re.compile(r"^(\s*)([%!].*)$")


def strip_magics(source: str) -> str:
    """Turn IPython-only syntax into Python: line magics and shell escapes become ``pass``."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in source.splitlines():
        m = _MAGIC.match(line)
        lines.append(f"{m.group(1)}pass  # {m.group(2)}" if m else line)
    return "\n".join(lines)


def _set_limits(limits: dict) -> None:
    import resource

    def cap(res, value):
        if value is None:
            return
        try:
            soft, hard = resource.getrlimit(res)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            pass

    mem = limits.get("memory_mb")
    if mem:
        cap(resource.RLIMIT_AS, int(mem) * 1024 * 1024)
    cpu = limits.get("cpu_s")
    if cpu:
        cap(resource.RLIMIT_CPU, int(cpu))
    fsize = limits.get("fsize_mb")
    if fsize:
        cap(resource.RLIMIT_FSIZE, int(fsize) * 1024 * 1024)
    nproc = limits.get("nproc")
    if nproc:
        cap(resource.RLIMIT_NPROC, int(nproc))
    cap(resource.RLIMIT_CORE, 0)


def _isolate_network() -> bool:
    """Move into a new, empty network namespace (Linux, root only): learner code gets no network."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(0x40000000) == 0  # CLONE_NEWNET
    except (OSError, AttributeError):
        return False


def _blocked_ancestor(path: str) -> str | None:
    """The first ancestor of ``path`` that other users cannot enter (e.g. /root), or None."""
    import stat

    current = "/"
    for part in os.path.abspath(path).strip("/").split("/"):
        if not part:
            break
        current = os.path.join(current, part)
        try:
            mode = os.stat(current).st_mode
        except OSError:
            return None
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return current
    return None


def _expose_python(extra: list[str]) -> str:
    """Let the sandbox user reach the Python installation when it lives in a private folder.

    Python, NumPy and matplotlib read files (fonts, lazily imported modules) while learner code
    runs.  When the interpreter lives under a folder other users cannot enter (pyenv in /root),
    a private mount namespace puts an empty tmpfs over that folder and binds back only the
    directories Python needs.  Everything else in that folder stays hidden.  Root only; needs
    CAP_SYS_ADMIN (otherwise the modules imported before the switch are all there is).
    """
    needed = _python_paths(extra)
    blocked: dict[str, set[str]] = {}
    for path in needed:
        top = _blocked_ancestor(path)
        if top is not None and os.path.abspath(path) != top:
            child = os.path.relpath(os.path.abspath(path), top).split(os.sep)[0]
            blocked.setdefault(top, set()).add(child)
    if not blocked:
        return "not needed"
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return "not possible"
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ms_rec, ms_private = 16384, 1 << 18
    try:
        if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
            raise OSError(ctypes.get_errno(), "unshare")
        if libc.mount(None, b"/", None, ms_rec | ms_private, None) != 0:
            raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
        for top, children in blocked.items():
            _mask(top, children)
    except OSError as exc:
        return f"failed ({exc})"
    return "exposed " + ", ".join(sorted(blocked))


def _mask(top: str, children: set[str]) -> None:
    """Mount an empty tmpfs over ``top`` and bind back only ``top/<child>`` for each child.

    Needs mount rights in the current mount namespace (root, or inside a user namespace).
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ms_nosuid, ms_nodev, ms_bind, ms_rec = 2, 4, 4096, 16384

    def mount(src, target, fstype, flags, data) -> None:
        args = [None if a is None else a.encode() for a in (src, target, fstype)]
        opts = None if data is None else data.encode()
        if libc.mount(args[0], args[1], args[2], flags, opts) != 0:
            raise OSError(ctypes.get_errno(), f"mount {target}")

    fds = {c: os.open(os.path.join(top, c), os.O_PATH) for c in children}
    mount("tmpfs", top, "tmpfs", ms_nosuid | ms_nodev, "mode=0755,size=1m")
    for child, fd in fds.items():
        target = os.path.join(top, child)
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.mkdir(target)
        else:
            open(target, "w").close()
        mount(f"/proc/self/fd/{fd}", target, None, ms_bind | ms_rec, None)
        os.close(fd)


def _python_paths(extra: list[str]) -> set[str]:
    needed = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.realpath(sys.executable)}
    needed |= {p for p in sys.path if p and os.path.isdir(p)}
    return {os.path.abspath(p) for p in needed | set(extra) if p}


def _enter_user_namespace(workdir: str, extra: list[str]) -> str:
    """Sandbox without root: a user namespace in which only ``workdir`` is writable.

    New user, mount, network and PID namespaces; every mount is made read-only except the
    working copy; then the process forks, and the child (PID 1 of the new PID namespace) goes
    on to run learner code while the parent waits and passes on its exit status.  Learner code
    then cannot write outside its working copy, reach the network, or signal processes outside
    its namespace.  Returns a short status; on failure nothing is changed.
    """
    if not sys.platform.startswith("linux"):
        return "unavailable (not Linux)"
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    newuser, newns, newnet, newpid = 0x10000000, 0x00020000, 0x40000000, 0x20000000
    if libc.unshare(newuser | newns | newnet | newpid) != 0:
        return f"unavailable (unshare: {os.strerror(ctypes.get_errno())})"
    try:
        with open("/proc/self/setgroups", "w") as fh:
            fh.write("deny")
        with open("/proc/self/uid_map", "w") as fh:
            fh.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as fh:
            fh.write(f"{gid} {gid} 1")
    except OSError as exc:
        return f"unavailable (id maps: {exc})"
    rdonly, nosuid, nodev, noexec, remount, bind, rec, private = (
        1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
    locked = {"nosuid": nosuid, "nodev": nodev, "noexec": noexec, "noatime": 1024,
              "nodiratime": 2048, "relatime": 1 << 21}

    def mount(src, target, flags) -> int:
        a = None if src is None else src.encode()
        return libc.mount(a, target.encode(), None, flags, None)

    mount(None, "/", rec | private)
    # Hide the home folder (keys, other courses, ...) except what Python and the grader need.
    try:
        import pwd

        home = os.path.abspath(pwd.getpwuid(uid).pw_dir)
    except (KeyError, ImportError):
        home = ""
    masked = ""
    if home not in ("", "/") and os.path.isdir(home):
        keep = {
            os.path.relpath(p, home).split(os.sep)[0]
            for p in _python_paths(extra + [workdir])
            if p.startswith(home + os.sep)
        }
        try:
            _mask(home, keep)
            masked = f"; {home} hidden"
        except OSError:
            masked = f"; {home} visible"
    if mount(workdir, workdir, bind) != 0:
        return "unavailable (bind mount failed)"
    points = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            point = fields[4].replace("\\040", " ")
            opts = fields[5].split(",")
            points.append((point, opts))
    failed = 0
    for point, opts in points:
        if point == workdir or point.startswith(("/proc", "/sys", "/dev")):
            continue
        flags = remount | bind | rdonly
        for opt in opts:
            flags |= locked.get(opt, 0)
        if mount(None, point, flags) != 0:
            failed += 1
    # The new PID namespace applies to children: fork, and let the child do the work.
    pid = os.fork()
    if pid == 0:
        return "isolated" + masked + (f"; {failed} mounts stay writable" if failed else "")
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _drop_privileges(uid: int | None, gid: int | None) -> None:
    if uid is None or os.geteuid() != 0:
        return
    os.setgroups([])
    os.setgid(gid if gid is not None else uid)
    os.setuid(uid)
    if os.geteuid() == 0 or os.getuid() == 0:  # pragma: no cover - paranoia
        raise SystemExit("could not drop root privileges")


def _fingerprint(value) -> tuple:
    if isinstance(value, types.FunctionType):
        return (value, value.__code__, value.__defaults__, value.__kwdefaults__)
    return (value,)


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class Integrity:
    """Remembers the critical objects before learner code runs and reports any change."""

    def __init__(self, module_names: list[str]) -> None:
        self.modules: dict[str, tuple[types.ModuleType, dict[str, tuple]]] = {}
        self.classes: list[tuple[str, type, dict[str, tuple]]] = []
        for name in module_names:
            mod = sys.modules.get(name)
            if mod is None:
                continue
            self.modules[name] = (mod, {k: _fingerprint(v) for k, v in vars(mod).items()})
            if name.startswith("course"):
                for attr, value in vars(mod).items():
                    if isinstance(value, type) and value.__module__ == name:
                        fields = {k: _fingerprint(v) for k, v in vars(value).items()}
                        self.classes.append((f"{name}.{attr}", value, fields))
        self.threads = set(threading.enumerate())

    def changes(self, ns: dict, trusted: dict[str, object]) -> str | None:
        """One line describing the first change found, or None."""
        for name, (mod, fields) in self.modules.items():
            if sys.modules.get(name) is not mod:
                return f"sys.modules[{name!r}] was replaced"
            current = vars(mod)
            for key, fp in fields.items():
                if key not in current:
                    return f"{name}.{key} was deleted"
                if not _same(fp, _fingerprint(current[key])):
                    shown = "builtins" if name == "builtins" else name
                    return f"{shown}.{key} was replaced or patched"
        for qualname, cls, fields in self.classes:
            current = vars(cls)
            for key, fp in fields.items():
                if key not in current or not _same(fp, _fingerprint(current[key])):
                    return f"{qualname}.{key} was replaced or patched"
        if ns.get("__builtins__") is not builtins:
            return "__builtins__ of the notebook was replaced"
        for key, value in trusted.items():
            if ns.get(key) is not value:
                return f"the name {key!r} (set by a read-only cell) was rebound"
        if sys.gettrace() is not None or sys.getprofile() is not None:
            return "a trace or profile hook was installed"
        extra = [t for t in threading.enumerate() if t not in self.threads and t.is_alive()]
        if extra:
            return "learner code left a background thread running"
        return None


class Guard:
    """Trampolines in front of reference functions the learner must implement themselves."""

    def __init__(self) -> None:
        self.codes: set[types.CodeType] = set()
        self.originals: dict[str, types.FunctionType] = {}
        self.guarded: dict[int, str] = {}
        self.calls: list[str] = []
        self.active = False

    def install(self, names: set[str]) -> None:
        seen: set[int] = set()
        for modname, mod in list(sys.modules.items()):
            if not (modname == "course" or modname.startswith("course.")):
                continue
            if modname.startswith("course.grading"):
                continue
            for name in names:
                fn = vars(mod).get(name)
                if not isinstance(fn, types.FunctionType) or id(fn) in seen:
                    continue
                if not (fn.__module__ or "").startswith("course") or fn.__closure__:
                    continue
                seen.add(id(fn))
                self._wrap(fn)

    def _wrap(self, fn: types.FunctionType) -> None:
        name = fn.__name__
        original = types.FunctionType(
            fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__
        )
        original.__kwdefaults__ = fn.__kwdefaults__
        key = f"__grading_original_{name}__"
        fn.__globals__[key] = original
        fn.__globals__["__grading_dispatch__"] = self.dispatch
        src = (
            f"def {name}(*args, **kwargs):\n"
            f"    return __grading_dispatch__({key!r}, args, kwargs)\n"
        )
        scope: dict = {}
        exec(compile(src, _GUARD_FILENAME, "exec"), scope)
        fn.__code__ = scope[name].__code__
        self.codes.add(fn.__code__)
        self.originals[key] = original
        self.guarded[id(fn)] = name

    def dispatch(self, key: str, args: tuple, kwargs: dict):
        original = self.originals[key]
        if self.active:
            frame = sys._getframe(2)  # 0 dispatch, 1 trampoline, 2 the caller
            while frame is not None:
                filename = frame.f_code.co_filename
                if filename.startswith(_ANSWER_PREFIX):
                    self.calls.append(
                        f"your {frame.f_code.co_name!r} calls the reference "
                        f"course.{original.__name__}"
                    )
                    break
                if filename.startswith((_TEST_PREFIX, _CELL_PREFIX)) or filename.endswith(
                    os.path.join("course", "checks.py")
                ):
                    break
                frame = frame.f_back
        return original(*args, **kwargs)

    def not_own_code(self, ns: dict, names: set[str]) -> str | None:
        """Describe a graded name that is (or wraps) code not written in an answer cell."""
        for name in sorted(names):
            value = ns.get(name)
            if isinstance(value, functools.partial):
                value = value.func
            if id(value) in self.guarded:
                return f"{name} is the reference implementation course.{self.guarded[id(value)]}"
            code = getattr(value, "__code__", None)
            if isinstance(value, types.FunctionType) and code is not None:
                if code in self.codes:
                    return f"{name} is a copy of the reference implementation"
                if not code.co_filename.startswith(_ANSWER_PREFIX):
                    return f"{name} was not defined in your answer cell ({code.co_filename})"
        return None


def _describe_error(exc: BaseException, sources: dict[str, str], hidden_lines: dict[str, set]):
    """(type, message, traceback lines from notebook cells only, failing-line-is-hidden)."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines: list[str] = []
    hidden = False
    for fr in frames:
        fname = fr.filename
        if not fname.startswith("<") or fname == _GUARD_FILENAME:
            continue
        label = fname[1:-1]
        src_lines = sources.get(fname, "").splitlines()
        is_hidden = fr.lineno in hidden_lines.get(fname, set())
        text = ""
        if not is_hidden and fr.lineno and 0 < fr.lineno <= len(src_lines):
            text = src_lines[fr.lineno - 1].strip()
        lines.append(f"{label}, line {fr.lineno}, in {fr.name}: {text}" if text else
                     f"{label}, line {fr.lineno}, in {fr.name}")
        if fname.startswith(_TEST_PREFIX):
            hidden = is_hidden
    try:
        msg = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        msg = "(message could not be shown)"
    if len(msg) > _MAX_MSG:
        msg = msg[:_MAX_MSG] + " [...]"
    return type(exc).__name__, msg, lines[-8:], hidden


def _names_used(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _memory_error_in_chain(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, MemoryError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _top_level_imports(source: str) -> set[str]:
    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _preload(plan: dict) -> None:
    """Import the comparison code and the modules the cells need, before dropping privileges."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    wanted = ["numpy", "numpy.testing", "numpy.linalg", "numpy.random", "course"]
    wanted += ["course.checks"]
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    for cell in plan["cells"]:
        for mod in _top_level_imports(cell["source"]):
            top = mod.split(".")[0]
            if cell["kind"] != "answer" or top in stdlib or top in ("numpy", "course"):
                wanted.append(mod)
    deny = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"}
    for mod in wanted:
        if mod.split(".")[0] in deny:
            continue
        try:
            __import__(mod)
        except BaseException:  # noqa: BLE001 - a missing module fails later, in the cell
            pass
    late = [
        # imported lazily by error formatting, np.load (zip archives) and common code
        "linecache", "tokenize", "unicodedata", "pprint", "difflib", "zipfile", "gzip",
        "encodings.idna", "encodings.cp437", "encodings.latin_1", "encodings.ascii",
        "encodings.utf_16", "encodings.utf_32", "encodings.utf_8_sig",
    ]
    if "matplotlib" in sys.modules:
        # drawing a figure imports the backend, contour plots contourpy, savefig PIL
        late += ["matplotlib.pyplot", "matplotlib.backends.backend_agg", "contourpy",
                 "PIL.features", "PIL.PngImagePlugin"]
    if "ipywidgets" in sys.modules or "course.widgets" in sys.modules:
        late += ["IPython.display"]
    for mod in late:
        try:
            __import__(mod)
        except BaseException:  # noqa: BLE001
            pass


def _split_chunks(source: str) -> tuple[list[tuple[str, bool]], set[int]]:
    """Split a test cell into (chunk source, is_hidden) pieces, padded to keep line numbers."""
    lines = source.splitlines()
    chunks: list[tuple[list[str], bool, int]] = []
    hidden_lines: set[int] = set()
    hidden = False
    current: list[str] = []
    start = 0
    for i, line in enumerate(lines):
        marker = line.strip()
        if marker == "### BEGIN HIDDEN TESTS" and not hidden:
            chunks.append((current, False, start))
            current, start, hidden = [line], i, True
            hidden_lines.add(i + 1)
            continue
        if marker == "### END HIDDEN TESTS" and hidden:
            current.append(line)
            hidden_lines.add(i + 1)
            chunks.append((current, True, start))
            current, start, hidden = [], i + 1, False
            continue
        current.append(line)
        if hidden:
            hidden_lines.add(i + 1)
    chunks.append((current, hidden, start))
    out = [
        ("\n" * st + "\n".join(body), h) for body, h, st in chunks if any(s.strip() for s in body)
    ]
    return out, hidden_lines


def run(plan: dict, emit) -> None:
    """Run every cell of ``plan``; report with ``emit(dict)``."""
    cap = int(plan.get("output_cap", 20000))
    protected = set(plan.get("protected", []))
    guard = Guard()
    guard.install(protected)
    modules = list(_SNAPSHOT_MODULES) + sorted(
        m for m in sys.modules if (m == "course" or m.startswith("course."))
        and not m.startswith("course.grading")
    )
    integrity = Integrity(modules)
    ns: dict = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _IPythonStub}
    trusted: dict[str, object] = {"get_ipython": _IPythonStub}
    emit({"ev": "ready", "network_off": bool(plan.get("network_off")),
          "python_view": plan.get("python_view"), "isolation": plan.get("isolation")})
    loaded_at_start = set(sys.modules)
    real_stdout, real_stderr = sys.stdout, sys.stderr
    sources: dict[str, str] = {}
    hidden_map: dict[str, set] = {}

    for index, cell in enumerate(plan["cells"]):
        kind, key = cell["kind"], cell["key"]
        prefix = {"answer": _ANSWER_PREFIX, "test": _TEST_PREFIX}.get(kind, _CELL_PREFIX)
        filename = f"{prefix}{key}>"
        source = strip_magics(cell["source"])
        chunks: list[tuple[str, bool]] = [(source, False)]
        hidden: set[int] = set()
        if kind == "test":
            chunks, hidden = _split_chunks(source)
            try:
                for chunk, _ in chunks:
                    compile(chunk, filename, "exec")
            except SyntaxError:
                # The hidden region is not a block of its own: run the cell whole.
                chunks = [(source, bool(hidden))]
        sources[filename] = source
        hidden_map[filename] = hidden
        emit({"ev": "start", "i": index})
        if kind == "test":
            bad = guard.not_own_code(ns, protected & set(ns) & _names_used(source))
            if bad:
                emit({"ev": "cell", "i": index, "ok": False, "outputs": [],
                      "error": None, "delegation": [bad]})
                continue
        guard.calls.clear()
        guard.active = kind == "test"
        outputs: list[dict] = []
        error = None
        for chunk, is_hidden in chunks:
            writer = CappedWriter(cap)
            sys.stdout = sys.stderr = writer
            try:
                exec(compile(chunk, filename, "exec"), ns)
            except BaseException as exc:  # noqa: BLE001 - learner code may raise anything
                etype, msg, tb, in_hidden = _describe_error(exc, sources, hidden_map)
                error = {"type": etype, "msg": msg, "tb": tb,
                         "memory": _memory_error_in_chain(exc),
                         "hidden": bool(in_hidden or is_hidden) if kind == "test" else False}
                del exc
            finally:
                sys.stdout, sys.stderr = real_stdout, real_stderr
                outputs.append({"text": writer.text(), "hidden": is_hidden})
            if error is not None:
                break
        guard.active = False
        delegation = list(dict.fromkeys(guard.calls))
        emit({"ev": "cell", "i": index, "ok": error is None and not delegation,
              "outputs": outputs, "error": error, "delegation": delegation})
        if kind != "answer":
            for name, value in ns.items():
                if name in protected or name.startswith("_"):
                    continue
                mod = getattr(value, "__module__", "") or ""
                if isinstance(value, types.ModuleType) or (
                    callable(value) and mod.split(".")[0] in ("course", "numpy")
                ):
                    trusted[name] = value
        problem = integrity.changes(ns, trusted)
        if problem:
            emit({"ev": "integrity", "i": index, "what": problem})
            return
    late = sorted(m for m in set(sys.modules) - loaded_at_start if not m.startswith("_"))
    emit({"ev": "done", "late_imports": late[:200]})


def main() -> None:
    """Entry point: ``python -I -B -c 'from course.grading.worker import main; main()' FD``."""
    result_fd = int(sys.argv[1])
    out = os.fdopen(result_fd, "w", buffering=1, encoding="utf-8")
    plan = json.loads(sys.stdin.read())
    sys.stdin.close()
    # Events carry a per-run token, so a line that learner code writes to some file descriptor
    # is not taken for a result.  (Learner code that digs the token out of this process's memory
    # defeats it: see "trust boundary" in docs/grading.md.)
    token = plan.pop("token", "")

    def emit(event: dict) -> None:
        out.write(f"{token} {json.dumps(event)}\n")
        out.flush()

    _set_limits(plan.get("limits", {}))
    try:
        _preload(plan)
    except MemoryError:
        emit({"ev": "fatal", "what": "the memory limit is too low to import NumPy"})
        return
    os.chdir(plan["workdir"])
    if plan.get("uid") is not None:
        network_off = _isolate_network()
        plan["python_view"] = _expose_python([plan.get("package_parent", "")])
        plan["isolation"] = "uid"
    else:
        plan["isolation"] = _enter_user_namespace(
            plan["workdir"], [plan.get("package_parent", ""), plan.get("mpl_dir", "")])
        network_off = plan["isolation"].startswith("isolated")
    try:
        _drop_privileges(plan.get("uid"), plan.get("gid"))
    except OSError as exc:
        emit({"ev": "fatal", "what": f"could not switch to the sandbox user: {exc}"})
        return
    plan["network_off"] = network_off
    os.environ["HOME"] = plan["workdir"]
    os.environ["TMPDIR"] = plan["workdir"]
    run(plan, emit)
    out.close()
    os._exit(0)  # do not run learner atexit handlers or finalizers


if __name__ == "__main__":  # pragma: no cover
    main()
