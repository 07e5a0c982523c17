"""The account forms: usernames without look-alike letters, and the throttled old-password check."""

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("username", ["\u0430lice", "p\u0430ypal", "j\u0456woo"])  # with a Cyrillic a, a and i
def test_look_alike_usernames_are_refused(client, password, username, sign_up):
    response = sign_up(client, username, password)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "look-alike" in response.content.decode()


@pytest.mark.parametrize("username", ["alice2", "김민준", "jiwoo_42", "ölçü"])
def test_names_in_one_script_or_without_look_alikes_are_fine(client, password, username, sign_up):
    assert sign_up(client, username, password).status_code == HTTPStatus.FOUND


def test_the_old_password_check_is_throttled_and_each_failure_is_an_event(alice_client, settings, password, caplog):
    settings.PASSWORD_CHANGE_FAILURE_LIMIT = 3
    new = "Another-long-passw0rd"
    for _ in range(3):
        wrong = alice_client.post(
            "/accounts/password/", {"old_password": "guess", "new_password1": new, "new_password2": new}
        )
        assert wrong.status_code == HTTPStatus.OK

    right = alice_client.post(
        "/accounts/password/", {"old_password": password, "new_password1": new, "new_password2": new}
    )

    assert right.status_code == HTTPStatus.OK  # refused: the form again, with the lock's error
    assert "Too many wrong passwords" in right.content.decode()
    events = [getattr(r, "event", None) for r in caplog.records]
    assert events.count("user.password_change_failed") == 3
    assert "user.password_change_locked" in events
    assert "user.password_change" not in events
