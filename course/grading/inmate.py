"""The jail side of grading: runs ONE learner notebook and answers questions about it.

Started inside the jail (:mod:`course.grading.jail`) as
``python -I -B -c BOOTSTRAP``; everything it can reach is the learner's working copy, a
read-only Python, and the *grading build* of ``course`` (no working reference of any graded
function). It

1. reads the plan (one JSON line on stdin): the notebook's code cells in order;
2. runs every cell except test cells (learner cells, extra cells the learner added, and the
   instructor's read-only cells) and reports each cell's output, error and figures;
3. at each test cell, does not run the test but stops and answers the grader's requests, one
   JSON line each (call a graded function with plain values, or read a graded value), on the
   notebook's state at that point (as nbgrader would see it), until the grader says continue.
   Nothing it sends is trusted: the grader decodes plain values only and does
   every comparison itself, with inputs and expected values that never enter this process.

Only the standard library, NumPy and the wire codec are imported before learner code runs.
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import os
import re
import sys
import traceback
from typing import Any

CELL_PREFIX = "<cell:"
MAX_TEXT = 20000
MAX_IMAGES = 6
MAX_IMAGE_BYTES = 400_000
_MISSING = object()


class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap, self.parts, self.kept, self.dropped = cap, [], 0, 0

    def write(self, s) -> int:  # noqa: D102
        s = s if type(s) is str else str(s)
        room = self.cap - self.kept
        piece = s[:room] if room > 0 else ""
        self.parts.append(piece)
        self.kept += len(piece)
        self.dropped += len(s) - len(piece)
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
    """Enough of ``get_ipython()`` for notebooks that use magics or ``display``."""

    def __getattr__(self, name):
        return lambda *a, **k: None


_MAGIC = re.compile(r"^(\s*)([%!].*)$")


def strip_magics(source: str) -> str:
    """IPython-only syntax to Python: line magics and shell escapes become ``pass``."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in source.splitlines():
        m = _MAGIC.match(line)
        lines.append(f"{m.group(1)}pass  # {m.group(2)}" if m else line)
    return "\n".join(lines)


class Inmate:
    def __init__(self, plan: dict, out, requests) -> None:
        self.plan = plan
        self.requests = requests
        self.out = out
        self.cap = int(plan.get("output_cap", MAX_TEXT))
        self.ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins,
                                   "get_ipython": _IPythonStub}
        self.bindings: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, str] = {}

    def send(self, msg: dict) -> None:
        self.out.write(json.dumps(msg, separators=(",", ":")) + "\n")
        self.out.flush()

    # --- phase 1: run the notebook ---------------------------------------------------------
    def run_cells(self) -> None:
        real_out, real_err = sys.stdout, sys.stderr
        for i, cell in enumerate(self.plan["cells"]):
            key = str(cell.get("key", i))
            if cell.get("kind") == "test":
                # The grader judges this test now, on the notebook's state at this point.
                self.bindings[key] = {n: self.ns.get(n, _MISSING) for n in cell.get("targets", [])}
                self.send({"ev": "test", "i": i, "key": key})
                if not self.serve(self.requests):
                    return
                continue
            self.send({"ev": "start", "i": i})
            filename = f"{CELL_PREFIX}{key}>"
            source = strip_magics(str(cell.get("source", "")))
            self.sources[filename] = source
            writer = CappedWriter(self.cap)
            sys.stdout = sys.stderr = writer
            sys.stdin = io.StringIO()
            error = None
            try:
                exec(compile(source, filename, "exec"), self.ns)  # noqa: S102 - the jail
            except BaseException as exc:  # noqa: BLE001 - learner code may raise anything
                error = self._describe(exc)
                del exc
            finally:
                sys.stdout, sys.stderr = real_out, real_err
            self.send({"ev": "cell", "i": i, "ran": True, "ok": error is None,
                       "text": writer.text(), "error": error, "images": self._figures()})

    def _describe(self, exc: BaseException) -> dict:
        lines = []
        for fr in traceback.extract_tb(exc.__traceback__):
            if not fr.filename.startswith(CELL_PREFIX):
                continue
            src = self.sources.get(fr.filename, "").splitlines()
            text = src[fr.lineno - 1].strip() if fr.lineno and 0 < fr.lineno <= len(src) else ""
            label = fr.filename[1:-1]
            lines.append(f"{label}, line {fr.lineno}, in {fr.name}" + (f": {text}" if text else ""))
        try:
            msg = str(exc)
        except BaseException:  # noqa: BLE001 - a hostile __str__
            msg = "(message could not be shown)"
        memory = isinstance(exc, MemoryError) or isinstance(exc.__context__, MemoryError)
        return {"type": type(exc).__name__[:80], "msg": msg[:2000], "tb": lines[-8:],
                "memory": memory}

    def _figures(self) -> list[str]:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return []
        images = []
        try:
            for num in plt.get_fignums()[:MAX_IMAGES]:
                buf = io.BytesIO()
                plt.figure(num).savefig(buf, format="png", dpi=60)
                if buf.tell() <= MAX_IMAGE_BYTES:
                    images.append(base64.b64encode(buf.getvalue()).decode())
            plt.close("all")
        except BaseException:  # noqa: BLE001 - a figure the learner broke is not our problem
            pass
        return images

    # --- phase 2: answer the grader --------------------------------------------------------
    def serve(self, requests) -> bool:
        """Answer requests until the grader says continue (True) or exit (False)."""
        from course.grading import wire

        while True:
            line = requests.readline()
            if not line:
                return False
            try:
                msg = json.loads(line)
            except ValueError:
                return False
            if msg.get("op") == "exit":
                return False
            if msg.get("op") == "continue":
                return True
            rid = msg.get("id")
            try:
                reply = self._handle(msg, wire)
            except BaseException as exc:  # noqa: BLE001 - keep answering
                reply = {"ok": False, "error": {"type": type(exc).__name__[:80],
                                                "msg": _safe_str(exc)[:500]}}
            reply["id"] = rid
            try:
                self.send(reply)
            except (TypeError, ValueError):
                self.send({"id": rid, "ok": False,
                           "error": {"type": "WireError", "msg": "reply could not be sent"}})

    def _target(self, msg: dict) -> Any:
        at, name = str(msg.get("at", "")), str(msg.get("target", ""))
        scope = self.bindings.get(at)
        value = scope.get(name, _MISSING) if scope is not None else self.ns.get(name, _MISSING)
        return value

    def _handle(self, msg: dict, wire) -> dict:
        op = msg.get("op")
        value = self._target(msg)
        if op == "get":
            if value is _MISSING:
                return {"ok": True, "found": False}
            return {"ok": True, "found": True, "callable": callable(value),
                    "type": type(value).__name__[:80],
                    "value": None if callable(value) else wire.encode(value)}
        if op != "call":
            return {"ok": False, "error": {"type": "ValueError", "msg": f"unknown op {op!r}"}}
        if value is _MISSING:
            return {"ok": False, "error": {"type": "NameError",
                                           "msg": f"name {msg.get('target')!r} is not defined"}}
        args = [_decode_arg(a, wire) for a in msg.get("args", [])]
        kwargs = {str(k): _decode_arg(v, wire) for k, v in (msg.get("kwargs") or {}).items()}
        fn = value
        restore = None
        if msg.get("method") == "forward":
            fn, restore = _model_forward(value)
        forbid = None
        if msg.get("own_work"):
            # every function of course's library refuses to run during this call
            import course._jailskew as forbid

            forbid.FORBID[0] = True
        sink = CappedWriter(0)
        real_out, real_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = sink
        try:
            import numpy as np

            with np.errstate(all="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            sys.stdout, sys.stderr = real_out, real_err
            return {"ok": False, "error": _call_error(exc, fn, msg.get("spec"))}
        finally:
            sys.stdout, sys.stderr = real_out, real_err
            if forbid is not None:
                forbid.FORBID[0] = False
            if restore is not None:
                restore()
        return {"ok": True, "result": wire.encode(result),
                "after": [wire.encode(a) for a in args],
                "after_kw": {k: wire.encode(v) for k, v in kwargs.items()}}


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001
        return ""


def _decode_arg(obj, wire):
    import numpy as np

    def fn_factory(target: str, params: dict):
        from course.exercises import Fn

        return Fn(target=target, params=params)

    return wire.decode(obj, markers=True, rng_factory=np.random.default_rng,
                       fn_factory=fn_factory)


def _model_forward(model):
    """The scores function of a trained model, in eval mode; and how to restore its mode."""
    forward = model if callable(model) and not hasattr(model, "forward") else getattr(
        model, "forward", model)
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        try:
            model.eval()
        except BaseException:  # noqa: BLE001
            pass

    def restore() -> None:
        if was_training is True and hasattr(model, "train"):
            try:
                model.train()
            except BaseException:  # noqa: BLE001
                pass

    return forward, restore


def _call_error(exc: BaseException, fn, spec_name) -> dict:
    """The same crash analysis an in-notebook check gives, done here where the frames are."""
    error = {"type": type(exc).__name__[:80], "msg": _safe_str(exc)[:500]}
    if isinstance(exc, MemoryError):
        error["memory"] = True
    try:
        from course import _diagnose

        error["where"] = _diagnose._learner_line(exc, fn)
        if spec_name:
            from course.exercises import get

            spec = get(str(spec_name)).spec
            target, what, tag, hint = _diagnose._crash_analysis(spec, fn, exc)
            error.update(target=target, what=what, tag=tag, hint=hint)
    except BaseException:  # noqa: BLE001 - best effort
        pass
    return {k: (v[:500] if isinstance(v, str) else v) for k, v in error.items()
            if v is None or isinstance(v, str | bool)}


def main(fd: int) -> None:
    """Entry point inside the jail: plan on stdin's first line, events and replies on ``fd``."""
    out = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
    stdin = sys.stdin
    sys.stdin = io.StringIO()
    plan = json.loads(stdin.readline())
    os.environ.setdefault("MPLBACKEND", "Agg")
    inmate = Inmate(plan, out, stdin)
    inmate.run_cells()
    inmate.send({"ev": "done"})
    inmate.serve(stdin)
    out.flush()
    os._exit(0)  # no learner atexit handlers or finalizers
