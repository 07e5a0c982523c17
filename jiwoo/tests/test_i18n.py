"""English by default, Korean for browsers that ask for it, switchable, with a complete catalogue."""

import os
import shutil
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KO_PO = ROOT / "locale" / "ko" / "LC_MESSAGES" / "django.po"
IGNORED = ["--ignore=tests", "--ignore=*/tests/*"]

pytestmark = pytest.mark.django_db


def test_english_is_the_default(client):
    content = client.get("/accounts/login/").content.decode()

    assert '<html lang="en">' in content
    assert "Log in" in content


def test_korean_is_chosen_from_accept_language(client):
    content = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9,en;q=0.5").content.decode()

    assert '<html lang="ko">' in content
    assert "로그인" in content
    assert "계정 만들기" in content


def test_language_can_be_switched_from_the_page(client):
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/accounts/login/"})

    assert response.status_code == HTTPStatus.FOUND
    assert "로그인" in client.get("/accounts/login/").content.decode()


def test_form_errors_flash_messages_and_djangos_own_texts_are_translated(client, user):
    client.force_login(user)
    korean = {"HTTP_ACCEPT_LANGUAGE": "ko"}

    empty = client.post("/messages/", {"text": " "}, **korean).content.decode()
    saved = client.post("/messages/", {"text": "안녕"}, follow=True, **korean).content.decode()
    client.logout()
    signup = client.post(
        "/accounts/signup/", {"username": "x", "password1": "a", "password2": "b"}, **korean
    ).content.decode()

    assert "먼저 내용을 입력하세요" in empty
    assert "메시지를 저장했습니다." in saved
    assert "비밀번호" in signup  # Django's own Korean catalogue for the auth forms


def test_error_pages_are_translated(client):
    content = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert "페이지를 찾을 수 없습니다" in content


def test_every_message_has_a_korean_translation():
    with KO_PO.open("rb") as po_file:
        catalog = read_po(po_file, locale="ko")

    untranslated = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert len(catalog) > 70
    assert untranslated == []
    assert fuzzy == []


def test_makemessages_finds_no_string_missing_from_the_catalogue(tmp_path):
    """Extract the strings anew (GNU gettext) into a copy, and compare with the committed .po."""
    if shutil.which("xgettext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext (xgettext) is needed in CI to check the catalogue")
        pytest.skip("GNU gettext is not installed")
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "var", "node_modules", "tests", "helm", "*.mo")
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ko", "--no-obsolete", *IGNORED],
        cwd=copy,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "jiwoo.test_settings"},
        check=True,
        capture_output=True,
    )
    with (copy / "locale" / "ko" / "LC_MESSAGES" / "django.po").open("rb") as po_file:
        fresh = {m.id for m in read_po(po_file, locale="ko") if m.id}
    with KO_PO.open("rb") as po_file:
        committed = {m.id for m in read_po(po_file, locale="ko") if m.id}

    assert fresh - committed == set(), "run makemessages and translate the new strings"
