"""Top-level URLs. The probes /healthz and /readyz are answered in front of Django (jiwoo.health)."""

from django.contrib import admin
from django.urls import include, path

from jiwoo import views
from jiwoo.browser_events import browser_events

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("messages/", include("messages_app.urls")),
    path("logs/", include("logs_app.urls")),
    path("api/", include("messages_app.api_urls")),
    path("api/", include("logs_app.api_urls")),
    path("api/events", browser_events, name="browser-events"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
