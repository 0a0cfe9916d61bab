"""Screenshot of the class report of the generated class, for the README.

    PYTHONPATH=tests python3 tests/grading/make_report_screenshot.py   # docs/img/class-report.png

Also used by tests/grading/test_report.py (into a temporary folder).  Needs Debian's Chromium at
/usr/bin/chromium and the playwright package.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import generated_class
from support import ROOT, chromium_launch


def screenshot(target: Path, *, work: Path | None = None, height: int = 1500) -> list[str]:
    """Write the report of the generated class and a PNG of its top; return the URLs requested."""
    from playwright.sync_api import sync_playwright

    from course.grading.report import write_class_report

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(work or tmp)
        write_class_report(out, generated_class.ASSIGNMENT, generated_class.entries())
        requests: list[str] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(**chromium_launch())
            try:
                page = browser.new_page(viewport={"width": 1100, "height": height},
                                        color_scheme="light", device_scale_factor=1)
                page.on("request", lambda r: requests.append(r.url))
                page.goto((out / "class-report.html").as_uri())
                page.wait_for_load_state("load")
                target.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(target))
            finally:
                browser.close()
    return requests


if __name__ == "__main__":
    dest = ROOT / "docs" / "img" / "class-report.png"
    screenshot(dest)
    print(dest)
