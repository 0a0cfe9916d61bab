"""`backprop-course lite build`: the course as a self-contained website (JupyterLite + Pyodide).

The site runs Python in the learner's browser: the learner notebooks, the course installed in
the kernel (`import course` needs no %pip), ipywidgets, NumPy and matplotlib, all served from
the site's own folder. No request leaves the site's host at run time, so any static host
works (GitHub Pages, a school web server, `python -m http.server`).

What the build does, in order (everything it downloads goes to a cache, by default
~/.cache/backprop-course/lite; nothing is downloaded when the learner runs the site):

1. a virtual environment in the cache with the pinned build tools (jupyterlite-core, the
   Pyodide kernel, the widgets' JupyterLab extension): the project's environment is untouched;
2. Pyodide's core files and its official `pyodide-lock.json` from npm (`npm pack`), checked
   against the sha256 pinned in lite/versions.toml;
3. the Pyodide wheels the course needs (NumPy, matplotlib, IPython and what they depend on),
   each accepted only if its sha256 is the one in the official lock;
4. ipywidgets and comm from PyPI (hash-pinned) and a wheel of this repository's `course`,
   added to the lock so that the kernel installs them on `import`;
5. a clean `jupyter lite build` in a fresh temporary folder (a rebuild into an existing folder
   can silently drop the local Pyodide, and the kernel then reaches for a CDN);
6. checks of the result: the lock's files and hashes, the local `pyodideUrl`, the notebooks.

The pinned versions live in lite/versions.toml; the sources and hashes of every file shipped
are written to the site's `backprop-course-lite.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

LOCK = "pyodide-lock.json"
MANIFEST = "backprop-course-lite.json"
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
# The first cell of every notebook in the site (only in the site: notebooks/ is unchanged).
NOTE_TAG = "browser-note"
BROWSER_NOTE = """\
> **Running in your browser.** Python runs inside this page (JupyterLite and Pyodide): nothing
> to install, and your code never leaves your computer. The first cell you run takes up to a
> minute while Python, NumPy and matplotlib load, and the first plot a few seconds more.
> Your edits are saved in this browser (same computer, same browser). To hand in, use
> *File > Download* and submit the downloaded `.ipynb` as it is."""
DEFAULT_OUT = "_site"
Log = Callable[[str], None]


class LiteBuildError(RuntimeError):
    """The site cannot be built; the message says why and what to do."""


# ---------------------------------------------------------------------------------------------
# small helpers


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _run(cmd: list[str], log: Log, **kwargs: Any) -> None:
    log("  $ " + " ".join(str(c) for c in cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise LiteBuildError(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def default_cache() -> Path:
    """BACKPROP_COURSE_CACHE, else $XDG_CACHE_HOME/backprop-course, else ~/.cache/...; + /lite."""
    base = os.environ.get("BACKPROP_COURSE_CACHE")
    if base:
        return Path(base) / "lite"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg or Path.home() / ".cache") / "backprop-course" / "lite"


def find_repo(start: Path | None = None) -> Path:
    """The repository to build from: the current folder or the one this package lives in."""
    for candidate in (start or Path.cwd(), Path(__file__).resolve().parents[1]):
        if (candidate / "lite" / "versions.toml").is_file() and (candidate / "notebooks").is_dir():
            return candidate.resolve()
    raise LiteBuildError("run this from a clone of the course repository (it needs notebooks/ "
                         "and lite/versions.toml), or pass --repo DIR")


def load_pins(repo: Path) -> dict[str, Any]:
    with open(repo / "lite" / "versions.toml", "rb") as f:
        return tomllib.load(f)


# ---------------------------------------------------------------------------------------------
# 1. build tools


def pip(bindir: Path) -> list[str]:
    """pip acting on the build environment (this interpreter's pip, so the environment needs
    no pip of its own: `venv --without-pip` works where ensurepip is missing, as on Debian)."""
    return [sys.executable, "-m", "pip", "--python", str(bindir / "python"),
            "--disable-pip-version-check"]


def build_venv(cache: Path, pins: dict[str, Any], log: Log) -> Path:
    """A virtual environment in the cache with the pinned build tools; returns its bin dir."""
    reqs = [f"{name}{v if v[0] in '<>=!~' else '==' + v}" for name, v in pins["build"].items()]
    key = hashlib.sha256("\n".join(sorted(reqs)).encode()).hexdigest()[:12]
    venv = cache / f"venv-{key}"
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    if (venv / ".complete").exists():
        return bindir
    log(f"build tools -> {venv}")
    shutil.rmtree(venv, ignore_errors=True)
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], log)
    _run([*pip(bindir), "install", "-q", *reqs], log)
    (venv / ".complete").write_text("\n".join(reqs) + "\n")
    return bindir


@contextlib.contextmanager
def cache_lock(cache: Path) -> Iterator[None]:
    """One build at a time fills the cache (parallel test workers share it)."""
    cache.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    with open(cache / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------------
# 2. Pyodide core from npm


def pyodide_core(cache: Path, pins: dict[str, Any], log: Log) -> Path:
    """The npm tarball of pyodide@<version>, sha256-checked; returns its path."""
    version = pins["pyodide"]["version"]
    dest = cache / "npm"
    tgz = dest / f"pyodide-{version}.tgz"
    want = pins["pyodide"]["npm_sha256"]
    if not tgz.exists() or sha256_file(tgz) != want:
        log(f"Pyodide {version} core files: npm pack pyodide@{version}")
        dest.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise LiteBuildError("npm is needed to download Pyodide's core files "
                                 "(install Node.js 18 or newer)")
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            _run([npm, "pack", f"pyodide@{version}", "--pack-destination", tmp,
                  "--silent"], log, cwd=tmp)
            got = Path(tmp) / f"pyodide-{version}.tgz"
            if not got.exists():
                raise LiteBuildError(f"npm pack did not produce {got.name}")
            os.replace(got, tgz)
    digest = sha256_file(tgz)
    if digest != want:
        raise LiteBuildError(f"{tgz} has sha256 {digest}, lite/versions.toml pins {want}")
    return tgz


def read_core(tgz: Path) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The runtime files of the npm package (no source maps, no type stubs) and its lock."""
    files: dict[str, bytes] = {}
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            name = member.name.split("/", 1)[-1]
            if not member.isfile() or "/" in name or name.endswith((".map", ".d.ts")):
                continue
            if name in ("package.json", "README.md", "console.html"):
                continue
            files[name] = tar.extractfile(member).read()
    if LOCK not in files:
        raise LiteBuildError(f"{tgz.name} has no {LOCK}")
    return files, json.loads(files[LOCK])


def closure(lock: dict[str, Any], roots: Iterable[str]) -> list[str]:
    """The lock's package names needed for `roots`, dependencies included, sorted."""
    packages = {_canonical(k): k for k in lock["packages"]}
    seen: set[str] = set()
    stack = [_canonical(r) for r in roots]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        if name not in packages:
            raise LiteBuildError(f"{name} is not in Pyodide's lock")
        seen.add(name)
        stack += [_canonical(d) for d in lock["packages"][packages[name]]["depends"]]
    return sorted(packages[n] for n in seen)


# ---------------------------------------------------------------------------------------------
# 3. the official Pyodide wheels, verified against the lock


def _members(path: Path) -> Iterable[tuple[str, Callable[[], bytes]]]:
    """(basename, reader) of every file inside a wheel/zip/tarball, or in a folder."""
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                yield p.name, p.read_bytes
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.is_dir():
                    yield info.filename.rsplit("/", 1)[-1], (lambda i=info: z.read(i))
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as tar:
            for m in tar:
                if m.isfile():
                    yield m.name.rsplit("/", 1)[-1], (lambda m=m: tar.extractfile(m).read())


def pyodide_wheels(cache: Path, pins: dict[str, Any], lock: dict[str, Any], names: list[str],
                   bindir: Path, extra_sources: list[Path], log: Log) -> dict[str, dict]:
    """Every file of `names` in cache/wheels, sha256 as in the lock.

    Returns {file_name: {"sha256", "source"}}. Files already in the cache are re-hashed;
    missing ones are looked for in `extra_sources` (local folders or archives), then in the
    pip packages listed in versions.toml (downloaded into cache/sources).
    """
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    provenance_file = wheels / "SOURCES.json"
    provenance = json.loads(provenance_file.read_text()) if provenance_file.exists() else {}
    want = {lock["packages"][n]["file_name"]: lock["packages"][n]["sha256"] for n in names}
    found: dict[str, dict] = {}
    for fname, digest in want.items():
        path = wheels / fname
        if path.exists() and sha256_file(path) == digest:
            found[fname] = {"sha256": digest,
                            "source": provenance.get(fname, {}).get("source", "cache")}

    def take(source: Path, label: str) -> None:
        for base, read in _members(source):
            if base in want and base not in found:
                data = read()
                if hashlib.sha256(data).hexdigest() == want[base]:
                    _write_atomic(wheels / base, data)
                    found[base] = {"sha256": want[base], "source": label}
                else:
                    log(f"  rejected {base} from {label}: sha256 differs from the lock")

    for source in extra_sources:
        if len(found) == len(want):
            break
        if not source.exists():
            raise LiteBuildError(f"--pyodide-wheels {source}: not found")
        take(source, str(source))
    for requirement in pins["pyodide"].get("wheel_sources", []):
        if len(found) == len(want):
            break
        log(f"Pyodide wheels: pip download {requirement}")
        dest = cache / "sources" / re.sub(r"[^A-Za-z0-9._-]+", "_", requirement)
        dest.mkdir(parents=True, exist_ok=True)
        try:
            if not any(dest.iterdir()):
                _run([*pip(bindir), "download", "-q", "--no-deps", "-d", str(dest),
                      requirement], log)
        except LiteBuildError as exc:
            log(f"  source unavailable: {str(exc).splitlines()[0]}")
            continue
        for archive in sorted(dest.iterdir()):
            take(archive, f"pypi:{requirement}")
    missing = sorted(set(want) - set(found))
    if missing:
        raise LiteBuildError(
            "these official Pyodide files were not found with the sha256 of the lock: "
            + ", ".join(missing) + ".\nDownload the official release "
            f"(pyodide-{pins['pyodide']['version']}.tar.bz2 from "
            "https://github.com/pyodide/pyodide/releases), unpack it and pass the folder with "
            "--pyodide-wheels DIR (see docs/browser.md).")
    provenance.update({k: v for k, v in found.items() if v["source"] != "cache"})
    _write_atomic(provenance_file, json.dumps(provenance, indent=1, sort_keys=True).encode())
    return found


# ---------------------------------------------------------------------------------------------
# 4. pure-Python wheels for the kernel: ipywidgets, comm, the course


def _lock_entry(name: str, version: str, file_name: str, digest: str, imports: list[str],
                depends: list[str]) -> dict[str, Any]:
    return {"name": name, "version": version, "file_name": file_name, "install_dir": "site",
            "sha256": digest, "package_type": "package", "imports": imports,
            "depends": depends, "unvendored_tests": False}


def kernel_wheels(cache: Path, pins: dict[str, Any], bindir: Path,
                  log: Log) -> dict[str, tuple[Path, dict[str, Any]]]:
    """ipywidgets and comm from PyPI, hash-checked: {name: (path, lock entry)}."""
    dest = cache / "pypi"
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    todo: list[str] = []
    for name, spec in pins["kernel"].items():
        stem = f"{name.replace('-', '_')}-{spec['version']}-"
        hits = [p for p in dest.glob(f"{stem}*.whl") if sha256_file(p) == spec["sha256"]]
        if not hits:
            todo.append(f"{name}=={spec['version']} --hash=sha256:{spec['sha256']}")
    if todo:
        log("kernel wheels: pip download " + ", ".join(t.split()[0] for t in todo))
        req = dest / "requirements.txt"
        req.write_text("\n".join(todo) + "\n")
        _run([*pip(bindir), "download", "-q", "--no-deps", "--only-binary=:all:",
              "--require-hashes", "-r", str(req), "-d", str(dest)], log)
    for name, spec in pins["kernel"].items():
        stem = f"{name.replace('-', '_')}-{spec['version']}-"
        hits = [p for p in dest.glob(f"{stem}*.whl") if sha256_file(p) == spec["sha256"]]
        if not hits:
            raise LiteBuildError(f"{name} {spec['version']}: no wheel with the pinned sha256")
        out[name] = (hits[0], _lock_entry(name, spec["version"], hits[0].name, spec["sha256"],
                                          spec["imports"], spec["depends"]))
    return out


def course_wheel(repo: Path, pins: dict[str, Any], bindir: Path, work: Path,
                 log: Log) -> tuple[Path, dict[str, Any]]:
    """A wheel of the repository's `course` package, built from a copy (the tree stays clean)."""
    src = work / "course-src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(repo / name, src / name)
    shutil.copytree(repo / "course", src / "course",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "*.tmp"))
    dist = work / "course-dist"
    _run([*pip(bindir), "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist),
          str(src)], log)
    (wheel,) = dist.glob("*.whl")
    version = wheel.name.split("-")[1]
    entry = _lock_entry("backprop-course", version, wheel.name, sha256_file(wheel),
                        pins["course"]["imports"], pins["course"]["depends"])
    return wheel, entry


# ---------------------------------------------------------------------------------------------
# 5. the site


def site_notebook(path: Path) -> dict[str, Any]:
    """A learner notebook as the site serves it: a browser note first, the Pyodide kernel."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    note = {"cell_type": "markdown", "id": "browser-note",
            "metadata": {"tags": [NOTE_TAG], "deletable": True, "editable": False},
            "source": BROWSER_NOTE}
    if not any("id" in cell for cell in nb["cells"]):  # nbformat 4.4 and older: no cell ids
        del note["id"]
    nb["cells"].insert(0, note)
    nb["metadata"]["kernelspec"] = {"name": "python", "display_name": "Python (Pyodide)",
                                    "language": "python"}
    return nb


def write_contents(repo: Path, dest: Path) -> list[str]:
    """Copy the learner notebooks (and any files beside them) into `dest`; return their paths."""
    notebooks = []
    for folder in sorted(p for p in (repo / "notebooks").iterdir() if p.is_dir()):
        for f in sorted(folder.rglob("*")):
            if not f.is_file() or "__pycache__" in f.parts or ".ipynb_checkpoints" in f.parts:
                continue
            target = dest / f.relative_to(repo / "notebooks")
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.suffix == ".ipynb":
                target.write_text(json.dumps(site_notebook(f), indent=1, ensure_ascii=False)
                                  + "\n", encoding="utf-8")
                notebooks.append(target.relative_to(dest).as_posix())
            else:
                shutil.copy2(f, target)
    if not notebooks:
        raise LiteBuildError(f"no notebooks in {repo / 'notebooks'}")
    return notebooks


def lite_config(preload: list[str]) -> dict[str, Any]:
    """jupyter-lite.json of the build folder: Pyodide from the site only, no PyPI."""
    return {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "backprop-course",
            "disabledExtensions": ["@jupyterlab/apputils-extension:announcements"],
            "litePluginSettings": {
                KERNEL_PLUGIN: {
                    "disablePyPIFallback": True,
                    "loadPyodideOptions": {"packages": preload},
                },
            },
        },
    }


def check_site(out: Path) -> dict[str, Any]:
    """Check a built site; returns its lock. Raises LiteBuildError on any problem."""
    config = json.loads((out / "jupyter-lite.json").read_text())
    settings = config["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN]
    if settings.get("pyodideUrl") != "./static/pyodide/pyodide.js":
        raise LiteBuildError(f"pyodideUrl is {settings.get('pyodideUrl')!r}, not the local copy")
    lock = json.loads((out / "static" / "pyodide" / LOCK).read_text())
    for name, entry in lock["packages"].items():
        path = out / "static" / "pyodide" / entry["file_name"]
        if not path.exists():
            raise LiteBuildError(f"{name}: {entry['file_name']} is missing from the site")
        if sha256_file(path) != entry["sha256"]:
            raise LiteBuildError(f"{name}: {entry['file_name']} does not match the lock")
    return lock


def build(out: Path, *, repo: Path | None = None, cache: Path | None = None,
          pyodide_wheels_dirs: Iterable[Path] = (), log: Log = print) -> dict[str, Any]:
    """Build the site into `out` (replaced if it is an earlier build); returns the manifest."""
    t0 = time.monotonic()
    repo = find_repo(repo)
    cache = (cache or default_cache()).resolve()
    out = out.resolve()
    pins = load_pins(repo)
    if out == repo or repo in out.parents and out.name in ("notebooks", "course", "solutions"):
        raise LiteBuildError(f"refusing to build into {out}")
    if out.exists():
        if (out / "jupyter-lite.json").exists() or (out / MANIFEST).exists():
            shutil.rmtree(out)  # always build clean
        elif any(out.iterdir()):
            raise LiteBuildError(f"{out} exists and is not an earlier site build: "
                                 "choose an empty or new folder")

    with cache_lock(cache):
        bindir = build_venv(cache, pins, log)
        tgz = pyodide_core(cache, pins, log)
        core_files, official_lock = read_core(tgz)
        names = closure(official_lock, pins["pyodide"]["packages"])
        sources = pyodide_wheels(cache, pins, official_lock, names, bindir,
                                 [Path(p) for p in pyodide_wheels_dirs], log)
        extras = kernel_wheels(cache, pins, bindir, log)

    with tempfile.TemporaryDirectory(prefix="backprop-lite-") as tmp:
        work = Path(tmp)
        lite_dir = work / "lite"
        pyodide_dir = lite_dir / "static" / "pyodide"  # the addon's "well-known" local Pyodide
        pyodide_dir.mkdir(parents=True)
        for name, data in core_files.items():
            if name != LOCK:
                (pyodide_dir / name).write_bytes(data)
        lock = {"info": official_lock["info"], "packages": {}}
        for name in names:
            entry = official_lock["packages"][name]
            shutil.copy2(cache / "wheels" / entry["file_name"], pyodide_dir / entry["file_name"])
            lock["packages"][name] = entry
        for name, (path, entry) in extras.items():
            shutil.copy2(path, pyodide_dir / path.name)
            lock["packages"][name] = entry
            sources[path.name] = {"sha256": entry["sha256"], "source": f"pypi:{name}"}
        wheel, entry = course_wheel(repo, pins, bindir, work, log)
        shutil.copy2(wheel, pyodide_dir / wheel.name)
        lock["packages"]["backprop-course"] = entry
        sources[wheel.name] = {"sha256": entry["sha256"], "source": "this repository"}
        (pyodide_dir / LOCK).write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")

        contents = work / "contents"
        notebooks = write_contents(repo, contents)
        preload = ["micropip", "ssl", "sqlite3", "comm", "ipython", "jedi", "backprop-course"]
        (lite_dir / "jupyter-lite.json").write_text(json.dumps(lite_config(preload), indent=1))
        staging = work / "site"
        log(f"jupyter lite build -> {out}")
        _run([str(bindir / "jupyter-lite"), "build", "--lite-dir", str(lite_dir),
              "--contents", str(contents), "--output-dir", str(staging), "--no-sourcemaps",
              "--no-unused-shared-packages"], log, cwd=lite_dir,
             env={**os.environ, "PYTHONNOUSERSITE": "1"})
        for trash in staging.rglob(".jupyterlite.doit.db*"):
            trash.unlink()
        (staging / ".nojekyll").write_text("")  # GitHub Pages: serve every file as it is
        check_site(staging)
        manifest = {
            "pyodide": pins["pyodide"]["version"],
            "build": pins["build"],
            "notebooks": notebooks,
            "files": dict(sorted(sources.items())),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    log(f"site ready in {time.monotonic() - t0:.0f} s: {out} ({size / 2**20:.0f} MB, "
        f"{len(notebooks)} notebooks)\n"
        f"try it: python3 -m http.server -d {out} -b 127.0.0.1 8000  "
        "-> http://127.0.0.1:8000/lab/index.html")
    return manifest


# ---------------------------------------------------------------------------------------------
# CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="lite_command", metavar="ACTION", required=True)
    b = sub.add_parser("build", help="build the self-contained browser site",
                       description="Build the course as a static JupyterLite site that runs "
                                   "entirely in the browser (see docs/browser.md).")
    b.add_argument("--out", type=Path, default=Path(DEFAULT_OUT),
                   help=f"output folder, replaced if it holds an earlier build "
                        f"(default: ./{DEFAULT_OUT})")
    b.add_argument("--repo", type=Path, default=None,
                   help="the course repository (default: the current folder)")
    b.add_argument("--cache", type=Path, default=None,
                   help="download cache (default: ~/.cache/backprop-course/lite, or "
                        "$BACKPROP_COURSE_CACHE/lite)")
    b.add_argument("--pyodide-wheels", type=Path, action="append", default=[], metavar="DIR",
                   help="a folder or archive with official Pyodide wheels (for example the "
                        "unpacked Pyodide release); checked against the official lock")


def run(args: argparse.Namespace) -> int:
    try:
        build(args.out, repo=args.repo, cache=args.cache,
              pyodide_wheels_dirs=args.pyodide_wheels)
    except LiteBuildError as exc:
        print(f"backprop-course lite build: {exc}", file=sys.stderr)
        return 1
    return 0
