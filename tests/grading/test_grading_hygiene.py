"""Gradebook hygiene (issue 11, item 6): hostile student ids, a hostile class zip, unparseable
notebooks, private output folders and lock files.  No sandbox needed: fast."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import struct
import types
import unicodedata
import warnings
import zipfile
from pathlib import Path

import pytest

from course.grading import gradebook as G
from course.grading import submissions as S
from course.grading.assignment import SubmissionError

NAME = "03-linear-layer"
NB = f"{NAME}.ipynb"
ASSIGNMENT = types.SimpleNamespace(
    name=NAME, notebook=NB, tests=[("test_linear_forward", 2.0), ("test_linear_backward", 4.0)])

HOSTILE_IDS = [
    '=HYPERLINK("http://evil.example","click")', "+1", "-x", "@a", "\tTAB", "\rCR",
    "josé", "jos_", "jose", "x y", "x_y", "\x1b[2J", "a\u202eb", "alice", "Alice", "ALICE",
    ".cache", "grades.csv", "grades", "results", "feedback", "..", ".", "", "_self_check",
    "con", "CON.txt", "x" * 300, "x" * 301, "é" * 200, "a/b", "a\\b", "a\nb", "a\x00b",
    "\udcff", "jos_-0123456789abcdef", "a\u200db", "\u2028", "0", "-", "_",
]


def notebook(text: str = "x = 1") -> bytes:
    cell = {"cell_type": "code", "metadata": {}, "source": text, "outputs": [],
            "execution_count": None}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                       "nbformat_minor": 5}).encode()


# --- safe names --------------------------------------------------------------------------------
def test_safe_names_never_collide_even_ignoring_case():
    names = [S.safe_name(sid) for sid in HOSTILE_IDS]
    assert len(set(names)) == len(HOSTILE_IDS)
    assert len({n.casefold() for n in names}) == len(HOSTILE_IDS)
    for n in names:
        assert n and not n.startswith((".", "-", "_"))
        assert all(c.isascii() and (c.isalnum() or c in "_-") for c in n), n
        assert len(n.encode()) <= 80
        assert n not in {".cache", "grades.csv", "results", "feedback", "..", ".", "grades",
                         "_self_check", "con", ".lock"}


def test_safe_names_are_stable_and_readable():
    assert S.safe_name("alice") == "alice"
    assert S.safe_name("output-flood") == "output-flood"
    assert S.safe_name("s_0042") == "s_0042"
    assert S.safe_name("josé") == S.safe_name("josé")
    assert S.safe_name("josé").startswith("jose-")
    assert S.safe_name("jos_") == "jos_"
    assert S.safe_name("x_y") == "x_y" != S.safe_name("x y")
    assert S.safe_name("Alice") != S.safe_name("alice")
    # unicode normalisation does not merge ids either: NFC and NFD josé are different ids
    nfd = unicodedata.normalize("NFD", "josé")
    assert S.safe_name(nfd) != S.safe_name("josé")


def test_feedback_result_and_cache_paths_are_distinct_on_disk(tmp_path):
    paths = set()
    for sid in HOSTILE_IDS:
        for path in (G.feedback_path(tmp_path, sid, NAME), G.results_path(tmp_path, sid),
                     G.cache_path(tmp_path, NAME, sid)):
            assert path.resolve().is_relative_to(tmp_path.resolve())
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(sid.encode("utf-8", "surrogatepass").hex())
            paths.add(path)
    assert len(paths) == 3 * len(HOSTILE_IDS)
    for sid in HOSTILE_IDS:  # nobody overwrote anybody
        want = sid.encode("utf-8", "surrogatepass").hex()
        assert G.feedback_path(tmp_path, sid, NAME).read_text() == want
        assert G.cache_path(tmp_path, NAME, sid).read_text() == want
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache", "feedback", "results"]
    assert sorted(p.name for p in (tmp_path / ".cache").iterdir()) == [NAME]


# --- terminal ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sid", HOSTILE_IDS + ["\x9b31m", "\x85", "a\u2066b\u2069",
                                                "\u061c", "\x7f"])
def test_display_id_has_no_control_characters(sid):
    shown = S.display_id(sid)
    assert shown
    for ch in shown:
        assert ch.isprintable() and ch not in "\x1b\r\n\t", repr(shown)
        assert unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Cs")


def test_display_id_shows_what_was_replaced():
    assert S.display_id("\x1b[2J") == "\\x1b[2J"
    assert S.display_id("a\u202eb") == "a\\u202eb"
    assert S.display_id("line\nforged: 8/8") == "line\\x0aforged: 8/8"
    assert S.display_id("josé") == "josé"
    assert S.display_id("") == "(empty id)"
    assert len(S.display_id("x" * 500)) == 80


# --- grades.csv --------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "cell"), [
    ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
    ("+1", "'+1"), ("-x", "'-x"), ("@a", "'@a"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("=1+1", "'=1+1"), ("alice", "alice"), ("a=b", "a=b"), ("", ""), (None, ""),
    (4.0, "4"), (1.5, "1.5"), (-1.0, "-1"), (-0.0, "0"), (0, "0"), (-3, "-3"), (True, "True"),
])
def test_escape_cell(value, cell):
    assert G.escape_cell(value) == cell


def test_grades_csv_has_no_formulas_and_numeric_scores(tmp_path):
    rows = []
    for i, sid in enumerate(HOSTILE_IDS):
        rows.append({"student_id": sid, "assignment": NAME, "score": float(i % 7),
                     "max_score": 6.0, "status": "graded", "detail": "-1 point: =SUM(A1)",
                     "test_linear_forward": 2.0, "test_linear_backward": -0.0 if i else 4.0,
                     "similarity_reference": 0.42})
    path = tmp_path / "grades.csv"
    G.write_csv(path, ASSIGNMENT, rows, extra_columns=["similarity_reference"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
        table = list(csv.reader(fh))
    header, body = table[0], table[1:]
    assert header == G.BASE_COLUMNS + ["test_linear_forward", "test_linear_backward",
                                       "similarity_reference"]
    assert len(body) == len(HOSTILE_IDS)
    for line in body:
        for value in line:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), line
        rec = dict(zip(header, line, strict=True))
        float(rec["score"]), float(rec["max_score"]), float(rec["test_linear_forward"])
        assert float(rec["similarity_reference"]) == 0.42
        assert rec["detail"] == "'-1 point: =SUM(A1)"
    ids = {r["student_id"] for r in (dict(zip(header, line, strict=True)) for line in body)}
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in ids
    assert {"'+1", "'-x", "'@a", "josé", "jos_", "x y", "x_y"} <= ids


# --- cache rows --------------------------------------------------------------------------------
def test_cache_rows_carry_their_own_student_id(tmp_path):
    row = {"student_id": "josé", "score": 6.0, "status": "graded"}
    entry = G.cache_path(tmp_path, NAME, "josé")
    G.atomic_write(entry, G.cache_entry("k1", "josé", row))
    assert G.load_cached_row(entry, "k1", "josé")["student_id"] == "josé"
    assert G.load_cached_row(entry, "k2", "josé") is None  # stale key
    # the same file offered for another student (an old run's name clash, a copied notebook
    # with the same key): never used
    assert G.load_cached_row(entry, "k1", "jos_") is None
    other = G.cache_path(tmp_path, NAME, "jos_")
    assert other != entry
    other.write_text(entry.read_text())
    assert G.load_cached_row(other, "k1", "jos_") is None
    # a row that names someone else inside is rewritten to the right id
    G.atomic_write(other, json.dumps({"key": "k1", "student_id": "jos_",
                                      "row": {"student_id": "josé", "score": 1.0}}))
    assert G.load_cached_row(other, "k1", "jos_") == {"student_id": "jos_", "score": 1.0}
    for bad in ("", "[]", "{", "[" * 100000, '{"key": "k1"}'):
        other.write_text(bad)
        assert G.load_cached_row(other, "k1", "jos_") is None


def test_atomic_write_does_not_follow_a_planted_link(tmp_path):
    target = tmp_path / "victim"
    target.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    path = out / "grades.csv"
    os.symlink(target, out / f".grades.csv.{os.getpid()}.{__import__('threading').get_ident()}.tmp")
    G.atomic_write(path, "new")
    assert target.read_text() == "keep"
    assert path.read_text() == "new" and not path.is_symlink()


# --- notebooks ---------------------------------------------------------------------------------
def _nb(**top) -> bytes:
    return json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
                      | top).encode()


@pytest.mark.parametrize(("data", "words"), [
    (b"[" * 200_000 + b"]" * 200_000, "nested"),
    (b'{"cells": ' + b"[" * 200_000, "nested"),
    (b'{"a":' * 200_000 + b"1" + b"}" * 200_000, "nested"),
    (b'{"cells": [], "nbformat": 4, "x": ' + b"[" * 600 + b"]" * 600 + b"}", "nested"),
    (b"\xff\xfe{}", "UTF-8"),
    (b'{"cells": [], "nbformat": 4, "s": "\xc3\x28"}', "UTF-8"),
    (b"", "JSON"),
    (b"{", "JSON"),
    (b"1" * 5000, "JSON"),
    (b"null", "cells"),
    (b"[]", "cells"),
    (_nb(nbformat=3), "format"),
    (_nb(nbformat="4"), "format"),
    (_nb(nbformat=4.0), "format"),
    (_nb(nbformat=True), "format"),
    (_nb(metadata=[]), "metadata"),
    (_nb(cells=[1]), "cell 0"),
    (_nb(cells=[{"cell_type": "code", "source": 3}]), "cell 0"),
    (_nb(cells=[{"cell_type": "code", "source": ["a", 1]}]), "cell 0"),
    (_nb(cells=[{"cell_type": "code", "source": "", "metadata": {"nbgrader": []}}]), "cell 0"),
    (_nb(cells=[{"cell_type": "code", "source": "",
                 "metadata": {"nbgrader": {"grade_id": {"x": 1}}}}]), "cell 0"),
    (_nb(cells=[{"cell_type": "code", "source": "", "outputs": {}}]), "cell 0"),
    (_nb(cells=[{"cell_type": "evil", "source": ""}]), "cell 0"),
    ("not bytes", "not a notebook"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "data")
def test_unparseable_notebooks_are_malformed(data, words):
    with pytest.raises(SubmissionError) as err:
        S.parse_notebook_bytes(data)
    assert err.value.status == "malformed"
    assert words in err.value.detail


def test_huge_notebook_is_malformed():
    with pytest.raises(SubmissionError) as err:
        S.parse_notebook_bytes(b" " * (S.MAX_NOTEBOOK_BYTES + 1))
    assert err.value.status == "malformed" and "limit" in err.value.detail


def test_good_notebooks_parse():
    nb = S.parse_notebook_bytes(notebook("print('hi')"))
    assert nb["cells"][0]["source"] == "print('hi')"
    assert S.parse_notebook_bytes(b"\xef\xbb\xbf" + notebook())["nbformat"] == 4  # a BOM
    assert S.parse_notebook_bytes(_nb(cells=[{"cell_type": "markdown", "source": ["a", "b"],
                                              "metadata": {"nbgrader": {"grade_id": "q"}}}]))
    assert S.parse_notebook_bytes(bytearray(notebook()))


def test_load_notebook_reports_the_read_problem():
    sub = S.Submission("s", {NB: notebook()})
    assert S.load_notebook(sub, ASSIGNMENT)["nbformat"] == 4
    sub.fail("cannot read s/x.ipynb from the zip: Bad CRC-32")
    with pytest.raises(SubmissionError) as err:
        S.load_notebook(sub, ASSIGNMENT)
    assert (err.value.status, err.value.detail) == ("malformed", sub.problem)
    with pytest.raises(SubmissionError) as err:
        S.load_notebook(S.Submission("t", {}), ASSIGNMENT)
    assert err.value.status == "missing"


# --- a hostile class zip -----------------------------------------------------------------------
def _patch_member(data: bytearray, name: str, *, compress_size: int | None = None,
                  file_size: int | None = None, flag_or: int = 0) -> None:
    """Rewrite sizes/flags of ``name`` in its local header and central directory entry."""
    raw = name.encode()
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        n = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46:pos + 46 + n]) == raw:
            local = struct.unpack_from("<I", data, pos + 42)[0]
            for hdr, flag_at, csize_at, usize_at in ((pos, 8, 20, 24), (local, 6, 18, 22)):
                flags = struct.unpack_from("<H", data, hdr + flag_at)[0]
                struct.pack_into("<H", data, hdr + flag_at, flags | flag_or)
                if compress_size is not None:
                    struct.pack_into("<I", data, hdr + csize_at, compress_size)
                if file_size is not None:
                    struct.pack_into("<I", data, hdr + usize_at, file_size)
            return
        pos += 4
    raise AssertionError(f"{name} not in the zip")


@pytest.fixture(scope="module")
def hostile_zip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("zip") / "class.zip"
    good = notebook("y = 2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for sid in ["alice", "josé", "jos_", "x y", "x_y", "=HYPERLINK(\"evil\")", "+1",
                        "-x", "@a", "\x1b[2J", "a\u202eb", "grace", "Alice"]:
                zf.writestr(f"{sid}/{NB}", notebook(f"owner = {sid!r}"))
            zf.writestr(f"bob/{NB}", good, compress_type=zipfile.ZIP_STORED)  # bad CRC below
            zf.writestr(f"carol/{NB}", notebook("z = 3" * 2000))  # truncated below
            zf.writestr(f"dave/{NB}", good)
            zf.writestr("dave/data.bin", b"\0" * (17 * 2**20))  # a real bomb: ratio ~1000
            zf.writestr(f"erin/{NB}", good)
            zf.writestr("erin/big.bin", b"small")  # declares 3 GiB below
            zf.writestr(f"frank/{NB}", good)
            zf.writestr(f"frank/../grace/{NB}", notebook("stolen = 1"))  # climbs out
            link = zipfile.ZipInfo(f"gina/{NB}")
            link.create_system = 3
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(link, "../alice/" + NB)
            zf.writestr(f"hank/{NB}", good)
            zf.writestr(f"hank/{NB}", notebook("second = 1"))  # the same name twice
            zf.writestr(f"ivan/{NB}", good)  # encrypted below
            zf.writestr(f"judy/{NB}", good)
            zf.writestr("judy/sub/../../alice/x.py", "evil")  # climbs into a classmate
            zf.writestr("../outside.ipynb", good)  # nobody's
            zf.writestr("/abs/evil.ipynb", good)  # nobody's
            zf.writestr("README.txt", "a stray file")  # nobody's
            zf.writestr("__MACOSX/alice/._x", "")
            zf.writestr(f".hidden/{NB}", good)
            zf.writestr(f".hidden/other/{NB}", good)
            zf.writestr(".DS_Store", "")
    data = bytearray(path.read_bytes())
    # bob: flip a byte of the stored notebook: a bad CRC
    start = data.find(good, data.find(b"bob/" + NB.encode()))
    data[start + 5] ^= 0xFF
    # carol: the compressed stream ends early
    _patch_member(data, f"carol/{NB}", compress_size=10)
    _patch_member(data, "erin/big.bin", file_size=3 * 2**30)
    _patch_member(data, f"ivan/{NB}", flag_or=0x1)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def hostile_class(hostile_zip):
    warns: list[str] = []
    subs = {s.student_id: s for s in S.read_submissions(hostile_zip, NAME, warnings=warns)}
    return subs, warns


def test_hostile_zip_good_students_are_read_intact(hostile_class):
    subs, _ = hostile_class
    for sid in ["alice", "josé", "jos_", "x y", "x_y", "=HYPERLINK(\"evil\")", "+1", "-x",
                "@a", "\x1b[2J", "a\u202eb", "grace", "Alice"]:
        sub = subs[sid]
        assert not sub.problem, (sid, sub.problem)
        assert list(sub.files) == [NB]
        nb = S.load_notebook(sub, ASSIGNMENT)
        assert nb["cells"][0]["source"] == f"owner = {sid!r}"  # its own notebook, nobody else's
    assert "x.py" not in subs["alice"].files


@pytest.mark.parametrize(("sid", "words"), [
    ("bob", "CRC"),
    ("carol", "cannot read"),
    ("dave", "zip bomb"),
    ("erin", "zip bomb"),
    ("frank", "leaves the student's folder"),
    ("gina", "symbolic link"),
    ("hank", "twice"),
    ("ivan", "encrypted"),
    ("judy", "leaves the student's folder"),
])
def test_hostile_zip_bad_member_makes_only_its_student_malformed(hostile_class, sid, words):
    subs, _ = hostile_class
    sub = subs[sid]
    assert words in sub.problem, sub.problem
    assert sub.files == {}
    with pytest.raises(SubmissionError) as err:
        S.load_notebook(sub, ASSIGNMENT)
    assert err.value.status == "malformed"
    assert err.value.detail == sub.problem


def test_hostile_zip_strays_are_warnings_not_students(hostile_class):
    subs, warns = hostile_class
    expected = {"alice", "josé", "jos_", "x y", "x_y", "=HYPERLINK(\"evil\")", "+1", "-x", "@a",
                "\x1b[2J", "a\u202eb", "grace", "Alice", "bob", "carol", "dave", "erin",
                "frank", "gina", "hank", "ivan", "judy"}
    assert set(subs) == expected
    text = "\n".join(warns)
    assert "outside.ipynb" in text and "/abs/evil.ipynb" in text and "README.txt" in text
    assert text.count(".hidden in the zip: a hidden folder") == 1 and ".DS_Store" not in text
    for line in warns:
        assert "\x1b" not in line and "\u202e" not in line


def test_hostile_zip_digest_differs_for_a_broken_copy(hostile_class):
    subs, _ = hostile_class
    assert subs["bob"].digest() != S.Submission("bob").digest()


def test_unreadable_class_zip_is_one_clear_error(tmp_path):
    bad = tmp_path / "class.zip"
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr(f"alice/{NB}", notebook())
    bad.write_bytes(good.read_bytes()[:-30])  # no central directory end
    with pytest.raises(S.GradingError):
        S.read_submissions(bad, NAME)


def test_zip_with_one_top_folder_is_unwrapped(tmp_path):
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"export/alice/{NB}", notebook())
        zf.writestr(f"export/bob/{NAME}/{NB}", notebook())
        zf.writestr("export/carol/", "")
        zf.writestr(".DS_Store", "")
        zf.writestr("__MACOSX/export/._alice", "")
    subs = S.read_submissions(archive, NAME)
    assert [s.student_id for s in subs] == ["alice", "bob", "carol"]
    assert list(subs[1].files) == [f"{NAME}/{NB}"]
    assert subs[2].files == {} and not subs[2].problem


# --- a hostile class folder --------------------------------------------------------------------
def test_folder_never_follows_links_or_blocks_on_fifos(tmp_path):
    root = tmp_path / "class"
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor only")
    for sid in ("alice", "mallory", "josé", "jos_"):
        (root / sid).mkdir(parents=True)
        (root / sid / NB).write_bytes(notebook(f"owner = {sid!r}"))
    (root / "mallory" / "steal.txt").symlink_to(secret)
    (root / "mallory" / "peer.ipynb").symlink_to(root / "alice" / NB)
    (root / "mallory" / "linkdir").symlink_to(root / "alice")
    os.mkfifo(root / "mallory" / "pipe")
    (root / "mallory" / ".hidden").write_text("x")
    (root / "mallory" / "sub").mkdir()
    (root / "mallory" / "sub" / "ok.txt").write_text("fine")
    (root / ".cache").mkdir()
    (root / ".DS_Store").write_text("")
    (root / "README.txt").write_text("")
    out = root / "out"
    out.mkdir()
    warns: list[str] = []
    subs = {s.student_id: s for s in S.read_submissions(root, NAME, exclude=out, warnings=warns)}
    assert set(subs) == {"alice", "mallory", "josé", "jos_"}
    assert len(warns) == 2
    assert ".cache: a hidden folder" in warns[0] and "README.txt: a file outside" in warns[1]
    assert set(subs["mallory"].files) == {NB, "sub/ok.txt"}
    assert not subs["mallory"].problem
    assert S.load_notebook(subs["josé"], ASSIGNMENT)["cells"][0]["source"] == "owner = 'josé'"


def test_folder_over_the_limits_is_malformed(tmp_path, monkeypatch):
    monkeypatch.setattr(S, "MAX_STUDENT_BYTES", 1000)
    monkeypatch.setattr(S, "MAX_FILE_BYTES", 600)
    root = tmp_path / "class"
    (root / "big").mkdir(parents=True)
    (root / "big" / NB).write_bytes(notebook())
    (root / "big" / "a.bin").write_bytes(b"1" * 500)
    (root / "big" / "b.bin").write_bytes(b"1" * 500)
    (root / "skips").mkdir()
    (root / "skips" / NB).write_bytes(notebook())
    (root / "skips" / "huge.bin").write_bytes(b"1" * 700)
    subs = {s.student_id: s for s in S.read_submissions(root, NAME)}
    assert "more than" in subs["big"].problem
    assert not subs["skips"].problem and list(subs["skips"].files) == [NB]
    assert "huge.bin" in subs["skips"].skipped[0]


# --- private folders and locks -----------------------------------------------------------------
def test_output_folder_is_private(tmp_path):
    out = S.make_private_dir(tmp_path / "a" / "out")
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    os.chmod(loose, 0o777)
    S.make_private_dir(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


def test_private_folder_refuses_links_and_other_owners(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(S.GradingError, match="symbolic link"):
        S.make_private_dir(tmp_path / "link")
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        os.chown(theirs, 65534, 65534)
        with pytest.raises(S.GradingError, match="another user"):
            S.make_private_dir(theirs)


def test_lock_is_private_exclusive_and_reusable(tmp_path):
    out = tmp_path / "out"
    lock = S.open_lock(out)
    assert lock is not None
    assert stat.S_IMODE((out / ".lock").stat().st_mode) == 0o700
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600
    assert S.open_lock(out) is None  # held
    assert S.open_lock(out, "other") is not None
    lock.release()
    with S.open_lock(out) as again:
        assert again is not None


def test_lock_never_follows_a_planted_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    out = tmp_path / "out"
    (out / ".lock").mkdir(parents=True)
    (out / ".lock" / "grade.lock").symlink_to(victim)
    with pytest.raises(S.GradingError):
        S.open_lock(out)
    assert victim.read_text() == "keep"
    (out / ".lock" / "grade.lock").unlink()
    os.link(victim, out / ".lock" / "grade.lock")  # a hard link to someone's file
    with pytest.raises(S.GradingError, match="not a lock file"):
        S.open_lock(out)
    out2 = tmp_path / "out2"
    out2.mkdir()
    (out2 / ".lock").symlink_to(tmp_path)
    with pytest.raises(S.GradingError, match="symbolic link"):
        S.open_lock(out2)


def test_lock_name_cannot_escape():
    with pytest.raises(ValueError):
        S.open_lock(Path("/nonexistent"), "../x")


def test_csv_text_round_trips_through_a_spreadsheet_reader():
    text = G.csv_text(["student_id", "score"], [{"student_id": "=1+1", "score": 2.0}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["student_id", "score"], ["'=1+1", "2"]]
