import json
from http import HTTPStatus

import pytest

from observability.probes import HealthCheckApp, ReadinessLog


@pytest.fixture(autouse=True)
def _fresh_readiness_log(monkeypatch):
    """Each test starts with every dependency considered up, as a new process does."""
    monkeypatch.setattr("observability.probes.readiness_log", ReadinessLog())


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
    monkeypatch.setattr("observability.probes.get_redis", lambda: pytest.fail("liveness touched Redis"))
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
def test_readiness_reports_redis_down_but_stays_ready(redis_down, caplog):
    """The app serves without Redis: losing Redis must not take every pod out of the Service."""
    caplog.set_level("INFO", logger="observability.probes")
    first = call("/readyz")
    second = call("/readyz")

    for status, body, _ in (first, second):
        assert status == HTTPStatus.OK
        assert body["checks"] == {"database": "ok", "redis": "down"}
        assert body["status"] == "degraded"
        assert "redis" in body["error"]
    # Said once when it went down, not on every probe.
    degraded = [r for r in caplog.records if getattr(r, "event", None) == "health.degraded"]
    assert [r.check for r in degraded] == ["redis"]


@pytest.mark.django_db(transaction=True)
def test_readiness_logs_recovery_once(settings, closed_port, caplog):
    caplog.set_level("INFO", logger="observability.probes")
    healthy_caches = settings.CACHES
    settings.CACHES = {"default": {**healthy_caches["default"], "LOCATION": f"redis://127.0.0.1:{closed_port}/0"}}
    call("/readyz")
    settings.CACHES = healthy_caches
    from core.redis import breaker

    breaker.reset()  # the breaker would fail fast for two seconds more
    status, body, _ = call("/readyz")

    assert status == HTTPStatus.OK
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    events = [getattr(r, "event", None) for r in caplog.records if r.name == "observability.probes"]
    assert events == ["health.degraded", "health.recovered"]


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
    assert body["error"] == "database unreachable"


def test_other_paths_go_to_django():
    _, _, passed_on = call("/messages/")

    assert passed_on == ["/messages/"]
