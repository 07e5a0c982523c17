"""A new user's journey through jiwoo in real Chromium, once in English and once in Korean."""

import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import TRACE_ID, check_page

pytestmark = pytest.mark.e2e

PASSWORD = "Journey-passw0rd-7"
LOCALES = {"en": "en-US", "ko": "ko-KR"}
TEXT = {
    "en": {
        "welcome": "Welcome to jiwoo",
        "saved": "Message saved.",
        "deleted": "Message deleted.",
        "no_results": "No results for",
        "empty": "No messages yet",
        "not_found": "Page not found",
        "activity": "Recent activity",
    },
    "ko": {
        "welcome": "jiwoo에 오신 것을 환영합니다",
        "saved": "메시지를 저장했습니다.",
        "deleted": "메시지를 삭제했습니다.",
        "no_results": "에 대한 결과가 없습니다",
        "empty": "아직 메시지가 없습니다",
        "not_found": "페이지를 찾을 수 없습니다",
        "activity": "최근 활동",
    },
}
MESSAGES = ["안녕하세요, 서울의 아침입니다", "party 🎉 time tonight", "<script>alert(1)</script>"]


def sign_up(page, username: str, *, mismatch_first: bool = False, language: str = "en") -> None:
    page.goto("/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    if mismatch_first:
        page.fill("#id_password2", PASSWORD + "x")
        page.click('[data-track="signup.submit"]')
        errors = page.locator("#id_password2_error")
        expect(errors).to_be_visible()
        expect(errors).not_to_be_empty()
        # The error sits with the field it is about.
        field = page.locator(".field", has=page.locator("#id_password2"))
        expect(field.locator(".errors")).to_be_visible()
        check_page(page, language, "signup-error")
        page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click('[data-track="signup.submit"]')
    expect(page).to_have_url(re.compile(r"/messages/$"))


def save_message(page, text: str, language: str) -> None:
    page.fill("#id_text", text)
    page.click('[data-track="messages.save"]')
    expect(page.locator(".flash-success")).to_contain_text(TEXT[language]["saved"])


def api_post_messages(page, count: int) -> None:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    for number in range(count):
        response = page.request.post(
            "/api/messages",
            data=json.dumps({"text": f"filler {number}"}),
            headers={"X-CSRFToken": token, "Content-Type": "application/json"},
        )
        assert response.status == 201, response.text()


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_new_users_journey(new_page, live_app, language):
    text = TEXT[language]
    page = new_page(LOCALES[language])
    dialogs, console_errors = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    # A Content-Security-Policy violation (or any script error) shows up in the console.
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    username = f"{language}_{uuid.uuid4().hex[:8]}"

    # The front door sends a stranger to the log-in page.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    check_page(page, language, "login")

    page.click('.nav a[href="/accounts/signup/"]')
    check_page(page, language, "signup")
    sign_up(page, username, mismatch_first=True, language=language)
    expect(page.locator(".flash-success")).to_contain_text(text["welcome"])
    expect(page.locator(".empty")).to_contain_text(text["empty"])
    check_page(page, language, "messages-empty")

    for message in MESSAGES:
        save_message(page, message, language)
    # The script is shown as text and never runs.
    expect(page.locator(".message-text").first).to_have_text("<script>alert(1)</script>")
    assert dialogs == []
    check_page(page, language, "messages")

    # Search by a Korean word, then by two words in the reverse order.
    page.fill("#id_q", "서울")
    page.click('[data-track="messages.search"]')
    expect(page.locator(".message-text")).to_have_count(1)
    expect(page.locator(".message-text")).to_contain_text("서울의 아침")
    check_page(page, language, "search")
    page.fill("#id_q", "tonight party")
    page.click('[data-track="messages.search"]')
    expect(page.locator(".message-text")).to_have_count(1)
    expect(page.locator(".message-text")).to_contain_text("🎉")
    page.fill("#id_q", "nothing-like-this")
    page.click('[data-track="messages.search"]')
    expect(page.locator(".empty")).to_contain_text(text["no_results"])

    # 25 messages make two pages.
    api_post_messages(page, 22)
    page.goto("/messages/")
    expect(page.locator(".message")).to_have_count(20)
    page.click('a[rel="next"]')
    expect(page.locator(".message")).to_have_count(5)
    expect(page.locator(".message-text").last).to_contain_text("서울의 아침")
    check_page(page, language, "messages-page-2")

    # Delete one.
    page.goto("/messages/")
    page.locator('[data-track="messages.delete"]').first.click()
    expect(page.locator(".flash-success")).to_contain_text(text["deleted"])
    assert page.request.get("/api/messages").json()["count"] == 24

    # The activity page lists those actions with their trace ids.
    page.click('[data-track="nav.activity"]')
    expect(page.locator("h1")).to_have_text(text["activity"])
    rows = page.locator("table.activity tbody tr")
    events = set(rows.locator("td:nth-child(5)").all_inner_texts())
    assert {"message.create", "message.search", "message.delete"} <= events
    # The page shows the newest 50; the sign-up is further back, and the API reaches it.
    older = page.request.get("/api/logs/recent?limit=200").json()["results"]
    assert "user.signup" in {entry["event"] for entry in older}
    trace_ids = rows.locator("code.trace-id").all_inner_texts()
    assert trace_ids
    assert all(TRACE_ID.match(trace_id) for trace_id in trace_ids)
    check_page(page, language, "activity")

    # Log out; the messages page then asks for a log-in again.
    page.click('[data-track="nav.logout"]')
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/messages/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/messages/"))
    assert [e for e in console_errors if "Content Security Policy" in e or "Refused" in e] == []


def test_a_second_user_sees_none_of_the_first_users_messages(new_page):
    alice = new_page()
    sign_up(alice, f"alice_{uuid.uuid4().hex[:6]}")
    save_message(alice, "alice's secret plan 서울", "en")
    secret_id = alice.request.get("/api/messages").json()["results"][0]["id"]

    bob = new_page()
    sign_up(bob, f"bob_{uuid.uuid4().hex[:6]}")

    expect(bob.locator(".empty")).to_be_visible()
    bob.goto("/messages/?q=서울")
    expect(bob.locator(".message")).to_have_count(0)
    assert bob.request.get(f"/api/messages/{secret_id}").status == 404
    assert "secret" not in bob.content()


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_404_page_shows_the_trace_id(new_page, language):
    page = new_page(LOCALES[language])

    response = page.goto("/no-such-page/")

    assert response.status == 404
    shown = page.locator(".trace-ref code.trace-id").inner_text()
    assert TRACE_ID.match(shown)
    assert response.headers["traceresponse"].split("-")[1] == shown
    expect(page.locator("h1")).to_have_text(TEXT[language]["not_found"])
    check_page(page, language, "not-found")


def test_the_language_can_be_switched_on_the_page(new_page):
    page = new_page("en-US")
    page.goto("/accounts/login/")

    page.select_option("#language-select", "ko")
    page.click('[data-track="language.change"]')

    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("h1")).to_have_text("로그인")
