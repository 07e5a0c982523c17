"""Top-level URLs. The probes /healthz and /readyz are answered in front of Django (observability.probes)."""

from django.contrib import admin
from django.urls import include, path

from api.ninja import api
from messages_app.views import home
from observability import errors

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("messages/", include("messages_app.urls")),
    path("logs/", include("logs_app.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
