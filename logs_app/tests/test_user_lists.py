"""Per-user activity is keyed by user id and goes with the user."""

import pytest

from logs_app.store import activity_recent

pytestmark = pytest.mark.django_db


def test_a_new_account_with_a_deleted_users_name_sees_nothing_of_theirs(
    client, make_user, django_capture_on_commit_callbacks
):
    first = make_user("dana")
    first_id = first.pk
    client.force_login(first)
    client.get("/messages/")
    assert activity_recent(limit=10, user_id=first_id)

    with django_capture_on_commit_callbacks(execute=True):
        first.delete()
    second = make_user("dana")
    client.force_login(second)

    assert second.pk != first_id
    assert activity_recent(limit=10, user_id=first_id) == []  # the list went with the user
    page = client.get("/logs/").context["entries"]
    assert [e["path"] for e in page] == []  # the log-in of this test client is not a request


def test_staff_still_see_everyones_entries_with_usernames(client, user, staff_user):
    client.force_login(user)
    client.get("/messages/")
    client.force_login(staff_user)

    entries = client.get("/logs/").context["entries"]

    assert {"alice"} <= {e["user"] for e in entries}
