"""Real Chromium (Debian's package) driven by Playwright, against jiwoo under gunicorn.

Playwright never downloads a browser here: it launches /usr/bin/chromium. In CI a missing
browser fails the suite instead of skipping it.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.appserver import AppServer

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# What a root, offline machine needs: no sandbox (root), no GPU, no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots"))
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture(scope="session")
def browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


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
