"""/api/docs in Debian's Chromium: Swagger UI renders every operation under the app's CSP,
with no violation, no script error and no request to another origin."""

import pytest

pytestmark = pytest.mark.e2e


def test_swagger_ui_renders_the_api_under_the_csp(browser, server, visitor):
    operations = sum(len(methods) for methods in visitor.get("/api/openapi.json").json()["paths"].values())
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        console, errors, elsewhere = [], [], []
        page.on("console", lambda message: console.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "request", lambda request: None if request.url.startswith(server.url) else elsewhere.append(request.url)
        )

        response = page.goto("/api/docs")
        page.wait_for_selector(".opblock")

        assert response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert page.locator(".opblock").count() == operations
        assert not [line for line in console if "Content Security Policy" in line or "Refused" in line], console
        assert not errors
        assert not elsewhere
    finally:
        context.close()
