"""The class report on a generated class whose mistakes are known in advance (generated_class)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import generated_class as g
import pytest
from support import require_chromium

from course.grading import report


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp("report")
    report.write_class_report(out, g.ASSIGNMENT, g.entries())
    data = json.loads((out / "class-report.json").read_text(encoding="utf-8"))
    page = (out / "class-report.html").read_text(encoding="utf-8")
    return out, data, page


def test_counts_match_the_rows(written) -> None:
    _, data, _ = written
    rows = [e["row"] for e in g.entries()]
    assert data["students"] == len(rows) == g.EXPECTED["students"]
    from_rows = {s: sum(r["status"] == s for r in rows) for s in report.STATUSES}
    assert data["statuses"] == from_rows == g.EXPECTED["statuses"]
    assert sum(data["scores"]["histogram"]["counts"]) == len(rows)
    assert data["scores"]["full_marks"] == g.EXPECTED["full_marks"]
    top = max(r["max_score"] for r in rows)
    mean = sum(100 * r["score"] / top for r in rows) / len(rows)
    assert data["scores"]["mean_percent"] == pytest.approx(mean, abs=0.01)


def test_pass_rates_and_ranked_mistakes_are_the_known_ones(written) -> None:
    _, data, _ = written
    by_id = {e["grade_id"]: e for e in data["exercises"]}
    assert list(by_id) == [i[0] for i in g.ITEMS]  # notebook order
    for gid, (passed, failed, manual, not_graded) in g.EXPECTED["counts"].items():
        e = by_id[gid]
        assert (e["passed"], e["failed"], e["manual"], e["not_graded"]) == \
            (passed, failed, manual, not_graded), gid
        assert e["pass_rate"] == (round(passed / (passed + failed), 4)
                                  if passed + failed else None)
        assert [(m["mistake"], m["students"]) for m in e["mistakes"]] == \
            g.EXPECTED["mistakes"][gid], gid
        assert e["unnamed"] == g.EXPECTED["unnamed"][gid], gid


def test_example_messages_are_anonymised(written) -> None:
    _, data, _ = written
    examples = [m["example"] for e in data["exercises"] for m in e["mistakes"]]
    assert examples
    for ex in examples:
        for sid in g.STUDENTS:
            assert sid not in ex, (sid, ex)
    # bob's message names him; the most common message of the tag is chosen anyway
    transposed = next(m for e in data["exercises"] for m in e["mistakes"]
                      if m["mistake"] == "transposed")
    assert transposed["example"] == g.MESSAGES["transposed"]
    # a group whose only message names its student: the name is replaced
    only_bob = [{"row": g.row_for("bob"), "results": g.results_for("bob")}]
    s = report.summarize(g.ASSIGNMENT, only_bob)
    ex = s["exercises"][1]["mistakes"][0]["example"]
    assert "bob" not in ex and "[student]" in ex


def test_similarity_flags_and_threshold(written) -> None:
    _, data, page = written
    flagged = sorted(f["student_id"] for f in data["similarity"]["flagged"])
    assert flagged == sorted(g.EXPECTED["flagged_at_0.8"])
    for sid in flagged:
        assert html.escape(sid) in page
    assert "0.96 (alice)" in page  # the peer column's detail is kept
    s = report.summarize(g.ASSIGNMENT, g.entries(), similarity_threshold=0.95)
    assert sorted(f["student_id"] for f in s["similarity"]["flagged"]) == ["@evil", "bob"]
    s = report.summarize(g.ASSIGNMENT, g.entries(), similarity_threshold=1.0)
    assert s["similarity"]["flagged"] == []
    assert s["similarity"]["columns_present"] is True
    plain = [{"row": {k: v for k, v in e["row"].items() if not k.startswith("similarity")},
              "results": e["results"]} for e in g.entries()]
    assert report.summarize(g.ASSIGNMENT, plain)["similarity"]["columns_present"] is False


def test_page_is_static_safe_and_complete(written) -> None:
    _, data, page = written
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    assert "<script" not in page.lower()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "prefers-color-scheme: dark" in page
    assert 'src="data:image/png;base64,' in page
    for status, count in data["statuses"].items():
        assert f"<td>{status}</td><td class=\"num\">{count}</td>" in page
    for e in data["exercises"]:
        assert html.escape(e["title"]) in page
        for m in e["mistakes"]:
            assert html.escape(m["example"]) in page
    assert "\x1b" not in page


def test_hostile_ids_are_shown_escaped(tmp_path: Path) -> None:
    sid = "x\x1b[31m<b>\u202e=cmd()\r\n"
    entry = {"row": {**g.row_for("alice"), "student_id": sid, "similarity_peer": 0.99},
             "results": g.results_for("alice")}
    report.write_class_report(tmp_path, "<i>a</i>", [entry])
    page = (tmp_path / "class-report.html").read_text(encoding="utf-8")
    assert "x\\x1b[31m&lt;b&gt;\\u202e=cmd()\\x0d\\x0a" in page
    assert "\x1b" not in page and "\u202e" not in page and "[31m<b>" not in page
    assert "&lt;i&gt;a&lt;/i&gt;" in page
    data = json.loads((tmp_path / "class-report.json").read_text(encoding="utf-8"))
    assert data["similarity"]["flagged"][0]["student_id"] == sid  # the JSON keeps the id


def test_colour_blind_safe_palette() -> None:
    import inspect

    src = inspect.getsource(report._figure_png)
    assert "OKABE_ITO" in src and "hatch" in src  # colour plus a pattern, not colour alone


def test_mistake_columns() -> None:
    cols = report.mistake_columns(g.results_for("bob"))
    assert cols == {"test_linear_forward:mistake": "", "test_linear_backward:mistake":
                    "transposed", "test_mc_dw_shape:mistake": "", "test_mc_db_sum:mistake": "",
                    "written_why_transpose:mistake": ""}
    assert report.mistake_columns(g.results_for("josé"))["test_linear_backward:mistake"] == \
        report.UNNAMED
    assert report.mistake_columns(g.results_for("alice")) == \
        dict.fromkeys(report.mistake_column_names([i[0] for i in g.ITEMS]), "")
    assert report.mistake_columns([]) == {}
    hostile = [{"grade_id": "t", "passed": False, "mistake": "x\x1b[2J\ny"}]
    assert "\x1b" not in report.mistake_columns(hostile)["t:mistake"]


def test_empty_class_and_odd_values(tmp_path: Path) -> None:
    report.write_class_report(tmp_path, "a", [])
    data = json.loads((tmp_path / "class-report.json").read_text())
    assert data["students"] == 0 and all(v == 0 for v in data["statuses"].values())
    odd = [{"row": {"student_id": "x", "score": "nan", "max_score": 0, "status": "weird",
                    "similarity_peer": "n/a"}, "results": [{"grade_id": "g", "passed": True}]}]
    report.write_class_report(tmp_path, "a", odd)
    data = json.loads((tmp_path / "class-report.json").read_text())
    assert data["statuses"]["weird"] == 1 and data["similarity"]["flagged"] == []


def test_load_entries_reads_a_grading_output(tmp_path: Path) -> None:
    g.write_output(tmp_path)
    (tmp_path / "results" / "junk.json").write_text("{not json")
    loaded = report.load_entries(tmp_path)
    assert sorted(e["row"]["student_id"] for e in loaded) == sorted(g.STUDENTS)


@pytest.mark.browser
def test_report_renders_in_chromium_without_network(tmp_path: Path) -> None:
    require_chromium()
    from make_report_screenshot import screenshot

    png = tmp_path / "class-report.png"
    requests = screenshot(png, work=tmp_path)
    assert requests == [(tmp_path / "class-report.html").as_uri()], requests
    assert png.stat().st_size > 20_000
