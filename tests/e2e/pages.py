"""What the browser tests do to pages: screenshots and the accessibility check."""

import re

from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import SCREENSHOT_DIR, VIEWPORTS

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_axe = Axe()


def screenshot(page, language: str, name: str) -> None:
    """The page at desktop and phone width, saved under SCREENSHOT_DIR/<language>/."""
    folder = SCREENSHOT_DIR / language
    folder.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}-{viewport}.png"), full_page=True)
    page.set_viewport_size(original)


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the current page, as readable lines."""
    results = _axe.run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — {[n['target'] for n in violation['nodes']]}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def check_page(page, language: str, name: str) -> None:
    screenshot(page, language, name)
    problems = serious_accessibility_violations(page)
    assert problems == [], f"{name} ({language}): {problems}"
