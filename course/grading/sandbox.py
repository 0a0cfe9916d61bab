"""Run one grading worker in a limited, isolated process and collect its events.

Isolation, in layers:

- a private working copy in a fresh temporary folder (mode 0700, owned by the sandbox user);
- when the grader runs as root: the worker drops to an unprivileged uid/gid of its own (one per
  parallel slot, ``UID_BASE + slot``, no supplementary groups) after importing the comparison
  code, so learner code cannot write the repository, the output folder or other submissions,
  and cannot signal or read the workers of other slots;
- resource limits (``setrlimit``): address space (``--memory``), CPU seconds, file size, number
  of processes; plus a wall-clock timeout after which the whole process group, and every
  process of the slot's uid, is killed with SIGKILL;
- the worker's raw stdout/stderr is read and capped by the parent; cell output is capped inside
  the worker.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

UID_BASE = int(os.environ.get("BACKPROP_GRADE_UID_BASE", "64100"))
UID_BLOCK = 64  # uids per grading run: at most this many parallel jobs
UID_BLOCKS = 16  # grading runs at once on one machine, each with its own block of uids
RAW_OUTPUT_CAP = 64 * 1024
RESULT_CAP = 32 * 1024 * 1024
BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[2]); from course.grading.worker import main; main()"
)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class RunResult:
    """What happened to one worker process."""

    events: list[dict] = field(default_factory=list)
    timed_out: bool = False
    returncode: int | None = None
    raw_output: str = ""
    elapsed: float = 0.0
    last_started: int | None = None  # plan index of the cell running when it ended
    isolation: str | None = None  # "uid", "isolated", or why the user namespace was unavailable

    @property
    def finished(self) -> bool:
        return any(e.get("ev") == "done" for e in self.events)


def _kill_uid(uid: int) -> None:
    """SIGKILL every process whose real or effective uid is ``uid`` (root only)."""
    for _ in range(3):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as fh:
                    for line in fh:
                        if line.startswith("Uid:"):
                            uids = {int(x) for x in line.split()[1:]}
                            break
                    else:
                        continue
            except OSError:
                continue
            if uid in uids:
                found = True
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass
        if not found:
            return
        time.sleep(0.05)


def can_switch_user() -> bool:
    """Whether this root process may switch to the sandbox uid (some containers forbid it)."""
    probe = f"import os; os.setgroups([]); os.setgid({UID_BASE}); os.setuid({UID_BASE})"
    try:
        proc = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


class Sandbox:
    """Creates working copies and runs workers; one instance per grading run."""

    def __init__(self, base: Path | None = None) -> None:
        self.root = (
            is_root()
            and not os.environ.get("BACKPROP_GRADE_SAME_USER")
            and can_switch_user()
        )
        self.warning = None
        if not self.root:
            self.warning = (
                "note: not running as root (or cannot switch users): learner code runs as your "
                "own user, in a user namespace with a read-only filesystem and no network where "
                "the kernel allows it; see 'trust boundary' in docs/grading.md"
            )
        self.base = Path(tempfile.mkdtemp(prefix="backprop-grade-", dir=base))
        os.chmod(self.base, 0o711 if self.root else 0o700)
        self.package_parent = str(Path(__file__).resolve().parents[2])
        self.uid_base = UID_BASE
        self._lock = None
        if self.root:
            self._reserve_uid_block()

    def _reserve_uid_block(self) -> None:
        """Take a block of uids no other grading run on this machine is using (a file lock),
        so two runs at once never kill or touch each other's workers."""
        import fcntl

        for block in range(UID_BLOCKS):
            fh = open(f"/tmp/.backprop-grade-uids-{UID_BASE}-{block}.lock", "a")  # noqa: SIM115
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            self._lock = fh
            self.uid_base = UID_BASE + block * UID_BLOCK
            return
        raise RuntimeError(f"more than {UID_BLOCKS} grading runs at once on this machine")

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def uid_for(self, slot: int) -> int | None:
        return self.uid_base + slot % UID_BLOCK if self.root else None

    def make_workdir(self, files: dict[str, bytes], slot: int) -> Path:
        """A private folder holding a copy of the submission's files."""
        work = Path(tempfile.mkdtemp(prefix="w-", dir=self.base))
        for rel, data in files.items():
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        uid = self.uid_for(slot)
        if uid is not None:
            for dirpath, dirnames, filenames in os.walk(work):
                for name in dirnames + filenames:
                    os.lchown(os.path.join(dirpath, name), uid, uid)
            os.chown(work, uid, uid)
        os.chmod(work, 0o700)
        return work

    def remove_workdir(self, work: Path) -> None:
        shutil.rmtree(work, ignore_errors=True)

    def run(
        self,
        cells: list[dict],
        protected: list[str],
        work: Path,
        slot: int,
        *,
        timeout: float,
        memory_mb: int,
        output_cap: int = 20000,
        stop=None,
    ) -> RunResult:
        """Run the worker on ``cells`` in ``work``; kill it after ``timeout`` seconds."""
        uid = self.uid_for(slot)
        token = secrets.token_hex(16)
        plan = {
            "token": token,
            "cells": cells,
            "protected": protected,
            "workdir": str(work),
            "package_parent": self.package_parent,
            "mpl_dir": str(self.base / "mpl"),
            "uid": uid,
            "gid": uid,
            "output_cap": output_cap,
            "limits": {
                "memory_mb": memory_mb,
                "cpu_s": int(timeout) + 5,
                "fsize_mb": 256,
                "nproc": 64 if uid is not None else None,
            },
        }
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(work),
            "TMPDIR": str(work),
            "USER": "grader",
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(self.base / "mpl"),
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONIOENCODING": "utf-8",
        }
        (self.base / "mpl").mkdir(exist_ok=True)
        read_fd, write_fd = os.pipe()
        result = RunResult()
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-B", "-c", BOOTSTRAP, str(write_fd), self.package_parent],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                env=env,
                cwd=str(work),
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        try:
            self._talk(proc, read_fd, json.dumps(plan).encode(), start + timeout, result, stop,
                       token.encode())
        finally:
            os.close(read_fd)
            self._cleanup(proc, uid)
        result.returncode = proc.returncode
        result.elapsed = time.monotonic() - start
        return result

    def _talk(
        self, proc, read_fd, plan: bytes, deadline: float, result: RunResult, stop, token: bytes
    ) -> None:
        try:
            proc.stdin.write(plan)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        sel = selectors.DefaultSelector()
        os.set_blocking(read_fd, False)
        sel.register(read_fd, selectors.EVENT_READ, "result")
        sel.register(proc.stdout, selectors.EVENT_READ, "raw")
        raw = bytearray()
        pending = b""
        received = 0
        open_streams = 2
        finished = False
        exited_at = None
        while open_streams:
            now = time.monotonic()
            if now >= deadline:
                result.timed_out = True
                break
            if stop is not None and stop.is_set():
                break
            if proc.poll() is not None:
                exited_at = exited_at or now
                if now - exited_at > 0.5:  # a grandchild still holds a pipe open
                    break
            for key, _ in sel.select(timeout=min(0.2, deadline - now)):
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fd)
                    open_streams -= 1
                    continue
                if key.data == "raw":
                    if len(raw) < RAW_OUTPUT_CAP:
                        raw.extend(chunk[: RAW_OUTPUT_CAP - len(raw)])
                    continue
                received += len(chunk)
                if received > RESULT_CAP:
                    continue
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    mark, _, body = line.partition(b" ")
                    if mark != token or finished:
                        continue
                    try:
                        event = json.loads(body)
                    except ValueError:
                        continue
                    if isinstance(event, dict):
                        finished = event.get("ev") == "done"
                        result.events.append(event)
                        if event.get("ev") == "ready":
                            result.isolation = str(event.get("isolation")).split(";")[0]
                        if event.get("ev") == "start":
                            result.last_started = event.get("i")
        sel.close()
        result.raw_output = raw.decode("utf-8", "replace")

    def _cleanup(self, proc, uid: int | None) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        if uid is not None:
            _kill_uid(uid)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        if proc.stdout:
            proc.stdout.close()
