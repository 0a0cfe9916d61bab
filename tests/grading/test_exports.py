"""Canvas / Moodle CSV and Gradescope JSON exports of a generated class with hostile rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import generated_class as g
import pytest

from course.cli import main as cli_main
from course.grading import exports

FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _expected_id(sid: str) -> str:
    """What an id looks like after export: control characters (not tab/CR/LF) become spaces."""
    return exports._CONTROL.sub(" ", sid)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = g.write_output(tmp_path_factory.mktemp("graded"))
    assert cli_main(["export", str(out)]) == 0
    return out


def _read(path: Path, *, bom: bool) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == bom
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text  # RFC 4180 line ends
    return list(csv.reader(io.StringIO(text, newline="")))


def _no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA), (cell, row)


@pytest.mark.parametrize(("value", "cell"), [
    ("=cmd()", "'=cmd()"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("＝1+1", "'＝1+1"), ("alice", "alice"), ("a=b", "a=b"),
    (3.0, "3"), (7.5, "7.5"), (1 / 3, "0.3333"), (0, "0"), (None, ""), ("x\x1by", "x y"),
    ("'=x", "'=x"), ("josé", "josé"),
])
def test_escape_cell(value: object, cell: str) -> None:
    assert exports.escape_cell(value) == cell
    if isinstance(value, str) and value.startswith(FORMULA):
        assert exports.unescape_cell(cell) == value


def test_canvas_csv(out: Path) -> None:
    rows = _read(out / "exports" / "canvas.csv", bom=True)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", g.ASSIGNMENT]
    assert rows[1] == ["    Points Possible", "", "", "", "", "10"]
    body = rows[2:]
    assert len(body) == len(g.STUDENTS)
    assert all(len(r) == len(rows[0]) for r in rows)
    _no_formula(rows[1:])
    got = {exports.unescape_cell(r[3]): float(r[5]) for r in body}
    assert got == {_expected_id(s): g.row_for(s)["score"] for s in g.STUDENTS}
    assert all(r[0] == r[1] == r[2] == "" for r in body)


@pytest.mark.parametrize(("choice", "column"), [("id", 1), ("sis_user_id", 2)])
def test_canvas_id_column_is_configurable(tmp_path: Path, choice: str, column: int) -> None:
    out = g.write_output(tmp_path / "o")
    exports.write_exports(out, tmp_path / "x", canvas_id=choice,
                          canvas_assignment="03 Linear layer (4711)", report=False)
    rows = _read(tmp_path / "x" / "canvas.csv", bom=True)
    assert rows[0][-1] == "03 Linear layer (4711)"
    assert {exports.unescape_cell(r[column]) for r in rows[2:]} == \
        {_expected_id(s) for s in g.STUDENTS}


def test_moodle_csv(out: Path) -> None:
    rows = _read(out / "exports" / "moodle.csv", bom=False)
    gids = [i[0] for i in g.ITEMS]
    assert rows[0] == ["ID number", g.ASSIGNMENT, *[f"{g.ASSIGNMENT}: {x}" for x in gids],
                       "Feedback"]
    assert len(rows) == 1 + len(g.STUDENTS)
    assert all(len(r) == len(rows[0]) for r in rows)
    _no_formula(rows[1:])
    by_id = {exports.unescape_cell(r[0]): r for r in rows[1:]}
    for s in g.STUDENTS:
        r = by_id[_expected_id(s)]
        row = g.row_for(s)
        assert float(r[1]) == row["score"]
        results = {x["grade_id"]: x for x in g.results_for(s)}
        for k, gid in enumerate(gids):
            want = results[gid]["points"] if gid in results else row[gid]
            assert float(r[2 + k]) == want, (s, gid)
        assert r[-1].startswith(f"{row['status']}: ")
        assert "\n" not in r[-1]


def test_gradescope_results(out: Path) -> None:
    files = sorted((out / "exports" / "gradescope").glob("*/results.json"))
    assert len(files) == len(g.STUDENTS)
    seen = set()
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        sid = data["extra_data"]["student_id"]
        seen.add(sid)
        row, results = g.row_for(sid), g.results_for(sid)
        assert data["score"] == row["score"]
        assert len(data["tests"]) == len(results)
        assert sum(t["score"] for t in data["tests"]) == pytest.approx(row["score"])
        for t, r in zip(data["tests"], results, strict=True):
            assert set(t) >= {"name", "score", "max_score", "output", "visibility"}
            assert t["max_score"] == r["max_points"] and t["score"] == r["points"]
            assert t.get("status") == {True: "passed", False: "failed", None: None}[r["passed"]]
            assert r["message"] in t["output"]
        assert row["status"] in data["output"]
        assert path.parent.name == g.safe_key(sid)  # the grader's collision-free key
    assert seen == set(g.STUDENTS)


def test_students_only_in_grades_csv_are_exported(tmp_path: Path) -> None:
    out = g.write_output(tmp_path / "o")
    (out / "results" / f"{g.safe_key('=cmd()')}.json").unlink()
    exports.write_exports(out, report=False)
    rows = _read(out / "exports" / "canvas.csv", bom=True)
    assert "'=cmd()" in [r[3] for r in rows]  # read back from grades.csv, escaped once
    assert len(rows) == 2 + len(g.STUDENTS)


def test_single_gradescope_results_for_the_autograder(tmp_path: Path) -> None:
    out = tmp_path / "one"
    (out / "results").mkdir(parents=True)
    entry = {"row": g.row_for("bob"), "results": g.results_for("bob")}
    (out / "results" / "bob.json").write_text(json.dumps(entry))
    target = tmp_path / "autograder" / "results" / "results.json"
    assert cli_main(["export", str(out), "--gradescope-results", str(target)]) == 0
    data = json.loads(target.read_text())
    assert data["score"] == 4.0 and len(data["tests"]) == 5
    many = g.write_output(tmp_path / "many")
    assert cli_main(["export", str(many), "--gradescope-results", str(target)]) == 1


def test_export_refuses_a_folder_without_grades(tmp_path: Path, capsys) -> None:
    assert cli_main(["export", str(tmp_path)]) == 2
    assert "backprop-course grade" in capsys.readouterr().err


def test_export_rewrites_the_class_report(out: Path) -> None:
    data = json.loads((out / "class-report.json").read_text(encoding="utf-8"))
    assert data["students"] == len(g.STUDENTS)
    assert data["statuses"] == g.EXPECTED["statuses"]
