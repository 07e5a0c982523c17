"""The browser's spans in real Chromium: the web SDK bundle, the relay, and an OTLP receiver.

jiwoo runs under gunicorn exporting to tests/otlp_receiver.py. Chromium loads a search page,
clicks a tracked link to the live activity page and waits for its refresh; the receiver must then
hold the browser's documentLoad span as the child of the page's server span, the click, and the
refresh's CLIENT span as the parent of the API's server span, with no query string anywhere.
The test also draws the page's trace as a waterfall and photographs the live activity page
(SCREENSHOT_DIR/en/; `make screenshots` copies them into docs/screenshots for the README).
"""

import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.appserver import AppServer
from tests.e2e.conftest import SCREENSHOT_DIR, VIEWPORTS
from tests.otlp_receiver import OtlpReceiver

pytestmark = pytest.mark.e2e

SERVICE = "jiwoo-e2e"
FRONTEND = f"{SERVICE}-frontend"
PASSWORD = "Browser-traces-passw0rd-3"
CLIENT = 3  # OTLP's SPAN_KIND_CLIENT
SERVER = 2


@pytest.fixture(scope="module")
def receiver():
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def traced_app(tmp_path_factory, receiver):
    server = AppServer(tmp_path_factory.mktemp("rum"), env=receiver.env(OTEL_SERVICE_NAME=SERVICE)).start()
    yield server
    server.stop()


@pytest.fixture
def page(browser, traced_app):
    context = browser.new_context(
        base_url=traced_app.url, locale="en-US", viewport=VIEWPORTS["desktop"], timezone_id="Asia/Seoul"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    page.csp_violations = violations
    yield page
    context.close()


def all_spans(receiver) -> list[dict]:
    """Every span received, with its service's name beside it."""
    return [{**span, "service": span["resource"].get("service.name")} for span in receiver.spans()]


def wait_for(receiver, predicate, what: str, timeout: float = 15) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [span for span in all_spans(receiver) if predicate(span)]
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"the receiver never got {what}")


def sign_up(page, app) -> None:
    page.goto("/accounts/signup/")
    page.fill("#id_username", f"rum-{uuid.uuid4().hex[:8]}")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click('[data-track="signup.submit"]')
    expect(page).to_have_url(f"{app.url}/messages/")


def test_browser_spans_join_the_servers_traces(page, receiver, traced_app):
    sign_up(page, traced_app)

    # The search page: its server span is named in the traceresponse header and the meta tag.
    response = page.goto("/messages/?q=word")
    _, page_trace, server_span, _ = response.headers["traceresponse"].split("-")
    traceparent = page.locator('meta[name="traceparent"]').get_attribute("content")
    assert traceparent == f"00-{page_trace}-{server_span}-01"
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # the document-load instrumentation ends its span after the load event

    # Navigate away by a tracked click: the click span, and the page hide flushes the batch.
    page.click('[data-track="nav.activity"]')
    expect(page).to_have_url(f"{traced_app.url}/logs/")
    live = page.locator(".live-state")
    expect(live).to_have_attribute("data-state", "live")
    with page.expect_response(lambda r: "/api/logs/recent" in r.url, timeout=15_000) as refreshed:
        pass
    assert refreshed.value.status == 200

    [document] = wait_for(
        receiver,
        lambda s: s["name"] == "documentLoad" and s["trace_id"] == page_trace,
        "the search page's documentLoad",
    )
    assert document["service"] == FRONTEND
    assert document["parent_span_id"] == server_span
    assert document["scope"] == "@opentelemetry/instrumentation-document-load"
    assert document["attributes"]["url.full"] == f"{traced_app.url}/messages/"
    page_server = [s for s in all_spans(receiver) if s["span_id"] == server_span]
    assert [s["service"] for s in page_server] == [SERVICE]
    assert page_server[0]["kind"] == SERVER
    children = [s for s in all_spans(receiver) if s["parent_span_id"] == document["span_id"]]
    assert {"documentFetch", "resourceFetch"} <= {s["name"] for s in children}
    assert any(s["attributes"].get("url.full", "").endswith("/static/js/rum.min.js") for s in children)

    [click] = wait_for(receiver, lambda s: s["name"] == "click nav.activity", "the click's span")
    assert click["service"] == FRONTEND
    assert click["scope"] == "jiwoo.browser"
    assert click["attributes"]["jiwoo.track"] == "nav.activity"

    # The live view's refresh: a CLIENT span in the browser, the API's server span its child.
    fetches = wait_for(
        receiver,
        lambda s: (
            s["kind"] == CLIENT
            and s["service"] == FRONTEND
            and s["attributes"].get("url.full", "").endswith("/api/logs/recent")
        ),
        "the live view's fetch span",
    )
    fetch_ids = {s["span_id"] for s in fetches}
    api_servers = wait_for(
        receiver,
        lambda s: s["service"] == SERVICE and s["kind"] == SERVER and s["parent_span_id"] in fetch_ids,
        "a server span under the browser's fetch",
    )
    assert any("/api/logs/recent" in (s["attributes"].get("url.path") or s["name"]) for s in api_servers)

    frontend = [s for s in all_spans(receiver) if s["service"] == FRONTEND]
    for span in frontend:
        for key, value in span["attributes"].items():
            if isinstance(value, str):
                assert "?" not in value, (span["name"], key, value)
                assert "word" not in value, (span["name"], key, value)
    assert not page.csp_violations

    # One log line of the frontend for the click, in the click's trace.
    deadline = time.monotonic() + 5
    while '"browser.click"' not in traced_app.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f'"service_name":"{FRONTEND}"' in traced_app.log_text()
    assert click["trace_id"] in traced_app.log_text()

    # The pictures for the README: the live page (after a refresh marked new rows) and the trace.
    folder = SCREENSHOT_DIR / "en"
    folder.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(folder / "activity-live-desktop.png"), full_page=False)
    trace = [s for s in all_spans(receiver) if s["trace_id"] == page_trace]
    draw_waterfall(trace, folder / "trace-waterfall-desktop.png")


def set_hidden(page, hidden: bool) -> None:
    """What switching tabs does to the page: document.hidden and a visibilitychange event."""
    page.evaluate(
        """(hidden) => {
            Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
            const visibility = hidden ? "hidden" : "visible";
            Object.defineProperty(document, "visibilityState", { value: visibility, configurable: true });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def test_the_live_activity_view(page, browser, traced_app):
    sign_up(page, traced_app)
    page.goto("/messages/?q=first")
    polls = []
    page.on("request", lambda request: polls.append(time.monotonic()) if "/api/logs/recent" in request.url else None)
    page.goto("/logs/")
    state = page.locator(".live-state")
    expect(state).to_have_attribute("data-state", "live")
    table_top = page.locator(".table-wrap").bounding_box()["y"]

    # Without JavaScript: the server's table, at the same place, and no live controls.
    static = browser.new_context(
        base_url=traced_app.url,
        storage_state=page.context.storage_state(),
        java_script_enabled=False,
        viewport=VIEWPORTS["desktop"],
    )
    try:
        plain = static.new_page()
        plain.goto("/logs/")
        expect(plain.locator(".activity-static")).to_be_visible()
        expect(plain.locator(".activity-controls")).to_be_hidden()
        expect(plain.locator("tbody tr").first).to_be_visible()
        assert plain.locator(".table-wrap").bounding_box()["y"] == table_top
    finally:
        static.close()

    # A request made elsewhere appears at the next refresh, marked new.
    page.request.get("/messages/?q=second")
    with page.expect_response(lambda r: "/api/logs/recent" in r.url):
        pass
    new_rows = page.locator("tbody tr.is-new")
    expect(new_rows.first).to_be_visible()
    expect(new_rows.first.locator(".new-label")).to_be_visible()
    assert "?" not in new_rows.first.locator("td.path").inner_text()
    # The page's own refreshes are hidden by default.
    expect(page.locator('tbody tr[data-path="/api/logs/recent"]:visible')).to_have_count(0)

    # Filters: status class, method, event.
    page.select_option('select[name="status"]', "3")
    expect(page.locator("tbody tr:visible")).to_have_count(1)
    expect(page.locator("tbody tr:visible")).to_have_attribute("data-event", "user.signup")
    page.select_option('select[name="status"]', "")
    page.select_option('select[name="method"]', "DELETE")
    expect(page.locator(".activity-filtered-empty")).to_be_visible()
    expect(page.locator(".table-wrap")).to_be_hidden()
    page.select_option('select[name="method"]', "")
    page.select_option('select[name="event"]', "message.search")
    assert page.locator("tbody tr:visible").count() >= 2
    for event in page.locator("tbody tr:visible").evaluate_all("rows => rows.map(r => r.dataset.event)"):
        assert event == "message.search"
    page.select_option('select[name="event"]', "")

    # Hidden tab: paused, no refresh; visible again: refreshed at once.
    set_hidden(page, True)
    expect(state).to_have_attribute("data-state", "hidden")
    hidden_at = time.monotonic()
    page.wait_for_timeout(6_500)
    assert not [moment for moment in polls if moment > hidden_at + 0.2]
    with page.expect_response(lambda r: "/api/logs/recent" in r.url, timeout=2_000):
        set_hidden(page, False)
    expect(state).to_have_attribute("data-state", "live")

    # The reader's own pause.
    page.click(".live-toggle")
    expect(state).to_have_attribute("data-state", "paused")
    expect(page.locator(".live-toggle")).to_have_attribute("aria-pressed", "true")


def draw_waterfall(spans: list[dict], path) -> None:
    """The trace as Tempo shows it: one bar per span under its parent, server and browser coloured apart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_id = {span["span_id"]: span for span in spans}
    children: dict[str, list[dict]] = {}
    roots = []
    for span in sorted(spans, key=lambda s: s["start"]):
        if span["parent_span_id"] in by_id:
            children.setdefault(span["parent_span_id"], []).append(span)
        else:
            roots.append(span)
    rows = []

    def walk(span, depth):
        rows.append((span, depth))
        for child in children.get(span["span_id"], []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    rows = rows[:40]
    origin = min(span["start"] for span, _ in rows)
    figure, axes = plt.subplots(figsize=(11, 0.32 * len(rows) + 1.2), dpi=110)
    colours = {SERVICE: "#1f5fbf", FRONTEND: "#e07b1a"}
    for index, (span, depth) in enumerate(rows):
        start = (span["start"] - origin) / 1e6
        width = max((span["end"] - span["start"]) / 1e6, 0.3)
        axes.barh(index, width, left=start, color=colours.get(span["service"], "#888"), height=0.6)
        label = span["name"]
        url = span["attributes"].get("url.full")
        if span["name"] == "resourceFetch" and url:
            label += " " + url.rsplit("/", 1)[-1]
        axes.text(start + width + 1, index, f"{'  ' * depth}{label}  {width:.1f} ms", va="center", fontsize=8)
    axes.set_yticks(range(len(rows)))
    axes.set_yticklabels([span["service"] for span, _ in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("milliseconds since the request started")
    axes.set_title("GET /messages/?q=… — the server's spans and the browser's, one trace", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    right = max((span["end"] - origin) / 1e6 for span, _ in rows)
    axes.set_xlim(0, right * 1.35)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
