import json
from http import HTTPStatus

import pytest

from jiwoo.health import HealthCheckApp


def call(path: str, host: str = "10.244.1.17:8000"):
    """Call the WSGI app as a kubelet would: by pod IP, a Host header no ALLOWED_HOSTS lists."""
    django_called = []

    def django_app(environ, start_response):
        django_called.append(environ["PATH_INFO"])
        start_response("404 Not Found", [])
        return [b""]

    captured = {}

    def start_response(status, headers):
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(headers)

    body = b"".join(
        HealthCheckApp(django_app)({"PATH_INFO": path, "HTTP_HOST": host, "REQUEST_METHOD": "GET"}, start_response)
    )
    return captured["status"], json.loads(body) if body else None, django_called


def test_liveness_answers_without_io(monkeypatch):
    # No django_db mark: a database query here would raise. Redis must not be touched either.
    monkeypatch.setattr("jiwoo.health.get_redis", lambda: pytest.fail("liveness touched Redis"))
    status, body, passed_on = call("/healthz")

    assert status == HTTPStatus.OK
    assert body == {"status": "ok"}
    assert passed_on == []


@pytest.mark.django_db(transaction=True)  # probes run outside any transaction
def test_readiness_checks_database_and_redis():
    status, body, _ = call("/readyz")

    assert status == HTTPStatus.OK
    assert body["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db(transaction=True)  # probes run outside any transaction
def test_readiness_names_redis_when_it_is_down(redis_down):
    status, body, _ = call("/readyz")

    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["checks"] == {"database": "ok", "redis": "down"}
    assert "redis" in body["error"]


@pytest.mark.django_db(transaction=True)  # probes run outside any transaction
def test_readiness_names_the_database_when_it_is_down(monkeypatch):
    from django.db import connections
    from django.db.utils import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    status, body, _ = call("/readyz")

    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["checks"]["database"] == "down"


def test_other_paths_go_to_django():
    _, _, passed_on = call("/messages/")

    assert passed_on == ["/messages/"]
