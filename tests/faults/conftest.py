import pytest

from tests.services import RedisServer


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of the test's own, which the test stops and starts again on the same port."""
    server = RedisServer(tmp_path)
    try:
        yield server.start()
    finally:
        server.stop()
