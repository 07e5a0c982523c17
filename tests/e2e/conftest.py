"""Real Chromium (Debian's package) driven by Playwright, against jiwoo under gunicorn.

The `browser` fixture is tests/conftest.py's: one Chromium for the whole session.
"""

import os
from pathlib import Path

import pytest

from tests.appserver import AppServer

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots"))
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """jiwoo as in production: gunicorn, two workers, a fresh database."""
    server = AppServer(tmp_path_factory.mktemp("e2e"), env={"OTEL_SERVICE_NAME": "jiwoo"}).start()
    yield server
    server.stop()


@pytest.fixture
def new_page(browser, live_app):
    """A page in a fresh browser context (its own cookies) for one language and viewport."""
    contexts = []

    def make(locale: str = "en-US", viewport: str = "desktop"):
        context = browser.new_context(
            base_url=live_app.url, locale=locale, viewport=VIEWPORTS[viewport], timezone_id="Asia/Seoul"
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()
