import pytest

from tests.appserver import AppServer
from tests.otlp_receiver import OtlpReceiver


@pytest.fixture
def otlp_receiver():
    receiver = OtlpReceiver().start()
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
