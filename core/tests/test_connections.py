"""Why a connection failed, from the errors real servers and poolers give, with no credential."""

import socket

import psycopg
import pytest
import redis
from django.db import OperationalError as DjangoOperationalError

from core.connections import failure_detail, failure_reason
from tests.services import make_certificates


def connect_error(url: str, **options) -> Exception:
    try:
        psycopg.connect(url, connect_timeout=2, **options).close()
    except psycopg.OperationalError as exc:
        return exc
    raise AssertionError(f"{url} answered")


def test_a_closed_port_is_refused(closed_port):
    error = connect_error(f"postgres://u:secret-pw@127.0.0.1:{closed_port}/x")

    assert failure_reason(error) == "connection refused"


def test_the_poolers_refusal_of_a_startup_parameter(pgbouncer):
    error = connect_error(pgbouncer().url(), options="-c statement_timeout=5000")

    assert failure_reason(error) == "the pooler refused a startup parameter"


def test_a_wrong_password(pgbouncer):
    error = connect_error(pgbouncer().url(password="wrong-pw-123"))

    assert failure_reason(error) == "authentication failed"
    assert "wrong-pw-123" not in failure_detail(error)


def test_tls_asked_of_a_server_without_it(pgbouncer):
    error = connect_error(pgbouncer().url(sslmode="require"))

    assert failure_reason(error) == "TLS failed"


def test_a_database_that_does_not_exist(pgbouncer):
    error = connect_error(pgbouncer().url("jiwoo_no_such_database"))

    assert failure_reason(error) == "database does not exist"


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the handshake completes, then nothing is ever said
        error = connect_error(f"postgres://u@127.0.0.1:{silent.getsockname()[1]}/x")

    assert failure_reason(error) == "connection timed out"


def test_djangos_wrapper_is_read_through_to_its_cause(closed_port):
    wrapped = DjangoOperationalError("connection failed")
    wrapped.__cause__ = connect_error(f"postgres://u@127.0.0.1:{closed_port}/x")

    assert failure_reason(wrapped) == "connection refused"


@pytest.mark.parametrize(
    ("password", "reason"),
    [("wrong-redis-pw", "authentication failed"), ("", "authentication failed")],
    ids=["wrong password", "no password"],
)
def test_redis_that_wants_another_password(redis_server, password, reason):
    server = redis_server(password="the-right-one")
    client = redis.Redis.from_url(server.url, password=password or None, socket_timeout=2)
    with pytest.raises(redis.RedisError) as raised:
        client.ping()

    assert failure_reason(raised.value) == reason
    assert "wrong-redis-pw" not in failure_detail(raised.value)


def test_redis_on_a_closed_port(closed_port):
    with pytest.raises(redis.RedisError) as raised:
        redis.Redis(port=closed_port, socket_connect_timeout=1).ping()

    assert failure_reason(raised.value) == "connection refused"


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("bad conninfo: host=db password=hunter2 user=jiwoo", "password=*** user=jiwoo"),
        ("bad conninfo: password='hunter2 with spaces' user=jiwoo", "password=*** user=jiwoo"),
        ("url postgres://jiwoo:hunter2@db:5432/x", "postgres://***@db:5432/x"),
        ("Error connecting to redis://:hunter2@cache:6379/0", "redis://***@cache:6379/0"),
    ],
)
def test_credentials_in_a_message_are_masked(message, masked):
    detail = failure_detail(RuntimeError(message))

    assert "hunter2" not in detail
    assert masked in detail


def test_an_unknown_failure_is_named_by_its_class():
    assert failure_reason(ValueError("something else")) == "ValueError"


def test_a_certificate_signed_by_an_unknown_ca(pgbouncer, tmp_path):
    """The pooler's certificate is signed by the test's own CA; checked against another CA it fails."""
    other = tmp_path / "other"
    other.mkdir()
    other_ca = make_certificates(other)["ca"]
    error = connect_error(pgbouncer(tls=True).url(sslmode="verify-full", sslrootcert=str(other_ca)))

    assert failure_reason(error) == "TLS failed"
