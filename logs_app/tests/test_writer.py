"""The background writer: off the request's path, batched, newest first, bounded."""

import time

import pytest

from logs_app import store
from logs_app.store import ActivityWriter, activity_recent, activity_write


def entry(number: int, user: str | None = "alice") -> dict:
    return {"path": f"/p/{number}", "user": user}


def test_a_batch_lands_newest_first_in_both_lists():
    assert activity_write([entry(1), entry(2, user=None), entry(3)]) is True

    assert [e["path"] for e in activity_recent(limit=10)] == ["/p/3", "/p/2", "/p/1"]
    assert [e["path"] for e in activity_recent(limit=10, username="alice")] == ["/p/3", "/p/1"]


def test_the_thread_writes_what_piled_up_in_one_round_trip(monkeypatch):
    batches = []
    real_write = store.activity_write
    monkeypatch.setattr(store, "activity_write", lambda entries: batches.append(len(entries)) or real_write(entries))
    writer = ActivityWriter(interval=0.2)
    for number in range(250):
        writer.submit(entry(number))

    deadline = time.monotonic() + 3
    while sum(batches) < 250 and time.monotonic() < deadline:
        time.sleep(0.02)

    assert batches == [250]  # appended faster than the interval: written together, by the thread
    written = activity_recent(limit=300)
    assert len(written) == 250
    assert written[0]["path"] == "/p/249"


def test_flush_writes_at_once_in_the_caller():
    writer = ActivityWriter(interval=60)
    writer.submit(entry(1))

    writer.flush()

    assert activity_recent(limit=1)[0]["path"] == "/p/1"


def test_a_full_queue_drops_and_counts_instead_of_growing(monkeypatch, caplog):
    monkeypatch.setattr(store, "MAX_PENDING", 0)
    writer = ActivityWriter()

    writer.submit(entry(1))

    assert any(getattr(r, "event", None) == "recent_activity.write_failed" for r in caplog.records)


@pytest.mark.django_db
def test_requests_go_through_the_writer_when_it_is_on(alice_client, settings):
    settings.RECENT_ACTIVITY_BACKGROUND = True

    alice_client.get("/messages/")

    # The page read includes what this process has not written yet: the request just made.
    assert activity_recent(limit=1, username="alice")[0]["path"] == "/messages/"


def test_a_read_shows_entries_not_written_yet_without_writing_them(monkeypatch):
    writes = []
    real_write = store.activity_write
    monkeypatch.setattr(store, "activity_write", lambda entries: writes.append(len(entries)) or real_write(entries))
    store.activity_write([{**entry(1), "ts": "2026-11-26T10:00:00.000Z"}])
    writer = ActivityWriter(interval=60)
    monkeypatch.setattr(store, "writer", writer)
    writer.submit({**entry(2), "ts": "2026-11-26T10:00:01.000Z"})
    writer.submit({**entry(3, user="bob"), "ts": "2026-11-26T10:00:02.000Z"})

    assert [e["path"] for e in activity_recent(limit=10)] == ["/p/3", "/p/2", "/p/1"]
    assert [e["path"] for e in activity_recent(limit=10, username="alice")] == ["/p/2", "/p/1"]
    assert [e["path"] for e in activity_recent(limit=1)] == ["/p/3"]
    assert writes == [1]  # reading wrote nothing; the entries still wait for the writer

    writer.flush()
    assert [e["path"] for e in activity_recent(limit=10)] == ["/p/3", "/p/2", "/p/1"]  # once each
