"""HTML feedback for one submission, without hidden tests, their source or their inputs.

What a learner sees: their own answer cells, the read-only cells as released (hidden-test regions
removed), the output of the visible part of each test cell (the learner-facing check messages),
and for a failure inside the hidden tests only the fact that they failed.  As a last guard every
displayed line that contains a line of hidden-test source is dropped.
"""

from __future__ import annotations

import html

from course.grading.assignment import Assignment

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
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
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
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{esc(assignment.name)} feedback: {esc(student_id)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{esc(assignment.name)}: feedback for {esc(student_id)}</h1>"
        f"<p><b>Score: 0 / {row['max_score']:g}</b> &nbsp; status: <b>{esc(row['status'])}</b></p>"
        f"<p>{esc(row['detail'])}</p></body></html>"
    )
