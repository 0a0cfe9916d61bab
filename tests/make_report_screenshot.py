"""Screenshot of the class report of the generated class, for the README.

    python tests/make_report_screenshot.py            # writes docs/img/class-report.png

Also used by tests/test_report.py (into a temporary folder).  Needs Debian's Chromium at
/usr/bin/chromium and the playwright package.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import generated_class  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def screenshot(target: Path, *, work: Path | None = None, height: int = 1500) -> list[str]:
    """Write the report of the generated class and a PNG of its top; return the URLs requested."""
    from playwright.sync_api import sync_playwright

    from course.grading.report import write_class_report

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(work or tmp)
        write_class_report(out, generated_class.ASSIGNMENT, generated_class.entries())
        requests: list[str] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
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
