"""HTML feedback pages a learner wants to read, and nothing a learner must not see.

    render_page(notebook, results, row)      -> the page (str) for one graded submission
    render_unreadable_page(row, results=())  -> the page when there is no notebook to show

``render_page`` renders the learner's executed notebook with nbconvert's HTML exporter and our
template (``templates/backprop_feedback``): code highlighted by Pygments, the learner's plots
kept (data URIs), math typeset at export time as MathML (``latex2mathml``; browsers render it
natively, so the page needs no script and no network).  Right after each graded cell comes a box
with the exercise's points and its check message; a summary table at the top links to them.

What is never shown: a hidden test.  Hidden tests never reach this module (they stay on the
trusted side of the grader), but every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``
region is cut from every cell anyway, and any output line that repeats a line of such a region
is dropped.  Learner-made HTML and markdown go through an allow-list sanitizer, and a
Content-Security-Policy in the page forbids scripts and every network request.

The page is ``<html lang="en">`` and follows the reader's light or dark colour scheme.

The older ``render`` / ``render_unreadable`` (used by the current runner) are kept at the end.
"""

from __future__ import annotations

import copy
import html
import json
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from course.grading.assignment import Assignment

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE_NAME = "backprop_feedback"
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "base-uri 'none'; form-action 'none'")
MAX_TEXT_OUTPUT = 50_000  # characters of one text output kept in the page
MAX_IMAGE = 8_000_000  # characters of one base64 image kept in the page

_HIDDEN = re.compile(
    r"^[ \t]*#+[ \t]*BEGIN[ \t]+HIDDEN[ \t]+TESTS\b.*?"
    r"(?:^[ \t]*#+[ \t]*END[ \t]+HIDDEN[ \t]+TESTS\b[^\n]*(?:\n|\Z)|\Z)",
    re.MULTILINE | re.DOTALL | re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


# --- hidden tests ------------------------------------------------------------------------------
def strip_hidden_tests(source: str) -> tuple[str, list[str]]:
    """``source`` without its hidden-test regions, and the meaningful lines that were cut.

    An unterminated ``### BEGIN HIDDEN TESTS`` cuts to the end of the cell.
    """
    cut: list[str] = []

    def drop(m: re.Match) -> str:
        for line in m.group().splitlines():
            s = line.strip()
            if len(s) >= 6 and not re.fullmatch(r"#+\s*(BEGIN|END)\s+HIDDEN\s+TESTS.*", s, re.I):
                cut.append(s)
        return ""

    return _HIDDEN.sub(drop, source), cut


def _redact(text: str, hidden: list[str]) -> str:
    if not hidden or not text:
        return text
    keep = [ln for ln in text.splitlines(keepends=True) if not any(h in ln for h in hidden)]
    return "".join(keep)


# --- math -------------------------------------------------------------------------------------
_CODE = re.compile(r"(^[ \t]*(```|~~~).*?^[ \t]*\2[^\n]*$|`+[^`\n]*?`+)", re.M | re.S)
_MATH = re.compile(
    r"(?<!\\)\$\$(?P<dd>.+?)(?<!\\)\$\$"
    r"|\\\[(?P<bd>.+?)\\\]"
    r"|(?P<env>\\begin\{(?P<name>equation\*?|align\*?|aligned|gather\*?|eqnarray\*?|"
    r"[pbvBV]?matrix|cases)\}.+?\\end\{(?P=name)\})"
    r"|(?<![\\$])\$(?P<di>[^\s$](?:[^$]|\\\$)*?)(?<![\\\s])\$(?!\d)"
    r"|\\\((?P<pi>.+?)\\\)",
    re.S)
_PLACEHOLDER = "BPCMATHX{}X"


def latex_to_mathml(tex: str, display: bool = False) -> str:
    """MathML for a LaTeX formula; the escaped source in ``<code>`` if it cannot be converted."""
    tex = tex.strip()
    try:
        from latex2mathml.converter import convert
    except ImportError:  # the instructor extra is not installed: show the source
        return f'<code class="tex">{html.escape(tex)}</code>'

    env = re.fullmatch(r"\\begin\{(equation|align|gather|eqnarray)\*?\}(.*)\\end\{\1\*?\}", tex,
                       re.S)
    if env:
        body = env.group(2)
        tex = body if env.group(1) == "equation" else \
            "\\begin{aligned}" + body + "\\end{aligned}"
    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any formula the converter cannot read stays as source
        delim = ("$$", "$$") if display else ("$", "$")
        return f'<code class="tex">{html.escape(delim[0] + tex + delim[1])}</code>'
    # latex2mathml writes no alt text: keep the source for copy and screen readers
    return mathml.replace("<math ", f'<math alttext="{html.escape(tex, quote=True)}" ', 1)


def _protect_math(source: str) -> tuple[str, list[str]]:
    """(source with each formula replaced by a placeholder, the MathML of each formula)."""
    codes: list[str] = []

    def keep_code(m: re.Match) -> str:
        codes.append(m.group())
        return f"BPCCODEX{len(codes) - 1}X"

    text = _CODE.sub(keep_code, source)
    maths: list[str] = []

    def to_mathml(m: re.Match) -> str:
        if m.group("dd") is not None:
            out = latex_to_mathml(m.group("dd"), display=True)
        elif m.group("bd") is not None:
            out = latex_to_mathml(m.group("bd"), display=True)
        elif m.group("env") is not None:
            out = latex_to_mathml(m.group("env"), display=True)
        elif m.group("di") is not None:
            out = latex_to_mathml(m.group("di"))
        else:
            out = latex_to_mathml(m.group("pi"))
        maths.append(out)
        return _PLACEHOLDER.format(len(maths) - 1)

    text = _MATH.sub(to_mathml, text)
    text = re.sub(r"BPCCODEX(\d+)X", lambda m: codes[int(m.group(1))], text)
    return text, maths


def _restore_math(text: str, maths: list[str]) -> str:
    return re.sub(r"BPCMATHX(\d+)X",
                  lambda m: maths[int(m.group(1))] if int(m.group(1)) < len(maths) else "",
                  text)


# --- sanitizing learner-made HTML --------------------------------------------------------------
_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd",
         "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
         "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q",
         "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
         "tfoot", "th", "thead", "tr", "u", "ul", "var"}


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in ("class", "id", "title", "colspan", "rowspan", "align"):
        return True
    if tag == "img":
        if name == "src":
            return value.startswith(("data:image/png;", "data:image/jpeg;", "data:image/gif;",
                                     "data:image/webp;"))
        return name in ("alt", "width", "height")
    if tag == "a":
        return name == "href" and (value.startswith("#") or
                                   value.startswith(("https://", "http://", "mailto:")))
    return False


_cleaner_local = threading.local()
_SCRIPT_STYLE = re.compile(r"<(script|style|template|iframe|object)\b.*?(</\1\s*>|\Z)",
                           re.I | re.S)


def sanitize_html(text: str) -> str:
    """Learner-made HTML reduced to an allow-list of tags and attributes (no script, no style)."""
    cleaner = getattr(_cleaner_local, "cleaner", None)
    if cleaner is None:
        import bleach

        cleaner = bleach.Cleaner(tags=_TAGS, attributes=_allowed_attribute,
                                 protocols={"http", "https", "mailto", "data"}, strip=True,
                                 strip_comments=True)
        _cleaner_local.cleaner = cleaner
    text = _SCRIPT_STYLE.sub("", str(text))
    return cleaner.clean(text)


# --- the exporter -------------------------------------------------------------------------------
def _exporter_class():
    from jinja2 import pass_context
    from nbconvert import HTMLExporter

    class FeedbackExporter(HTMLExporter):
        """HTMLExporter with our template and the math-aware, sanitizing markdown filter."""

        @pass_context
        def feedback_markdown(self, context, source):
            text, maths = _protect_math(str(source))
            rendered = HTMLExporter.markdown2html(self, context, text)
            return _restore_math(sanitize_html(rendered), maths)

        def default_filters(self):
            yield from super().default_filters()
            yield ("feedback_markdown", self.feedback_markdown)
            yield ("feedback_html", sanitize_html)
            yield ("feedback_latex", _latex_output)

    return FeedbackExporter


def _latex_output(text: str) -> str:
    """A ``text/latex`` output (``display(Math(...))``): its formulas as MathML."""
    text = str(text).strip()
    protected, maths = _protect_math(text)
    if not maths:
        return latex_to_mathml(text, display=True)
    return _restore_math(html.escape(protected), maths)


_local = threading.local()


def _exporter():
    exp = getattr(_local, "exporter", None)
    if exp is None:
        exp = _exporter_class()(
            extra_template_basedirs=[str(TEMPLATES)], template_name=TEMPLATE_NAME,
            exclude_anchor_links=True, embed_images=True)
        _local.exporter = exp
    return exp


# --- styles ---------------------------------------------------------------------------------
_BASE_CSS = """
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#5b5b5b;--line:#d0d4d9;
--code-bg:#f6f8fa;--out-bg:#fbfbfb;--pass:#00704f;--pass-bg:#e3f5ee;--fail:#a8431a;
--fail-bg:#fdf0e8;--manual:#5a4a9c;--manual-bg:#efedf8;--err-bg:#fff1f1;--link:#0060a0}
@media (prefers-color-scheme: dark){:root{--fg:#e6e6e6;--bg:#15171a;--muted:#a9adb3;
--line:#3d4249;--code-bg:#0d1117;--out-bg:#1b1e22;--pass:#6fdcb4;--pass-bg:#0f2d24;
--fail:#ffab7a;--fail-bg:#35200f;--manual:#c7b8ff;--manual-bg:#262040;--err-bg:#2e1717;
--link:#8cc8ff}}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.5;color:var(--fg);
background:var(--bg);margin:0}
main{max-width:60rem;margin:1.5rem auto;padding:0 1rem}
a{color:var(--link)}h1{font-size:1.6rem;margin:.2rem 0}
.summary table,.rendered_html table{border-collapse:collapse;margin:.6rem 0}
.summary th,.summary td,.rendered_html th,.rendered_html td{border:1px solid var(--line);
padding:.25rem .6rem;text-align:left;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.cell{margin:.9rem 0}
.input_area{border:1px solid var(--line);border-radius:6px;overflow-x:auto}
.input_area .highlight{margin:0;padding:.5rem .7rem;border-radius:6px}
pre{margin:0;white-space:pre-wrap;word-wrap:break-word;
font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.88rem}
.output_area{padding:.35rem .7rem;background:var(--out-bg);border-left:3px solid var(--line);
margin-top:.2rem;overflow-x:auto}
.output_area img{max-width:100%;height:auto;background:#fff}
.output_stderr,.output_error{background:var(--err-bg)}
.output_note{color:var(--muted);font-style:italic}
.prompt{display:none}
.rendered_html code{background:var(--code-bg);padding:.05rem .25rem;border-radius:3px}
math[display="block"]{margin:.6rem 0;overflow-x:auto}
math{font-size:1.08em}
code.tex{color:var(--fail)}
.result{border:2px solid var(--line);border-radius:8px;margin:.5rem 0 1.4rem;
padding:.45rem .8rem}
.result .head{font-weight:600}.result pre{margin-top:.3rem}
.result.passed{border-color:var(--pass);background:var(--pass-bg)}
.result.passed .badge{color:var(--pass)}
.result.failed{border-color:var(--fail);background:var(--fail-bg)}
.result.failed .badge{color:var(--fail)}
.result.manual{border-color:var(--manual);background:var(--manual-bg)}
.result.manual .badge{color:var(--manual)}
.muted{color:var(--muted)}
.ansi-bold{font-weight:bold}.ansi-red-fg{color:#c0392b}.ansi-green-fg{color:#1d7a3a}
.ansi-yellow-fg{color:#8a6d00}.ansi-blue-fg{color:#1f5fa8}.ansi-magenta-fg{color:#8e3b9b}
.ansi-cyan-fg{color:#137a7f}
@media (prefers-color-scheme: dark){.ansi-red-fg{color:#ff8a80}.ansi-green-fg{color:#7ee2a8}
.ansi-yellow-fg{color:#f0d264}.ansi-blue-fg{color:#8cc8ff}.ansi-magenta-fg{color:#e6a3f0}
.ansi-cyan-fg{color:#7fdde3}}
"""
_css_cache: list[str] = []


def page_css() -> str:
    """The page's CSS: ours plus Pygments' light ("default") and dark ("github-dark") styles."""
    if not _css_cache:
        from pygments.formatters import HtmlFormatter

        light = HtmlFormatter(style="default").get_style_defs(".highlight")
        dark = HtmlFormatter(style="github-dark").get_style_defs(".highlight")
        _css_cache.append(_BASE_CSS + light + "\n@media (prefers-color-scheme: dark){\n"
                          + dark + "\n}\n")
    return _css_cache[0]


# --- the page ---------------------------------------------------------------------------------
def _plain(text: object) -> str:
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", "" if text is None else str(text))


def _num(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _box(result: dict, anchor: str, hidden: list[str]) -> str:
    esc = html.escape
    got, top = _num(result.get("points")), _num(result.get("max_points"))
    passed = result.get("passed")
    cls, badge = {True: ("passed", "✓ passed"), False: ("failed", "✗ not yet"),
                  None: ("manual", "✎ graded by hand")}[passed if passed in (True, False)
                                                         else None]
    title = _plain(result.get("title") or result.get("name") or result.get("grade_id") or "")
    message = _redact(_plain(result.get("message") or ""), hidden).strip()
    if passed is None and not message:
        message = "Your instructor reads this answer and adds the points."
    out = [f'<aside class="result {cls}" id="{esc(anchor)}" '
           f'aria-label="{esc(title, quote=True)}: result">',
           f'<div class="head"><span class="badge">{badge}</span> · '
           f'{got:g} / {top:g} points · {esc(title)}</div>']
    if message:
        out.append(f"<pre>{esc(message)}</pre>")
    out.append("</aside>")
    return "\n".join(out)


def _summary(row: dict, results: list[dict], anchors: list[str], title: str) -> str:
    esc = html.escape
    score, top = _num(row.get("score")), _num(row.get("max_score"))
    status = _plain(row.get("status", ""))
    out = ['<header class="summary">', f"<h1>{esc(title)}</h1>",
           f"<p><b>Score: {score:g} / {top:g}</b> · status: <b>{esc(status)}</b></p>"]
    if row.get("detail"):
        out.append(f"<p>{esc(_plain(row['detail']))}</p>")
    if results:
        out.append('<table><thead><tr><th>exercise</th><th class="num">points</th>'
                   "<th>result</th></tr></thead><tbody>")
        for r, a in zip(results, anchors, strict=True):
            passed = r.get("passed")
            word = "passed" if passed is True else "not yet" if passed is False else "by hand"
            name = _plain(r.get("title") or r.get("name") or r.get("grade_id") or "")
            out.append(f'<tr><td><a href="#{esc(a)}">{esc(name)}</a></td>'
                       f'<td class="num">{_num(r.get("points")):g} / '
                       f'{_num(r.get("max_points")):g}</td><td>{word}</td></tr>')
        out.append("</tbody></table>")
    out.append("</header><hr>")
    return "\n".join(out)


def _prepare(nb) -> list[str]:
    """Cut hidden tests from every cell and cap outputs, in place; return the lines cut."""
    hidden: list[str] = []
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nb.metadata.pop("widgets", None)
    seen: set[str] = set()
    for i, cell in enumerate(nb.cells):
        cid = cell.get("id")
        if not isinstance(cid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cid) \
                or cid in seen:
            cell["id"] = cid = f"cell-{i}"
        seen.add(cid)
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(src)
        cell["source"], cut = strip_hidden_tests(str(src))
        hidden += cut
        cell.setdefault("metadata", {}).pop("backprop_feedback_key", None)
        if cell.get("cell_type") == "raw":
            cell["source"] = ""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                text = out.get("text", "")
                text = "".join(text) if isinstance(text, list) else str(text)
                out["text"] = _redact(text[:MAX_TEXT_OUTPUT], hidden)
                if not out["text"]:
                    continue
            elif kind == "error":
                out["traceback"] = [_redact(str(t), hidden) for t in out.get("traceback", [])]
                out["evalue"] = _redact(str(out.get("evalue", "")), hidden)
            elif kind in ("display_data", "execute_result"):
                data = out.get("data", {})
                for mime in list(data):
                    value = data[mime]
                    if isinstance(value, list):
                        value = "".join(value)
                    if mime.startswith("image/") and mime != "image/svg+xml":
                        if len(str(value)) > MAX_IMAGE:
                            del data[mime]
                    elif isinstance(value, str):
                        data[mime] = _redact(value[:MAX_TEXT_OUTPUT], hidden)
                if not data:
                    continue
                meta = out.setdefault("metadata", {})
                if isinstance(meta, dict) and not meta.get("alt"):
                    meta["alt"] = "a figure from your notebook"
            kept.append(out)
        cell["outputs"] = kept
    return hidden


def render_page(notebook: dict | str, results: list[dict], row: dict, *,
                language: str = "en") -> str:
    """The feedback page of one graded submission.

    notebook: the learner's notebook (JSON text or dict), as executed in the jail, with outputs.
    results:  the grader's results (grade_id, title, points, max_points, passed, message, ...).
    row:      the grader's row (student_id, assignment, score, max_score, status, detail).
    """
    import nbformat

    raw = json.loads(notebook) if isinstance(notebook, str | bytes) else copy.deepcopy(notebook)
    results = [r for r in results or [] if isinstance(r, dict)]
    title = (f"{_plain(row.get('assignment', ''))}: feedback for "
             f"{_plain(row.get('student_id', ''))}")
    anchors = [f"result-{i}" for i in range(len(results))]
    nb = None
    hidden: list[str] = []
    try:
        nb = nbformat.from_dict(raw)
        if nb.get("nbformat", 4) < 4:
            nb = nbformat.convert(nb, 4)
        hidden = _prepare(nb)
    except Exception:  # noqa: BLE001 - a notebook we cannot read still gets its results
        nb = None
    boxes: dict[str, str] = {}
    placed: set[int] = set()
    if nb is not None:
        by_id: dict[str, int] = {}
        for i, cell in enumerate(nb.cells):
            gid = ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")
            if isinstance(gid, str) and gid not in by_id:
                by_id[gid] = i
        for k, r in enumerate(results):
            i = by_id.get(str(r.get("grade_id")))
            if i is None:
                continue
            key = f"c{i}"
            boxes[key] = boxes.get(key, "") + _box(r, anchors[k], hidden)
            nb.cells[i]["metadata"]["backprop_feedback_key"] = key
            placed.add(k)
    rest = [k for k in range(len(results)) if k not in placed]
    trailer = ""
    if rest:
        trailer = ("<section><h2>Not found in your notebook</h2><p class='muted'>These graded "
                   "cells are missing from the notebook you handed in.</p>"
                   + "".join(_box(results[k], anchors[k], hidden) for k in rest) + "</section>")
    feedback = {"csp": CSP, "css": page_css(), "title": title, "boxes": boxes,
                "summary_html": _summary(row, results, anchors, title),
                "trailer_html": trailer}
    if nb is not None:
        try:
            body, _ = _exporter().from_notebook_node(
                nb, resources={"feedback": feedback, "language_code": language})
            return body
        except Exception:  # noqa: BLE001 - fall back to the results without the notebook
            pass
    return render_unreadable_page(row, results, language=language,
                                  note="Your notebook could not be displayed; here are your "
                                       "results.")


def render_unreadable_page(row: dict, results: list[dict] | tuple = (), *,
                           language: str = "en", note: str = "") -> str:
    """A page for a submission without a displayable notebook (missing, malformed, ...)."""
    results = [r for r in results or [] if isinstance(r, dict)]
    title = (f"{_plain(row.get('assignment', ''))}: feedback for "
             f"{_plain(row.get('student_id', ''))}")
    anchors = [f"result-{i}" for i in range(len(results))]
    parts = ["<!DOCTYPE html>", f'<html lang="{html.escape(language, quote=True)}">', "<head>",
             '<meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<meta name="color-scheme" content="light dark">',
             f"<title>{html.escape(title)}</title>", f"<style>{page_css()}</style>", "</head>",
             "<body><main>", _summary(row, results, anchors, title)]
    if note:
        parts.append(f"<p>{html.escape(note)}</p>")
    parts += [_box(r, a, []) for r, a in zip(results, anchors, strict=True)]
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


# --- the current runner's feedback (kept until the runner switches to render_page) ---------------
STYLE = """
body{font-family:system-ui,sans-serif;max-width:58rem;margin:2rem auto;padding:0 1rem;color:#222}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;border-radius:4px}
pre.out{background:#fff;border-left:3px solid #ccc}
pre.err{background:#fff3f3;border-left:3px solid #c33}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
.pass{color:#186a18;font-weight:600}.fail{color:#a31515;font-weight:600}
.cell{margin:1rem 0}.label{font-size:.8rem;color:#666}
"""


def _markdown(text: str) -> str:
    try:
        import mistune

        return mistune.html(text)
    except Exception:  # noqa: BLE001 - plain text is fine
        return f"<pre>{html.escape(text)}</pre>"


def redact(text: str, hidden_lines: list[str]) -> str:
    """Drop every line that contains hidden-test source."""
    if not hidden_lines or not text:
        return text
    kept = [ln for ln in text.splitlines() if not any(h in ln for h in hidden_lines)]
    return "\n".join(kept)


def render(
    assignment: Assignment,
    student_id: str,
    row: dict,
    answers: dict[str, str],
    reports: dict[str, dict],
) -> str:
    """The feedback page.

    ``reports`` maps grade_id (or cell key) -> {"outputs", "error", "note", "passed"}.
    """
    hid = assignment.hidden_lines
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(assignment.name)} feedback: {esc(student_id)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{esc(assignment.name)}: feedback for {esc(student_id)}</h1>",
        f"<p><b>Score: {row['score']:g} / {row['max_score']:g}</b> &nbsp; status: "
        f"<b>{esc(row['status'])}</b></p>",
    ]
    if row.get("detail"):
        parts.append(f"<p>{esc(redact(row['detail'], hid))}</p>")
    parts.append("<table><tr><th>exercise</th><th>points</th><th>result</th></tr>")
    for gid, points in assignment.tests:
        got = row.get(gid, 0.0) or 0.0
        note = reports.get(gid, {}).get("note", "")
        cls = "pass" if got >= points else "fail"
        parts.append(
            f"<tr><td>{esc(gid)}</td><td>{got:g} / {points:g}</td>"
            f"<td class='{cls}'>{esc(redact(note, hid))}</td></tr>"
        )
    parts.append("</table><hr>")
    for sc in assignment.cells:
        if sc.kind == "markdown":
            parts.append(f"<div class='cell'>{_markdown(sc.release)}</div>")
            continue
        if sc.kind == "written":
            text = answers.get(sc.grade_id, "(this cell is missing from your submission)")
            parts.append("<div class='cell'><div class='label'>your written answer "
                         "(graded by hand)</div>")
            parts.append(f"<pre>{esc(text)}</pre></div>")
            continue
        key = sc.grade_id or f"cell-{sc.index}"
        if sc.kind == "answer":
            label, code = "your answer", answers.get(sc.grade_id)
            if code is None:
                code = "# (this cell is missing from your submission)"
        elif sc.kind == "test":
            label, code = f"test cell ({sc.points:g} points)", sc.release
        else:
            label, code = "code", sc.release
        parts.append(f"<div class='cell'><div class='label'>{esc(label)}</div>")
        parts.append(f"<pre>{esc(code)}</pre>")
        rep = reports.get(key, {})
        text = redact("".join(o.get("text", "") for o in rep.get("outputs", [])
                              if not o.get("hidden")), hid)
        if text.strip():
            parts.append(f"<pre class='out'>{esc(text)}</pre>")
        err = rep.get("error")
        if err:
            parts.append(f"<pre class='err'>{esc(redact(err, hid))}</pre>")
        if sc.kind == "test" and rep.get("note"):
            cls = "pass" if rep.get("passed") else "fail"
            parts.append(f"<p class='{cls}'>{esc(redact(rep['note'], hid))}</p>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_unreadable(assignment: Assignment, student_id: str, row: dict) -> str:
    """Feedback for a submission that could not be graded at all (malformed or missing)."""
    esc = html.escape
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(assignment.name)} feedback: {esc(student_id)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{esc(assignment.name)}: feedback for {esc(student_id)}</h1>"
        f"<p><b>Score: 0 / {row['max_score']:g}</b> &nbsp; status: <b>{esc(row['status'])}</b></p>"
        f"<p>{esc(row['detail'])}</p></body></html>"
    )
