from django.urls import path

from logs_app import views

app_name = "logs"

urlpatterns = [
    path("", views.recent_activity_page, name="recent"),
    path("traces/<str:trace_id>/", views.trace_page, name="trace"),
]
