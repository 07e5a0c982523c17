"""Logged-in clients that post and read through the proxy in a loop, and record every request."""

import json
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from http import HTTPStatus

import requests

from tests.appserver import Visitor

PASSWORD = "a-long-Rolling-passw0rd"
# Longer than any answer should take on a busy machine: a request cut off by it counts as failed.
REQUEST_TIMEOUT = 60


@dataclass
class Outcome:
    """One request: what was asked, when, who answered, and why it failed (None: as expected)."""

    client: str
    action: str
    started: float
    ended: float = 0.0
    status: int | None = None
    served_by: str | None = None
    error: str | None = None
    message_id: int | None = None
    text: str | None = None

    @property
    def duration(self) -> float:
        return self.ended - self.started

    def __str__(self) -> str:
        answer = f"HTTP {self.status} from {self.served_by}" if self.status else "no answer"
        return f"{self.client} {self.action} at {self.started:.3f} ({self.duration:.3f} s): {answer}: {self.error}"


def last_accepted_id(accepted: dict[str, int]) -> int:
    """The id of the message accepted last (a dict keeps its insertion order)."""
    return next(reversed(accepted.values()))


class Client:
    """A person signed up once through the proxy, then posting a message, reading the API's list
    and the messages page, over and over; every message the server accepted is remembered."""

    def __init__(self, base_url: str, number: int) -> None:
        self.base_url = base_url
        self.username = f"roll{number}-{uuid.uuid4().hex[:8]}"
        self.visitor = Visitor(base_url)
        self.session = self.visitor.session
        self.outcomes: list[Outcome] = []
        self.accepted: dict[str, int] = {}  # text: id, for every 201
        # A failed POST may or may not have saved its message; the list's count is then unknown.
        self.unsure = False

    def sign_up(self) -> None:
        answer = self.visitor.sign_up(self.username, PASSWORD)
        assert answer.status_code == HTTPStatus.OK, answer.text[:500]
        assert self.signed_in(answer.text), f"{self.username} is not logged in after signing up"

    def signed_in(self, html: str) -> bool:
        return f">{self.username}</a>" in html

    def run(self, stop: threading.Event) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            # Each recorded once judged, so that a reader never sees one half done.
            self.outcomes.append(self.post(f"{self.username} message {number} {uuid.uuid4().hex[:6]}"))
            self.outcomes.append(self.list_messages())
            self.outcomes.append(self.messages_page())

    def _request(self, action: str, method: str, path: str, **kwargs) -> tuple[Outcome, requests.Response | None]:
        outcome = Outcome(self.username, action, time.monotonic())
        try:
            answer = self.session.request(
                method, self.base_url + path, timeout=REQUEST_TIMEOUT, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            outcome.ended = time.monotonic()
            outcome.error = f"{type(exc).__name__}: {exc}"
            return outcome, None
        outcome.ended = time.monotonic()
        outcome.status = answer.status_code
        outcome.served_by = answer.headers.get("X-Served-By")
        return outcome, answer

    def post(self, text: str) -> Outcome:
        headers = {"X-CSRFToken": self.session.cookies["csrftoken"], "Content-Type": "application/json"}
        outcome, answer = self._request(
            "POST /api/messages", "POST", "/api/messages", data=json.dumps({"text": text}), headers=headers
        )
        outcome.text = text
        if answer is None:
            self.unsure = True
        elif answer.status_code != HTTPStatus.CREATED:
            self.unsure = True
            outcome.error = f"expected 201: {answer.text[:300]}"
        elif answer.json().get("text") != text:
            outcome.error = f"saved as {answer.json().get('text')!r}"
        else:
            outcome.message_id = answer.json()["id"]
            self.accepted[text] = outcome.message_id
        return outcome

    def list_messages(self) -> Outcome:
        outcome, answer = self._request("GET /api/messages", "GET", "/api/messages")
        if answer is None:
            return outcome
        if answer.status_code != HTTPStatus.OK:
            outcome.error = f"expected 200: {answer.text[:300]}"
            return outcome
        body = answer.json()
        # Read-your-writes across processes: what one process accepted, the next one lists.
        if not self.unsure and body["count"] != len(self.accepted):
            outcome.error = f"lists {body['count']} messages, {len(self.accepted)} were accepted"
        elif self.accepted and not self.unsure and body["results"][0]["id"] != last_accepted_id(self.accepted):
            outcome.error = f"the newest listed is {body['results'][0]}, not the one accepted last"
        return outcome

    def messages_page(self) -> Outcome:
        outcome, answer = self._request("GET /messages/", "GET", "/messages/")
        if answer is None:
            return outcome
        if answer.status_code != HTTPStatus.OK:
            outcome.error = f"expected 200: {answer.headers.get('Location') or answer.text[:300]}"
        elif not self.signed_in(answer.text):
            outcome.error = "the page does not show the user logged in"
        return outcome


class Load:
    """``clients`` signed-up clients looping in threads of their own until ``stop()``."""

    def __init__(self, base_url: str, clients: int) -> None:
        self.clients = [Client(base_url, number) for number in range(1, clients + 1)]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.crashes: list[str] = []

    def sign_up(self) -> "Load":
        for client in self.clients:
            client.sign_up()
        return self

    def start(self) -> "Load":
        for client in self.clients:
            thread = threading.Thread(target=self._run, args=(client,), name=client.username, daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def _run(self, client: Client) -> None:
        try:
            client.run(self._stop)
        except BaseException:  # noqa: BLE001 - a client that dies must fail the test, not vanish
            self.crashes.append(f"{client.username}: {traceback.format_exc()}")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 10)
        assert not [thread.name for thread in self._threads if thread.is_alive()], "a client did not stop"

    def outcomes(self) -> list[Outcome]:
        return sorted((o for client in self.clients for o in list(client.outcomes)), key=lambda o: o.started)

    def wait_until_each_client_was_served_by(self, servers: list[str], timeout: float = 60) -> dict[str, set[str]]:
        """Wait until every client has had a good answer from each of ``servers``; what is still
        missing then, by client (nothing, unless the deadline passed or a client crashed)."""
        deadline = time.monotonic() + timeout
        while True:
            missing = {
                client.username: set(servers) - {o.served_by for o in list(client.outcomes) if not o.error}
                for client in self.clients
            }
            missing = {name: left for name, left in missing.items() if left}
            if not missing or self.crashes or time.monotonic() > deadline:
                return missing
            time.sleep(0.05)
