"""The trace view in real Chromium: from the activity page to a request's waterfall, with no
collector, in English and Korean, at desktop and phone width."""

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import TRACE_ID, check_page
from tests.e2e.test_journey import LOCALES, save_message, sign_up

pytestmark = pytest.mark.e2e

HEADINGS = {"en": "Trace", "ko": "트레이스"}
# A trace reaches Redis from each worker's batch processor a moment after its request.
STORE_SECONDS = 30


def reload_until(page, url: str, ready, seconds: float = STORE_SECONDS):
    """Open ``url`` until ``ready(page)`` (entries and traces are written a moment after the request)."""
    deadline = time.monotonic() + seconds
    while True:
        response = page.goto(url)
        if ready(page, response) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def bar(row) -> tuple[float, float]:
    """Where a row's bar starts and ends, in percent of the trace, as the SVG draws it."""
    rect = row.locator("rect")
    left = float(rect.get_attribute("x"))
    return left, left + float(rect.get_attribute("width"))


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_saved_messages_trace_is_a_waterfall_of_its_spans(new_page, live_app, language):
    page = new_page(LOCALES[language])
    sign_up(page, f"tracer_{uuid.uuid4().hex[:8]}", language=language)
    save_message(page, "a message with a trace", language)

    # The activity page: the POST that saved the message, its trace id a link to the trace view.
    post_row = 'tr[data-method="POST"][data-path="/messages/"]'
    reload_until(page, "/logs/", lambda page, _: page.locator(post_row).count() > 0)
    link = page.locator(f"{post_row} td.trace a").first
    trace_id = link.locator("code").inner_text()
    assert TRACE_ID.match(trace_id)
    assert link.get_attribute("href") == f"/logs/traces/{trace_id}/"

    reload_until(page, link.get_attribute("href"), lambda _, response: response.status == 200)
    expect(page.locator("h1")).to_contain_text(HEADINGS[language])
    expect(page.locator("h1 .trace-id")).to_have_text(trace_id)

    # The request's server span, and its SQL statements drawn under it and inside its bar.
    server = page.locator("li.span-row.span-server.depth-0").filter(has_text=re.compile(r"POST messages/"))
    expect(server).to_have_count(1)
    server_id = server.get_attribute("data-span-id")
    sql = page.locator(f'li.span-sql[data-parent-span-id="{server_id}"]')
    assert sql.count() >= 2, "the sign-up's user, the message's INSERT: SQL under the server span"
    start, end = bar(server)
    for index in range(sql.count()):
        child = sql.nth(index)
        assert "depth-1" in child.get_attribute("class")
        child_start, child_end = bar(child)
        assert start - 0.01 <= child_start <= child_end <= end + 0.01, (start, end, child_start, child_end)
    assert page.locator('li.span-row[data-kind="client"] .span-service').filter(has_text="INSERT").count() >= 1

    # A span's attributes show when it is chosen.
    server.locator("summary").click()
    expect(server.locator("dl.span-details")).to_be_visible()
    expect(server.locator("dl.span-details")).to_contain_text("message.create")

    # The request's http.request line, from recent activity.
    expect(page.locator(".trace-log")).to_contain_text("POST /messages/ 302")
    check_page(page, language, "trace-view")
    assert page.request.get(f"/api/traces/{trace_id}").status == 200


def test_the_pages_own_trace_shows_the_browsers_spans_under_the_server_span(new_page, live_app):
    """The browser's documentLoad, relayed, joins the trace of the page it loaded: the owner's."""
    page = new_page()
    sign_up(page, f"browser_{uuid.uuid4().hex[:8]}")
    trace_id = page.locator('meta[name="traceparent"]').get_attribute("content").split("-")[1]
    page.goto("/logs/")  # leaving the page sends its spans (the bundle flushes on pagehide)

    reload_until(page, f"/logs/traces/{trace_id}/", lambda page, _: page.locator("li.span-browser").count() > 0)

    server = page.locator("li.span-row.span-server.depth-0")
    document_load = page.locator("li.span-browser").filter(has_text="documentLoad")
    expect(document_load).to_have_count(1)
    assert document_load.get_attribute("data-parent-span-id") == server.get_attribute("data-span-id")
    expect(document_load.locator(".span-service")).to_contain_text("jiwoo-frontend")
