"""The environment: NAME_FILE stands in for NAME, never beside it; the service name as OpenTelemetry reads it."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.environment import env, secret, service_name


def test_a_file_stands_in_for_its_variable(monkeypatch, tmp_path):
    (tmp_path / "key").write_text("from-the-file\n")
    monkeypatch.delenv("JIWOO_TEST_KEY", raising=False)
    monkeypatch.setenv("JIWOO_TEST_KEY_FILE", str(tmp_path / "key"))

    assert secret("JIWOO_TEST_KEY") == "from-the-file"
    assert env.str("JIWOO_TEST_KEY") == "from-the-file"


def test_only_the_last_line_break_is_dropped(monkeypatch, tmp_path):
    (tmp_path / "key").write_bytes(b" two\nlines \r\n")
    monkeypatch.setenv("JIWOO_TEST_KEY_FILE", str(tmp_path / "key"))

    assert secret("JIWOO_TEST_KEY") == " two\nlines "


def test_a_value_and_its_file_together_are_refused(monkeypatch, tmp_path):
    (tmp_path / "key").write_text("one")
    monkeypatch.setenv("JIWOO_TEST_KEY", "other")
    monkeypatch.setenv("JIWOO_TEST_KEY_FILE", str(tmp_path / "key"))

    with pytest.raises(ImproperlyConfigured, match="Both JIWOO_TEST_KEY and JIWOO_TEST_KEY_FILE are set"):
        secret("JIWOO_TEST_KEY")


def test_a_missing_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("JIWOO_TEST_KEY_FILE", str(tmp_path / "absent"))

    with pytest.raises(ImproperlyConfigured, match="JIWOO_TEST_KEY_FILE names a file that cannot be read"):
        secret("JIWOO_TEST_KEY")


def test_a_secret_is_taken_as_it_is(monkeypatch):
    """django-environ reads a value starting with $ as another variable's name; a password is not."""
    monkeypatch.setenv("JIWOO_TEST_KEY", "$HOME-is-not-expanded")

    assert secret("JIWOO_TEST_KEY") == "$HOME-is-not-expanded"


def test_without_either_the_default_is_used(monkeypatch):
    monkeypatch.delenv("JIWOO_TEST_KEY", raising=False)
    monkeypatch.delenv("JIWOO_TEST_KEY_FILE", raising=False)

    assert secret("JIWOO_TEST_KEY") == ""
    assert secret("JIWOO_TEST_KEY", default="fallback") == "fallback"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "jiwoo"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "team=a,service.name=from-attributes"}, "from-attributes"),
        ({"OTEL_SERVICE_NAME": "from-name", "OTEL_RESOURCE_ATTRIBUTES": "service.name=other"}, "from-name"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "service.name=with%20space"}, "with space"),
    ],
)
def test_service_name_follows_the_specification(monkeypatch, env, expected):
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    assert service_name() == expected


def test_an_empty_file_is_refused_by_name(monkeypatch, tmp_path):
    (tmp_path / "key").write_text("\n")
    monkeypatch.delenv("JIWOO_TEST_KEY", raising=False)
    monkeypatch.setenv("JIWOO_TEST_KEY_FILE", str(tmp_path / "key"))

    with pytest.raises(ImproperlyConfigured, match="JIWOO_TEST_KEY_FILE names an empty file"):
        secret("JIWOO_TEST_KEY")
