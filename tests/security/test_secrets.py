"""Secrets never leave the request: not in a log line, a span or a recent-activity entry.

The app runs under gunicorn exporting to a real OTLP receiver; a user signs up, logs out and
in, changes the password, and a stranger tries a log-in with a hostile username.
"""

import json
import uuid

import pytest
from django.conf import settings

from tests.appserver import Visitor
from tests.services import redis_client

pytestmark = pytest.mark.e2e

INJECTION = 'evil\n{"level": "CRITICAL", "message": "forged"}\r\n"quoted" \u2028 {}'


@pytest.fixture(scope="module")
def session_run(tmp_path_factory):
    from tests.appserver import AppServer
    from tests.otlp_receiver import OtlpReceiver

    receiver = OtlpReceiver().start()
    try:
        server = AppServer(tmp_path_factory.mktemp("secrets"), env=receiver.env()).start()
    except BaseException:
        receiver.stop()  # the server stopped itself
        raise
    first, second, wrong = (f"Secret-{uuid.uuid4().hex}" for _ in range(3))
    username = f"s_{uuid.uuid4().hex[:8]}"
    try:
        visitor = Visitor(server.url)
        statuses = [
            visitor.sign_up(username, first).status_code,
            visitor.log_out().status_code,
            visitor.log_in(username, first).status_code,
        ]
        session_id = visitor.session.cookies.get("sessionid")
        csrf_token = visitor.session.cookies.get("csrftoken")
        changed = visitor.post_form(
            "/accounts/password/", {"old_password": first, "new_password1": second, "new_password2": second}
        )
        statuses += [changed.status_code, visitor.log_out().status_code, visitor.log_in(username, second).status_code]
        landed_on = visitor.get("/messages/").url
        stranger = Visitor(server.url)
        stranger.log_in(INJECTION, wrong)
        client = redis_client()
        activity = [
            value.decode("utf-8", "replace")
            for key in client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:recent-activity*")
            for value in client.lrange(key, 0, -1)
        ]
    finally:
        server.stop()
        receiver.stop()
    return {
        "secrets": {"first password": first, "second password": second, "wrong password": wrong},
        "tokens": {"session id": session_id, "csrf token": csrf_token},
        "statuses": statuses,
        "changed_url": changed.url,
        "landed_on": landed_on,
        "server": server,
        "spans": receiver.spans(),
        "activity": activity,
    }


def test_the_flow_worked(session_run):
    assert session_run["statuses"] == [200] * 6
    assert session_run["changed_url"].endswith("/messages/")
    assert session_run["landed_on"].endswith("/messages/")
    assert session_run["tokens"]["session id"]
    assert session_run["tokens"]["csrf token"]
    assert session_run["activity"]
    assert session_run["spans"]


@pytest.mark.parametrize("where", ["logs", "spans", "recent activity"])
def test_no_password_session_id_or_csrf_token_anywhere(session_run, where):
    haystack = {
        "logs": session_run["server"].log_text(),
        "spans": json.dumps([{**s, "attributes": s["attributes"]} for s in session_run["spans"]], default=str),
        "recent activity": "\n".join(session_run["activity"]),
    }[where]

    for name, value in {**session_run["secrets"], **session_run["tokens"]}.items():
        assert value not in haystack, f"the {name} is in the {where}"


def test_password_change_is_an_event(session_run):
    events = [r.get("event") for r in session_run["server"].log_records()]

    assert "user.password_change" in events


def test_hostile_input_stays_inside_one_json_string_in_one_line(session_run):
    records = session_run["server"].log_records()  # every line must parse as one JSON object

    failed = [r for r in records if r.get("event") == "user.login_failed"]
    # It names no account, so it may be a password typed into the wrong box: only its keyed hash.
    assert len(failed) == 1
    assert failed[0]["username_tried"].startswith("unknown:")
    assert "evil" not in session_run["server"].log_text()
    assert not [r for r in records if r.get("message") == "forged"]
    assert not [r for r in records if r["level"] == "CRITICAL"]
