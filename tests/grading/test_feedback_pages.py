"""Feedback pages: rendered notebook, math as MathML, results next to their cells, nothing hidden.

The browser tests open the pages from disk in headless Chromium with every network request
recorded (and refused): none may happen, the math must be typeset (MathML laid out by the
browser), and the page must follow the light and the dark colour scheme.
"""

from __future__ import annotations

import json
from pathlib import Path

import generated_class as g
import pytest

from course.grading import feedback

SECRET_LINE = f"x_hidden = {g.HIDDEN_SECRET}"


def page_for(student: str) -> str:
    return feedback.render_page(g.notebook_for(student), g.results_for(student),
                                g.row_for(student))


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {s: page_for(s) for s in ("alice", "bob", "carol", "=cmd()", "学生, \"quoted\"")}


def test_no_hidden_test_reaches_the_page(pages: dict[str, str]) -> None:
    # the input notebook really has the hidden region, in the source and in an output
    nb = json.dumps(g.notebook_for("bob"))
    assert g.HIDDEN_SECRET in nb and "BEGIN HIDDEN TESTS" in nb
    for student, page in pages.items():
        assert g.HIDDEN_SECRET not in page, student
        assert "HIDDEN TESTS" not in page.upper(), student
        assert "assert_grads_close" not in page, student


@pytest.mark.parametrize("source", [
    "a = 1\n### BEGIN HIDDEN TESTS\nsecret_input = 42\n### END HIDDEN TESTS\nb = 2\n",
    "a = 1\n    ### begin hidden tests\nsecret_input = 42\n",  # unterminated, lower case
    "a = 1\n##BEGIN HIDDEN TESTS\nsecret_input = 42\n## END HIDDEN TESTS  \nb = 2",
])
def test_strip_hidden_tests(source: str) -> None:
    text, cut = feedback.strip_hidden_tests(source)
    assert "secret_input" not in text and "HIDDEN" not in text.upper()
    assert "a = 1" in text
    assert cut == ["secret_input = 42"]


def test_page_shape(pages: dict[str, str]) -> None:
    for page in pages.values():
        assert page.lstrip().startswith("<!DOCTYPE html>")
        assert '<html lang="en">' in page
        assert "<script" not in page.lower()
        assert "Content-Security-Policy" in page
        assert "prefers-color-scheme: dark" in page
        assert page.count("<math") > 20  # the notebook's formulas, as MathML
        assert "$\\frac" not in page and "$$" not in page
        assert 'class="highlight' in page  # Pygments
        assert 'src="data:image/png;base64,' in page  # the learner's plot
        assert "example.com" not in page  # learner HTML sanitized: no remote image, no script


def test_each_result_follows_its_test_cell(pages: dict[str, str]) -> None:
    page = pages["bob"]
    cell = page.index('id="cell-id=test_linear_backward"')
    box = page.index('id="result-1"')
    after = page.index('id="cell-id=', cell + 1)  # the next cell
    assert cell < box < after
    assert "0 / 4 points" in page[box:after]
    assert "it looks transposed" in page[box:after]
    for k in range(len(g.ITEMS)):
        assert f'href="#result-{k}"' in page and f'id="result-{k}"' in page
    # the written answer (a markdown cell) gets its box too
    assert "graded by hand" in page
    assert page.index("so <math") < page.index('id="result-4"')


def test_hostile_ids_and_messages_are_escaped() -> None:
    row = {**g.row_for("alice"), "student_id": "<img src=x>\x1b[2J", "detail": "<b>x</b>"}
    results = [{**g.results_for("alice")[0], "message": "<script>alert(1)</script>\x1b[31m"}]
    page = feedback.render_page(g.notebook_for("alice"), results, row)
    assert "<img src=x>" not in page and "<script" not in page and "\x1b" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page


def test_learner_metadata_cannot_inject_a_box() -> None:
    nb = g.notebook_for("alice")
    nb["cells"][0]["metadata"]["backprop_feedback_key"] = "c0"
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"x": 1}}
    page = feedback.render_page(nb, g.results_for("alice"), g.row_for("alice"))
    assert page.count('<aside ') == page.count('class="result ') == len(g.ITEMS)


def test_unreadable_and_missing_notebooks() -> None:
    row = g.row_for("broken")
    page = feedback.render_unreadable_page(row)
    assert '<html lang="en">' in page and "malformed" in page
    page = feedback.render_page({"cells": "nonsense"}, g.results_for("bob"), g.row_for("bob"))
    assert "could not be displayed" in page and "it looks transposed" in page
    nb = g.notebook_for("bob")
    nb["cells"] = [c for c in nb["cells"]
                   if c["metadata"].get("nbgrader", {}).get("grade_id") != "test_mc_db_sum"]
    page = feedback.render_page(nb, g.results_for("bob"), g.row_for("bob"))
    assert "Not found in your notebook" in page


def test_latex_to_mathml() -> None:
    m = feedback.latex_to_mathml(r"\frac{\partial L}{\partial W}", display=True)
    assert m.startswith("<math") and 'display="block"' in m and "<mfrac>" in m
    bad = feedback.latex_to_mathml(r"\frac{", display=False)
    assert "<math" not in bad or "<code" in bad


def test_old_runner_api_is_still_there() -> None:
    assert callable(feedback.render) and callable(feedback.render_unreadable)
    assert callable(feedback.redact)


# --- in a real browser -------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_page_in_chromium(chromium, tmp_path: Path, pages: dict[str, str], scheme: str) -> None:
    path = tmp_path / "bob.html"
    path.write_text(pages["bob"], encoding="utf-8")
    context = chromium.new_context(viewport={"width": 1100, "height": 900},
                                   color_scheme=scheme)
    requests: list[str] = []
    context.route("**/*", lambda route: (requests.append(route.request.url),
                                         route.continue_() if route.request.url == path.as_uri()
                                         else route.abort()))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        info = page.evaluate("""() => {
            const maths = [...document.querySelectorAll('math')];
            const laidOut = maths.filter(m => {
                const d = getComputedStyle(m).display;
                const r = m.getBoundingClientRect();
                return d.includes('math') && r.width > 0 && r.height > 0;
            });
            const fracs = [...document.querySelectorAll('mfrac')].filter(
                f => f.getBoundingClientRect().height > 0);
            const imgs = [...document.querySelectorAll('.output_png img')];
            return {maths: maths.length, laidOut: laidOut.length, fracs: fracs.length,
                    imgs: imgs.map(i => i.naturalWidth),
                    bg: getComputedStyle(document.body).backgroundColor,
                    text: document.body.innerText, lang: document.documentElement.lang};
        }""")
    finally:
        context.close()
    assert requests == [path.as_uri()], requests  # nothing but the page itself
    assert not errors, errors
    assert info["lang"] == "en"
    assert info["maths"] > 20 and info["laidOut"] == info["maths"]
    assert info["fracs"] > 0  # fractions are typeset (stacked), not raw TeX
    assert info["imgs"] and all(w > 0 for w in info["imgs"])  # the learner's plot shows
    assert g.HIDDEN_SECRET not in info["text"] and "\\frac" not in info["text"]
    assert "it looks transposed" in info["text"]
    dark = info["bg"] != "rgb(255, 255, 255)"
    assert dark == (scheme == "dark"), info["bg"]
