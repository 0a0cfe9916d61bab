"""The class report: what the class got wrong, per exercise, for the next lecture.

    write_class_report(out_dir, assignment, entries)   -> OUT/class-report.html + .json
    mistake_columns(results)                           -> {"<grade_id>:mistake": tag or ""}

``entries`` is one ``{"row": row, "results": results}`` per submission, as the grader writes
them to ``OUT/results/<id>.json`` (see docs/grading.md).  The report shows, per exercise, the
pass rate and the named mistakes ranked by how many students made them, each with one
anonymised example message; the score distribution (a matplotlib figure embedded as a PNG data
URI, Okabe-Ito colours, with the same numbers as a table); the status counts; and the students
whose similarity to the reference or to a classmate reaches a threshold.  The page needs no
JavaScript and no network (a Content-Security-Policy forbids both).

Definitions used in the page and the JSON:
- an exercise is *passed* by a student when its result has ``passed is True``, *failed* when
  ``passed is False``, *manual* when ``passed is None`` (written answers), and *not graded*
  when the submission has no result for it (missing or malformed notebooks);
- ``pass_rate = passed / (passed + failed)`` (``None`` when nobody was graded on it);
- a mistake's ``students`` counts students whose failed result carries that tag; failed
  results without a tag are counted as ``unnamed``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
import statistics
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

# The row statuses the grader writes, in the order the report lists them.
STATUSES = ("graded", "timeout", "crashed", "memory-limit", "malformed", "missing", "tampered",
            "integrity")
SIMILARITY_COLUMNS = ("similarity_reference", "similarity_peer")
DEFAULT_SIMILARITY_THRESHOLD = 0.8
MISTAKE_SUFFIX = ":mistake"
UNNAMED = "other"  # the mistake column of a failed exercise whose mistake was not recognised
REPORT_VERSION = 1

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency.
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000"}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


# --- small helpers ------------------------------------------------------------------------------
def printable(text: object) -> str:
    """``text`` with control and bidi-override characters shown as escapes (``\\x1b``)."""
    s = "" if text is None else str(text)

    def esc(m: re.Match) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    s = _CONTROL.sub(esc, s)
    # any other format/control code point (category C*, except private use) too
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf", "Cs") else
                   f"\\u{ord(ch):04x}" for ch in s)


def as_float(value: object) -> float | None:
    """A number from a row cell (float, int, numeric string, "0.93 (bob)"); None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    m = re.match(r"\s*'?([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", str(value))
    if not m:
        return None
    v = float(m.group(1))
    return v if math.isfinite(v) else None


def mistake_column_names(grade_ids: list[str]) -> list[str]:
    """The grades.csv mistake columns, one per graded exercise, in the given order."""
    return [f"{gid}{MISTAKE_SUFFIX}" for gid in grade_ids]


def mistake_columns(results: list[dict]) -> dict[str, str]:
    """One grades.csv cell per exercise: ``{"<grade_id>:mistake": value}``.

    The value is empty when the exercise is right or graded by hand, the recognised mistake tag
    (e.g. ``transposed``) when it is wrong for a known reason, and ``other`` when it is wrong
    for a reason no check recognises.
    """
    cells: dict[str, str] = {}
    for r in results:
        gid = r.get("grade_id")
        if not gid:
            continue
        if r.get("passed") is False:
            cells[f"{gid}{MISTAKE_SUFFIX}"] = printable(r.get("mistake") or UNNAMED)
        else:
            cells[f"{gid}{MISTAKE_SUFFIX}"] = ""
    return cells


def _anonymise(message: str, student_ids: list[str]) -> str:
    """The message without any student id in it, on one line, at most 300 characters."""
    text = printable(" ".join(str(message or "").split()))
    for sid in sorted(student_ids, key=len, reverse=True):
        p = printable(sid)
        if len(p) >= 2:
            text = text.replace(p, "[student]")
    return text if len(text) <= 300 else text[:297] + "..."


# --- the numbers ------------------------------------------------------------------------------
def summarize(assignment: str, entries: list[dict], *,
              similarity_threshold: float = DEFAULT_SIMILARITY_THRESHOLD) -> dict:
    """Everything the report shows, as plain JSON-able data (written as class-report.json)."""
    rows = [e.get("row") or {} for e in entries]
    ids = [str(r.get("student_id", "")) for r in rows]

    statuses = {s: 0 for s in STATUSES}
    for r in rows:
        s = str(r.get("status") or "")
        statuses[s] = statuses.get(s, 0) + 1

    # exercises, in the order they first appear in the results
    order: dict[str, dict] = {}
    for e in entries:
        for res in e.get("results") or []:
            gid = res.get("grade_id")
            if gid and gid not in order:
                order[gid] = {"grade_id": gid, "name": res.get("name"),
                              "title": res.get("title") or gid, "kind": res.get("kind"),
                              "max_points": as_float(res.get("max_points")) or 0.0}
    exercises = []
    for gid, info in order.items():
        passed = failed = manual = 0
        tags: dict[str, list[str]] = {}
        unnamed = 0
        points: list[float] = []
        for e in entries:
            res = next((x for x in e.get("results") or [] if x.get("grade_id") == gid), None)
            if res is None:
                continue
            points.append(as_float(res.get("points")) or 0.0)
            if res.get("passed") is True:
                passed += 1
            elif res.get("passed") is None:
                manual += 1
            else:
                failed += 1
                tag = res.get("mistake")
                if tag:
                    tags.setdefault(printable(tag), []).append(str(res.get("message") or ""))
                else:
                    unnamed += 1
        mistakes = []
        for tag, messages in tags.items():
            counts = Counter(_anonymise(m, ids) for m in messages)
            example = min(counts, key=lambda m: (-counts[m], len(m), m))
            mistakes.append({"mistake": tag, "students": len(messages), "example": example})
        mistakes.sort(key=lambda m: (-m["students"], m["mistake"]))
        graded = passed + failed
        exercises.append({
            **info, "passed": passed, "failed": failed, "manual": manual,
            "not_graded": len(entries) - passed - failed - manual,
            "pass_rate": round(passed / graded, 4) if graded else None,
            "mean_points": round(statistics.fmean(points), 4) if points else None,
            "mistakes": mistakes, "unnamed": unnamed,
        })

    # score distribution, as a percentage of the maximum
    percents = []
    for r in rows:
        score, top = as_float(r.get("score")), as_float(r.get("max_score"))
        if score is not None and top:
            percents.append(max(0.0, min(100.0, 100.0 * score / top)))
    edges = list(range(0, 101, 10))
    counts = [0] * 10
    for p in percents:
        counts[min(9, int(p // 10))] += 1
    scores = {
        "students": len(percents),
        "max_score": max((as_float(r.get("max_score")) or 0.0 for r in rows), default=0.0),
        "mean_percent": round(statistics.fmean(percents), 2) if percents else None,
        "median_percent": round(statistics.median(percents), 2) if percents else None,
        "full_marks": sum(p >= 100.0 for p in percents),
        "histogram": {"edges_percent": edges, "counts": counts},
    }

    flagged = []
    for r in rows:
        values = {c: as_float(r.get(c)) for c in SIMILARITY_COLUMNS}
        over = [c for c, v in values.items() if v is not None and v >= similarity_threshold]
        if over:
            flagged.append({"student_id": str(r.get("student_id", "")),
                            **{c: values[c] for c in SIMILARITY_COLUMNS},
                            **{f"{c}_detail": printable(r.get(c)) for c in SIMILARITY_COLUMNS
                               if r.get(c) not in (None, "")},
                            "over": over})
    flagged.sort(key=lambda f: (-max(f[c] or 0.0 for c in SIMILARITY_COLUMNS), f["student_id"]))
    has_similarity = any(r.get(c) not in (None, "") for r in rows for c in SIMILARITY_COLUMNS)

    return {
        "version": REPORT_VERSION,
        "assignment": assignment,
        "students": len(entries),
        "statuses": statuses,
        "scores": scores,
        "exercises": exercises,
        "similarity": {"threshold": similarity_threshold, "columns_present": has_similarity,
                       "flagged": flagged},
    }


# --- the figure -------------------------------------------------------------------------------
def _figure_png(summary: dict) -> bytes:
    """Score histogram and pass rate per exercise, side by side, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    ex = summary["exercises"]
    fig = Figure(figsize=(10, 3.6 + 0.12 * max(0, len(ex) - 6)), dpi=110,
                 layout="constrained")
    fig.patch.set_facecolor("white")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1, 1.15])
    hist = summary["scores"]["histogram"]
    centers = [e + 5 for e in hist["edges_percent"][:-1]]
    ax1.bar(centers, hist["counts"], width=9, color=OKABE_ITO["blue"], edgecolor="black",
            linewidth=0.6)
    ax1.set_xlim(0, 100)
    ax1.set_xticks(hist["edges_percent"])
    ax1.set_xlabel("score (% of maximum)")
    ax1.set_ylabel("students")
    ax1.set_title("Score distribution")
    ax1.yaxis.get_major_locator().set_params(integer=True)
    labels = [e["title"] if len(e["title"]) <= 28 else e["title"][:27] + "…" for e in ex]
    rates = [100 * e["pass_rate"] if e["pass_rate"] is not None else 0.0 for e in ex]
    y = list(range(len(ex)))
    ax2.barh(y, rates, color=OKABE_ITO["green"], edgecolor="black", linewidth=0.6,
             hatch=None)
    ax2.barh(y, [100 - r if e["pass_rate"] is not None else 0 for r, e in zip(rates, ex,
                                                                               strict=True)],
             left=rates, color=OKABE_ITO["orange"], edgecolor="black", linewidth=0.6,
             hatch="//")
    ax2.set_yticks(y, labels)
    ax2.invert_yaxis()
    ax2.set_xlim(0, 100)
    for yi, (r, e) in enumerate(zip(rates, ex, strict=True)):
        text = "graded by hand" if e["pass_rate"] is None else f"{r:.0f}% passed"
        ax2.text(1.5, yi, text, va="center", ha="left", fontsize=9,
                 color="black" if e["pass_rate"] is None or r < 20 else "white")
    ax2.set_xlabel("% of graded students")
    ax2.legend(["passed", "failed"], loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
               frameon=False, fontsize=9)
    ax2.set_title("Pass rate per exercise")
    for ax in (ax1, ax2):
        ax.spines[["top", "right"]].set_visible(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# --- the page ---------------------------------------------------------------------------------
CSS = """
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#ffffff;--muted:#5a5a5a;--line:#c9c9c9;
--card:#f5f6f8;--bad:#a8431a;--good:#00704f;--accent:#0060a0}
@media (prefers-color-scheme: dark){:root{--fg:#e8e8e8;--bg:#16181b;--muted:#b0b0b0;
--line:#4a4d52;--card:#212428;--bad:#ffab7a;--good:#6fdcb4;--accent:#8cc8ff}}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.45;color:var(--fg);
background:var(--bg);max-width:68rem;margin:1.5rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid var(--line)}
h3{margin-bottom:.3rem}.muted{color:var(--muted)}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid var(--line);
padding:.25rem .6rem;text-align:left;vertical-align:top}th{background:var(--card)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.figure{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.4rem;
display:inline-block;max-width:100%}.figure img{max-width:100%;height:auto;display:block}
.exercise{background:var(--card);border:1px solid var(--line);border-radius:6px;
padding:.4rem 1rem .8rem;margin:1rem 0}.rate{font-weight:600}
.rate.low{color:var(--bad)}.rate.high{color:var(--good)}
.example{font-family:ui-monospace,monospace;font-size:.9em}
.side{display:flex;flex-wrap:wrap;gap:0 3rem}
.bar{display:inline-block;height:.7rem;background:var(--accent);vertical-align:middle}
"""
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def render_html(summary: dict, figure_png: bytes | None = None) -> str:
    """The report page (a string) for ``summary`` as returned by :func:`summarize`."""
    esc = lambda s: html.escape(printable(s), quote=True)  # noqa: E731
    a = esc(summary["assignment"])
    n = summary["students"]
    sc = summary["scores"]
    mean = "–" if sc["mean_percent"] is None else f"{sc['mean_percent']:.0f}%"
    median = "–" if sc["median_percent"] is None else f"{sc['median_percent']:.0f}%"
    out = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>Class report: {a}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>Class report: {a}</h1>",
        f'<p class="muted">{n} submission{"s" if n != 1 else ""}; mean score {mean}, '
        f"median {median}, {sc['full_marks']} with full marks. Mistakes are the ones the "
        "checks recognise; example messages are anonymised.</p>",
    ]
    # at a glance: figure + numbers
    out.append('<h2 id="glance">At a glance</h2>')
    if figure_png:
        b64 = base64.b64encode(figure_png).decode("ascii")
        alt = ("Left: histogram of scores in 10% bins. Right: pass rate per exercise. "
               "The same numbers are in the tables.")
        out.append(f'<div class="figure"><img src="data:image/png;base64,{b64}" '
                   f'alt="{html.escape(alt)}"></div>')

    out.append('<h2 id="exercises">What to re-teach: exercises and mistakes</h2>')
    out.append('<table aria-label="pass rate per exercise"><tr><th>exercise</th>'
               '<th class="num">pass rate</th><th class="num">passed</th>'
               '<th class="num">failed</th><th class="num">by hand</th>'
               '<th class="num">not graded</th><th>most common mistake</th></tr>')
    for e in summary["exercises"]:
        top_m = e["mistakes"][0] if e["mistakes"] else None
        common = f"{esc(top_m['mistake'])} ({top_m['students']})" if top_m else ""
        cls = "" if e["pass_rate"] is None else ("low" if e["pass_rate"] < 0.5 else "high"
                                                 if e["pass_rate"] >= 0.8 else "")
        out.append(
            f'<tr><td><a href="#ex-{esc(e["grade_id"])}">{esc(e["title"])}</a></td>'
            f'<td class="num rate {cls}">{_pct(e["pass_rate"])}</td>'
            f'<td class="num">{e["passed"]}</td><td class="num">{e["failed"]}</td>'
            f'<td class="num">{e["manual"]}</td><td class="num">{e["not_graded"]}</td>'
            f"<td>{common}</td></tr>")
    out.append("</table>")
    for e in summary["exercises"]:
        out.append(f'<section class="exercise" id="ex-{esc(e["grade_id"])}">')
        out.append(f"<h3>{esc(e['title'])} <span class='muted'>({esc(e['grade_id'])}, "
                   f"{e['max_points']:g} points)</span></h3>")
        if e["manual"] and not (e["passed"] or e["failed"]):
            out.append(f"<p>Graded by hand: {e['manual']} answers to read.</p></section>")
            continue
        out.append(f"<p>Pass rate <b>{_pct(e['pass_rate'])}</b>: {e['passed']} passed, "
                   f"{e['failed']} failed"
                   + (f", {e['not_graded']} not graded" if e["not_graded"] else "") + ".</p>")
        if e["mistakes"]:
            out.append('<table><tr><th>mistake</th><th class="num">students</th>'
                       "<th>example message</th></tr>")
            for m in e["mistakes"]:
                out.append(f"<tr><td>{esc(m['mistake'])}</td>"
                           f'<td class="num">{m["students"]}</td>'
                           f'<td class="example">{esc(m["example"])}</td></tr>')
            out.append("</table>")
        if e["unnamed"]:
            out.append(f"<p class='muted'>{e['unnamed']} failed without a recognised mistake "
                       "(read their feedback pages).</p>")
        out.append("</section>")


    out.append('<h2 id="scores">Scores and status</h2>')
    hist = sc["histogram"]
    out.append('<div class="side"><div><h3>Scores</h3>')
    out.append('<table aria-label="score distribution"><tr><th>score</th>'
               '<th class="num">students</th><th></th></tr>')
    top = max(hist["counts"] or [0]) or 1
    edges = hist["edges_percent"]
    for i, c in enumerate(hist["counts"]):
        hi = f"{edges[i + 1]}%" if i < len(hist["counts"]) - 1 else "100%"
        rng = f"{edges[i]}–{hi}" + ("" if i == len(hist["counts"]) - 1 else " (excl.)")
        out.append(f'<tr><td>{rng}</td><td class="num">{c}</td><td><span class="bar" '
                   f'style="width:{8 * c / top:.2f}rem"></span></td></tr>')
    out.append("</table></div>")


    out.append('<div><h3 id="status">Status</h3><table aria-label="status counts"><tr>'
               '<th>status</th><th class="num">submissions</th></tr>')
    for s, c in summary["statuses"].items():
        out.append(f'<tr><td>{esc(s)}</td><td class="num">{c}</td></tr>')
    out.append("</table></div></div>")


    sim = summary["similarity"]
    out.append('<h2 id="similarity">Similarity</h2>')
    if not sim["columns_present"]:
        out.append("<p class='muted'>No similarity columns in this run.</p>")
    elif not sim["flagged"]:
        out.append(f"<p>No submission reaches the threshold ({sim['threshold']:g}).</p>")
    else:
        out.append(f"<p>Similarity at or above {sim['threshold']:g}: worth a look, never proof "
                   "on its own.</p>")
        out.append('<table aria-label="similarity flags"><tr><th>student</th>'
                   '<th class="num">to the reference</th><th class="num">to a classmate</th>'
                   "</tr>")
        for f in sim["flagged"]:
            cells = []
            for c in SIMILARITY_COLUMNS:
                detail = f.get(f"{c}_detail") or ("" if f[c] is None else f"{f[c]:g}")
                cells.append(f'<td class="num">{esc(detail)}'
                             f'{" ⚑" if c in f["over"] else ""}</td>')
            out.append(f"<tr><td>{esc(f['student_id'])}</td>{''.join(cells)}</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_class_report(out_dir: Path, assignment: str, entries: list[dict], *,
                       similarity_threshold: float = DEFAULT_SIMILARITY_THRESHOLD) -> None:
    """Write ``out_dir/class-report.html`` and ``out_dir/class-report.json``.

    ``entries``: one ``{"row": row, "results": results}`` per submission (extra keys, such as
    the notebook, are ignored).  ``similarity_threshold``: a row whose ``similarity_reference``
    or ``similarity_peer`` is at least this is listed under "Similarity".
    """
    out_dir = Path(out_dir)
    summary = summarize(assignment, entries, similarity_threshold=similarity_threshold)
    png = _figure_png(summary)
    _atomic_write(out_dir / "class-report.json",
                  (json.dumps(summary, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    _atomic_write(out_dir / "class-report.html", render_html(summary, png).encode("utf-8"))


def load_entries(out_dir: Path) -> list[dict]:
    """The ``{"row", "results"}`` entries of a grading output folder (``OUT/results/*.json``)."""
    entries = []
    for path in sorted(Path(out_dir, "results").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(data, dict) and isinstance(data.get("row"), dict):
            entries.append({"row": data["row"], "results": data.get("results") or []})
    return entries
