"""Hostile input against the app as it runs in production (gunicorn, two workers).

Every test here failed before the hardening it checks. One server serves the module, with
low limits so that a test reaches them in a few requests; the tests that need a server of
their own (the statement timeout, half-open connections) start one.
"""

import concurrent.futures
import json
import logging
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from http import HTTPStatus

import pytest
import requests
from django.conf import settings

from tests.appserver import PYTHON, ROOT, AppServer, Visitor
from tests.services import redis_client

pytestmark = pytest.mark.e2e

LIMITS = {
    "SIGNUP_RATE_LIMIT": "1000",  # the sign-up test uses X-Forwarded-For addresses of its own
    "DJANGO_TRUSTED_PROXIES": "127.0.0.1",
    "AXES_ADDRESS_FAILURE_LIMIT": "6",
    "MESSAGES_PER_USER_MAX": "3",
    "RECENT_LOGS_MAX": "40",
    "RECENT_LOGS_USER_MAX": "10",
    "PASSWORD_CHANGE_FAILURE_LIMIT": "3",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = AppServer(tmp_path_factory.mktemp("hostile"), env=LIMITS).start()
    yield app
    app.stop()


def new_user(server, address: str = "198.51.100.1") -> tuple[Visitor, str, str]:
    visitor = Visitor(server.url)
    visitor.session.headers["X-Forwarded-For"] = address
    username, password = f"h_{uuid.uuid4().hex[:10]}", f"Pw-{uuid.uuid4().hex}"
    assert visitor.sign_up(username, password).status_code == HTTPStatus.OK
    return visitor, username, password


def records(server, **match) -> list[dict]:
    return [r for r in server.log_records() if all(r.get(k) == v for k, v in match.items())]


def wait_for(condition, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


# 1. Search


def test_search_refuses_too_many_words_and_a_repeated_pattern_is_one_word(server):
    visitor, _, _ = new_user(server)
    visitor.post_form("/messages/", {"text": "hello there"})

    repeated = visitor.get("/messages/", params={"q": " ".join(["e", "el", "ell"] * 22)})
    many = visitor.get("/messages/", params={"q": "a b c d e f g h i"})

    assert repeated.status_code == HTTPStatus.OK
    assert "1 message matches" in repeated.text
    assert many.status_code == HTTPStatus.BAD_REQUEST
    assert "at most 8 different words" in many.text


def test_a_statement_over_the_timeout_is_a_503_not_a_worker_timeout(tmp_path):
    app = AppServer(tmp_path, env={"DATABASE_STATEMENT_TIMEOUT": "0.1"})
    if not app.database.postgres:
        app.database.drop()
        pytest.skip("statement_timeout is PostgreSQL's (DATABASE_URL=postgres://...)")
    app.start()
    try:
        visitor, username, _ = new_user(app)
        import psycopg

        with psycopg.connect(app.database.url, autocommit=True) as connection:
            # 400,000 messages stored in no particular order of time, as real ones are: a search
            # for common letters counts them all (~0.5 s here), several times the timeout.
            connection.execute(
                "INSERT INTO messages_app_message (author_id, text, search_text, created_at) "
                "SELECT u.id, 'hello world ' || n, 'hello world ' || n, now() - n * interval '1 second' "
                "FROM auth_user u, generate_series(1, 400000) n WHERE u.username = %s ORDER BY random()",
                [username],
            )
            connection.execute("ANALYZE messages_app_message")
        page = visitor.get("/messages/", params={"q": "e o"})
        api = visitor.api("GET", "/api/messages?q=e+o")
    finally:
        app.stop()

    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "took the database too long" in page.text
    assert api.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "error" in api.json()
    assert not [r for r in app.log_records() if r.get("stack")]
    assert len([r for r in app.log_records() if r.get("event") == "db.statement_timeout"]) == 2


# 2/3. What one user and one address can write


def test_stored_paths_are_capped_and_a_users_list_is_bounded(server):
    visitor, username, _ = new_user(server)
    long_path = "/messages/" + "x" * 3900
    for _ in range(15):
        visitor.get(long_path)

    client = redis_client()
    keys = [k for k in client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:recent-activity:user-id:*")]

    def own_entries():
        for key in keys or client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:recent-activity:user-id:*"):
            entries = [json.loads(v) for v in client.lrange(key, 0, -1)]
            if entries and entries[0]["user"] == username:
                return entries
        return None

    entries = wait_for(lambda: (e := own_entries()) and len(e) >= 10 and e)
    assert len(entries) == 10
    assert max(len(e["path"]) for e in entries) == 512


def test_sign_ups_per_address_are_limited(tmp_path):
    app = AppServer(tmp_path, env={"SIGNUP_RATE_LIMIT": "2"}).start()
    try:
        statuses = [Visitor(app.url).sign_up(f"s_{uuid.uuid4().hex[:8]}", f"Pw-{uuid.uuid4().hex}") for _ in range(3)]
    finally:
        app.stop()

    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert "Too many accounts" in statuses[2].text


def sign_ups_at_once(url: str, usernames: list[str], address: str) -> list[int]:
    """Each username signed up by its own visitor, all sent at the same moment."""
    visitors = [Visitor(url) for _ in usernames]
    for visitor in visitors:
        visitor.session.headers["X-Forwarded-For"] = address
        visitor.get("/accounts/signup/")  # the CSRF cookie, before the race
    start = threading.Barrier(len(visitors))

    def sign_up(visitor, username):
        start.wait(timeout=30)
        return visitor.sign_up(username, f"Pw-{uuid.uuid4().hex}").status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(visitors)) as pool:
        return list(pool.map(sign_up, visitors, usernames))


def test_one_name_signed_up_in_many_cases_at_once_makes_one_account(server):
    name = f"race{uuid.uuid4().hex[:6]}"
    variants = [name, name.upper(), name.capitalize(), name[:-1] + name[-1].upper()] * 2

    statuses = sign_ups_at_once(server.url, variants, "198.51.100.61")

    assert sorted(statuses) == [200] + [400] * 7  # one welcome page, seven "already exists"
    assert not [r for r in server.log_records() if r["level"] in ("ERROR", "CRITICAL")]


def test_sign_ups_sent_at_once_stay_within_the_limit(tmp_path):
    app = AppServer(tmp_path, env={"SIGNUP_RATE_LIMIT": "3"}).start()
    try:
        statuses = sign_ups_at_once(app.url, [f"s_{uuid.uuid4().hex[:8]}" for _ in range(10)], "127.0.0.1")
    finally:
        app.stop()

    assert sorted(statuses) == [200] * 3 + [429] * 7


def test_a_user_has_a_message_quota_on_the_page_and_in_the_api(server):
    visitor, _, _ = new_user(server)
    for number in range(3):
        assert visitor.api("POST", "/api/messages", {"text": f"m{number}"}).status_code == HTTPStatus.CREATED

    page = visitor.post_form("/messages/", {"text": "one more"})
    api = visitor.api("POST", "/api/messages", {"text": "one more"})

    assert page.status_code == HTTPStatus.BAD_REQUEST
    assert "the most one account can keep" in page.text
    assert 400 <= api.status_code < 500
    assert "the most one account can keep" in json.dumps(api.json())
    assert visitor.api("GET", "/api/messages").json()["count"] == 3


# 4. Password spraying and the old-password check


def test_spraying_many_usernames_from_one_address_is_locked_out(server):
    owner, username, password = new_user(server, address="198.51.100.4")
    sprayer = Visitor(server.url)
    sprayer.session.headers["X-Forwarded-For"] = "198.51.100.44"
    statuses = [sprayer.log_in(f"target{number}", "Spring2026!").status_code for number in range(8)]
    right = sprayer.log_in(username, password)

    assert statuses[:5] == [200] * 5
    assert statuses[6:] == [429, 429]
    assert right.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert owner.log_in(username, password).status_code == HTTPStatus.OK  # from its own address


def test_the_old_password_check_is_throttled_with_events(server):
    visitor, username, password = new_user(server, address="198.51.100.5")
    new = f"New-{uuid.uuid4().hex}"
    form = {"new_password1": new, "new_password2": new}
    for _ in range(3):
        visitor.post_form("/accounts/password/", {"old_password": "guess", **form})

    right = visitor.post_form("/accounts/password/", {"old_password": password, **form})

    assert "Too many wrong passwords" in right.text
    assert len(records(server, event="user.password_change_failed", user=username)) == 3
    assert records(server, event="user.password_change_locked", user=username)
    assert not records(server, event="user.password_change", user=username)


# 5. Uploads and bodies


def test_a_30_mb_multipart_body_is_refused_before_it_is_read(server):
    boundary = "jiwoo"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'.encode()
        + b"\0" * (30 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    started = time.monotonic()
    response = requests.post(
        f"{server.url}/accounts/login/",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=60,
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "too large" in response.text
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/messages"])
def test_a_small_file_upload_is_refused_with_the_usual_shape(server, path):
    visitor, _, _ = new_user(server)
    response = visitor.session.post(
        server.url + path,
        files={"file": ("a.txt", b"hello")},
        data={"text": "x"},
        headers={"X-CSRFToken": visitor.session.cookies["csrftoken"]},
        timeout=10,
    )

    assert 400 <= response.status_code < 500
    if path.startswith("/api/"):
        assert "error" in response.json()
    assert not [r for r in server.log_records() if r["level"] == "ERROR"]


# 6. Half-open connections


def test_three_half_open_connections_do_not_block_two_workers(tmp_path):
    app = AppServer(tmp_path).start()
    connections = []
    try:
        for _ in range(3):
            connection = socket.create_connection(("127.0.0.1", app.port))
            connection.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            connections.append(connection)
        time.sleep(0.5)
        started = time.monotonic()
        health = requests.get(f"{app.url}/healthz", timeout=15)
        page = requests.get(f"{app.url}/accounts/login/", timeout=15)
        waited = time.monotonic() - started
    finally:
        for connection in connections:
            connection.close()
        app.stop()

    assert (health.status_code, page.status_code) == (200, 200)
    assert waited < 5  # 15 s and more with sync workers; tens of ms with gthread


# 7 (the page's part). Page numbers


def test_a_page_number_past_bigint_is_the_last_page(server):
    visitor, _, _ = new_user(server)

    for query in ("", "x"):
        response = visitor.get("/messages/", params={"q": query, "page": "9223372036854775807"})
        assert response.status_code == HTTPStatus.OK


# 8. Clients' mistakes are warnings with their request line


def test_a_wrong_host_and_a_body_over_the_limit_are_warnings_with_their_request_line(server):
    wrong_host = requests.get(f"{server.url}/accounts/login/", headers={"Host": "evil.example"}, timeout=10)
    too_big = requests.post(
        f"{server.url}/accounts/login/",
        data=b"a=" + b"x" * (300 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )

    assert wrong_host.status_code == HTTPStatus.BAD_REQUEST
    assert too_big.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    lines = server.log_records()
    assert not [r for r in lines if r["level"] in ("ERROR", "CRITICAL")]
    assert not [r for r in lines if r.get("stack")]
    disallowed = [r for r in lines if r["logger"] == "django.security.DisallowedHost"]
    assert disallowed
    assert {r["level"] for r in disallowed} == {"WARNING"}
    statuses = {(r["method"], r["status"]) for r in lines if r.get("event") == "http.request"}
    assert {("GET", 400), ("POST", 413)} <= statuses


# 9. Sensitive text


def test_a_password_typed_as_username_is_neither_logged_nor_stored(server):
    secret = f"Hunter2-{uuid.uuid4().hex}"
    stranger = Visitor(server.url)
    stranger.session.headers["X-Forwarded-For"] = "198.51.100.9"
    stranger.log_in(secret, "whatever")
    token = stranger.session.cookies["csrftoken"]

    assert secret not in server.log_text()
    tried = [r["username_tried"] for r in records(server, event="user.login_failed", client_ip="198.51.100.9")]
    assert tried
    assert tried[0].startswith("unknown:")
    stored = attempts_table(server)
    assert stored
    assert secret not in stored
    assert token not in stored


def attempts_table(server) -> str:
    """Everything axes_accessattempt holds, as text."""
    sql = "SELECT username, get_data, post_data FROM axes_accessattempt"
    if server.database.postgres:
        import psycopg

        with psycopg.connect(server.database.url) as connection:
            rows = connection.execute(sql).fetchall()
    else:
        path = server.database.url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            rows = connection.execute(sql).fetchall()
    return "\n".join(" ".join(str(value) for value in row) for row in rows)


def test_private_pages_and_api_answers_are_private_no_store(server):
    visitor, _, _ = new_user(server)

    for path in ("/messages/", "/logs/", "/api/messages"):
        cache_control = visitor.get(path).headers["Cache-Control"]
        assert "private" in cache_control, path
        assert "no-store" in cache_control, path


def test_gunicorns_error_line_keeps_no_query_string():
    from observability.json_logging import QueryStringFilter

    record = logging.LogRecord(
        "gunicorn.error",
        logging.ERROR,
        __file__,
        1,
        "Error handling request %s %s",
        ("GET", "/messages/?q=secret"),
        None,
    )
    QueryStringFilter().filter(record)

    assert "secret" not in record.getMessage()
    assert record.getMessage() == "Error handling request GET /messages/?…"


def test_a_chunked_body_is_411_and_nothing_is_saved(server):
    """gunicorn takes chunked bodies, but WSGI gives Django no length: it would read none."""
    visitor, _, _ = new_user(server)

    def chunks():
        yield b'{"text": '
        yield b'"sent in chunks"}'

    token = visitor.session.cookies["csrftoken"]
    response = visitor.session.post(
        f"{server.url}/api/messages",
        data=chunks(),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
        timeout=10,
    )

    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == HTTPStatus.LENGTH_REQUIRED
    assert "Content-Length" in response.json()["error"]
    assert visitor.api("GET", "/api/messages").json()["count"] == 0


def test_head_requests_leave_no_warning_in_the_log(server):
    """gunicorn warns of every body it must drop from a HEAD answer: anyone could fill the log."""
    visitor, _, _ = new_user(server)
    stranger = Visitor(server.url)
    for who, path in ((stranger, "/accounts/login/"), (visitor, "/messages/"), (visitor, "/api/messages")):
        response = who.session.head(server.url + path, timeout=10)
        assert response.status_code == HTTPStatus.OK, path
        assert int(response.headers["Content-Length"]) > 0, path

    lines = wait_for(
        lambda: [r for r in server.log_records() if r.get("method") == "HEAD" and r.get("path") == "/api/messages"]
    )
    assert lines, "no http.request line for the last HEAD"
    assert not [r for r in server.log_records() if "body bytes" in r["message"]]


def test_a_malformed_request_line_is_logged_without_its_query_string(server):
    secret = f"secretword{uuid.uuid4().hex[:8]}"
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"GET  /messages/?q={secret} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        answer = connection.recv(64)

    assert answer.startswith(b"HTTP/1.1 400")
    invalid = wait_for(lambda: [r for r in server.log_records() if r["message"].startswith("Invalid request from")])
    assert invalid, "gunicorn logged no line for the malformed request"
    assert "/messages/?…" in invalid[-1]["message"]
    assert secret not in server.log_text()


# 11. A deleted user's activity


def test_a_new_account_with_a_deleted_users_name_does_not_inherit_their_activity(server):
    visitor, username, _ = new_user(server, address="198.51.100.11")
    assert visitor.get("/logs/").status_code == HTTPStatus.OK
    subprocess.run(
        [
            PYTHON,
            "manage.py",
            "shell",
            "-c",
            f"from django.contrib.auth.models import User; User.objects.get(username={username!r}).delete()",
        ],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
    )

    heir = Visitor(server.url)
    heir.session.headers["X-Forwarded-For"] = "198.51.100.12"
    assert heir.sign_up(username, f"Pw-{uuid.uuid4().hex}").status_code == HTTPStatus.OK
    paths = [e["path"] for e in heir.api("GET", "/api/logs/recent").json()["results"]]

    assert "/logs/" not in paths  # the deleted user's page view stays theirs


# 12. Look-alike usernames


def test_a_mixed_script_look_alike_username_is_refused(server):
    visitor = Visitor(server.url)
    visitor.session.headers["X-Forwarded-For"] = "198.51.100.13"

    response = visitor.sign_up("\u0430lice" + uuid.uuid4().hex[:4], f"Pw-{uuid.uuid4().hex}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "look-alike" in response.text


# 13. Newest first across workers


def test_recent_activity_is_newest_first_across_both_workers(server):
    visitor, _, _ = new_user(server, address="198.51.100.14")
    cookies = visitor.session.cookies

    def load(number):
        return requests.get(f"{server.url}/messages/?n={number}", cookies=cookies, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(load, range(80))) == {200}
    time.sleep(0.5)  # both workers' writers flush within 100 ms

    entries = visitor.api("GET", "/api/logs/recent?limit=200").json()["results"]
    stamps = [e["ts"] for e in entries]
    assert len(entries) == 10  # RECENT_LOGS_USER_MAX
    assert stamps == sorted(stamps, reverse=True)


def test_no_answer_names_the_server_software(server):
    """A Server header naming gunicorn helps whoever looks for a version with a known exploit."""
    answers = [
        requests.get(f"{server.url}{path}", timeout=10, allow_redirects=False)
        for path in ("/healthz", "/readyz", "/accounts/login/", "/api/messages", "/no-such-page/")
    ]

    for answer in answers:
        assert "gunicorn" not in answer.headers.get("Server", "").lower(), answer.url
        assert answer.headers.get("Server", "") == "", answer.url
