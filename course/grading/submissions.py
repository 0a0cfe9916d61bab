"""A class's submissions, read safely: one student's broken upload never stops the run.

- :func:`read_submissions` reads a folder of ``<student_id>/...`` or a zip of one into memory.
  A bad zip member (bad CRC, truncated data, a zip bomb, a path that climbs out, a symbolic
  link, a name stored twice, encryption) makes only that student's submission ``malformed``
  (``Submission.problem``); entries that belong to no student are skipped with a warning.
- :func:`parse_notebook_bytes` turns notebook bytes into a dict or raises
  ``SubmissionError("malformed", ...)`` for *any* reason it cannot: never another exception.
- :func:`safe_name` is the file-system name of a student id (feedback folder, cache and result
  files): distinct ids always get distinct names, even on a case-insensitive file system, and no
  id can be named like one of the grader's own files.
- :func:`display_id` is a student id that is safe to print on a terminal.
- :func:`make_private_dir` and :func:`open_lock`: the output folder is private to the
  instructor, and lock files live in a private folder and are opened without following links.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from course.grading.assignment import SubmissionError

MAX_FILE_BYTES = 20 * 1024 * 1024  # a data file larger than this is left out of the copy
MAX_STUDENT_BYTES = 100 * 1024 * 1024  # everything one student hands in
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed size above which a big zip member is a bomb
BOMB_MIN_BYTES = 16 * 1024 * 1024  # ... when it would also expand to more than this
MAX_ENTRIES = 10_000  # files per student
MAX_NESTING = 100  # JSON depth of a notebook (real ones are about 10 deep)
MAX_CELLS = 10_000

__all__ = [
    "GradingError", "MAX_FILE_BYTES", "MAX_STUDENT_BYTES", "Lock", "Submission",
    "SubmissionError", "display_id", "load_notebook", "make_private_dir", "open_lock",
    "parse_notebook_bytes", "read_submissions", "safe_name",
]


class GradingError(Exception):
    """Grading cannot run at all (bad arguments, missing assignment, an unreadable class zip)."""


@dataclass
class Submission:
    """One student's files, read into memory.

    ``problem``: why the submission could not be read (a bad zip member, ...); when set, the
    student's row is ``malformed`` with this detail and nothing is run.  ``skipped``: files left
    out of the copy (too large), for the feedback.
    """

    student_id: str
    files: dict[str, bytes] = field(default_factory=dict)
    problem: str = ""
    skipped: list[str] = field(default_factory=list)

    def digest(self) -> str:
        h = hashlib.sha256()
        for rel in sorted(self.files):
            h.update(rel.encode("utf-8", "surrogatepass") + b"\0"
                     + hashlib.sha256(self.files[rel]).digest())
        if self.problem:
            h.update(b"\0problem\0" + self.problem.encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def fail(self, problem: str) -> None:
        """Mark the submission unreadable (the first problem wins) and drop its files."""
        if not self.problem:
            self.problem = problem
        self.files.clear()


# --- student ids -------------------------------------------------------------------------------
_PLAIN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_HASHED_TAIL = re.compile(r"-[0-9a-f]{16}$")
# names a plain id must not take: the grader's own files and folders, and names Windows reserves
_RESERVED = {"cache", "feedback", "grades", "lock", "results", "solution", "tmp", "con", "prn",
             "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def _id_bytes(student_id: str) -> bytes:
    # ids read from a folder may hold lone surrogates (undecodable bytes): hash them too
    return student_id.encode("utf-8", "surrogatepass")


def safe_name(student_id: str) -> str:
    """The file-system name of a student id: ``alice`` stays ``alice``; anything else becomes
    ``<ascii slug>-<16 hex digits of sha256(id)>`` (``josé`` -> ``jose-1f...``).

    Distinct ids never share a name: a plain name is lower-case ``[a-z0-9_-]``, never ends like a
    hashed one and is not a reserved word, so it cannot equal a hashed name; two hashed names
    differ in their hash.  Case-insensitive file systems cannot merge two names either (only
    lower-case plain names; the hash tells ``Alice`` from ``ALICE``).  No name starts with a dot
    or equals an internal file (``.cache``, ``grades.csv``, ``results``, ``..``, the empty id).
    """
    sid = str(student_id)
    if _PLAIN.fullmatch(sid) and not _HASHED_TAIL.search(sid) and sid not in _RESERVED:
        return sid
    ascii_text = unicodedata.normalize("NFKD", sid).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_text).strip("_-")[:40].rstrip("_-")
    digest = hashlib.sha256(_id_bytes(sid)).hexdigest()[:16]
    return f"{slug or 'id'}-{digest}"


_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def _unsafe_char(ch: str) -> bool:
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0 or code in _BIDI:
        return True
    # other invisible format characters, line/paragraph separators, lone surrogates, unassigned
    return unicodedata.category(ch) in ("Cf", "Zl", "Zp", "Cs", "Co", "Cn")


def display_id(student_id: str, limit: int = 80) -> str:
    """A student id that is safe to print: control characters (C0, C1), bidi overrides and other
    invisible characters are shown as ``\\xNN`` / ``\\uNNNN`` escapes, so an id can neither move
    the cursor, clear the screen, forge a line nor reorder the text around it."""
    out = []
    for ch in str(student_id):
        if _unsafe_char(ch):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    text = "".join(out) or "(empty id)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- notebooks ---------------------------------------------------------------------------------
def _too_deep(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def parse_notebook_bytes(data: bytes) -> dict:
    """Parse notebook bytes (nbformat 4 JSON, checked structurally; no nbformat import).

    Raises ``SubmissionError("malformed", detail)`` for anything that is not a usable notebook:
    too large, not UTF-8, not JSON, nested too deeply (a 200,000-deep list makes ``json`` raise
    RecursionError), not nbformat 4, broken cells.  Never raises anything else.
    """
    def bad(detail: str) -> SubmissionError:
        return SubmissionError("malformed", detail)

    if not isinstance(data, bytes | bytearray | memoryview):
        raise bad("not a notebook file")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise bad(f"the notebook is {_size(len(data))}, over the "
                  f"{MAX_NOTEBOOK_BYTES // 2**20} MiB limit")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad(f"not UTF-8 text at byte {exc.start} (not a notebook)") from None
    try:
        nb = json.loads(text)
    except RecursionError:
        raise bad("not a notebook: the JSON is nested too deeply") from None
    except MemoryError:
        raise bad("not a notebook: the JSON is too large to read") from None
    except ValueError as exc:  # JSONDecodeError, too many digits, NaN
        raise bad(f"not valid JSON ({_short(str(exc))})") from None
    except Exception as exc:  # noqa: BLE001 - whatever json does, it is the file's fault
        raise bad(f"not valid JSON ({type(exc).__name__})") from None
    del text
    if _too_deep(nb, MAX_NESTING):
        raise bad(f"not a notebook: the JSON is nested more than {MAX_NESTING} deep")
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise bad("not a notebook: no list of cells")
    fmt = nb.get("nbformat")
    if type(fmt) is not int or fmt != 4:
        raise bad(f"unsupported notebook format {_short(repr(fmt), 40)} (nbformat 4 expected)")
    if not isinstance(nb.get("metadata", {}), dict):
        raise bad("not a valid notebook: its metadata is not a mapping")
    if len(nb["cells"]) > MAX_CELLS:
        raise bad(f"the notebook has {len(nb['cells'])} cells, over the limit of {MAX_CELLS}")
    for i, cell in enumerate(nb["cells"]):
        if not _good_cell(cell):
            raise bad(f"not a valid notebook: cell {i} is broken")
    return nb


def _good_cell(cell) -> bool:
    if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
        return False
    source = cell.get("source", "")
    if isinstance(source, list):
        if not all(isinstance(s, str) for s in source):
            return False
    elif not isinstance(source, str):
        return False
    meta = cell.get("metadata", {})
    if not isinstance(meta, dict):
        return False
    nbg = meta.get("nbgrader")
    if nbg is not None:
        if not isinstance(nbg, dict):
            return False
        gid = nbg.get("grade_id")
        if gid is not None and not isinstance(gid, str):
            return False
    if cell["cell_type"] == "code" and not isinstance(cell.get("outputs", []), list):
        return False
    return True


def load_notebook(sub: Submission, assignment) -> dict:
    """The parsed notebook of a submission, or ``SubmissionError`` (``malformed`` for an
    unreadable upload or notebook, ``missing`` when there is no notebook)."""
    from course.grading.assignment import find_notebook

    if sub.problem:
        raise SubmissionError("malformed", sub.problem)
    rel = find_notebook(sub.files, assignment)
    return parse_notebook_bytes(sub.files[rel])


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.0f} {unit}"
    return f"{n} bytes"


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- reading a folder --------------------------------------------------------------------------
def _read_regular(path: str, limit: int) -> bytes:
    """A regular file's bytes (at most ``limit + 1``), never through a symbolic link or FIFO."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_folder(student_dir: Path) -> dict[str, bytes]:
    """A student's files (hidden files, links and special files left out); raises
    ``SubmissionError("malformed")`` when the folder cannot be read or is over the limits."""
    sub = _read_folder_sub(Submission(student_dir.name), student_dir)
    if sub.problem:
        raise SubmissionError("malformed", sub.problem)
    return sub.files


def _read_folder_sub(sub: Submission, student_dir: Path) -> Submission:
    total = 0
    stack = [(str(student_dir), "")]
    try:
        while stack:
            folder, prefix = stack.pop()
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue  # symbolic links, FIFOs, sockets, devices: never read
                if len(sub.files) >= MAX_ENTRIES:
                    sub.fail(f"more than {MAX_ENTRIES} files in the submission")
                    return sub
                size = entry.stat(follow_symlinks=False).st_size
                if size > MAX_FILE_BYTES and not rel.endswith(".ipynb"):
                    sub.skipped.append(f"{rel} ({_size(size)}, too large)")
                    continue
                limit = MAX_NOTEBOOK_BYTES if rel.endswith(".ipynb") else MAX_FILE_BYTES
                data = _read_regular(entry.path, limit)
                total += len(data)
                if total > MAX_STUDENT_BYTES:
                    sub.fail(f"the submission holds more than {_size(MAX_STUDENT_BYTES)}")
                    return sub
                sub.files[rel] = data
    except OSError as exc:
        sub.fail(f"cannot read the submission folder: {exc.strerror or exc}")
    return sub


# --- reading a zip -----------------------------------------------------------------------------
def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _unsafe_parts(raw: str) -> bool:
    parts = raw.split("/")
    return any(p in (".", "..") or (len(p) >= 2 and p[1] == ":") or "\0" in p for p in parts)


# hidden entries that are never a student: no warning for these
_QUIET_HIDDEN = {".DS_Store", ".ipynb_checkpoints", ".git", ".gitignore"}


def _read_zip(path: Path, assignment: str, warnings: list[str] | None = None) -> list[Submission]:
    warn = warnings.append if warnings is not None else (lambda _msg: None)
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except Exception as exc:  # noqa: BLE001 - BadZipFile, OSError, ValueError, ...
        raise GradingError(f"cannot open {path} as a zip file: {_short(str(exc))}") from exc
    with zf:
        entries = []
        for info in infos:
            raw = info.filename.replace("\\", "/")
            parts = [p for p in raw.split("/") if p]
            if not parts or "__MACOSX" in parts:
                continue
            if raw.startswith("/") or (len(parts[0]) >= 2 and parts[0][1] == ":"):
                warn(f"skipped {display_id(raw)} in the zip: an absolute path")
                continue
            entries.append((parts, raw, info))
        firsts = {parts[0] for parts, _, _ in entries if not parts[0].startswith(".")}
        if (
            len(firsts) == 1
            and not _unsafe_parts(next(iter(firsts)))
            and any(len(p) >= 3 for p, _, _ in entries)
            and not any(len(p) >= 2 and p[1] == assignment for p, _, _ in entries)
        ):
            top = next(iter(firsts))
            # only the export's own folder is unwrapped ("../x/..." stays outside any student)
            entries = [(parts[1:], raw, info) if parts[0] == top else (parts, raw, info)
                       for parts, raw, info in entries if len(parts) > 1 or parts[0] != top]
        subs: dict[str, Submission] = {}
        totals: dict[str, int] = {}
        seen: dict[str, set[str]] = {}
        hidden: set[str] = set()
        for parts, raw, info in entries:
            owner = parts[0]
            if owner in (".", ".."):
                warn(f"skipped {display_id(raw)} in the zip: it belongs to no student folder")
                continue
            if owner.startswith("."):
                if owner not in _QUIET_HIDDEN and owner not in hidden:
                    hidden.add(owner)
                    warn(f"skipped {display_id(owner)} in the zip: a hidden folder (a student "
                         "id cannot begin with a dot)")
                continue
            if len(parts) < 2 and not info.is_dir():
                warn(f"skipped {display_id(raw)} in the zip: a file outside any student folder")
                continue
            sub = subs.setdefault(owner, Submission(owner))
            if sub.problem or len(parts) < 2:
                continue
            _read_member(zf, info, parts, raw, sub, totals, seen.setdefault(owner, set()))
    return sorted(subs.values(), key=lambda s: s.student_id)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, parts: list[str], raw: str,
                 sub: Submission, totals: dict[str, int], seen: set[str]) -> None:
    rel = "/".join(parts[1:])
    shown = display_id(raw, 120)
    if _unsafe_parts("/".join(parts)):
        sub.fail(f"the zip entry {shown} has a path that leaves the student's folder")
        return
    if _is_symlink(info):
        sub.fail(f"the zip entry {shown} is a symbolic link")
        return
    key = rel.rstrip("/")
    if key in seen:
        sub.fail(f"the zip holds {shown} twice")
        return
    seen.add(key)
    if info.is_dir() or any(p.startswith(".") for p in parts[1:]):
        return
    if len(seen) > MAX_ENTRIES:
        sub.fail(f"more than {MAX_ENTRIES} files in the submission")
        return
    if info.flag_bits & 0x1:
        sub.fail(f"the zip entry {shown} is encrypted")
        return
    size = info.file_size
    if size > MAX_STUDENT_BYTES or (
        size > BOMB_MIN_BYTES and size > MAX_RATIO * max(info.compress_size, 1)
    ):
        sub.fail(f"the zip entry {shown} would expand to {_size(size)} from "
                 f"{_size(info.compress_size)} (a zip bomb?)")
        return
    notebook = rel.endswith(".ipynb")
    if size > (MAX_NOTEBOOK_BYTES if notebook else MAX_FILE_BYTES):
        if notebook:
            sub.fail(f"the notebook {shown} is {_size(size)}, over the limit")
        else:
            sub.skipped.append(f"{rel} ({_size(size)}, too large)")
        return
    totals[sub.student_id] = totals.get(sub.student_id, 0) + size
    if totals[sub.student_id] > MAX_STUDENT_BYTES:
        sub.fail(f"the submission holds more than {_size(MAX_STUDENT_BYTES)}")
        return
    try:
        # ZipExtFile never returns more than the declared size, then checks the CRC
        with zf.open(info) as fh:
            data = fh.read(size + 1)
            if fh.read(1):
                raise zipfile.BadZipFile("more data than declared")
    except Exception as exc:  # noqa: BLE001 - BadZipFile (CRC), zlib.error, EOFError, ...
        detail = _short(str(exc)) or type(exc).__name__
        sub.fail(f"cannot read {shown} from the zip: {detail} (a damaged upload?)")
        return
    if len(data) != size:
        sub.fail(f"cannot read {shown} from the zip: it is truncated")
        return
    sub.files[rel] = data


def read_submissions(path: Path, assignment: str, exclude: Path | None = None,
                     warnings: list[str] | None = None) -> list[Submission]:
    """Every student's submission, from a folder or a zip (``exclude``: the output folder).

    Only an unreadable class zip (or folder) raises ``GradingError``; a student's bad files make
    that student's ``Submission.problem``.  Entries that belong to no student are skipped and
    described in ``warnings`` (if a list is given).
    """
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return _read_zip(path, assignment, warnings)
    if not path.is_dir():
        raise GradingError(f"{path} is neither a folder nor a zip file")
    excluded = exclude.resolve() if exclude is not None else None
    subs = []
    try:
        children = sorted(path.iterdir())
    except OSError as exc:
        raise GradingError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for child in children:
        if excluded is not None and child.resolve() == excluded:
            continue
        if child.name.startswith("."):
            if child.name not in _QUIET_HIDDEN and warnings is not None:
                warnings.append(f"skipped {display_id(child.name)}: a hidden folder (a student "
                                "id cannot begin with a dot)")
            continue
        if child.is_dir():
            subs.append(_read_folder_sub(Submission(child.name), child))
        elif warnings is not None:
            warnings.append(f"skipped {display_id(child.name)}: a file outside any student "
                            "folder")
    return subs


# --- private folders and locks -----------------------------------------------------------------
def make_private_dir(path: Path | str) -> Path:
    """Create ``path`` (and its parents) as a folder only its owner can use (mode 0700).

    An existing folder is accepted only if it is a real folder (not a symbolic link) owned by
    the current user; it is then made 0700.  Raises ``GradingError`` otherwise.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise GradingError(f"cannot create {path}: {exc.strerror or exc}") from exc
    fd = _open_private_dir(path)
    os.close(fd)
    return path


def _open_private_dir(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        why = "a symbolic link" if os.path.islink(path) else (exc.strerror or str(exc))
        raise GradingError(f"{path} cannot be used as a private folder: {why}") from exc
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise GradingError(f"{path} belongs to another user (uid {st.st_uid}); use a "
                               "folder of your own")
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    except BaseException:
        os.close(fd)
        raise
    return fd


class Lock:
    """An exclusive ``flock`` on a file in a private folder; release() or use as a context."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd, self.path = fd, path

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = -1

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:  # pragma: no cover - safety net
        self.release()


def open_lock(out_dir: Path | str, name: str = "grade", blocking: bool = False) -> Lock | None:
    """Take the lock ``name`` in ``out_dir/.lock`` (a 0700 folder of the current user).

    The lock file is opened with ``O_NOFOLLOW`` relative to the folder's own descriptor, must be
    a regular file of ours, and is never in a shared folder such as ``/tmp``: nobody else can
    plant it, replace it with a link or hold it.  Returns ``None`` if another process holds the
    lock and ``blocking`` is false.  For machine-wide locks (for example blocks of uids when
    running as root) pass a root-owned folder such as ``/run/backprop-course`` as ``out_dir``.
    """
    import fcntl

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise ValueError(f"bad lock name {name!r}")
    out_dir = Path(out_dir)
    folder = out_dir / ".lock"
    make_private_dir(out_dir)
    make_private_dir(folder)
    dfd = _open_private_dir(folder)
    try:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            fd = os.open(f"{name}.lock", flags, 0o600, dir_fd=dfd)
        except OSError as exc:
            raise GradingError(f"cannot open the lock {folder / name}.lock: "
                               f"{exc.strerror or exc}") from exc
    finally:
        os.close(dfd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_nlink != 1:
            raise GradingError(f"{folder / name}.lock is not a lock file of ours")
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return Lock(fd, folder / f"{name}.lock")
