"""Top-level URLs. The probes /healthz and /readyz are answered in front of Django (observability.probes)."""

from django.contrib import admin
from django.urls import include, path

from messages_app.views import home
from observability import errors
from observability.browser_events import browser_events

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("messages/", include("messages_app.urls")),
    path("logs/", include("logs_app.urls")),
    path("api/", include("messages_app.api_urls")),
    path("api/", include("logs_app.api_urls")),
    path("api/events", browser_events, name="browser-events"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
