import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_creates_the_superuser_once_and_never_changes_it(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "first-Passw0rd")
    call_command("ensure_admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "second-Passw0rd")
    call_command("ensure_admin")

    admin = get_user_model().objects.get(username="root")
    assert admin.is_superuser
    assert admin.check_password("first-Passw0rd")
    assert get_user_model().objects.count() == 1


def test_refuses_to_run_without_credentials(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    with pytest.raises(CommandError):
        call_command("ensure_admin")
