import os
import shutil
from pathlib import Path

import pytest

from tests.appserver import AppServer
from tests.otlp_receiver import OtlpReceiver


@pytest.fixture
def otlp_receiver(request):
    """A collector over OTLP/HTTP; over OTLP/gRPC (its port 4317) when a test parametrizes it
    indirectly with "grpc"."""
    receiver = OtlpReceiver(protocol=getattr(request, "param", "http/protobuf")).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def app_server(tmp_path):
    """Factory: start jiwoo under gunicorn with extra environment; every server is stopped after."""
    servers = []

    def start(env: dict | None = None, workers: int = 2) -> AppServer:
        server = AppServer(tmp_path, env=env, workers=workers)
        servers.append(server)  # before start(): stopped after the test even if it fails to start
        return server.start()

    yield start
    for server in servers:
        server.stop()


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


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, one for the session (Playwright never downloads a
    browser here). In CI a missing browser fails the suite instead of skipping it."""
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
