"""SIGTERM with a request in flight, and fifty clients posting at once."""

import json
import signal
import socket
import threading
import time
import uuid

import pytest
import requests
from django.conf import settings

from tests.appserver import Visitor
from tests.services import redis_client

pytestmark = pytest.mark.e2e


def test_sigterm_lets_the_request_in_flight_finish_and_its_span_reach_the_receiver(app_server, otlp_receiver):
    server = app_server(otlp_receiver.env(), workers=1)
    visitor = Visitor(server.url)
    visitor.sign_up(f"g_{uuid.uuid4().hex[:8]}", f"Pw-{uuid.uuid4().hex}")
    cookies = "; ".join(f"{c.name}={c.value}" for c in visitor.session.cookies)
    body = json.dumps({"text": "saved while shutting down"}).encode()
    head = (
        f"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nCookie: {cookies}\r\n"
        f"X-CSRFToken: {visitor.session.cookies['csrftoken']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(head + body[:10])  # the worker is now inside this request
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        connection.sendall(body[10:])
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
    exit_code = server.process.wait(timeout=30)

    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 201 Created", response[:300]
    created = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert created["text"] == "saved while shutting down"
    assert exit_code == 0
    posts = [
        s
        for s in otlp_receiver.spans()
        if s["attributes"].get("http.request.method") == "POST"
        and s["attributes"].get("http.response.status_code") == 201
        and s["attributes"].get("http.route") == "api/messages"
    ]
    assert len(posts) == 1, "the span of the request in flight was lost at shutdown"


def test_fifty_clients_posting_at_once_get_exactly_what_they_were_told(app_server):
    cap = 20
    server = app_server({"RECENT_LOGS_MAX": str(cap)})
    users = []
    for _ in range(5):
        visitor = Visitor(server.url)
        username = f"c_{uuid.uuid4().hex[:8]}"
        assert visitor.sign_up(username, f"Pw-{uuid.uuid4().hex}").status_code == 200
        users.append((username, dict(visitor.session.cookies)))

    barrier = threading.Barrier(50)
    told: list[tuple[str, int]] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        username, cookies = users[number % len(users)]
        session = requests.Session()
        session.cookies.update(cookies)
        barrier.wait()
        response = session.post(
            f"{server.url}/api/messages",
            json={"text": f"concurrent {number}"},
            headers={"X-CSRFToken": cookies["csrftoken"]},
            timeout=60,
        )
        if response.status_code == 201:
            with lock:
                told.append((username, response.json()["id"]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(told) == 50
    for username, cookies in users:
        session = requests.Session()
        session.cookies.update(cookies)
        stored = {
            m["id"] for m in session.get(f"{server.url}/api/messages?page_size=100", timeout=10).json()["results"]
        }
        assert stored == {message_id for owner, message_id in told if owner == username}
    store = redis_client()
    all_key = f"{settings.REDIS_KEY_PREFIX}:recent-activity:all"
    # Entries are written by each worker's background thread, a moment after the response.
    deadline = time.monotonic() + 30  # a deadline for a busy machine; it ends when the list is full
    while store.llen(all_key) < cap and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.llen(all_key) == cap
    user_keys = list(store.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:recent-activity:user-id:*"))
    assert len(user_keys) == len(users)
    for key in user_keys:
        assert store.llen(key) <= cap
