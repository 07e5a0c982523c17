"""The activity store: capped lists newest first, who reads what, and the background writer (batched, bounded)."""

import time

import pytest
from django.urls import reverse

from logs_app import store
from logs_app.store import ActivityWriter, activity_recent, activity_write

# How long a test waits for the writer thread: far above its 100 ms interval, so that a busy
# machine (both cores under stress-ng) still passes; the wait ends as soon as the write is seen.
DEADLINE_SECONDS = 30
ALICE = 7


def entry(number: int, user: str | None = "alice") -> dict:
    return {"path": f"/p/{number}", "user": user}


@pytest.fixture(autouse=True)
def writers(monkeypatch):
    """Every writer a test makes, the process's own included, is flushed when the test ends.

    A writer's thread outlives its test: without this, entries still pending were written a
    moment (or a minute) later, into whichever test ran then.
    """
    made = []
    real_init = ActivityWriter.__init__

    def tracked_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(ActivityWriter, "__init__", tracked_init)
    yield made
    for writer in [*made, store.writer]:
        writer.flush()


def wait_for(condition) -> bool:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_batch_lands_newest_first_in_both_lists():
    assert activity_write([entry(1), entry(2, user=None), entry(3)], [ALICE, None, ALICE]) is True

    assert [e["path"] for e in activity_recent(limit=10)] == ["/p/3", "/p/2", "/p/1"]
    assert [e["path"] for e in activity_recent(limit=10, user_id=ALICE)] == ["/p/3", "/p/1"]


def test_the_thread_writes_what_piled_up_in_one_round_trip(monkeypatch):
    # What reaches Redis is another test's; this one is about batching, so a loaded machine's
    # slow Redis round trip (over the 200 ms timeout under stress-ng) cannot fail it.
    batches = []
    monkeypatch.setattr(store, "activity_write", lambda entries, ids: batches.append((entries, ids)) or True)
    writer = ActivityWriter(interval=0.2)
    writer.submit(entry(0), ALICE)  # starts the thread
    assert wait_for(lambda: len(batches) == 1)
    # Paused, the thread cannot write while the entries are appended, however slow the machine.
    with writer.paused():
        for number in range(1, 250):
            writer.submit(entry(number), ALICE)

    assert wait_for(lambda: sum(len(entries) for entries, _ in batches) == 250)
    assert [len(entries) for entries, _ in batches] == [1, 249]  # appended between two writes: written together
    entries, ids = batches[1]
    assert [e["path"] for e in entries] == [f"/p/{n}" for n in range(1, 250)]  # oldest first, as LPUSH wants
    assert ids == [ALICE] * 249


def test_flush_writes_at_once_in_the_caller():
    writer = ActivityWriter(interval=60)
    writer.submit(entry(1))

    writer.flush()

    assert activity_recent(limit=1)[0]["path"] == "/p/1"


def test_a_full_queue_drops_and_counts_instead_of_growing(monkeypatch, caplog):
    monkeypatch.setattr(store, "MAX_PENDING", 0)
    writer = ActivityWriter(interval=60)

    writer.submit(entry(1))

    assert any(getattr(r, "event", None) == "recent_activity.write_failed" for r in caplog.records)


@pytest.mark.django_db
def test_requests_go_through_the_writer_when_it_is_on(alice_client, user, settings, monkeypatch):
    settings.RECENT_ACTIVITY_BACKGROUND = True
    monkeypatch.setattr(store, "writer", ActivityWriter(interval=60))  # flushed by the fixture

    alice_client.get("/messages/")

    # The page read includes what this process has not written yet: the request just made.
    assert activity_recent(limit=1, user_id=user.pk)[0]["path"] == "/messages/"


def test_a_read_shows_entries_not_written_yet_without_writing_them(monkeypatch):
    writes = []
    real_write = store.activity_write
    monkeypatch.setattr(
        store, "activity_write", lambda entries, ids=None: writes.append(len(entries)) or real_write(entries, ids)
    )
    store.activity_write([{**entry(1), "ts": "2026-11-26T10:00:00.000Z"}], [ALICE])
    writer = ActivityWriter(interval=60)
    monkeypatch.setattr(store, "writer", writer)
    writer.submit({**entry(2), "ts": "2026-11-26T10:00:01.000Z"}, ALICE)
    writer.submit({**entry(3, user="bob"), "ts": "2026-11-26T10:00:02.000Z"}, 8)

    assert [e["path"] for e in activity_recent(limit=10)] == ["/p/3", "/p/2", "/p/1"]
    assert [e["path"] for e in activity_recent(limit=10, user_id=ALICE)] == ["/p/2", "/p/1"]
    assert [e["path"] for e in activity_recent(limit=1)] == ["/p/3"]
    assert writes == [1]  # reading wrote nothing; the entries still wait for the writer

    writer.flush()
    assert [e["path"] for e in activity_recent(limit=10)] == ["/p/3", "/p/2", "/p/1"]  # once each


def test_a_read_never_returns_more_than_the_cap_with_entries_pending(monkeypatch, settings):
    # Once, a read returned the cap plus this worker's pending entries (42 with a cap of 40).
    settings.RECENT_LOGS_MAX = 40
    activity_write([{**entry(n), "ts": f"2026-11-26T10:00:{n:02d}.000Z"} for n in range(40)])
    writer = ActivityWriter(interval=60)
    monkeypatch.setattr(store, "writer", writer)
    for n in (40, 41):
        writer.submit({**entry(n), "ts": f"2026-11-26T10:00:{n:02d}.000Z"})

    entries = activity_recent(limit=1000)

    assert len(entries) == 40
    assert entries[0]["path"] == "/p/41"


def test_reads_are_newest_first_across_two_workers_batches():
    # Worker A flushes its batch after worker B: in the list A's older entries sit above B's.
    worker_b = [{**entry(n), "ts": f"2026-11-26T10:00:00.{n:03d}Z"} for n in (10, 30, 50, 70)]
    worker_a = [{**entry(n), "ts": f"2026-11-26T10:00:00.{n:03d}Z"} for n in (0, 20, 40, 60)]
    activity_write(worker_b)
    activity_write(worker_a)

    assert [e["path"] for e in activity_recent(limit=8)] == [f"/p/{n}" for n in (70, 60, 50, 40, 30, 20, 10, 0)]
    assert [e["path"] for e in activity_recent(limit=3)] == ["/p/70", "/p/60", "/p/50"]


def test_every_stored_string_is_capped():
    activity_write([{**entry(1), "path": "/" + "x" * 5000, "route": "r" * 999, "method": "M" * 99}], [ALICE])

    (stored,) = activity_recent(limit=1, user_id=ALICE)
    assert len(stored["path"]) == 512
    assert len(stored["route"]) == store.DEFAULT_STRING_LENGTH
    assert len(stored["method"]) == 16


def test_a_users_own_list_is_capped_by_its_own_setting(settings):
    settings.RECENT_LOGS_USER_MAX = 3
    activity_write([entry(n) for n in range(10)], [ALICE] * 10)

    assert len(activity_recent(limit=100, user_id=ALICE)) == 3
    assert len(activity_recent(limit=100)) == 10


@pytest.mark.django_db
def test_the_cap_holds(alice_client, user, settings):
    settings.RECENT_LOGS_MAX = 5
    for number in range(8):
        alice_client.get("/messages/", {"page": number + 1})

    everyone = activity_recent(limit=100)
    own = activity_recent(limit=100, user_id=user.pk)

    assert len(everyone) == 5
    assert len(own) == 5
    assert everyone[0]["path"] == "/messages/"


@pytest.mark.django_db
def test_staff_see_everyone_and_others_only_themselves(client, user, other_user, staff_user):
    client.force_login(user)
    client.get("/messages/", {"q": "from-alice"})
    client.force_login(other_user)
    client.get("/messages/", {"q": "from-bob"})

    bob_sees = client.get(reverse("logs:recent")).context["entries"]
    bob_api = client.get("/api/logs/recent").json()["results"]
    client.force_login(staff_user)
    staff_api = client.get("/api/logs/recent", {"limit": 200}).json()["results"]

    assert {e["user"] for e in bob_sees} == {"bob"}
    assert {e["user"] for e in bob_api} == {"bob"}
    assert {"alice", "bob"} <= {e["user"] for e in staff_api}


@pytest.mark.django_db
def test_staff_still_see_everyones_entries_with_usernames(client, user, staff_user):
    client.force_login(user)
    client.get("/messages/")
    client.force_login(staff_user)

    entries = client.get("/logs/").context["entries"]

    assert {"alice"} <= {e["user"] for e in entries}
